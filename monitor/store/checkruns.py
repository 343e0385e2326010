"""Writes and reads of synthetic-check runs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, insert, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from monitor.store import runcodes
from monitor.store.models import Base, Check, CheckRun, Probe
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
    return {
        name: check_id
        for name, check_id, stored in _stored(session, wanted)
        if stored == _values(wanted[name])
    }


_KEPT = ("kind", "role", "target", "depends_on_source", "depends_on_components")


def _values(spec: CheckSpec) -> dict[str, Any]:
    return {
        "kind": spec.kind,
        "role": spec.role,
        "target": spec.target,
        "depends_on_source": spec.depends_on_source,
        "depends_on_components": list(spec.depends_on_components),
    }


def _stored(session: Session, names: Iterable[str]) -> list[tuple[str, int, dict[str, Any]]]:
    """(name, id, the values ``_values`` compares) of each stored check named."""
    columns = [Check.__table__.c[key] for key in _KEPT]
    rows = session.execute(select(Check.name, Check.id, *columns).where(Check.name.in_(names)))
    return [(row[0], row[1], dict(zip(_KEPT, row[2:], strict=True))) for row in rows]


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
    stored = {name: (check_id, values) for name, check_id, values in _stored(session, names)}
    for spec in specs:
        check_id, values = stored[spec.name]
        changed = {key: value for key, value in _values(spec).items() if values[key] != value}
        if changed:
            session.execute(update(Check).where(Check.id == check_id).values(**changed))
    return {name: check_id for name, (check_id, _) in stored.items()}


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
    known = _known_in(session)
    usual = known.get(("usual", check_id)) or _usual(session, check_id)
    if usual is None and ok and not skipped:
        usual = _settle_usual(session, check_id, runcodes.usual_of(detail, phases, fact_values))
    if usual is not None:
        known[("usual", check_id)] = usual
    probe_key = known.get(("probe", probe)) or probe_id(session, probe)
    known[("probe", probe)] = probe_key
    values = runcodes.encode(
        check_id=check_id,
        probe_id=probe_key,
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


def _known_in(session: Session) -> dict[tuple[str, Any], Any]:
    """Probe ids and usuals this transaction already read or wrote: both never change once set.

    Kept per transaction, so a rolled-back one cannot leave an id behind
    that the database no longer holds; a batch of runs in one transaction
    then costs one INSERT a run.
    """
    session.connection()  # begins the transaction if none is open, so there is one to key by
    transaction = session.get_transaction()
    cache = session.info.get(_KNOWN)
    if cache is None or cache[0] is not transaction:
        cache = (transaction, {})
        session.info[_KNOWN] = cache
    known: dict[tuple[str, Any], Any] = cache[1]
    return known


_KNOWN = "monitor.checkruns.known"


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


def ms_from(moment: datetime) -> int:
    """The first whole millisecond at or after ``moment``, for bounds on ``started_ms``.

    ``started_ms >= ms_from(t)`` is "started at or after t" and
    ``started_ms < ms_from(t)`` "started before t", even when ``t`` falls
    between two milliseconds; ``runcodes.to_ms`` (rounded down) is the
    bound for ``<=`` and ``>``.
    """
    return runcodes.to_ms(moment) + (1 if moment.microsecond % 1000 else 0)


def _column(name: str) -> ColumnElement[Any]:
    table, column = name.split(".")
    return Base.metadata.tables[table].c[column]


# ``runcodes.STORED_COLUMNS`` as columns, in ``decode``'s order.
STORED: tuple[ColumnElement[Any], ...] = tuple(map(_column, runcodes.STORED_COLUMNS))


def stored_runs(*extra: ColumnElement[Any] | InstrumentedAttribute[Any]) -> Select[Any]:
    """SELECT ``STORED`` (then ``extra``) from check_result joined to its check and probe.

    Each row's first ``len(STORED)`` values are what ``runcodes.decode`` takes.
    """
    return (
        select(*STORED, *extra)
        .select_from(CheckRun)
        .join(Check, Check.id == CheckRun.check_id)
        .join(Probe, Probe.id == CheckRun.probe_id)
    )


def decode(row: Sequence[Any]) -> runcodes.StoredRun:
    """A ``stored_runs`` row as the run it holds (any ``extra`` columns left out)."""
    return runcodes.decode(tuple(row[: len(STORED)]))


def list_check_runs(
    session: Session,
    *,
    checks: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    failed_only: bool = False,
    limit: int | None = None,
) -> list[runcodes.StoredRun]:
    """Runs newest first; of runs in the same millisecond, the higher check id, then probe id.

    The newest few of named checks are read a probe at a time along the
    (check, probe, time) key and merged: one short index range each, where
    "this check's runs by time" would sort every run it ever had.
    """
    filters: list[ColumnElement[bool]] = []
    if since is not None:
        filters.append(CheckRun.started_ms >= ms_from(since))
    if until is not None:
        filters.append(CheckRun.started_ms <= runcodes.to_ms(until))
    if failed_only:
        filters.append(CheckRun.outcome == runcodes.FAILED)
    order = (CheckRun.started_ms, CheckRun.check_id, CheckRun.probe_id)
    newest_first = [column.desc() for column in order]
    if checks and limit is not None:
        ids = session.scalars(select(Check.id).where(Check.name.in_(checks))).all()
        found = [
            row
            for check_id in ids
            for probe in probe_ids_of(session, check_id)
            for row in session.execute(
                stored_runs(*order)
                .where(CheckRun.check_id == check_id, CheckRun.probe_id == probe, *filters)
                .order_by(*newest_first)
                .limit(limit)
            )
        ]
        found.sort(key=lambda row: tuple(row[len(STORED) :]), reverse=True)
        return [decode(row) for row in found[:limit]]
    query = stored_runs().where(*filters).order_by(*newest_first)
    if checks:
        query = query.where(Check.name.in_(checks))
    if limit is not None:
        query = query.limit(limit)
    return [decode(row) for row in session.execute(query)]


def latest_runs(session: Session, names: Sequence[str]) -> dict[str, runcodes.StoredRun | None]:
    """The newest run of each named check on any probe (None for a check never run).

    The key is (check, probe, time): one seek per probe that ever ran the
    check finds each probe's newest, and the probes are found by skipping
    through the key (a handful of seeks), not by reading the check's runs.
    Of two probes' runs in the same millisecond, the probe first by name's.
    """
    ids = dict(session.execute(select(Check.name, Check.id).where(Check.name.in_(names))).all())
    latest: dict[str, runcodes.StoredRun | None] = dict.fromkeys(names)
    for name in names:
        check_id = ids.get(name)
        if check_id is None:
            continue
        newest = [
            session.execute(
                stored_runs()
                .where(CheckRun.check_id == check_id, CheckRun.probe_id == probe)
                .order_by(CheckRun.started_ms.desc())
                .limit(1)
            ).first()
            for probe, _ in _probes_by_name(session, check_id)
        ]
        runs = [decode(row) for row in newest if row is not None]
        latest[name] = max(runs, key=lambda run: run.started_at, default=None)
    return latest


def probe_ids_of(session: Session, check_id: int) -> list[int]:
    """Every probe that ever ran ``check_id``, by id: skipping through the key, a seek a probe."""
    probes: list[int] = []
    while True:
        query = select(func.min(CheckRun.probe_id)).where(CheckRun.check_id == check_id)
        if probes:
            query = query.where(CheckRun.probe_id > probes[-1])
        probe = session.scalar(query)
        if probe is None:
            return probes
        probes.append(probe)


def _probes_by_name(session: Session, check_id: int) -> list[tuple[int, str]]:
    """(id, name) of every probe that ever ran ``check_id``, by name."""
    ids = probe_ids_of(session, check_id)
    if not ids:
        return []
    rows = session.execute(select(Probe.id, Probe.name).where(Probe.id.in_(ids)))
    return sorted(((int(i), str(n)) for i, n in rows), key=lambda item: item[1])


def probes_of(session: Session, check_id: int) -> list[str]:
    """The names of every probe that ever ran ``check_id``, sorted (``probe_ids_of``)."""
    return [name for _, name in _probes_by_name(session, check_id)]
