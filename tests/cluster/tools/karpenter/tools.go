//go:build tools

// Package tools pins Karpenter's kwok cloud provider (sigs.k8s.io/karpenter/kwok),
// the autoscaler of the test cluster. It lives in a module of its own because it is
// built against its own Kubernetes client libraries (v0.35), not the v0.36 ones of
// the control plane in ../go.mod.
package tools

import _ "sigs.k8s.io/karpenter/kwok"
