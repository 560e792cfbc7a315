"""Why nothing would scale: read-only checks of the cluster and the pools, for `validate --cluster`
and the running controller.
"""
