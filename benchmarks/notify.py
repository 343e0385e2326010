"""A notification's way out: from the answer job's ``submit`` to the receiver's answer."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from benchmarks.measure import Reference, Row, expect
from benchmarks.registry import Context, Figure
from benchmarks.server import bare_client
from monitor.notify.deliver import DeliveryWorker, Outgoing
from monitor.notify.message import Message
from monitor.notify.settings import NotifySettings

FIGURE = "notification: submit -> delivered and recorded (wall)"
MESSAGES, MESSAGES_QUICK = 20, 5


def run(context: Context) -> list[Row]:
    hook = context.loopback({"/hook": b"{}"}).url + "/hook"
    channel = NotifySettings(name="bench", url=hook.replace("http://", "json://"))
    now = datetime.now(UTC)
    samples, floors = [], []
    with context.fresh_store() as (_, store), bare_client() as bare:
        worker = DeliveryWorker(store, clock=lambda: datetime.now(UTC))
        worker.start()
        try:
            count = (MESSAGES_QUICK if context.quick else MESSAGES) * context.repeat
            for n in range(-1, count):  # -1, uncounted: Apprise's import and plugin loading
                title = "It is them: claude declared incident 'Elevated errors' (laptop)"
                body = f"message {n}\n" + "It is them: ... " * 20
                message = Message("problem", title, body, "upstream", "high")
                began = time.perf_counter()
                worker.submit(Outgoing(channel, message, "bench", "[]", now, now))
                expect(worker.idle(60), "a message was not delivered within 60 s")
                delivered = time.perf_counter()
                bare.post(hook, json={"title": title, "message": body})
                if n >= 0:
                    samples.append(delivered - began)
                    floors.append(time.perf_counter() - delivered)
        finally:
            worker.stop(timedelta(seconds=5))
    expect(worker.stats.failed == 0, f"{worker.stats.failed} messages not delivered")
    reference = Reference("bare httpx POST, client reused", tuple(floors))
    # The target is the answer job's interval: delivered before the next answer.
    return [Row(FIGURE, tuple(samples), "ms", 15.0, "<= 15 s (next answer)", reference=reference)]


NOTES = (
    f"{FIGURE}: a message put on the delivery worker's queue until Apprise has posted "
    "it to a JSON webhook on loopback and the outcome is recorded in SQLite; "
    f"{MESSAGES} messages per repeat ({MESSAGES_QUICK} with --quick), after one "
    "uncounted. The hold before a message is decided is by design and not part of it. "
    "Reference: the same JSON posted with a reused bare httpx client.",
)
FIGURES = (Figure("notify", run, targets=((FIGURE, "<= 15 s (next answer)"),), notes=NOTES),)
