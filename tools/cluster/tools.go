//go:build tools

// Keeps the commands build.sh compiles in this module's go.sum.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "github.com/mccutchen/go-httpbin/v2/cmd/go-httpbin"
	_ "helm.sh/helm/v3/cmd/helm"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
