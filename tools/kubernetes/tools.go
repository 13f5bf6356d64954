//go:build tools

// Package tools pins the Pulumi Kubernetes resource provider. The provider's
// main package embeds schema files that its module zip does not ship, so
// tools/build.sh generates them with the module's own generator (which needs
// codegen/schema) and builds the command from a copy of its main.go.
package tools

import (
	_ "github.com/pulumi/pulumi-kubernetes/provider/v4/cmd/pulumi-resource-kubernetes"
	_ "github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)
