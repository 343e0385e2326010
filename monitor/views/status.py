"""``monitor status`` answered: is the service up for this probe, and what is failing now.

Read once (``read_status``), then written for people (``status_text``) or
programs (``status_json``) from the same facts: whatever a line of the text
says, the JSON has too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, TypedDict

from monitor.times import isoformat_z, short_time
from monitor.views.probes import DEFAULT_SPAN, ProbeDict, liveness, probe_dict
from monitor.views.runs import RunDict, run_state, state_cell, stored_run_dict
from monitor.views.sources import SourceDict, health, source_dict
from monitor.views.text import ago, json_text, lines_text, table

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.store import Store
    from monitor.store.probes import ProbeInfo
    from monitor.store.queries import SourceOverview
    from monitor.store.runcodes import StoredRun

ServiceState = Literal["running", "not running", "never ran"]
CheckState = Literal["ok", "skipped", "failed", "never run"]


@dataclass(frozen=True, slots=True)
class LastRun:
    """A check's last run; ``probe`` is named when several probes write to the database."""

    check: str
    probe: str | None
    run: StoredRun | None

    @property
    def label(self) -> str:
        return f"{self.check} @ {self.probe}" if self.probe else self.check

    @property
    def state(self) -> CheckState:
        return "never run" if self.run is None else run_state(self.run.ok, self.run.skipped)


@dataclass(frozen=True, slots=True)
class Status:
    """What ``monitor status`` knows: the lock here, the database's probes, sources and checks."""

    probe: str
    held: bool  # this machine's instance lock for the probe is held by a live process
    held_by: str | None
    probes: list[ProbeInfo]
    sources: list[SourceOverview]
    checks: list[LastRun]

    @property
    def own(self) -> ProbeInfo | None:
        return next((p for p in self.probes if p.probe == self.probe), None)

    def service_state(self, now: datetime) -> ServiceState:
        """Running when held here or its lease is current elsewhere; never ran: no heartbeat."""
        lease = self.own.lease if self.own else None
        if self.held or (lease and lease.state(now) == "running"):
            return "running"
        return "not running" if lease else "never ran"

    @property
    def failing(self) -> list[str]:
        """``source NAME`` whose last poll failed, ``check LABEL`` whose last run failed."""
        polls = [(o.name, o.last_poll) for o in self.sources]
        failed = [f"source {name}" for name, poll in polls if poll and poll.outcome == "error"]
        return failed + [f"check {c.label}" for c in self.checks if c.state == "failed"]


def read_status(store: Store, config: Config, now: datetime) -> Status:
    """Read what ``monitor status`` shows, at ``now``."""
    from monitor.configfile import lock_path_for
    from monitor.discovery import holder
    from monitor.store.probes import known_probes, latest_check_runs
    from monitor.store.queries import source_overview

    held, held_by = holder(lock_path_for(config.database_url, config.probe, config.path))
    with store.read() as session:
        sources = source_overview(session, [s.name for s in config.sources])
        probes = known_probes(session, now - DEFAULT_SPAN, now)
        checks = [
            LastRun(name, probe, run)
            for name, probe, run in latest_check_runs(
                session, [c.name for c in config.checks], probes
            )
        ]
    return Status(config.probe, held, held_by, probes, sources, checks)


def status_output(
    store: Store, config: Config, now: datetime, *, as_json: bool
) -> tuple[str, bool]:
    """What ``monitor status`` prints (without the final newline), and whether anything fails."""
    status = read_status(store, config, now)
    text = json_text(status_json(status, now)) if as_json else status_text(status, now)
    return text, bool(status.failing)


class ServiceDict(TypedDict):
    probe: str
    state: ServiceState
    running: bool
    holder: str | None
    host: str | None
    pid: int | None
    started_at: str | None
    last_seen: str | None
    stopped_at: str | None


class CheckDict(TypedDict):
    check: str
    probe: str | None
    state: CheckState
    last_run: RunDict | None


class StatusDict(TypedDict):
    at: str | None
    service: ServiceDict
    probes: list[ProbeDict]
    sources: list[SourceDict]
    checks: list[CheckDict]
    failing: list[str]


def status_json(status: Status, now: datetime) -> StatusDict:
    """``status --json``: every fact the text shows, each object as its own command gives it.

    ``service.running`` is what the text's first line says: the lock is held
    here (``holder`` names by whom), or the probe's lease is current on
    another machine (``host``). A check's ``probe`` is the probe of its last
    run.
    """
    state = status.service_state(now)
    lease = status.own.lease if status.own else None
    return {
        "at": isoformat_z(now),
        "service": {
            "probe": status.probe,
            "state": state,
            "running": state == "running",
            "holder": status.held_by,
            "host": lease.host if lease else None,
            "pid": lease.pid if lease else None,
            "started_at": isoformat_z(lease.started_at) if lease else None,
            "last_seen": isoformat_z(lease.last_seen) if lease else None,
            "stopped_at": isoformat_z(lease.stopped_at) if lease else None,
        },
        "probes": [probe_dict(p, now) for p in status.probes],
        "sources": [source_dict(o, now) for o in status.sources],
        "checks": [
            {
                "check": c.check,
                "probe": c.run.probe if c.run else c.probe,
                "state": c.state,
                "last_run": stored_run_dict(c.run) if c.run else None,
            }
            for c in status.checks
        ],
        "failing": status.failing,
    }


def status_text(status: Status, now: datetime) -> str:
    """The service line, the other probes, a row per source and check, what fails."""
    lines = [_service_line(status, now)]
    others = [p for p in status.probes if p.probe != status.probe]
    if others:
        lines += ["other probes:", *(f"  {p.probe}: {liveness(p, now)}" for p in others)]
    rows = [
        [
            f"source {o.name}",
            ago(o.last_poll.started_at, now) if o.last_poll else "never",
            _source_state(o, now),
        ]
        for o in status.sources
    ]
    rows += [
        [
            f"check {c.label}",
            ago(c.run.started_at, now) if c.run else "never",
            state_cell(c.run) if c.run else "never run",
        ]
        for c in status.checks
    ]
    parts = [lines_text(*lines)]
    if rows:
        parts.append(table(["WHAT", "LAST", "STATE"], rows))
    failing = status.failing
    parts.append(
        lines_text(f"failing now: {', '.join(failing)}" if failing else "failing now: nothing")
    )
    return "\n".join(parts)


def _source_state(overview: SourceOverview, now: datetime) -> str:
    """The health cell, with the reason when the last poll failed.

    "unknown (last poll failed)" alone leaves a newcomer guessing whether the
    page is down or unreachable from here; the reason (DNS, refused, 503)
    says which, and is what ``monitor sources`` shows in its outcome column.
    """
    poll = overview.last_poll
    cell = health(overview, now)
    if poll is not None and poll.outcome == "error" and poll.error:
        return f"{cell}: {poll.error}"
    return cell


def _service_line(status: Status, now: datetime) -> str:
    """This probe's service: held here (the flock), running elsewhere (the lease), or not."""
    probe, lease = status.probe, status.own.lease if status.own else None
    if status.held:
        seen = f"last heartbeat {ago(lease.last_seen, now)}" if lease else "no heartbeat yet"
        return f"service: running for probe {probe} ({status.held_by}; {seen})"
    if lease and lease.state(now) == "running":
        return (
            f"service: running for probe {probe} on host {lease.host} "
            f"(pid {lease.pid}; last heartbeat {ago(lease.last_seen, now)})"
        )
    if lease:
        seen = f"{short_time(lease.last_seen)}, {ago(lease.last_seen, now)}"
        return f"service: not running (probe {probe}; last seen {seen})"
    return f"service: never ran for probe {probe}"
