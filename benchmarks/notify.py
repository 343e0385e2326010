"""A notification's way out: from the answer job's ``submit`` to the receiver's answer.

The target is a message sent within one check interval plus ``hold`` of the
answer changing. The hold is waited on purpose (tests/test_notify_service.py
shows, under a controlled clock, the message decided exactly ``hold`` after
the change was first seen); what remains is the answer job's pace (15 s) and
this: the delivery worker taking the message, Apprise posting it to a JSON
webhook on loopback (served from its own process), and the outcome's row
written to SQLite. It must be done well before the next answer, 15 s later.
Reference: the same JSON posted with a bare httpx client.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from benchmarks.measure import Reference, Row, expect
from benchmarks.registry import Context, Figure
from benchmarks.server import RemoteLoopback
from monitor.notify.deliver import DeliveryWorker, Outgoing
from monitor.notify.message import Message
from monitor.notify.settings import NotifySettings
from monitor.store import open_store

FIGURE = "notification: submit -> delivered and recorded (wall)"
TARGET_S = 15.0  # the answer job's interval: delivered before the next answer
MESSAGES = 20
MESSAGES_QUICK = 5


def _message(index: int) -> Message:
    return Message(
        "problem",
        "It is them: claude declared incident 'Elevated errors' (laptop)",
        f"message {index}\n" + "It is them: ... " * 20,
        "upstream",
        "high",
    )


def run(context: Context) -> list[Row]:
    count = MESSAGES_QUICK if context.quick else MESSAGES
    now = datetime.now(UTC)
    with (
        RemoteLoopback({"/hook": b"{}"}) as server,
        tempfile.TemporaryDirectory(prefix="monitor-bench-") as tmp,
        httpx.Client() as bare,
    ):
        store = open_store(f"sqlite:///{Path(tmp) / 'monitor.db'}")
        channel = NotifySettings(
            name="bench", url=server.url.replace("http://", "json://") + "/hook"
        )
        worker = DeliveryWorker(store, clock=lambda: datetime.now(UTC))
        worker.start()
        try:
            item = Outgoing(channel, _message(0), "bench", '["upstream", []]', now, now)
            worker.submit(item)  # warm-up: Apprise's import and plugin loading, not counted
            expect(worker.idle(60), "the warm-up message was not delivered")
            samples, floors = [], []
            for index in range(count * context.repeat):
                began = time.perf_counter()
                worker.submit(Outgoing(channel, _message(index), "bench", "[]", now, now))
                expect(worker.idle(60), "a message was not delivered within 60 s")
                samples.append(time.perf_counter() - began)
                began = time.perf_counter()
                bare.post(
                    f"{server.url}/hook", json={"title": "t", "message": _message(index).body}
                )
                floors.append(time.perf_counter() - began)
        finally:
            worker.stop(timedelta(seconds=5))
            store.close()
        expect(worker.stats.failed == 0, f"{worker.stats.failed} messages not delivered")
    return [
        Row(
            FIGURE,
            tuple(samples),
            target=TARGET_S,
            target_label="<= 15 s (next answer)",
            reference=Reference("bare httpx POST, client reused", tuple(floors)),
        )
    ]


FIGURES = (
    Figure(
        "notify",
        run,
        targets=((FIGURE, "<= 15 s (next answer)"),),
        notes=(
            f"{FIGURE}: a message put on the delivery worker's queue until Apprise has posted "
            "it to a JSON webhook on loopback (its own process) and the outcome is recorded "
            "in SQLite; the hold before a message is decided is by design and not part of "
            "it. Reference: the same size of JSON posted with a reused bare httpx client.",
        ),
    ),
)
