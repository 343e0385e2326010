"""Delivery: a worker thread sends each message with Apprise, retries, and records the outcome.

Sending is outside the check path: the answer job only puts a message on a
bounded queue and goes on; a slow or dead receiver delays nothing else. Each
message gets ``ATTEMPTS`` tries with growing pauses between them; the
outcome (sent, or failed with the last error, masked and scrubbed) is
recorded in the database and a failure is logged, never raised. The pauses
go through ``wait``, which a stopping service interrupts and tests replace.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor.envvars import MissingVariable
from monitor.notify.channels import expand_url, load_apprise, masked, scrub, url_secrets
from monitor.notify.message import Message
from monitor.notify.settings import NotifySettings
from monitor.store import Store
from monitor.store.notifications import NotificationRecord, record_notification

log = logging.getLogger("monitor.notify")

# Pauses between the attempts: three attempts in all, over about half a minute.
BACKOFF: tuple[timedelta, ...] = (timedelta(seconds=5), timedelta(seconds=20))
QUEUE_SIZE = 100
STOPPED_FIRST = "not sent: the service stopped first"

# Send one message to one URL: None when delivered, else why not.
Send = Callable[[str, Message], str | None]
# Pause this many seconds; True when the pause was cut short (stop: no more tries).
Wait = Callable[[float], bool]


def apprise_send(url: str, message: Message) -> str | None:
    """One attempt through Apprise; the reason it gives on failure (may quote the URL: scrub it)."""
    apprise = load_apprise()
    box = apprise.Apprise()
    if not box.add(url):
        return "Apprise cannot read the URL"
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
        delivered = box.notify(
            title=message.title,
            body=message.body,
            notify_type=message.notify_type,
            body_format=apprise.NotifyFormat.TEXT,
        )
    if delivered:
        return None
    said = [line for line in captured.getvalue().splitlines() if line.strip()]
    return said[-1] if said else "the service did not accept the message"


@dataclass(frozen=True, slots=True)
class Delivery:
    """How sending one message went."""

    delivered: bool
    attempts: int
    error: str | None = None


def deliver(
    url: str,
    message: Message,
    *,
    send: Send = apprise_send,
    wait: Wait,
    backoff: Sequence[timedelta] = BACKOFF,
    env: Mapping[str, str] | None = None,
) -> Delivery:
    """Send ``message`` to the channel URL as written (``${NAME}`` filled in here), with retries."""
    try:
        filled = expand_url(url, env)
    except MissingVariable as missing:
        return Delivery(False, 0, f"environment variable {missing} is not set")
    secrets = url_secrets(url, env)
    attempts, error = 0, None
    for attempt, pause in enumerate([*backoff, None], start=1):
        attempts = attempt
        try:
            error = send(filled, message)
        except Exception as exc:  # a plugin's bug must not end the worker
            error = f"{type(exc).__name__}: {exc}"
        if error is None:
            return Delivery(True, attempts)
        if pause is None or wait(pause.total_seconds()):
            break
    return Delivery(False, attempts, scrub(error or "", filled, secrets))


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message on its way to one channel, with what its record needs."""

    channel: NotifySettings
    message: Message
    probe: str
    answer: str
    episode_start: datetime | None
    decided_at: datetime


@dataclass
class DeliveryStats:
    """Counts since the service started (for metrics): delivered, failed, dropped (queue full)."""

    delivered: int = 0
    failed: int = 0
    dropped: int = 0
    by_channel: dict[tuple[str, bool], int] = field(default_factory=dict)


class DeliveryWorker:
    """One thread sending queued messages in order; ``submit`` never blocks the caller."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime],
        send: Send = apprise_send,
        wait: Wait | None = None,
        backoff: Sequence[timedelta] = BACKOFF,
        env: Mapping[str, str] | None = None,
        maxsize: int = QUEUE_SIZE,
    ) -> None:
        self.store = store
        self.clock = clock
        self.send = send
        self.backoff = tuple(backoff)
        self.env = env
        self.stopping = threading.Event()  # no more pauses: the service is stopping
        self.halted = threading.Event()  # take nothing more from the queue
        self.wait: Wait = wait or self.stopping.wait
        self.queue: queue.Queue[Outgoing] = queue.Queue(maxsize=maxsize)
        self.stats = DeliveryStats()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="monitor-notify", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, item: Outgoing) -> bool:
        """Queue a message; False (recorded as not sent) when the queue is full."""
        try:
            self.queue.put_nowait(item)
        except queue.Full:
            with self._lock:
                self.stats.dropped += 1
            self._record(item, Delivery(False, 0, "not sent: too many messages waiting"))
            return False
        return True

    def idle(self, timeout: float) -> bool:
        """Wait until every queued message is delivered or given up (tests, ``stop``)."""
        deadline = time.monotonic() + timeout
        with self.queue.all_tasks_done:
            while self.queue.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.queue.all_tasks_done.wait(left)
        return True

    def stop(self, grace: timedelta) -> int:
        """Send what is queued (no more pauses) for up to ``grace``; record the rest as not sent.

        Returns how many messages were not sent.
        """
        self.stopping.set()
        finished = not self._thread.is_alive() or self.idle(grace.total_seconds())
        self.halted.set()
        left = 0
        while True:
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                break
            self._record(item, Delivery(False, 0, STOPPED_FIRST))
            self.queue.task_done()
            left += 1
        if self._thread.is_alive():
            self._thread.join(timeout=1 if finished else 0)
        return left

    def process(self, item: Outgoing) -> Delivery:
        """Send one message with its retries and record how it went (the worker's one step)."""
        delivery = deliver(
            item.channel.url,
            item.message,
            send=self.send,
            wait=self.wait,
            backoff=self.backoff,
            env=self.env,
        )
        self._record(item, delivery)
        return delivery

    def _run(self) -> None:
        while not self.halted.is_set():
            try:
                item = self.queue.get(timeout=0.1)
            except queue.Empty:
                if self.stopping.is_set():
                    return
                continue
            try:
                self.process(item)
            except Exception:  # the database away: logged, and the worker goes on
                log.exception("[notify.deliver] could not record a notification")
            finally:
                self.queue.task_done()

    def _record(self, item: Outgoing, delivery: Delivery) -> None:
        name = item.channel.name
        with self._lock:
            if delivery.delivered:
                self.stats.delivered += 1
            else:
                self.stats.failed += 1
            key = (name, delivery.delivered)
            self.stats.by_channel[key] = self.stats.by_channel.get(key, 0) + 1
        if not delivery.delivered:
            log.error(
                "[notify.deliver] %s to channel %s (%s) not delivered after %d attempts: %s",
                item.message.kind,
                name,
                masked(item.channel.url),
                delivery.attempts,
                delivery.error,
            )
        record_notification(
            self.store,
            NotificationRecord(
                probe=item.probe,
                channel=name,
                kind=item.message.kind,
                verdict=item.message.verdict,
                confidence=item.message.confidence,
                answer=item.answer,
                episode_start=item.episode_start,
                decided_at=item.decided_at,
                sent_at=self.clock() if delivery.delivered else None,
                attempts=delivery.attempts,
                error=delivery.error,
                title=item.message.title,
                body=item.message.body,
            ),
        )
