"""Delivery through Apprise to real receivers on 127.0.0.1: a JSON webhook, ntfy, SMTP.

Failures are real too: a receiver answering 500, a port nobody listens on.
The pauses between attempts go through an injected ``wait`` that records
them, so no test sleeps on the wall clock.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from monitor.cli import main
from monitor.notify.deliver import (
    STOPPED_SENDING,
    DeliveryWorker,
    Outgoing,
    deliver,
)
from monitor.notify.message import Message, notify_test_message
from monitor.notify.notifier import resumed
from monitor.notify.settings import NotifySettings
from monitor.notify.tracker import QUIET, Answer
from monitor.store import Store
from monitor.store.notifications import (
    NotificationRecord,
    last_announced,
    notification_counts,
    recent_notifications,
    record_notification,
)
from tests.loopback import LoopbackServer, wait_until

SECRET = "hk-T0K3N-9f8e7d6c5b4a"
NOW = datetime(2026, 5, 1, 15, 42, tzinfo=UTC)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Inbox:
    """What an SMTP server on 127.0.0.1 received (aiosmtpd's handler interface)."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), closed_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


class Waits:
    """The injected pause: records each one and returns at once (False: not stopping)."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> bool:
        self.seconds.append(seconds)
        return False


def message(kind: str = "problem") -> Message:
    return Message(kind, "It is them (laptop)", "line one\nline two", "upstream", "high")


def test_it_posts_the_message_to_a_json_webhook_with_the_secret_filled_in_only_on_the_wire(
    server: LoopbackServer,
) -> None:
    server.route(f"/hooks/{SECRET}", b"{}")
    url = server.url.replace("http://", "json://") + "/hooks/${MONITOR_TEST_HOOK}"

    delivery = deliver(url, message(), wait=Waits(), env={"MONITOR_TEST_HOOK": SECRET})

    assert (delivery.delivered, delivery.attempts, delivery.error) == (True, 1, None)
    [body] = server.bodies
    sent = json.loads(body)
    assert (sent["title"], sent["message"], sent["type"]) == (
        "It is them (laptop)",
        "line one\nline two",
        "failure",
    )


def test_it_publishes_to_an_ntfy_server(server: LoopbackServer) -> None:
    server.route("/", b'{"id": "x"}')
    url = server.url.replace("http://", "ntfy://") + "/monitor-alerts"

    delivery = deliver(url, message("recovered"), wait=Waits())

    assert delivery.delivered
    sent = json.loads(server.bodies[-1])
    assert (sent["topic"], sent["title"]) == ("monitor-alerts", "It is them (laptop)")


def test_it_sends_mail_through_a_plain_smtp_server(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    url = f"mailto://127.0.0.1:{port}?from=monitor@example.com&to=oncall@example.com"

    delivery = deliver(url, notify_test_message("mail", "laptop", NOW), wait=Waits())

    assert delivery.delivered
    [raw] = inbox.messages
    mail = message_from_bytes(raw)
    assert mail["Subject"] == "Test message (laptop)"
    assert mail["To"] == "oncall@example.com"
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert "to channel mail at 2026-05-01 15:42 UTC" in payload.decode()


def test_a_receiver_answering_500_is_retried_then_given_up_with_its_reason(
    server: LoopbackServer,
) -> None:
    server.route(f"/hooks/{SECRET}", b"oops", status=500)
    url = server.url.replace("http://", "json://") + "/hooks/${MONITOR_TEST_HOOK}"
    waits = Waits()

    delivery = deliver(url, message(), wait=waits, env={"MONITOR_TEST_HOOK": SECRET})

    assert (delivery.delivered, delivery.attempts) == (False, 3)
    assert waits.seconds == [5.0, 20.0]
    assert len(server.bodies) == 3
    assert delivery.error is not None
    assert "500" in delivery.error
    assert SECRET not in delivery.error


def test_a_closed_port_fails_without_leaking_the_url(tmp_path: Path) -> None:
    url = f"json://127.0.0.1:{closed_port()}/hooks/${{MONITOR_TEST_HOOK}}"

    delivery = deliver(url, message(), wait=Waits(), env={"MONITOR_TEST_HOOK": SECRET})

    assert (delivery.delivered, delivery.attempts) == (False, 3)
    assert delivery.error is not None
    assert SECRET not in delivery.error


def test_an_unset_variable_is_a_failed_delivery_not_a_crash() -> None:
    delivery = deliver("json://127.0.0.1/${MONITOR_TEST_UNSET}", message(), wait=Waits(), env={})

    assert delivery == type(delivery)(
        False, 0, "environment variable MONITOR_TEST_UNSET is not set"
    )


def test_a_stop_cuts_the_back_off_short() -> None:
    calls: list[str] = []

    def refused(url: str, _message: Message) -> str:
        calls.append(url)
        return "refused"

    delivery = deliver("json://127.0.0.1/x", message(), send=refused, wait=lambda _: True)

    assert (delivery.delivered, delivery.attempts, len(calls)) == (False, 1, 1)


def outgoing(channel: NotifySettings, kind: str = "problem") -> Outgoing:
    return Outgoing(channel, message(kind), "laptop", '["upstream", []]', NOW, NOW)


def test_the_worker_records_every_message_sent_or_not_and_logs_failures_masked(
    server: LoopbackServer, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    server.route(f"/ok/{SECRET}", b"{}")
    server.route(f"/down/{SECRET}", b"no", status=500)
    base = server.url.replace("http://", "json://")
    good = NotifySettings(name="good", url=base + "/ok/${MONITOR_TEST_HOOK}")
    down = NotifySettings(name="down", url=base + "/down/${MONITOR_TEST_HOOK}")
    worker = DeliveryWorker(
        store, clock=lambda: NOW, wait=Waits(), env={"MONITOR_TEST_HOOK": SECRET}
    )
    caplog.set_level(logging.INFO)

    worker.start()
    for item in (outgoing(good), outgoing(down), outgoing(good, "recovered")):
        assert worker.submit(item)
    assert worker.idle(30)
    assert worker.stop(timedelta(seconds=5)) == 0

    rows = recent_notifications(store, probe="laptop")
    # Each channel in order; the channels side by side.
    by_channel = [(r.channel, r.kind, r.delivered, r.attempts) for r in reversed(rows)]
    assert [r for r in by_channel if r[0] == "good"] == [
        ("good", "problem", True, 1),
        ("good", "recovered", True, 1),
    ]
    assert [r for r in by_channel if r[0] == "down"] == [("down", "problem", False, 3)]
    assert {r.sent_at for r in rows if r.delivered} == {NOW}
    assert notification_counts(store) == {("good", True): 2, ("down", False): 1}
    assert (worker.stats.delivered, worker.stats.failed) == (2, 1)
    # Apprise's own lines never reach the service's log (pytest attaches to its
    # non-propagating logger all the same): ours are the ones to read.
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("monitor"))
    assert "problem to channel down (json://127.0.0.1:" in logged
    assert "not delivered after 3 attempts" in logged
    everything = logged + json.dumps([asdict(r) for r in rows], default=str)
    assert SECRET not in everything


def test_what_is_queued_at_a_stop_is_recorded_as_not_sent(store: Store) -> None:
    channel = NotifySettings(name="late", url="json://127.0.0.1:9/x")
    worker = DeliveryWorker(store, clock=lambda: NOW, wait=Waits())  # never started

    worker.submit(outgoing(channel))

    assert worker.stop(timedelta(seconds=1)) == 1
    [row] = recent_notifications(store)
    assert (row.delivered, row.error) == (False, "not sent: the service stopped first")


def record(
    channel: str, kind: str, answer: str, at: datetime, error: str | None = None
) -> NotificationRecord:
    sent = None if error else at
    return NotificationRecord(
        "laptop", channel, kind, "upstream", "high", answer, at, at, sent, 1, error, "t", "b"
    )


def test_the_last_announced_answer_per_channel_leaves_tests_and_other_probes_out(
    store: Store,
) -> None:
    record_notification(store, record("a", "problem", '["upstream", []]', NOW))
    record_notification(store, record("a", "changed", '["network", []]', NOW))
    record_notification(store, record("a", "test", "", NOW))
    record_notification(store, record("b", "recovered", '["healthy", []]', NOW))
    record_notification(store, replace_probe(record("c", "problem", '["local", []]', NOW)))

    last = last_announced(store, "laptop")

    assert {k: (v.kind, v.answer) for k, v in last.items()} == {
        "a": ("changed", '["network", []]'),
        "b": ("recovered", '["healthy", []]'),
    }


def test_only_a_delivered_message_counts_as_told_after_a_restart(store: Store) -> None:
    record_notification(store, record("a", "problem", '["upstream", []]', NOW))
    record_notification(store, record("a", "changed", '["local", []]', NOW, "HTTP 500"))
    record_notification(store, record("a", "recovered", '["healthy", []]', NOW, "not sent: x"))
    record_notification(store, record("b", "problem", '["local", []]', NOW, "not sent: x"))

    last = last_announced(store, "laptop")

    # "a" heard the problem only; "b" heard nothing: both are told again what goes on.
    assert {k: (v.kind, v.answer) for k, v in last.items()} == {
        "a": ("problem", '["upstream", []]')
    }


def test_a_message_the_service_stopped_before_sending_is_not_told_after_a_restart(
    store: Store,
) -> None:
    channel = NotifySettings(name="team", url="json://127.0.0.1:9/x")
    worker = DeliveryWorker(store, clock=lambda: NOW, wait=Waits())  # the stop comes first
    worker.submit(Outgoing(channel, message(), "laptop", Answer("local").key(), NOW, NOW))

    assert worker.stop(timedelta(seconds=0)) == 1
    assert resumed(last_announced(store, "laptop").get("team")).told == QUIET


def test_a_slow_receiver_holds_up_no_other_channel(server: LoopbackServer, store: Store) -> None:
    server.route("/slow", b"{}", delay=30)  # answers after 30 s (or when the server stops)
    server.route("/fast", b"{}")
    base = server.url.replace("http://", "json://")
    slow = NotifySettings(name="slow", url=base + "/slow")
    fast = NotifySettings(name="fast", url=base + "/fast")
    worker = DeliveryWorker(
        store, clock=lambda: NOW, wait=Waits(), backoff=(), deadline=timedelta(seconds=1)
    )
    worker.start()

    worker.submit(outgoing(slow))
    assert wait_until(lambda: any(path == "/slow" for path, _ in server.requests))
    worker.submit(outgoing(fast))

    # The fast channel is told while the slow one is still waiting for its answer.
    assert wait_until(lambda: notification_counts(store).get(("fast", True)) == 1, timeout=0.9)
    assert ("slow", False) not in notification_counts(store)
    assert worker.idle(10)
    [row] = recent_notifications(store, channel="slow")
    assert (row.delivered, row.error) == (False, "no answer within 1 s")
    worker.stop(timedelta(seconds=1))


def test_a_message_in_flight_at_a_stop_is_recorded_once_as_not_known_sent(
    server: LoopbackServer, store: Store
) -> None:
    server.route("/slow", b"{}", delay=30)
    channel = NotifySettings(name="slow", url=server.url.replace("http://", "json://") + "/slow")
    worker = DeliveryWorker(store, clock=lambda: NOW, wait=Waits(), backoff=())
    worker.start()
    worker.submit(outgoing(channel))
    worker.submit(outgoing(channel, "recovered"))
    assert wait_until(lambda: any(path == "/slow" for path, _ in server.requests))

    assert worker.stop(timedelta(seconds=0.2)) == 2

    rows = list(reversed(recent_notifications(store, channel="slow")))
    assert [(r.kind, r.delivered, r.error) for r in rows] == [
        ("problem", False, STOPPED_SENDING),
        ("recovered", False, "not sent: the service stopped first"),
    ]
    # The attempt ends by itself (Apprise's read timeout) and is not recorded again.
    assert not wait_until(lambda: len(recent_notifications(store)) > 2, timeout=6)


def test_a_receivers_error_is_stored_escaped() -> None:
    def hostile(_url: str, _message: Message) -> str:
        return "HTTP 400: \u202egnp.exe\x1b[2J\nVerdict: local"

    delivery = deliver("json://127.0.0.1/x", message(), send=hostile, wait=Waits(), backoff=())

    assert delivery.error is not None
    assert not any(c in delivery.error for c in "\u202e\x1b\n")
    assert "\\u202e" in delivery.error


def replace_probe(row: NotificationRecord) -> NotificationRecord:
    return replace(row, probe="server")


def test_notify_test_says_per_channel_whether_it_was_delivered(
    server: LoopbackServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.setenv("MONITOR_TEST_HOOK", SECRET)
    server.route(f"/hooks/{SECRET}", b"{}")
    base = server.url.replace("http://", "json://")
    config = tmp_path / "config.toml"
    config.write_text(
        '[monitor]\nprobe = "laptop"\n'
        f'[[notify]]\nname = "team"\nurl = "{base}/hooks/${{MONITOR_TEST_HOOK}}"\n'
        f'[[notify]]\nname = "gone"\nurl = "json://127.0.0.1:{closed_port()}/x"\n',
        encoding="utf-8",
    )

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exited:
            main(["--config", str(config), "notify", *args])
        out, err = capsys.readouterr()
        return int(exited.value.code or 0), out, err

    one = run("test", "team")
    both = run("test")
    unknown = run("test", "nobody")
    listed = run("list")

    assert one[0] == 0
    assert one[1].splitlines()[1].split()[::2] == ["team", "delivered"]
    assert both[0] == 1
    gone = both[1].splitlines()[2]
    assert gone.startswith("gone ")
    assert "NOT delivered:" in gone
    assert unknown[0] == 2
    assert "no channel named 'nobody' (configured: team, gone)" in unknown[2]
    assert listed[0] == 0
    assert "team" in listed[1]
    assert "test, delivered: Test message (laptop)" in listed[1]
    assert SECRET not in "".join(str(part) for part in (*one, *both, *unknown, *listed))
    assert len(server.bodies) == 2
