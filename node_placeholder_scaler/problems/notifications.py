"""Optional webhook messages (off by default): a new upcoming calendar problem, and each event
report's summary.

``notifications.urlFromEnv`` names the environment variable that holds the webhook URL (from
a Secret; the URL is never logged). ``format: slack`` posts ``{"text": ...}`` (Slack, Mattermost,
Rocket.Chat and Teams workflows accept it); ``format: json`` posts the fields. Bounded: the
round only puts a message on a queue of ``QUEUE`` messages (a full queue drops, counted); one
thread delivers, each attempt within ``timeout``, ``retries`` more attempts with a growing
pause, and at most ``maxPerHour`` messages an hour (the rest are dropped and counted in
``node_placeholder_notifications_total{kind,result}``). A message never holds a feed URL:
it is made of the calendar's configured name and the event's text only.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..config.sections import NotifySettings
from ..config.settings import Settings
from ..metrics import Metrics
from ..reports.record import EventReport, to_json
from .upcoming import UpcomingProblem

logger = logging.getLogger(__name__)
QUEUE = 100  # messages waiting at most
HOUR = 3600.0
MAX_TEXT = 3000  # characters of a message's text


@dataclass(frozen=True)
class Message:
    kind: str  # "problem" or "report" (a metric label)
    text: str
    fields: Mapping[str, Any]

    def body(self, fmt: str) -> bytes:
        doc = (
            {"text": self.text}
            if fmt == "slack"
            else {"type": self.kind, "text": self.text, **self.fields}
        )
        return json.dumps(doc, ensure_ascii=False).encode()


Sender = Callable[[str, bytes, float], None]


def post(url: str, body: bytes, timeout: float) -> None:
    """POST ``body`` as JSON; raise on anything but a 2xx answer."""
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        answer.read(65536)


class Notifier:
    """Queues messages from the round and delivers them in its own thread."""

    def __init__(
        self,
        settings: NotifySettings,
        metrics: Metrics,
        *,
        send: Sender = post,
        clock: Callable[[], float] = time.monotonic,
        pause: float = 1.0,
    ) -> None:
        self.settings, self.metrics, self.send = settings, metrics, send
        self.clock, self.pause = clock, pause
        self.queue: queue.Queue[Message | None] = queue.Queue(QUEUE)
        self.sent: deque[float] = deque()
        self.thread = threading.Thread(target=self._run, name="notifications", daemon=True)
        self.thread.start()

    def problem(self, problem: UpcomingProblem) -> None:
        when = problem.start.strftime("%Y-%m-%d %H:%M UTC")
        text = (
            f"Calendar problem in {problem.calendar}: event {problem.title!r} on {when}: "
            f"{problem.message}"
        )
        self._put(Message("problem", text, {"problem": problem.as_dict()}))

    def report(self, pool: str, text: str, report: EventReport) -> None:
        self._put(
            Message(
                "report",
                f"Event report, pool {pool}: {text}",
                {"pool": pool, "report": to_json(report)},
            )
        )

    def stop(self, timeout: float = 5.0) -> None:
        """Deliver what is queued (within ``timeout``) and end the thread."""
        try:
            self.queue.put(None, timeout=timeout)
        except queue.Full:
            return
        self.thread.join(timeout)

    def _put(self, message: Message) -> None:
        message = Message(message.kind, message.text[:MAX_TEXT], message.fields)
        try:
            self.queue.put_nowait(message)
        except queue.Full:
            self._count(message, "dropped")

    def _run(self) -> None:
        while (message := self.queue.get()) is not None:
            if self._over_rate():
                self._count(message, "dropped")
                continue
            self._deliver(message)

    def _over_rate(self) -> bool:
        now = self.clock()
        while self.sent and self.sent[0] <= now - HOUR:
            self.sent.popleft()
        if len(self.sent) >= self.settings.max_per_hour:
            return True
        self.sent.append(now)
        return False

    def _deliver(self, message: Message) -> None:
        body = message.body(self.settings.format)
        for attempt in range(self.settings.retries + 1):
            if attempt:
                time.sleep(self.pause * 2 ** (attempt - 1))
            try:
                self.send(self.settings.url, body, self.settings.timeout.total_seconds())
            except (OSError, urllib.error.URLError, ValueError) as error:
                reason = getattr(error, "code", None) or type(error).__name__
                logger.warning(
                    "webhook %s message: attempt %d failed (%s)", message.kind, attempt + 1, reason
                )  # never the URL: it is a secret
                continue
            self._count(message, "sent")
            return
        self._count(message, "failed")

    def _count(self, message: Message, result: str) -> None:
        self.metrics.notifications.labels(message.kind, result).inc()


def notifier_for(settings: Settings, metrics: Metrics) -> Notifier | None:
    """The webhook notifier, or None when ``notifications.urlFromEnv`` is unset."""
    if not settings.notifications.url:
        return None
    return Notifier(settings.notifications, metrics)
