//go:build tools

// Package tools pins istioctl, built by tools/build.sh from this module graph.
package tools

import (
	_ "istio.io/istio/istioctl/cmd/istioctl"
)
