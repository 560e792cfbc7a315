"""The feed worker's parse in the test's own process: a ``Runner`` for tests of pure behaviour
(no child process, no time or memory bound; the real one is feeds.worker.run_bounded)."""

from __future__ import annotations

import threading

from node_placeholder_scaler.feeds.worker import Job, Outcome, work


def run_in_process(job: Job, cancel: threading.Event | None = None) -> Outcome:
    return work(job)
