"""The status page: a view-model of what the controller knows, rendered to one HTML document."""
