"""Moved to the test kit: import from ``testkit.cluster`` and ``testkit.manifests``.

This name stays only so that tests written against it keep working while they move.
"""

from testkit.cluster import *  # noqa: F403
from testkit.manifests import *  # noqa: F403
