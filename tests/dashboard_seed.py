"""A small, fully known history for the dashboard tests: two days of runs with a monitoring gap.

Every time is explicit. ``seed`` writes the rows and returns them, so a test
can compute what the page must show straight from the rows, without the
code under test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from monitor.store import Store, runcodes
from monitor.store.checkruns import CheckSpec, probe_id, sync_checks
from monitor.store.models import (
    CheckRun,
    Heartbeat,
    Incident,
    Maintenance,
    ObservedEvent,
    RollupHourly,
    Source,
)
from monitor.store.queries import SourceSpec, record_poll, sync_sources

T0 = datetime(2026, 4, 13, 0, 0, tzinfo=UTC)  # the range starts here
T1 = datetime(2026, 4, 15, 0, 0, tzinfo=UTC)  # and ends here (two days: hourly buckets)
NOW = T1 + timedelta(hours=1)
STEP = timedelta(minutes=5)
# The monitor was not running: no heartbeat and no run in [GAP_START, GAP_END).
GAP_START = datetime(2026, 4, 13, 20, 0, tzinfo=UTC)
GAP_END = datetime(2026, 4, 14, 2, 0, tzinfo=UTC)
# api-reachable failing with the vendor: 09:30 to 10:10 fail, 10:15 passes again.
OUTAGE_START = datetime(2026, 4, 14, 9, 30, tzinfo=UTC)
OUTAGE_END = datetime(2026, 4, 14, 10, 15, tzinfo=UTC)
# Failing just before the gap: 19:50 and 19:55 fail, the next run (02:00) passes.
BEFORE_GAP = (datetime(2026, 4, 13, 19, 50, tzinfo=UTC), datetime(2026, 4, 13, 19, 55, tzinfo=UTC))
CONTROL_FAILS = datetime(2026, 4, 14, 15, 0, tzinfo=UTC)
INCIDENT_TITLE = "Elevated errors on the API"
HTMLISH_TITLE = "<b>API & Console</b>"
MAINTENANCE_TITLE = "Scheduled database maintenance"
CHECKS = ("api-reachable", "control", "api-authenticated")


@dataclass(frozen=True, slots=True)
class SeededRun:
    check: str
    started_at: datetime
    ok: bool
    skipped: bool = False
    failure_class: str | None = None
    duration_ms: float = 100.0


@dataclass
class Seeded:
    runs: list[SeededRun] = field(default_factory=list)
    check_ids: dict[str, int] = field(default_factory=dict)
    probe_id: int = 0  # test-probe's, once ``write_runs`` gave it one

    def of(self, check: str) -> list[SeededRun]:
        return [r for r in self.runs if r.check == check]


def planned_runs() -> list[SeededRun]:
    runs = []
    at = T0
    index = 0
    while at < T1:
        if not GAP_START <= at < GAP_END:
            failing = OUTAGE_START <= at < OUTAGE_END or at in BEFORE_GAP
            runs.append(
                SeededRun(
                    "api-reachable",
                    at,
                    ok=not failing,
                    failure_class=("timeout" if at in BEFORE_GAP else "server_error")
                    if failing
                    else None,
                    duration_ms=100.0 + index % 7 * 10 + (900 if failing else 0),
                )
            )
            runs.append(
                SeededRun(
                    "control",
                    at,
                    ok=at != CONTROL_FAILS,
                    failure_class="dns_failure" if at == CONTROL_FAILS else None,
                    duration_ms=20.0 + index % 3,
                )
            )
            runs.append(SeededRun("api-authenticated", at, ok=True, skipped=True, duration_ms=0))
        at += STEP
        index += 1
    return runs


def seed(store: Store, *, runs: list[SeededRun] | None = None) -> Seeded:
    """Write sources, checks, runs, heartbeats, incidents, a maintenance and imports."""
    seeded = Seeded(runs=planned_runs() if runs is None else runs)
    with store.write() as session, session.begin():
        seeded.check_ids = sync_checks(
            session,
            [
                CheckSpec("api-reachable", "http", "vendor", "POST https://api", "claude"),
                CheckSpec("control", "http", "control", "GET https://www.google.com"),
                CheckSpec("api-authenticated", "http", "vendor", "GET https://api", "claude"),
            ],
            T0 - timedelta(days=30),
        )
        write_runs(session, seeded, seeded.runs)
        claude = _source(session, "claude")
        github = _source(session, "github")
        session.add_all(
            [
                _incident(
                    claude,
                    "inc-1",
                    INCIDENT_TITLE,
                    "major",
                    datetime(2026, 4, 14, 9, 20, tzinfo=UTC),
                    datetime(2026, 4, 14, 10, 30, tzinfo=UTC),
                    "https://status.claude.com/incidents/inc-1",
                ),
                _incident(
                    github,
                    "inc-2",
                    HTMLISH_TITLE,
                    "minor",
                    datetime(2026, 4, 13, 10, 0, tzinfo=UTC),
                    datetime(2026, 4, 13, 11, 0, tzinfo=UTC),
                    "javascript:alert(1)",
                ),
                Maintenance(
                    source_id=claude,
                    external_id="mnt-1",
                    title=MAINTENANCE_TITLE,
                    status="completed",
                    impact="maintenance",
                    scheduled_for=datetime(2026, 4, 14, 22, 0, tzinfo=UTC),
                    scheduled_until=datetime(2026, 4, 14, 23, 0, tzinfo=UTC),
                    started_at=datetime(2026, 4, 14, 22, 0, tzinfo=UTC),
                    completed_at=datetime(2026, 4, 14, 23, 0, tzinfo=UTC),
                    url="https://status.claude.com/incidents/mnt-1",
                    components=["Claude API"],
                    first_seen_at=T0,
                    last_changed_at=T0,
                ),
                Heartbeat(
                    probe="test-probe",
                    started_at=T0 - timedelta(hours=1),
                    last_seen=GAP_START,
                    stopped_at=GAP_START,
                    pid=1,
                    host="h",
                ),
                Heartbeat(probe="test-probe", started_at=GAP_END, last_seen=NOW, pid=2, host="h"),
            ]
        )
        for minute in (40, 45, 50):
            session.add(
                ObservedEvent(
                    fingerprint=f"fp-{minute}",
                    at=datetime(2026, 4, 14, 9, minute, tzinfo=UTC),
                    source="claude",
                    target="api.anthropic.com",
                    failure_class="server_error",
                    error="HTTP 500",
                    origin="tool.log",
                    imported_at=NOW,
                )
            )
    return seeded


def add_rollups(store: Store, seeded: Seeded, rows: list[dict[str, Any]]) -> None:
    """Folded hours: ``{"check": name, "hour": datetime, "runs": .., "failures": ..}``."""
    with store.write() as session, session.begin():
        session.execute(
            insert(RollupHourly),
            [
                {
                    "check_id": seeded.check_ids[row["check"]],
                    "probe": "test-probe",
                    "hour": row["hour"],
                    "runs": row["runs"],
                    "failures": row.get("failures", 0),
                    "skipped": row.get("skipped", 0),
                    "p50_ms": row.get("p50_ms", 100.0),
                    "p95_ms": row.get("p95_ms", 200.0),
                    "failure_classes": row.get("failure_classes", {}),
                }
                for row in rows
            ],
        )


def write_runs(session: Any, seeded: Seeded, runs: list[SeededRun]) -> None:
    """Insert ``runs`` as test-probe's, in one statement (the check ids already in ``seeded``)."""
    seeded.probe_id = probe_id(session, "test-probe")
    if runs:
        session.execute(insert(CheckRun), [run_row(seeded, r) for r in runs])


def run_row(seeded: Seeded, run: SeededRun) -> dict[str, Any]:
    """The stored row of ``run``, encoded as ``record_check_run`` would (no usual set)."""
    return runcodes.encode(
        check_id=seeded.check_ids[run.check],
        probe_id=seeded.probe_id,
        started_at=run.started_at,
        duration_ms=run.duration_ms,
        ok=run.ok,
        skipped=run.skipped,
        failure_class=run.failure_class,
        http_status=None,
        phases_ms={"connect": 5.0, "tls": 10.0, "ttfb": 50.0},
        detail="ok" if run.ok else "failed",
        facts={},
    )


def _source(session: Any, name: str) -> int:
    source = Source(name=name, kind="statuspage", url=f"https://{name}.example", created_at=T0)
    session.add(source)
    session.flush()
    return int(source.id)


def _incident(
    source_id: int,
    external_id: str,
    title: str,
    impact: str,
    start: datetime,
    end: datetime,
    url: str,
) -> Incident:
    return Incident(
        source_id=source_id,
        external_id=external_id,
        title=title,
        status="resolved",
        impact=impact,
        created_at=start,
        started_at=start,
        resolved_at=end,
        url=url,
        first_seen_at=start,
        last_changed_at=end,
    )


def expected_row(
    seeded: Seeded, check: str, interval: timedelta, hi: datetime = T1
) -> dict[str, Any]:
    """What the uptime table must say for ``check``, computed from the rows alone.

    A run speaks for its check until the next run if that came within the
    gap (three intervals), else for one interval. The monitored time is
    what the runs speak for; an outage is the unbroken time failed runs speak for.
    """
    gap = max(3 * interval, timedelta(minutes=2))
    runs = sorted((r for r in seeded.of(check) if not r.skipped), key=lambda r: r.started_at)
    spans = []
    for index, run in enumerate(runs):
        nxt = runs[index + 1] if index + 1 < len(runs) else None
        close = nxt is not None and nxt.started_at - run.started_at <= gap
        end = nxt.started_at if nxt is not None and close else run.started_at + interval
        spans.append((run.started_at, min(end, hi), run.ok))
    monitored = sum((end - start for start, end, _ in spans), timedelta(0))
    longest, start_at, until = timedelta(0), None, None
    for start, end, ok in spans:
        if not ok and start_at is not None and start == until:
            until = end  # one failure carries on the last
        elif not ok:
            start_at, until = start, end
        else:
            start_at = None
        if start_at is not None and until is not None:
            longest = max(longest, until - start_at)
    failed = sum(1 for r in runs if not r.ok)
    return {
        "uptime": (len(runs) - failed) / len(runs) if runs else None,
        "runs": len(runs),
        "failures": failed,
        "longest_s": int(longest.total_seconds()),
        "monitored_s": int(monitored.total_seconds()),
    }


# A first hour: installed at 10:00, the service ran half an hour, the vendor's API never
# answered and neither did its status page (a network that blocks it).
FRESH_NOW = datetime(2026, 5, 4, 10, 30, tzinfo=UTC)
FRESH_RUNS = [datetime(2026, 5, 4, 10, 2, tzinfo=UTC) + n * STEP for n in range(6)]
FRESH_POLLS = (datetime(2026, 5, 4, 10, 1, tzinfo=UTC), datetime(2026, 5, 4, 10, 16, tzinfo=UTC))
POLL_ERROR = "ConnectError: [Errno 111] Connection refused <status.claude.com>"
FRESH_CONFIG = (
    '[[source]]\nname = "claude"\nkind = "statuspage"\nurl = "https://status.claude.com"\n'
    '[[check]]\nname = "api-reachable"\nkind = "tcp"\nhost = "127.0.0.1"\nport = 9\n'
    'interval = "5m"\ndepends_on = { source = "claude" }\n'
    '[[check]]\nname = "control"\nkind = "tcp"\nhost = "127.0.0.1"\nport = 9\n'
    'interval = "5m"\nrole = "control"\n'
)


def seed_fresh(store: Store) -> Seeded:
    """Half an hour after install: api-reachable timing out, control passing, polls failing."""
    runs = [
        run
        for at in FRESH_RUNS
        for run in (
            SeededRun("api-reachable", at, ok=False, failure_class="connect_timeout"),
            SeededRun("control", at, ok=True, duration_ms=30.0),
        )
    ]
    seeded = seed_runs(store, runs, FRESH_RUNS[0])
    with store.write() as session, session.begin():
        # The service started at 10:01 and is still running: its last beat just now.
        session.add(
            Heartbeat(
                probe="test-probe", started_at=FRESH_POLLS[0], last_seen=FRESH_NOW, pid=3, host="h"
            )
        )
        ids = sync_sources(
            session, [SourceSpec("claude", "statuspage", "https://status.claude.com")], FRESH_NOW
        )
        for at in FRESH_POLLS:
            record_poll(
                session,
                source_id=ids["claude"],
                probe="test-probe",
                started_at=at,
                duration_ms=10000,
                outcome="error",
                error=POLL_ERROR,
            )
    return seeded


def seed_runs(store: Store, runs: list[SeededRun], created: datetime) -> Seeded:
    """The two checks of ``FRESH_CONFIG`` and ``runs`` of them, nothing else."""
    seeded = Seeded(runs=runs)
    with store.write() as session, session.begin():
        seeded.check_ids = sync_checks(
            session,
            [
                CheckSpec("api-reachable", "tcp", "vendor", "127.0.0.1:9", "claude"),
                CheckSpec("control", "tcp", "control", "127.0.0.1:9"),
            ],
            created,
        )
        write_runs(session, seeded, runs)
    return seeded


IMPORTED = [datetime(2026, 5, 1, 9, m, tzinfo=UTC) for m in (12, 14, 31)]
IMPORTED_LINE = "HTTP 500 <html>upstream</html>"


def seed_imported(store: Store) -> None:
    """Failures imported from a tool's log on May 1st, and nothing else ever recorded."""
    with store.write() as session, session.begin():
        for index, at in enumerate(IMPORTED):
            session.add(
                ObservedEvent(
                    fingerprint=f"imp-{index}",
                    at=at,
                    source="claude",
                    target="api.anthropic.com",
                    failure_class="server_error",
                    error=IMPORTED_LINE,
                    origin="tool.log",
                    imported_at=FRESH_NOW,
                )
            )
