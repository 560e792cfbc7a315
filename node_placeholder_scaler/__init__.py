"""Pre-warm Kubernetes node pools from a course calendar."""

__version__ = "0.1.0"
