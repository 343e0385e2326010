"""The rows ``why``, ``timeline`` and the charts reason over, read as correlator windows.

Every query here is an index range scan bounded by the span asked about, so
answering for one moment costs the same on a week-old database as on a
year-old one: check runs through ``ix_check_result_started`` and the
``(check_id, started_at, probe)`` key; a failure streak begun before the
span is summarised by one grouped query instead of being loaded run by run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Subquery,
    and_,
    func,
    not_,
    or_,
    select,
    union,
)
from sqlalchemy.orm import Session, aliased

from monitor.correlate.evidence import Readings
from monitor.correlate.incidents import DeclaredIncident, incident_window
from monitor.correlate.matching import Tolerance
from monitor.correlate.pages import Page
from monitor.correlate.windows import (
    DEGRADED_STATUSES,
    CheckInfo,
    ComponentTransition,
    Run,
    Series,
    StreakHead,
    UpdateStatus,
    UpstreamWindow,
    component_windows,
)
from monitor.store import Store
from monitor.store.checkruns import probes_of
from monitor.store.models import (
    Check,
    CheckRun,
    ComponentStatus,
    Heartbeat,
    Incident,
    IncidentComponent,
    IncidentUpdate,
    Maintenance,
    Poll,
    Source,
    UpdateComponent,
)
from monitor.store.observed import list_observations

# Incidents are read this far beyond the span: an update's text may state an
# impact window that began days before a late declaration (``stated``: up to
# three days long, meeting the declared window widened by a day) or ended
# after the declared resolution.
_STATED_BEFORE = timedelta(days=4)
_STATED_AFTER = timedelta(days=1)

# Component statuses that say something ("unknown", an unreadable page, says
# neither trouble nor recovery, so it cannot be the status a span begins with).
_KNOWN_STATUSES = DEGRADED_STATUSES | {"operational"}


def checks(session: Session) -> dict[int, CheckInfo]:
    """Every stored check by id (a check removed from the config keeps its history)."""
    rows = session.execute(
        select(
            Check.id,
            Check.name,
            Check.kind,
            Check.role,
            Check.target,
            Check.depends_on_source,
            Check.depends_on_components,
        )
    )
    return {
        row.id: CheckInfo(
            name=row.name,
            kind=row.kind,
            role=row.role,
            target=row.target,
            source=row.depends_on_source,
            components=tuple(row.depends_on_components or ()),
        )
        for row in rows
    }


def series_between(
    session: Session,
    lo: datetime,
    hi: datetime,
    *,
    failures_only: bool = False,
    probe: str | None = None,
) -> list[Series]:
    """Each check's runs per probe in ``[lo, hi]``, with the streak around them.

    A series whose first run failed gets a ``StreakHead`` summarising the
    failures since its last pass before ``lo``; one whose last run failed
    gets ``recovered_at``, the first run after ``hi`` that did not fail (None if none yet).

    ``failures_only`` keeps just the failing runs and the run that ends
    each streak (a pass or a skip), plus each series' first run,
    which says whether a streak was already running at ``lo``: all a window
    needs, over a week a few hundred rows instead of a quarter million.
    ``probe`` keeps one probe's runs only.
    """
    infos = checks(session)
    columns = (
        CheckRun.check_id,
        CheckRun.probe,
        CheckRun.started_at,
        CheckRun.ok,
        CheckRun.skipped,
        CheckRun.failure_class,
        CheckRun.http_status,
        CheckRun.detail,
    )
    in_span: tuple[ColumnElement[bool], ...] = (
        CheckRun.started_at >= lo,
        CheckRun.started_at <= hi,
    )
    if probe is not None:
        in_span += (CheckRun.probe == probe,)
    if failures_only:
        previous_ok = (
            func.lag(CheckRun.ok)
            .over(partition_by=(CheckRun.check_id, CheckRun.probe), order_by=CheckRun.started_at)
            .label("previous_ok")
        )
        ranked = select(*columns, previous_ok).where(*in_span)
        inner = ranked.subquery()
        query = (
            select(*(inner.c[c.key] for c in columns))
            .where(
                or_(
                    inner.c.ok.is_(False),
                    inner.c.previous_ok.is_(False),
                    # The first run: were it dropped as a pass, the next failure
                    # would look like the first and inherit a streak it ended.
                    inner.c.previous_ok.is_(None),
                )
            )
            .order_by(inner.c.started_at)
        )
    else:
        query = select(*columns).where(*in_span).order_by(CheckRun.started_at)
    rows = session.execute(query)
    runs: dict[tuple[int, str], list[Run]] = defaultdict(list)
    # Plain tuple unpacking: this loop visits every run in the span, and named
    # attribute access on a Row looks each field up by name, on every row.
    for check_id, probe, started_at, ok, skipped, failure_class, status, detail in rows:
        info = infos.get(check_id)
        if info is None:
            continue
        runs[(check_id, probe)].append(
            Run(info.name, probe, started_at, ok, failure_class, status, skipped, detail)
        )
    series = []
    for (check_id, probe), items in sorted(runs.items(), key=lambda kv: (infos[kv[0][0]].name,)):
        head = _streak_head(session, check_id, probe, lo) if items[0].failed else None
        recovered = _first_end_after(session, check_id, probe, hi) if items[-1].failed else None
        series.append(Series(infos[check_id], probe, tuple(items), head, recovered))
    return series


def _ended(check_id: int, probe: str) -> list[ColumnElement[bool]]:
    """Runs that end a failure streak: passes and skipped runs (``ok`` for both)."""
    return [CheckRun.check_id == check_id, CheckRun.probe == probe, CheckRun.ok.is_(True)]


def _streak_head(session: Session, check_id: int, probe: str, lo: datetime) -> StreakHead | None:
    last_ended = session.scalar(
        select(CheckRun.started_at)
        .where(*_ended(check_id, probe), CheckRun.started_at < lo)
        .order_by(CheckRun.started_at.desc())
        .limit(1)
    )
    bounds: list[ColumnElement[bool]] = [
        CheckRun.check_id == check_id,
        CheckRun.probe == probe,
        CheckRun.started_at < lo,
    ]
    if last_ended is not None:
        bounds.append(CheckRun.started_at > last_ended)
    row = session.execute(select(func.min(CheckRun.started_at), func.count()).where(*bounds)).one()
    if row[0] is None:
        return None
    classes = session.execute(
        select(CheckRun.failure_class, func.count()).where(*bounds).group_by(CheckRun.failure_class)
    ).all()
    return StreakHead(
        start=row[0],
        runs=row[1],
        failures=row[1],
        failure_classes={name or "unknown": count for name, count in classes},
    )


def _first_end_after(session: Session, check_id: int, probe: str, hi: datetime) -> datetime | None:
    """The first run after ``hi`` that ended the streak: a pass, or a skipped run."""
    return session.scalar(
        select(CheckRun.started_at)
        .where(*_ended(check_id, probe), CheckRun.started_at > hi)
        .order_by(CheckRun.started_at)
        .limit(1)
    )


def alive_between(
    session: Session, lo: datetime, hi: datetime, probe: str | None = None
) -> tuple[tuple[datetime, datetime], ...]:
    """The service's heartbeat spans meeting ``[lo, hi]``: from start to stop, or last beat."""
    return tuple((start, end) for _, _, start, end in _heartbeats(session, lo, hi, probe))


def hosts_between(
    session: Session, lo: datetime, hi: datetime, probe: str | None = None
) -> tuple[tuple[str, str], ...]:
    """Each probe's host while it ran in ``[lo, hi]`` (the latest start's, if it moved)."""
    hosts = {name: host for name, host, _, _ in _heartbeats(session, lo, hi, probe)}
    return tuple(sorted(hosts.items()))


def _heartbeats(
    session: Session, lo: datetime, hi: datetime, probe: str | None
) -> list[tuple[str, str, datetime, datetime]]:
    """(probe, host, start, end) of each service run meeting ``[lo, hi]``, by start."""
    query = (
        select(
            Heartbeat.probe,
            Heartbeat.host,
            Heartbeat.started_at,
            Heartbeat.last_seen,
            Heartbeat.stopped_at,
        )
        .where(Heartbeat.started_at <= hi, Heartbeat.last_seen >= lo)
        .order_by(Heartbeat.started_at)
    )
    if probe is not None:
        query = query.where(Heartbeat.probe == probe)
    return [
        (name, host, started, stopped or seen)
        for name, host, started, seen, stopped in session.execute(query)
    ]


def upstream_windows(session: Session, lo: datetime, hi: datetime) -> list[UpstreamWindow]:
    """Incidents, component degradations and maintenances meeting ``[lo, hi]``, by start."""
    windows = [
        *_incident_windows(session, lo, hi),
        *_component_windows(session, lo, hi),
        *_maintenance_windows(session, lo, hi),
    ]
    windows = [w for w in windows if w.overlaps(lo, hi)]
    windows.sort(key=lambda w: (w.start, w.source, w.kind, w.title))
    return windows


def _incident_windows(session: Session, lo: datetime, hi: datetime) -> list[UpstreamWindow]:
    # Any time it names may be its earliest: a backfilled incident can be
    # started after it was resolved.
    begun = hi + _STATED_BEFORE
    rows = session.execute(
        select(
            Incident.id,
            Incident.title,
            Incident.status,
            Incident.impact,
            Incident.url,
            Incident.started_at,
            Incident.created_at,
            Incident.resolved_at,
            Source.name,
        )
        .join(Source, Source.id == Incident.source_id)
        .where(
            or_(
                Incident.started_at <= begun,
                Incident.created_at <= begun,
                Incident.resolved_at <= begun,
            ),
            or_(Incident.resolved_at.is_(None), Incident.resolved_at >= lo - _STATED_AFTER),
        )
    ).all()
    if not rows:
        return []
    ids = [row.id for row in rows]
    updates: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for row in session.execute(
        select(IncidentUpdate.incident_id, IncidentUpdate.created_at, IncidentUpdate.body)
        .where(IncidentUpdate.incident_id.in_(ids))
        .order_by(IncidentUpdate.created_at.desc())
    ):
        updates[row.incident_id].append((row.created_at, row.body))
    statuses: dict[int, list[UpdateStatus]] = defaultdict(list)
    for hit in session.execute(
        select(
            IncidentUpdate.incident_id,
            IncidentUpdate.created_at,
            UpdateComponent.component,
            UpdateComponent.old_status,
            UpdateComponent.new_status,
        )
        .join(UpdateComponent, UpdateComponent.update_id == IncidentUpdate.id)
        .where(IncidentUpdate.incident_id.in_(ids))
        .order_by(UpdateComponent.id)
    ):
        statuses[hit.incident_id].append(
            UpdateStatus(hit.created_at, hit.component, hit.old_status, hit.new_status)
        )
    listed: dict[int, list[str]] = defaultdict(list)
    for item in session.execute(
        select(IncidentComponent.incident_id, IncidentComponent.component)
        .where(IncidentComponent.incident_id.in_(ids))
        .order_by(IncidentComponent.id)
    ):
        listed[item.incident_id].append(item.component)
    return [
        incident_window(
            DeclaredIncident(
                source=row.name,
                title=row.title,
                started_at=row.started_at,
                created_at=row.created_at,
                resolved_at=row.resolved_at,
                status=row.status,
                impact=row.impact,
                url=row.url,
                updates=tuple(updates[row.id]),
                statuses=tuple(statuses[row.id]),
                listed=tuple(listed[row.id]),
            )
        )
        for row in rows
    ]


def _component_windows(session: Session, lo: datetime, hi: datetime) -> list[UpstreamWindow]:
    """Transitions in the span, plus what frames it: each component's status at ``lo``
    (back to its last calm status, so a degradation that changed severity before the
    span keeps its true start) and its first recovery after ``hi`` (so one that outlived
    the span ends where it did, not "still open").

    Four small queries rather than one with OR-ed joins: each is an index range
    or a short grouped scan, which keeps ``why`` within its time budget.
    """
    rows: list[Any] = []
    columns = (
        ComponentStatus.source_id,
        ComponentStatus.component,
        ComponentStatus.status,
        ComponentStatus.observed_at,
    )
    rows += session.execute(
        select(*columns).where(ComponentStatus.observed_at >= lo, ComponentStatus.observed_at <= hi)
    )
    for edge in (_last_before(lo, _KNOWN_STATUSES), _last_before(lo, {"operational"})):
        # The rows from each component's edge up to ``lo``.
        rows += session.execute(
            select(*columns).join(
                edge,
                and_(
                    edge.c.source_id == ComponentStatus.source_id,
                    edge.c.component == ComponentStatus.component,
                    ComponentStatus.observed_at >= edge.c.at,
                    ComponentStatus.observed_at < lo,
                ),
            )
        )
    recovered = (
        select(
            ComponentStatus.source_id,
            ComponentStatus.component,
            func.min(ComponentStatus.observed_at).label("at"),
        )
        .where(ComponentStatus.observed_at > hi, ComponentStatus.status == "operational")
        .group_by(ComponentStatus.source_id, ComponentStatus.component)
        .subquery()
    )
    rows += session.execute(
        select(*columns).join(
            recovered,
            and_(
                recovered.c.source_id == ComponentStatus.source_id,
                recovered.c.component == ComponentStatus.component,
                recovered.c.at == ComponentStatus.observed_at,
            ),
        )
    )
    names: dict[int, str] = {}
    for ident, name in session.execute(select(Source.id, Source.name)):
        names[ident] = name
    transitions = {(names[source], component, at): status for source, component, status, at in rows}
    return component_windows(
        ComponentTransition(source, component, status, at)
        for (source, component, at), status in transitions.items()
    )


def _last_before(lo: datetime, statuses: Collection[str]) -> Subquery:
    """Each component's last transition before ``lo`` to one of ``statuses``."""
    return (
        select(
            ComponentStatus.source_id,
            ComponentStatus.component,
            func.max(ComponentStatus.observed_at).label("at"),
        )
        .where(ComponentStatus.observed_at < lo, ComponentStatus.status.in_(statuses))
        .group_by(ComponentStatus.source_id, ComponentStatus.component)
        .subquery()
    )


def _maintenance_windows(session: Session, lo: datetime, hi: datetime) -> list[UpstreamWindow]:
    start = func.coalesce(Maintenance.started_at, Maintenance.scheduled_for)
    end = func.coalesce(Maintenance.completed_at, Maintenance.scheduled_until)
    rows = session.execute(
        select(Maintenance, Source.name)
        .join(Source, Source.id == Maintenance.source_id)
        .where(start.is_not(None), start <= hi, or_(end.is_(None), end >= lo))
    ).all()
    windows = []
    for item, source in rows:
        begins = item.started_at or item.scheduled_for
        if begins is None:
            continue
        ends = item.completed_at or item.scheduled_until
        windows.append(
            UpstreamWindow(
                source=source,
                kind="maintenance",
                title=item.title,
                start=begins,
                end=ends,
                impact=item.impact or "maintenance",
                components=tuple(item.components or ()),
                url=item.url,
                status=item.status,
                declared_start=begins,
                declared_end=ends,
                component_level=bool(item.components),
            )
        )
    return windows


def pages(
    session: Session, at: datetime, components_of: Collection[str] | None = None
) -> list[Page]:
    """Each status source as read around ``at``: its components, the last poll that read
    it at or before ``at``, the first failed poll after that, and the first poll that
    read it after ``at`` (a page lists past incidents, so a later read tells of earlier
    times too). Whether that makes what it declared then known is the correlator's call.

    One statement for the polls: per source, each figure is an index range on
    ``ix_poll_source_started`` that stops at its first match. The components
    (every name the page ever used) are read only for ``components_of`` when
    given: only a failure whose component must be told from its host needs them.
    """
    mine = Poll.source_id == Source.id
    read = Poll.outcome != "error"
    last_read = (
        select(func.max(Poll.started_at)).where(mine, read, Poll.started_at <= at)
    ).scalar_subquery()
    rows = session.execute(
        select(
            Source.id,
            Source.name,
            Source.page_name,
            Source.url,
            # Ordered, so that every engine walks the index (PostgreSQL's planner
            # would otherwise scan the poll log for "any row of this source").
            select(Poll.id).where(mine).order_by(Poll.started_at).limit(1).scalar_subquery(),
            last_read,
            select(func.min(Poll.started_at))
            .where(mine, read, Poll.started_at > at)
            .scalar_subquery(),
        ).order_by(Source.name)
    ).all()
    # Every name the page has used: its component list, and what its incidents and
    # their updates named (a page's summary may be unreadable or trimmed).
    known: dict[int, list[str]] = defaultdict(list)
    wanted = {ident for ident, name, *_ in rows if components_of is None or name in components_of}
    if wanted:
        named = union(
            select(ComponentStatus.source_id, ComponentStatus.component).where(
                ComponentStatus.source_id.in_(wanted)
            ),
            select(Incident.source_id, IncidentComponent.component)
            .join(Incident, Incident.id == IncidentComponent.incident_id)
            .where(Incident.source_id.in_(wanted)),
            select(Incident.source_id, UpdateComponent.component)
            .join(IncidentUpdate, IncidentUpdate.id == UpdateComponent.update_id)
            .join(Incident, Incident.id == IncidentUpdate.incident_id)
            .where(Incident.source_id.in_(wanted)),
        )
        for ident, component in session.execute(named):
            known[ident].append(component)
    found = []
    for ident, name, page_name, url, any_poll, last, after in rows:
        # Why it was not read: the first failure since the last read up to ``at``
        # (a short range), or, never read at all, the first poll (all failed).
        failure = None
        if last is not None or after is None:
            since = () if last is None else (Poll.started_at > last, Poll.started_at <= at)
            failure = session.execute(
                select(Poll.started_at, Poll.error)
                .where(Poll.source_id == ident, Poll.outcome == "error", *since)
                .order_by(Poll.started_at)
                .limit(1)
            ).first()
        found.append(
            Page(
                name,
                tuple(sorted(known[ident])),
                polled=any_poll is not None,
                moment=at,
                names=(name, page_name or "", url),
                read_after=after,
                last_read=last,
                failing_since=failure[0] if failure else None,
                reason=failure[1] if failure else None,
            )
        )
    return found


# Imported failures are read this far around the span so a burst that began
# before it is grouped whole.
_OBSERVED_SLACK = timedelta(hours=12)


def read_around(
    store: Store,
    at: datetime,
    window: timedelta,
    tolerance: Tolerance,
    probe: str | None = None,
) -> Readings:
    """What ``why`` weighs about ``at``: the rows of ``window`` either side, read once.

    Upstream windows are read ``tolerance`` wider (a page that declares
    late), imported failures half a day wider (a burst begun before the
    span is one window with what follows). ``probe`` narrows the runs and
    heartbeats to one probe; imported failures carry none and stay.
    """
    lo, hi = at - window, at + window
    with store.read() as session:
        series = series_between(session, lo, hi, probe=probe)
        upstream = upstream_windows(session, lo - tolerance.lag, hi + tolerance.lead)
        alive = alive_between(session, lo, hi, probe)
        hosts = hosts_between(session, lo, hi, probe)
        observations = list_observations(store, lo - _OBSERVED_SLACK, hi + _OBSERVED_SLACK)
        # A failure whose component is not configured is told by its host, which
        # needs the names its page has used.
        untold = {o.source for o in observations if o.source} | {
            s.check.source for s in series if s.check.source and not s.check.components
        }
        sources = pages(session, at, components_of=untold)
    return Readings(
        series=tuple(series),
        observations=tuple(observations),
        upstream=tuple(upstream),
        alive=alive,
        pages=tuple(sources),
        hosts=hosts,
    )


def read_between(store: Store, lo: datetime, hi: datetime, probe: str | None = None) -> Readings:
    """What ``timeline`` shows of ``[lo, hi]``: failing runs, imports, upstream windows."""
    with store.read() as session:
        series = series_between(session, lo, hi, failures_only=True, probe=probe)
        upstream = upstream_windows(session, lo, hi)
    observed = list_observations(store, lo - _OBSERVED_SLACK, hi + _OBSERVED_SLACK)
    return Readings(series=tuple(series), observations=tuple(observed), upstream=tuple(upstream))


def failure_series(session: Session, lo: datetime, hi: datetime) -> list[Series]:
    """Each check's failures in ``[lo, hi]`` per probe, and the run that ended each streak.

    Built for months: the failures come through the index of failing runs
    alone (0008), each with the run right after it (one seek along the
    check's and probe's key, in the same statement): when that run did not
    fail, it ended the streak. A streak still failing past ``hi`` gets its
    end as ``recovered_at``. Every series also starts with its first run in
    the span, so a check that only passed is known to have run, and a streak
    running at ``lo`` gets its head (``StreakHead``) as in ``series_between``.
    """
    infos = checks(session)
    after = aliased(CheckRun)

    def following(column: Any) -> Any:
        return (
            select(column)
            .where(
                after.check_id == CheckRun.check_id,
                after.probe == CheckRun.probe,
                after.started_at > CheckRun.started_at,
            )
            .order_by(after.started_at)
            .limit(1)
            .scalar_subquery()
        )

    rows = session.execute(
        select(
            CheckRun.check_id,
            CheckRun.probe,
            CheckRun.started_at,
            CheckRun.failure_class,
            CheckRun.http_status,
            CheckRun.detail,
            following(after.started_at),
            following(after.ok),
            following(after.skipped),
        ).where(not_(CheckRun.ok), CheckRun.started_at >= lo, CheckRun.started_at <= hi)
    )
    runs: dict[tuple[int, str], dict[datetime, Run]] = defaultdict(dict)
    for check_id, probe, started_at, failure_class, status, detail, nxt, ok, skipped in rows:
        info = infos.get(check_id)
        if info is None:
            continue
        mine = runs[(check_id, probe)]
        mine[started_at] = Run(
            info.name, probe, started_at, False, failure_class, status, False, detail
        )
        if nxt is not None and ok:
            mine.setdefault(nxt, Run(info.name, probe, nxt, True, skipped=bool(skipped)))
    series = []
    for check_id, info in infos.items():
        for probe in probes_of(session, check_id):
            first = session.execute(
                select(CheckRun.started_at, CheckRun.ok, CheckRun.skipped)
                .where(
                    CheckRun.check_id == check_id,
                    CheckRun.probe == probe,
                    CheckRun.started_at >= lo,
                    CheckRun.started_at <= hi,
                )
                .order_by(CheckRun.started_at)
                .limit(1)
            ).first()
            if first is None:
                continue
            mine = runs.get((check_id, probe), {})
            if first[1]:
                mine.setdefault(first[0], Run(info.name, probe, first[0], True, skipped=first[2]))
            items = tuple(sorted(mine.values(), key=lambda r: r.started_at))
            head = _streak_head(session, check_id, probe, lo) if items[0].failed else None
            # The last failure's next run failed too, after hi: the streak goes on.
            last = items[-1]
            recovered = _first_end_after(session, check_id, probe, hi) if last.failed else None
            series.append(Series(info, probe, items, head, recovered))
    series.sort(key=lambda s: (s.check.name, s.probe))
    return series


def run_times_between(
    session: Session, spans: Iterable[tuple[datetime, datetime]]
) -> tuple[datetime, ...]:
    """When checks ran (not skipped) within ``spans``: what says a stretch with no
    service was watched all the same (``monitor check`` from cron). Asked for the
    stretches no heartbeat covers, it reads what cron wrote there, and nothing where
    a service ran."""
    times: list[datetime] = []
    for start, end in spans:
        times += session.scalars(
            select(CheckRun.started_at).where(
                CheckRun.started_at > start,
                CheckRun.started_at < end,
                CheckRun.skipped.is_(False),
            )
        )
    return tuple(sorted(times))


def read_report(store: Store, lo: datetime, hi: datetime) -> Readings:
    """What ``monitor report`` compares over ``[lo, hi]``: failure streaks (not every run),
    imported failures, what the pages declared and the pages themselves, when the
    service was up, and when checks ran while it was not."""
    with store.read() as session:
        series = failure_series(session, lo, hi)
        upstream = upstream_windows(session, lo, hi)
        alive = alive_between(session, lo, hi)
        runs = run_times_between(session, _gaps((lo, hi), alive))
        sources = pages(session, hi)
    observed = list_observations(store, lo, hi)
    return Readings(
        series=tuple(series),
        observations=tuple(observed),
        upstream=tuple(upstream),
        alive=alive,
        pages=tuple(sources),
        run_times=runs,
    )


def _gaps(
    span: tuple[datetime, datetime], covered: Iterable[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """The parts of ``span`` no covered span reaches."""
    gaps, cursor = [], span[0]
    for start, end in sorted(covered):
        if start > cursor:
            gaps.append((cursor, min(start, span[1])))
        cursor = max(cursor, end)
        if cursor >= span[1]:
            break
    if cursor < span[1]:
        gaps.append((cursor, span[1]))
    return [g for g in gaps if g[1] > g[0]]


def watched_between(store: Store, lo: datetime, hi: datetime) -> tuple[bool, list[Page]]:
    """Whether the monitor watched any of ``[lo, hi]`` (a heartbeat or a check run in it),
    and the status pages as read for it: an empty timeline must say which it is."""
    with store.read() as session:
        beat = session.scalar(
            select(Heartbeat.id)
            .where(Heartbeat.started_at <= hi, Heartbeat.last_seen >= lo)
            .limit(1)
        )
        run = session.scalar(
            select(CheckRun.id).where(CheckRun.started_at >= lo, CheckRun.started_at <= hi).limit(1)
        )
        sources = pages(session, lo)
    return beat is not None or run is not None, sources
