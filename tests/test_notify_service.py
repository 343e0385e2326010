"""The service through an outage, under a controlled clock, telling real receivers on 127.0.0.1.

The vendor's API and status page are served on loopback: the API answers
500 (not yet declared), the page declares an incident, the API recovers,
the incident is resolved. The service's own jobs (poll, check, heartbeat,
answer) run as the scheduler would run them, every 15 s of a clock the test
moves; the delivery worker sends with Apprise to a JSON webhook, an ntfy
server and a webhook that answers 500. Exactly one message per change, none
for a flap, a recovery at the end, and no secret anywhere.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.service.jobs.answer import answer_job
from monitor.service.jobs.check import check_job
from monitor.service.jobs.poll import poll_job
from monitor.service.scheduler import Service
from monitor.store.notifications import NotificationRecord, recent_notifications
from tests.loopback import LoopbackServer, wait_until
from tests.test_why_e2e import (
    API,
    PAGE,
    incident,
    serve_claude,
    update,
    vendor_checks,
    write_config,
)

T0 = datetime(2026, 5, 1, 15, 0, tzinfo=UTC)
HOOK_SECRET = "hk-T0K3N-5e4d3c2b1a09"
API_KEY = "sk-ant-api03-" + "Zq9Xw8Vu7Ts6" * 4
TICK = timedelta(seconds=15)
CHECKS = ("api-reachable", "api-authenticated", "control")
TITLE = "Elevated errors on Claude API"


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


class Outage:
    """The vendor, staged minute by minute: ``world(minute)`` sets what is served."""

    def __init__(self, server: LoopbackServer) -> None:
        self.server = server
        self.page = serve_claude(server, {"page": PAGE, "incidents": []})
        server.route("/generate_204", b"", status=204)
        server.route("/v1/models", b'{"data": []}')
        self.api(ok=True)

    def api(self, *, ok: bool) -> None:
        if ok:
            self.server.route("/v1/messages", b'{"error": "x-api-key required"}', status=401)
        else:
            self.server.route("/v1/messages", b"upstream connect error", status=500)

    def declare(self, resolved: bool) -> None:
        updates = [
            update(
                "investigating",
                "Investigating.",
                "2026-05-01T15:20:00Z",
                [(API, "operational", "major_outage")],
            )
        ]
        if resolved:
            updates.insert(
                0,
                update(
                    "resolved",
                    "Resolved.",
                    "2026-05-01T15:45:00Z",
                    [(API, "major_outage", "operational")],
                ),
            )
        declared = incident(
            "out1", TITLE, "major", "2026-05-01T15:18:00Z", "2026-05-01T15:45:00Z", updates
        )
        if not resolved:
            declared |= {"status": "investigating", "resolved_at": None}
        serve_claude(self.server, {"page": PAGE, "incidents": [declared]})

    def world(self, minute: float) -> None:
        """15:03 one failing run (a flap); 15:10 the API fails; 15:20 declared; 15:40 back; 15:45 resolved."""
        changes: dict[float, Callable[[], None]] = {
            3: lambda: self.api(ok=False),
            3.5: lambda: self.api(ok=True),
            10: lambda: self.api(ok=False),
            20: lambda: self.declare(resolved=False),
            40: lambda: self.api(ok=True),
            45: lambda: self.declare(resolved=True),
        }
        change = changes.get(minute)
        if change is not None:
            change()


class Waits:
    def __init__(self) -> None:
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> bool:
        self.seconds.append(seconds)
        return False


@contextmanager
def service(config: Path, clock: list[datetime], waits: Waits) -> Iterator[Service]:
    """The service as ``run_forever`` sets it up, its jobs left for the test to run."""
    svc = Service(str(config), grace=timedelta(seconds=5), clock=lambda: clock[0])
    svc.heartbeat.start()
    svc.start_notifications()
    notifier = svc.runtime.notifier
    assert notifier is not None
    notifier.worker.wait = waits  # back-off pauses recorded, not slept
    try:
        yield svc
    finally:
        svc.stop_notifications(5)
        svc.heartbeat.stop()
        svc.runtime.http.close()
        svc.runtime.store.close()


def run(svc: Service, clock: list[datetime], outage: Outage, start: float, stop: float) -> None:
    """The scheduler's work from minute ``start`` to ``stop``: answers every 15 s, checks and
    heartbeats every 30 s, polls every minute; each answer's messages delivered before the next."""
    minute = start
    while minute < stop:
        clock[0] = at(minute)
        outage.world(minute)
        if minute % 1 == 0:
            svc.run_job(poll_job, "claude")
        if minute % 0.5 == 0:
            for name in CHECKS:
                svc.run_job(check_job, name)
            svc.beat()
        svc.run_job(answer_job)
        notifier = svc.runtime.notifier
        assert notifier is not None
        assert notifier.worker.idle(60)
        minute += 0.25


def channels(server: LoopbackServer) -> str:
    base = server.url.replace("http://", "json://")
    ntfy = server.url.replace("http://", "ntfy://")
    return f"""
[[notify]]
name = "team"
url = "{base}/hooks/${{MONITOR_TEST_HOOK}}"

[[notify]]
name = "phone"
url = "{ntfy}/claude-alerts"
on = ["upstream"]
min_confidence = "high"

[[notify]]
name = "broken"
url = "{base}/broken/${{MONITOR_TEST_HOOK}}"
"""


@pytest.fixture
def staged(
    server: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Outage, Path]:
    monkeypatch.setenv("MONITOR_TEST_HOOK", HOOK_SECRET)
    monkeypatch.setenv("MONITOR_TEST_KEY", API_KEY)
    server.route(f"/hooks/{HOOK_SECRET}", b"{}")
    server.route("/", b'{"id": "ntfy"}')
    server.route(f"/broken/{HOOK_SECRET}", b"down for maintenance", status=500)
    outage = Outage(server)
    config = write_config(tmp_path, outage.page, vendor_checks(server) + channels(server))
    return outage, config


def posted(server: LoopbackServer, path: str) -> list[dict[str, Any]]:
    """The JSON bodies the receivers got on ``path`` (ntfy posts to ``/``)."""
    bodies = [
        body
        for (where, _), body in zip(_posts(server), server.bodies, strict=True)
        if where == path
    ]
    return [json.loads(body) for body in bodies]


def _posts(server: LoopbackServer) -> list[tuple[str, dict[str, str]]]:
    # Every POST the server saw, in order (the status page's GETs have no body).
    return [r for r in server.requests if r[1].get("Content-Length")]


def rows_of(svc: Service, channel: str) -> list[NotificationRecord]:
    return list(reversed(recent_notifications(svc.runtime.store, channel=channel)))


def test_the_service_says_each_change_once_and_the_recovery_at_the_end(
    staged: tuple[Outage, Path], server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    outage, config = staged
    clock, waits = [T0], Waits()
    caplog.set_level(logging.INFO)

    with service(config, clock, waits) as svc:
        run(svc, clock, outage, 0, 50)
        team, phone, broken = (rows_of(svc, c) for c in ("team", "phone", "broken"))

    sent = posted(server, f"/hooks/{HOOK_SECRET}")
    assert [m["title"] for m in sent] == [
        "Probably them: not declared (yet) (laptop)",
        f"It is them: claude declared incident '{TITLE}' (laptop)",
        "Recovered after 30 min (laptop)",
    ]
    assert [(r.kind, r.decided_at) for r in team] == [
        ("problem", at(12)),  # failing since 15:10, held 2 minutes
        ("changed", at(22)),  # declared (seen at 15:20), held 2 minutes
        ("recovered", at(42)),  # passing again at 15:40, held 2 minutes
    ]
    assert all(r.delivered and r.attempts == 1 for r in team)
    them = sent[1]["message"]
    assert f"It is them: claude declared incident '{TITLE}' (since 15:18 UTC)" in them
    assert "failures seen here since 15:10 UTC" in them
    assert "Incident: https://stspg.io/out1" in them
    assert "Verdict: upstream, high confidence; probe laptop" in them
    assert "Next step: " in them
    assert sent[2]["message"].startswith(
        f"Recovered after 30 min: upstream, claude declared incident '{TITLE}', from 15:10 UTC "
        "to 15:40 UTC."
    )

    # on = ["upstream"], min_confidence = "high": not told of the undeclared (medium)
    # answer, told of the declared one as soon as it is seen (failing has held since
    # 15:12), and of its end.
    assert [(r.kind, r.decided_at) for r in phone] == [("problem", at(20)), ("recovered", at(42))]
    assert [m["title"] for m in posted(server, "/")] == [sent[1]["title"], sent[2]["title"]]

    # The broken receiver: three attempts each, recorded as not delivered; the rest went on.
    assert [(r.kind, r.delivered, r.attempts) for r in broken] == [
        ("problem", False, 3),
        ("changed", False, 3),
        ("recovered", False, 3),
    ]
    assert waits.seconds == [5.0, 20.0] * 3
    assert all("500" in (r.error or "") for r in broken)

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "to channel broken (json://127.0.0.1:" in logged
    # The hook's secret is on the wire, in the path it posts to, and nowhere else
    # (the API key goes to the vendor's API, in the check's own request).
    notification_paths = {f"/hooks/{HOOK_SECRET}", f"/broken/{HOOK_SECRET}", "/"}
    everything = {
        "log": logged,
        "messages": json.dumps([b.decode() for b in server.bodies]),
        "headers": json.dumps([h for path, h in server.requests if path in notification_paths]),
        "database": database_text(config.parent / "monitor.db"),
    }
    for secret in (HOOK_SECRET, API_KEY):
        assert [where for where, text in everything.items() if secret in text] == [], secret
    assert any(path == f"/hooks/{HOOK_SECRET}" for path, _ in server.requests)


def test_a_restart_in_the_middle_of_the_outage_does_not_say_it_again(
    staged: tuple[Outage, Path], server: LoopbackServer
) -> None:
    outage, config = staged
    clock, waits = [T0], Waits()

    with service(config, clock, waits) as first:
        run(first, clock, outage, 0, 25)
    with service(config, clock, waits) as second:
        run(second, clock, outage, 26, 50)
        team = rows_of(second, "team")

    assert [(r.kind, r.decided_at) for r in team] == [
        ("problem", at(12)),
        ("changed", at(22)),
        ("recovered", at(42)),  # the second run said only what was new
    ]
    assert team[-1].title == "Recovered after 30 min (laptop)"


def test_a_change_is_decided_within_one_check_interval_plus_hold_and_sent_at_once(
    staged: tuple[Outage, Path],
) -> None:
    """The target: decided within a check interval (30 s here) plus ``hold`` (2 min) of the
    change, and handed to the receiver before the service's next answer (15 s later).

    The delivery's own speed (milliseconds) is measured in the delivery benchmark; here
    the clock only moves between answers, so a message recorded as sent at its own
    answer's tick went out before the next one.
    """
    outage, config = staged
    clock, waits = [T0], Waits()

    with service(config, clock, waits) as svc:
        run(svc, clock, outage, 0, 50)
        team = rows_of(svc, "team")

    changes = [at(10), at(20), at(40)]  # the API fails, the page declares, the API is back
    lags = [r.decided_at - change for r, change in zip(team, changes, strict=True)]
    assert lags == [timedelta(minutes=2)] * 3
    assert all(lag <= timedelta(seconds=30) + timedelta(minutes=2) for lag in lags)
    assert [r.sent_at for r in team] == [r.decided_at for r in team]


def test_a_service_stopping_with_a_message_in_flight_records_it_as_not_known_sent(
    staged: tuple[Outage, Path], server: LoopbackServer
) -> None:
    outage, config = staged
    clock, waits = [T0], Waits()

    with service(config, clock, waits) as svc:
        run(svc, clock, outage, 0, 12)
        server.route(f"/hooks/{HOOK_SECRET}", b"{}", delay=30)  # the team's receiver hangs
        clock[0] = at(12)
        svc.run_job(answer_job)  # the problem is decided now
        assert wait_until(lambda: any(p == f"/hooks/{HOOK_SECRET}" for p, _ in server.requests))
        svc.stop_notifications(0.2)
        team = rows_of(svc, "team")

    assert [(r.kind, r.delivered, r.error) for r in team] == [
        ("problem", False, "not known to be sent: the service stopped while it was being sent")
    ]


def test_a_reload_adds_a_channel_and_moves_one_to_its_new_url(
    staged: tuple[Outage, Path], server: LoopbackServer
) -> None:
    outage, config = staged
    clock, waits = [T0], Waits()
    original = config.read_text(encoding="utf-8")
    server.route("/moved", b"{}")
    server.route("/late", b"{}")
    base = server.url.replace("http://", "json://")

    with service(config, clock, waits) as svc:
        run(svc, clock, outage, 0, 15)  # the team told of the problem at 15:12
        config.write_text(
            original.replace("/hooks/${MONITOR_TEST_HOOK}", "/moved")
            + f'\n[[notify]]\nname = "late"\nurl = "{base}/late"\n',
            encoding="utf-8",
        )
        svc._reload()  # what SIGHUP does
        run(svc, clock, outage, 15, 50)
        team, late = rows_of(svc, "team"), rows_of(svc, "late")

    # The team keeps what it was told; what follows goes to its new address.
    assert [(r.kind, r.decided_at) for r in team] == [
        ("problem", at(12)),
        ("changed", at(22)),
        ("recovered", at(42)),
    ]
    assert [len(posted(server, path)) for path in (f"/hooks/{HOOK_SECRET}", "/moved")] == [1, 2]
    # The new channel hears what fails once failing has held its hold from when it
    # joined (15:15), then the rest.
    assert [(r.kind, r.decided_at) for r in late] == [
        ("problem", at(17)),
        ("changed", at(22)),
        ("recovered", at(42)),
    ]
    assert all(r.delivered for r in team + late)


def database_text(path: Path) -> str:
    with closing(sqlite3.connect(path)) as connection:
        return "\n".join(connection.iterdump())


def test_the_service_refuses_to_start_with_a_channel_apprise_cannot_read(tmp_path: Path) -> None:
    from monitor.errors import ConfigError

    config = tmp_path / "config.toml"
    config.write_text('[[notify]]\nname = "x"\nurl = "nosuch://example.com/x"\n', encoding="utf-8")
    svc = Service(str(config), grace=timedelta(seconds=1))
    try:
        with pytest.raises(ConfigError, match=r"notify\[0\] \(\"x\"\)\.url: Apprise cannot read"):
            svc.run_forever()
        assert svc.heartbeat.heartbeat_id is None  # refused before claiming anything
    finally:
        svc.runtime.http.close()
        svc.runtime.store.close()


def test_a_worker_is_only_started_when_a_channel_is_configured(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    svc = Service(str(config), grace=timedelta(seconds=1))
    try:
        svc.start_notifications()
        assert svc.runtime.notifier is None
        config.write_text(
            '[[notify]]\nname = "x"\nurl = "json://127.0.0.1:9/x"\n', encoding="utf-8"
        )
        svc._reload()  # a channel added: the worker starts
        assert svc.runtime.notifier is not None
        svc.stop_notifications(1)
    finally:
        svc.runtime.http.close()
        svc.runtime.store.close()
