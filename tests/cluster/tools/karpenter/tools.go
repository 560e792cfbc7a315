//go:build tools

// Package tools pins Karpenter's kwok cloud provider (sigs.k8s.io/karpenter/kwok),
// the autoscaler of the test cluster (v1.15, with the alpha CapacityBuffer support that
// scripts/testcluster switches on). It lives in a module of its own because it is built
// against its own Kubernetes client libraries and controller-runtime, not the ones of the
// control plane in ../go.mod, and with a newer Go (its go.mod's `go` line).
package tools

import _ "sigs.k8s.io/karpenter/kwok"
