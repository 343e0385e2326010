"""Several probes writing into one database, written through the store's own functions.

Each probe's rows are what its ``monitor run``, ``monitor check`` or
``monitor poll`` would have written: heartbeats with their host and pid,
check runs and polls under its name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.store import Store
from monitor.store.checkruns import CheckSpec, record_check_run, sync_checks
from monitor.store.heartbeats import beat, start_heartbeat, stop_heartbeat
from monitor.store.queries import SourceSpec, record_poll, sync_sources

NOW = datetime(2026, 4, 14, 10, 0, tzinfo=UTC)
CREATED = datetime(2026, 4, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Run:
    check: str
    probe: str
    at: datetime
    ok: bool = True
    failure_class: str | None = None
    detail: str = "HTTP 401 as expected"
    duration_ms: float = 100.0


def write_config(directory: Path, probe: str, checks: Sequence[str] = ("api", "control")) -> Path:
    """A config for ``probe`` with tcp checks named ``checks`` (never run: rows are seeded)."""
    blocks = [
        f'[monitor]\nprobe = "{probe}"\n',
        '[[source]]\nname = "claude"\nkind = "statuspage"\nurl = "http://127.0.0.1:9"\n',
    ]
    blocks += [
        f'[[check]]\nname = "{n}"\nkind = "tcp"\nhost = "127.0.0.1"\nport = 9\n' for n in checks
    ]
    path = directory / "config.toml"
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def service(
    store: Store,
    probe: str,
    host: str,
    pid: int,
    started: datetime,
    last_seen: datetime,
    *,
    stopped: bool = False,
) -> None:
    """A ``monitor run`` of ``probe`` from ``started`` that beat last at ``last_seen``."""
    heartbeat = start_heartbeat(store, probe=probe, now=started, pid=pid, host=host)
    if stopped:
        stop_heartbeat(store, heartbeat, last_seen)
    else:
        beat(store, heartbeat, last_seen)


def runs(store: Store, items: Sequence[Run]) -> None:
    with store.write() as session, session.begin():
        specs = [
            CheckSpec(name, "tcp", "vendor", "127.0.0.1:9") for name in {r.check for r in items}
        ]
        ids = sync_checks(session, specs, CREATED)
        for run in items:
            record_check_run(
                session,
                check_id=ids[run.check],
                probe=run.probe,
                started_at=run.at,
                duration_ms=run.duration_ms,
                ok=run.ok,
                skipped=False,
                failure_class=run.failure_class,
                http_status=401,
                detail=run.detail,
                facts={},
            )


def poll(store: Store, source: str, probe: str, at: datetime) -> None:
    with store.write() as session, session.begin():
        ids = sync_sources(
            session, [SourceSpec(source, "statuspage", "http://127.0.0.1:9")], CREATED
        )
        record_poll(
            session,
            source_id=ids[source],
            probe=probe,
            started_at=at,
            duration_ms=80,
            outcome="ok",
            http_status=200,
            bytes=100,
        )


def four_probes(store: Store) -> None:
    """laptop runs a service, ci only ``monitor check``, eu-1 was killed, old stopped long ago."""
    minutes = timedelta(minutes=1)
    service(store, "laptop", "box-a", 4242, NOW - 60 * minutes, NOW - timedelta(seconds=20))
    service(store, "eu-1", "srv-eu", 77, NOW - 120 * minutes, NOW - 90 * minutes)
    service(
        store,
        "old",
        "old-box",
        9,
        NOW - timedelta(days=2),
        NOW - timedelta(days=2) + 60 * minutes,
        stopped=True,
    )
    runs(
        store,
        [
            Run("api", "laptop", NOW - minutes),
            Run("control", "laptop", NOW - minutes),
            Run(
                "api",
                "ci",
                NOW - 30 * minutes,
                ok=False,
                failure_class="auth_rejected",
                detail="HTTP 401, expected 200",
            ),
            Run("api", "eu-1", NOW - 91 * minutes),
        ],
    )
    poll(store, "claude", "laptop", NOW - 2 * minutes)
