//go:build tools

// Package tools pins istioctl and pilot-discovery (istiod, run on the local
// cluster by tools/cluster/local-kubelet), built by tools/build.sh from this
// module graph.
package tools

import (
	_ "istio.io/istio/istioctl/cmd/istioctl"
	_ "istio.io/istio/pilot/cmd/pilot-discovery"
)
