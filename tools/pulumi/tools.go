//go:build tools

// Package tools pins the Pulumi engine CLI. The blank import keeps the
// command's module and its dependency graph in this go.mod/go.sum, so
// tools/build.sh can build it reproducibly with `go build`.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
