"""Delivery: a worker thread per channel sends each message with Apprise, retries, and records it.

Sending is outside the check path: the answer job only puts a message on a
bounded queue and goes on. Each channel has its own queue and thread, so a
slow or dead receiver delays no other channel, and each attempt has a
deadline (``SEND_DEADLINE``): Apprise's HTTP services bound connecting and
reading (4 s each by default, the ``cto``/``rto`` URL arguments), but not
every service does, so the attempt runs in a helper thread the worker waits
for at most that long. Each message gets ``ATTEMPTS`` tries with growing
pauses between them; the outcome (sent, or failed with the last error,
masked, scrubbed and escaped) is recorded in the database and a failure is
logged, never raised. On a stop, what is queued gets the grace period;
what is left, queued or in flight, is recorded as not sent. The pauses go
through ``wait``, which a stopping service interrupts and tests replace.
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
from monitor.escape import for_terminal
from monitor.notify.channels import expand_url, load_apprise, masked, scrub, url_secrets
from monitor.notify.message import Message
from monitor.notify.settings import NotifySettings
from monitor.store import Store
from monitor.store.notifications import NotificationRecord, record_notification

log = logging.getLogger("monitor.notify")

# Pauses between the attempts: three attempts in all, over about half a minute.
BACKOFF: tuple[timedelta, ...] = (timedelta(seconds=5), timedelta(seconds=20))
QUEUE_SIZE = 100  # per channel
SEND_DEADLINE = timedelta(seconds=30)  # one attempt, whatever the service
STOPPED_FIRST = "not sent: the service stopped first"
STOPPED_SENDING = "not known to be sent: the service stopped while it was being sent"

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


def bounded(send: Send, deadline: timedelta) -> Send:
    """``send`` with a deadline: an attempt still going on after it counts as failed.

    The attempt runs in a daemon thread left to end by itself (a thread cannot
    be killed); the worker goes on to its next try or message.
    """

    def attempt(url: str, message: Message) -> str | None:
        outcome: list[str | None] = []

        def run() -> None:
            try:
                outcome.append(send(url, message))
            except Exception as exc:  # a plugin's bug must not end the worker
                outcome.append(f"{type(exc).__name__}: {exc}")

        helper = threading.Thread(target=run, name="monitor-notify-send", daemon=True)
        helper.start()
        helper.join(deadline.total_seconds())
        if helper.is_alive() or not outcome:
            return f"no answer within {deadline.total_seconds():g} s"
        return outcome[0]

    return attempt


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
    # The receiver's words are outside text: no secret, no control character.
    return Delivery(False, attempts, for_terminal(scrub(error or "", filled, secrets)))


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
    """The channels' workers, one thread each, started on a channel's first message.

    ``submit`` never blocks the caller; ``stop`` gives every channel the same
    grace period at once.
    """

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
        deadline: timedelta = SEND_DEADLINE,
    ) -> None:
        self.store = store
        self.clock = clock
        self.send = bounded(send, deadline)
        self.backoff = tuple(backoff)
        self.env = env
        self.maxsize = maxsize
        self.stopping = threading.Event()  # no more pauses: the service is stopping
        self.halted = threading.Event()  # take nothing more from the queues
        self.wait: Wait = wait or self.stopping.wait
        self.stats = DeliveryStats()
        self.channels: dict[str, ChannelWorker] = {}
        self._lock = threading.Lock()
        self._started = False

    def start(self) -> None:
        """Let the channels' threads run (each starts with its channel's first message)."""
        with self._lock:
            self._started = True
            workers = list(self.channels.values())
        for worker in workers:
            worker.start()

    def submit(self, item: Outgoing) -> bool:
        """Queue a message on its channel; False (recorded as not sent) when that queue is full."""
        with self._lock:
            worker = self.channels.get(item.channel.name)
            if worker is None:
                worker = self.channels[item.channel.name] = ChannelWorker(self, item.channel.name)
                if self._started and not self.stopping.is_set():
                    worker.start()
        try:
            worker.queue.put_nowait(item)
        except queue.Full:
            with self._lock:
                self.stats.dropped += 1
            self.record(item, Delivery(False, 0, "not sent: too many messages waiting"))
            return False
        return True

    def idle(self, timeout: float) -> bool:
        """Wait until every queued message is delivered or given up (tests, ``stop``)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            workers = list(self.channels.values())
        return all(w.idle(max(0.0, deadline - time.monotonic())) for w in workers)

    def stop(self, grace: timedelta) -> int:
        """Send what is queued (no more pauses) for up to ``grace``; record the rest as not sent.

        Returns how many messages were not sent (queued, or cut off in flight).
        """
        self.stopping.set()
        with self._lock:
            workers = list(self.channels.values())
        self.idle(grace.total_seconds())
        self.halted.set()
        return sum(worker.abandon() for worker in workers)

    def process(self, item: Outgoing) -> Delivery:
        """Send one message with its retries (no record: the channel's worker records it)."""
        return deliver(
            item.channel.url,
            item.message,
            send=self.send,
            wait=lambda seconds: self.wait(seconds),
            backoff=self.backoff,
            env=self.env,
        )

    def record(self, item: Outgoing, delivery: Delivery) -> None:
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


class ChannelWorker:
    """One channel's queue and thread: its messages in order, each recorded exactly once."""

    def __init__(self, owner: DeliveryWorker, name: str) -> None:
        self.owner = owner
        self.queue: queue.Queue[Outgoing] = queue.Queue(maxsize=owner.maxsize)
        self.thread = threading.Thread(target=self._run, name=f"monitor-notify-{name}", daemon=True)
        self._lock = threading.Lock()
        self._current: Outgoing | None = None  # in flight, not yet recorded

    def start(self) -> None:
        if not self.thread.is_alive() and self.thread.ident is None:
            self.thread.start()

    def idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.queue.all_tasks_done:
            while self.queue.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.queue.all_tasks_done.wait(left)
        return True

    def abandon(self) -> int:
        """After the grace period: record what is left as not sent; how many."""
        left = 0
        with self._lock:
            current, self._current = self._current, None
        if current is not None:
            self.owner.record(current, Delivery(False, 0, STOPPED_SENDING))
            left += 1
        while True:
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                break
            self.owner.record(item, Delivery(False, 0, STOPPED_FIRST))
            self.queue.task_done()
            left += 1
        return left

    def _run(self) -> None:
        owner = self.owner
        while not owner.halted.is_set():
            try:
                item = self.queue.get(timeout=0.1)
            except queue.Empty:
                if owner.stopping.is_set():
                    return
                continue
            with self._lock:
                self._current = item
            try:
                delivery = owner.process(item)
                with self._lock:
                    mine = self._current is item  # else ``abandon`` recorded it
                    self._current = None
                if mine:
                    owner.record(item, delivery)
            except Exception:  # the database away: logged, and the worker goes on
                log.exception("[notify.deliver] could not record a notification")
            finally:
                self.queue.task_done()
