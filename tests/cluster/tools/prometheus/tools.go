//go:build tools

// Package tools pins Prometheus for the delivery tests: Debian's prometheus 2.42 is built
// without Kubernetes service discovery, so scripts/testcluster builds cmd/prometheus from this
// module with -tags remove_all_sd,enable_kubernetes_sd (Kubernetes SD only).
package tools

import (
	_ "github.com/prometheus/prometheus/cmd/prometheus"
)
