"""Writes and reads of synthetic-check runs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.orm import Session

from monitor.store import runcodes
from monitor.store.models import Check, CheckRun, Probe
from monitor.store.upsert import insert_on_conflict


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """The part of a configured check the store keeps (no secrets: target is redacted)."""

    name: str
    kind: str
    role: str
    target: str
    depends_on_source: str | None = None
    depends_on_components: list[str] = field(default_factory=list)


def check_ids(session: Session, specs: Iterable[CheckSpec]) -> dict[str, int]:
    """Ids of the checks already stored exactly as configured."""
    wanted = {s.name: s for s in specs}
    rows = session.scalars(select(Check).where(Check.name.in_(wanted)))
    return {row.name: row.id for row in rows if _values(wanted[row.name]) == _row_values(row)}


def _values(spec: CheckSpec) -> dict[str, Any]:
    return {
        "kind": spec.kind,
        "role": spec.role,
        "target": spec.target,
        "depends_on_source": spec.depends_on_source,
        "depends_on_components": list(spec.depends_on_components),
    }


def _row_values(row: Check) -> dict[str, Any]:
    return {key: getattr(row, key) for key in _values(CheckSpec("", "", "", ""))}


def sync_checks(session: Session, specs: Iterable[CheckSpec], now: datetime) -> dict[str, int]:
    """Give every configured check a row; kind, role, target and dependency follow the config.

    A new check's row is created with ON CONFLICT DO NOTHING, then read back:
    when another probe creates it at the same moment, both use the one row.
    """
    specs = list(specs)
    names = [s.name for s in specs]
    known = set(session.scalars(select(Check.name).where(Check.name.in_(names))))
    missing = [
        {"name": s.name, "created_at": now, **_values(s)} for s in specs if s.name not in known
    ]
    if missing:
        session.execute(insert_on_conflict(session, Check, ["name"]), missing)
    rows = {row.name: row for row in session.scalars(select(Check).where(Check.name.in_(names)))}
    for spec in specs:
        row = rows[spec.name]
        for key, value in _values(spec).items():
            if getattr(row, key) != value:
                setattr(row, key, value)
    session.flush()
    return {name: row.id for name, row in rows.items()}


def record_check_run(
    session: Session,
    *,
    check_id: int,
    probe: str,
    started_at: datetime,
    duration_ms: float,
    ok: bool,
    skipped: bool = False,
    failure_class: str | None = None,
    http_status: int | None = None,
    phases_ms: Mapping[str, float] | None = None,
    request_id: str | None = None,
    server_date: datetime | None = None,
    detail: str = "",
    facts: Mapping[str, Any] | None = None,
) -> None:
    """Append one run, in the compact row ``runcodes.encode`` makes of it.

    A check's first pass fixes its usual detail and facts (a later pass
    saying the same then stores neither); a run of a probe new to the
    database gives the probe its id.
    """
    phases = phases_ms or {}
    fact_values = facts or {}
    usual = _usual(session, check_id)
    if usual is None and ok and not skipped:
        usual = _settle_usual(session, check_id, runcodes.usual_of(detail, phases, fact_values))
    values = runcodes.encode(
        check_id=check_id,
        probe_id=probe_id(session, probe),
        started_at=started_at,
        duration_ms=duration_ms,
        ok=ok,
        skipped=skipped,
        failure_class=failure_class,
        http_status=http_status,
        phases_ms=phases,
        request_id=request_id,
        server_date=server_date,
        detail=detail,
        facts=fact_values,
        usual=usual or runcodes.Usual(),
    )
    session.execute(insert(CheckRun), [values])


def _usual(session: Session, check_id: int) -> runcodes.Usual | None:
    row = session.execute(
        select(Check.usual_detail, Check.usual_facts).where(Check.id == check_id)
    ).one_or_none()
    if row is None or row[0] is None:
        return None
    return runcodes.Usual(row[0], row[1])


def _settle_usual(session: Session, check_id: int, usual: runcodes.Usual) -> runcodes.Usual:
    """Set the check's usual unless another writer got there first; the one that stands.

    It is set once and never changed: rows that store NULL mean "the usual",
    so changing it would rewrite what they say.
    """
    session.execute(
        update(Check)
        .where(Check.id == check_id, Check.usual_detail.is_(None))
        .values(usual_detail=usual.detail, usual_facts=usual.facts)
    )
    return _usual(session, check_id) or usual


def probe_id(session: Session, name: str) -> int:
    """The id of probe ``name``, given one on its first run (another probe may race: one wins)."""
    found = session.scalar(select(Probe.id).where(Probe.name == name))
    if found is not None:
        return found
    session.execute(insert_on_conflict(session, Probe, ["name"]), [{"name": name}])
    return session.scalars(select(Probe.id).where(Probe.name == name)).one()


def list_check_runs(
    session: Session,
    *,
    checks: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    failed_only: bool = False,
    limit: int | None = None,
) -> list[tuple[str, CheckRun]]:
    """Runs newest first, as (check name, run).

    The newest few of named checks are read a probe at a time along the
    (check, probe, time) key and merged: one short index range each, where
    "this check's runs by time" would sort every run it ever had.
    """
    filters: list[ColumnElement[bool]] = []
    if since is not None:
        filters.append(CheckRun.started_at >= since)
    if until is not None:
        filters.append(CheckRun.started_at <= until)
    if failed_only:
        filters.append(CheckRun.ok.is_(False))
    newest_first = (CheckRun.started_at.desc(), CheckRun.id.desc())
    if checks and limit is not None:
        ids = session.execute(select(Check.name, Check.id).where(Check.name.in_(checks))).all()
        found = [
            (name, run)
            for name, check_id in ids
            for probe in probes_of(session, check_id)
            for run in session.scalars(
                select(CheckRun)
                .where(CheckRun.check_id == check_id, CheckRun.probe == probe, *filters)
                .order_by(*newest_first)
                .limit(limit)
            )
        ]
        found.sort(key=lambda item: (item[1].started_at, item[1].id), reverse=True)
        return found[:limit]
    query = (
        select(Check.name, CheckRun)
        .join(Check, Check.id == CheckRun.check_id)
        .where(*filters)
        .order_by(*newest_first)
    )
    if checks:
        query = query.where(Check.name.in_(checks))
    if limit is not None:
        query = query.limit(limit)
    return [(name, run) for name, run in session.execute(query)]


def latest_runs(session: Session, names: Sequence[str]) -> dict[str, CheckRun | None]:
    """The newest run of each named check on any probe (None for a check never run).

    The key is (check, probe, time): one seek per probe that ever ran the
    check finds each probe's newest, and the probes are found by skipping
    through the key (a handful of seeks), not by reading the check's runs.
    """
    ids = dict(session.execute(select(Check.name, Check.id).where(Check.name.in_(names))).all())
    latest: dict[str, CheckRun | None] = dict.fromkeys(names)
    for name in names:
        check_id = ids.get(name)
        if check_id is None:
            continue
        newest = [
            session.scalars(
                select(CheckRun)
                .where(CheckRun.check_id == check_id, CheckRun.probe == probe)
                .order_by(CheckRun.started_at.desc())
                .limit(1)
            ).first()
            for probe in probes_of(session, check_id)
        ]
        latest[name] = max(
            (run for run in newest if run is not None),
            key=lambda run: run.started_at,
            default=None,
        )
    return latest


def probes_of(session: Session, check_id: int) -> list[str]:
    """Every probe that ever ran ``check_id``, skipping through the key: one seek a probe."""
    probes: list[str] = []
    while True:
        query = select(func.min(CheckRun.probe)).where(CheckRun.check_id == check_id)
        if probes:
            query = query.where(CheckRun.probe > probes[-1])
        probe = session.scalar(query)
        if probe is None:
            return probes
        probes.append(probe)
