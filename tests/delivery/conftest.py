"""Fixtures of the delivery tests: the controller image built for real from the Dockerfile.

``image`` (session): builds the Dockerfile with ``scripts/image build`` (Debian's Docker Engine,
a locally made base where Docker Hub cannot be reached) and yields the tag and a docker client.
The engine is started for the session and stopped afterwards when the fixture started it.
``NPS_IMAGE_TAG`` names the tag (default ``node-placeholder-scaler:test``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from delivery_helpers import Image, script


@pytest.fixture(scope="session")
def image() -> Iterator[Image]:
    started = script("start") == "started"
    try:
        tag = os.environ.get("NPS_IMAGE_TAG", "node-placeholder-scaler:test")
        script("build", "--tag", tag)
        yield Image(tag=tag)
    finally:
        if started:
            script("stop")
