"""The rows ``why``, ``timeline`` and the charts reason over, read as correlator windows.

Every read is SQL text on a plain DB-API connection (``sqlread.Reader``),
so ``monitor why`` answers in a new process without loading SQLAlchemy;
the service, the charts and the report hand over ``Store.reading()``.

Every query here is an index range scan bounded by the span asked about, so
answering for one moment costs the same on a week-old database as on a
year-old one: check runs through ``ix_check_result_started`` and the
``(check_id, probe_id, started_ms)`` key (on SQLite the table itself, which
is clustered on it); a failure streak begun before the span is summarised
by one grouped query instead of being loaded run by run.

Check runs are in the compact layout (``models.CheckRun``), read back with
``runcodes``: times are integer milliseconds (a span's bounds are rounded
inwards, so a run is in the span exactly when its time as read is), the
outcome and the failure class small integers, and a run's detail NULL where
it is its check's usual. In SQL, a run "ends a streak" when it passed or
was skipped (``outcome IN (0, 2)``); any other outcome is a failure, as
``runcodes.outcome_flags`` reads it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

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
from monitor.store.observed import list_observations
from monitor.store.runcodes import (
    FAILED,
    PASSED,
    SKIPPED,
    detail_of,
    failure_name,
    from_ms,
    outcome_flags,
    to_ms,
)
from monitor.store.sqlread import Reader

# Incidents are read this far beyond the span: an update's text may state an
# impact window that began days before a late declaration (``stated``: up to
# three days long, meeting the declared window widened by a day) or ended
# after the declared resolution.
_STATED_BEFORE = timedelta(days=4)
_STATED_AFTER = timedelta(days=1)

# Component statuses that say something ("unknown", an unreadable page, says
# neither trouble nor recovery, so it cannot be the status a span begins with).
_KNOWN_STATUSES = DEGRADED_STATUSES | {"operational"}

# A run that ends a failure streak: a pass, or a skipped run.
_ENDED = f"outcome IN ({PASSED}, {SKIPPED})"
# A failed run, as the index of failing runs (``ix_check_result_failed``) holds it.
_FAILED = f"outcome = {FAILED}"

# What a run in a series is read as, in ``_runs``' order.
_RUN_COLUMNS = "check_id, probe_id, started_ms, outcome, failure_class, http_status, detail"


def _from(moment: datetime) -> int:
    """The bound in milliseconds for "at or after ``moment``" (and "before" it): rounded up.

    A run is kept to the millisecond, so one read as 10:00:00.123 is before
    a bound of 10:00:00.123456; rounding the bound up keeps it out of
    ``>=`` as its time as read would.
    """
    ms = to_ms(moment)
    return ms if moment.microsecond % 1000 == 0 else ms + 1


def _until(moment: datetime) -> int:
    """The bound in milliseconds for "at or before ``moment``" (and "after" it): rounded down."""
    return to_ms(moment)


@dataclass(frozen=True, slots=True)
class _Catalog:
    """The checks and probes the runs name by id: small tables, read whole."""

    checks: dict[int, CheckInfo]
    usual: dict[int, str | None]  # each check's usual detail (a run's NULL detail)
    probes: dict[int, str]

    def probe_id(self, name: str) -> int | None:
        return next((ident for ident, known in self.probes.items() if known == name), None)


def _catalog(reader: Reader) -> _Catalog:
    infos: dict[int, CheckInfo] = {}
    usual: dict[int, str | None] = {}
    for ident, name, kind, role, target, source, components, detail in reader.rows(
        "SELECT id, name, kind, role, target, depends_on_source, depends_on_components, "
        'usual_detail FROM "check"',
        json=(6,),
    ):
        infos[ident] = CheckInfo(
            name=name,
            kind=kind,
            role=role,
            target=target,
            source=source,
            components=tuple(components or ()),
        )
        usual[ident] = detail
    probes: dict[int, str] = dict(reader.rows("SELECT id, name FROM probe"))
    return _Catalog(infos, usual, probes)


def checks(reader: Reader) -> dict[int, CheckInfo]:
    """Every stored check by id (a check removed from the config keeps its history)."""
    return _catalog(reader).checks


def series_between(
    reader: Reader,
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
    catalog = _catalog(reader)
    params: dict[str, Any] = {"lo": _from(lo), "hi": _until(hi)}
    in_span = "started_ms >= :lo AND started_ms <= :hi"
    if probe is not None:
        params["probe"] = catalog.probe_id(probe)
        if params["probe"] is None:
            return []
        in_span += " AND probe_id = :probe"
    if failures_only:
        query = (
            f"SELECT {_RUN_COLUMNS} FROM (SELECT {_RUN_COLUMNS}, lag(outcome) OVER "
            "(PARTITION BY check_id, probe_id ORDER BY started_ms) AS previous "
            f"FROM check_result WHERE {in_span}) AS ranked "
            f"WHERE outcome NOT IN ({PASSED}, {SKIPPED}) OR previous NOT IN ({PASSED}, {SKIPPED})"
            # The first run: were it dropped as a pass, the next failure would
            # look like the first and inherit a streak it ended.
            " OR previous IS NULL ORDER BY started_ms"
        )
    else:
        query = f"SELECT {_RUN_COLUMNS} FROM check_result WHERE {in_span} ORDER BY started_ms"
    runs = _runs(catalog, reader.rows(query, params))
    series = []
    infos = catalog.checks
    for (check_id, probe_id), items in sorted(runs.items(), key=lambda kv: infos[kv[0][0]].name):
        head = _streak_head(reader, check_id, probe_id, lo) if items[0].failed else None
        recovered = _first_end_after(reader, check_id, probe_id, hi) if items[-1].failed else None
        series.append(
            Series(infos[check_id], catalog.probes[probe_id], tuple(items), head, recovered)
        )
    return series


def _runs(catalog: _Catalog, rows: Iterable[tuple[Any, ...]]) -> dict[tuple[int, int], list[Run]]:
    """Rows of ``_RUN_COLUMNS`` as runs per (check id, probe id), in the rows' order."""
    infos, usual, probes = catalog.checks, catalog.usual, catalog.probes
    runs: dict[tuple[int, int], list[Run]] = defaultdict(list)
    # This loop visits every run in the span: plain tuple unpacking, local names, and
    # the codec's answers for the codes written today looked up, not recomputed.
    flags = {code: outcome_flags(code) for code in (PASSED, FAILED, SKIPPED)}
    for check_id, probe_id, started_ms, outcome, code, status, detail in rows:
        info = infos.get(check_id)
        if info is None:
            continue
        ok, skipped = flags.get(outcome) or outcome_flags(outcome)
        runs[(check_id, probe_id)].append(
            Run(
                info.name,
                probes[probe_id],
                from_ms(started_ms),
                ok,
                None if code is None else failure_name(code),
                status,
                skipped,
                usual[check_id] or "" if detail is None else detail,
            )
        )
    return runs


def _streak_head(reader: Reader, check_id: int, probe_id: int, lo: datetime) -> StreakHead | None:
    """The failures of one check on one probe since its last pass (or skip) before ``lo``.

    One seek back along the key to that run, then one grouped count of what
    lies between it and ``lo``: every run there failed.
    """
    key = {"check": check_id, "probe": probe_id, "lo": _from(lo)}
    mine = "check_id = :check AND probe_id = :probe AND started_ms < :lo"
    last_ended = reader.scalar(
        f"SELECT started_ms FROM check_result WHERE {mine} AND {_ENDED} "
        "ORDER BY started_ms DESC LIMIT 1",
        key,
    )
    since = "" if last_ended is None else " AND started_ms > :last"
    rows = reader.rows(
        f"SELECT failure_class, min(started_ms), count(*) FROM check_result WHERE {mine}{since} "
        "GROUP BY failure_class",
        {**key, "last": last_ended},
    )
    if not rows:
        return None
    classes: dict[str, int] = {}
    for code, _, count in rows:
        name = failure_name(code) or "unknown"
        classes[name] = classes.get(name, 0) + count
    runs = sum(count for _, _, count in rows)
    return StreakHead(
        start=from_ms(min(first for _, first, _ in rows)),
        runs=runs,
        failures=runs,
        failure_classes=classes,
    )


def _first_end_after(reader: Reader, check_id: int, probe_id: int, hi: datetime) -> datetime | None:
    """The first run after ``hi`` that ended the streak: a pass, or a skipped run."""
    found = reader.scalar(
        "SELECT started_ms FROM check_result WHERE check_id = :check AND probe_id = :probe "
        f"AND started_ms > :hi AND {_ENDED} ORDER BY started_ms LIMIT 1",
        {"check": check_id, "probe": probe_id, "hi": _until(hi)},
    )
    return None if found is None else from_ms(found)


def alive_between(
    reader: Reader, lo: datetime, hi: datetime, probe: str | None = None
) -> tuple[tuple[datetime, datetime], ...]:
    """The service's heartbeat spans meeting ``[lo, hi]``: from start to stop, or last beat."""
    return _alive(_heartbeats(reader, lo, hi, probe))


def hosts_between(
    reader: Reader, lo: datetime, hi: datetime, probe: str | None = None
) -> tuple[tuple[str, str], ...]:
    """Each probe's host while it ran in ``[lo, hi]`` (the latest start's, if it moved)."""
    return _hosts(_heartbeats(reader, lo, hi, probe))


Beat = tuple[str, str, datetime, datetime]


def _alive(beats: list[Beat]) -> tuple[tuple[datetime, datetime], ...]:
    return tuple((start, end) for _, _, start, end in beats)


def _hosts(beats: list[Beat]) -> tuple[tuple[str, str], ...]:
    hosts = {name: host for name, host, _, _ in beats}
    return tuple(sorted(hosts.items()))


def _heartbeats(reader: Reader, lo: datetime, hi: datetime, probe: str | None) -> list[Beat]:
    """(probe, host, start, end) of each service run meeting ``[lo, hi]``, by start."""
    mine = "" if probe is None else " AND probe = :probe"
    rows = reader.rows(
        "SELECT probe, host, started_at, last_seen, stopped_at FROM heartbeat "
        f"WHERE started_at <= :hi AND last_seen >= :lo{mine} ORDER BY started_at",
        {"lo": lo, "hi": hi, "probe": probe},
        times=(2, 3, 4),
    )
    return [(name, host, started, stopped or seen) for name, host, started, seen, stopped in rows]


def upstream_windows(reader: Reader, lo: datetime, hi: datetime) -> list[UpstreamWindow]:
    """Incidents, component degradations and maintenances meeting ``[lo, hi]``, by start."""
    names: dict[int, str] = dict(reader.rows("SELECT id, name FROM source"))
    windows = [
        *_incident_windows(reader, lo, hi),
        *_component_windows(reader, lo, hi, names),
        *_maintenance_windows(reader, lo, hi),
    ]
    windows = [w for w in windows if w.overlaps(lo, hi)]
    windows.sort(key=lambda w: (w.start, w.source, w.kind, w.title))
    return windows


def _incident_windows(reader: Reader, lo: datetime, hi: datetime) -> list[UpstreamWindow]:
    # Any time it names may be its earliest: a backfilled incident can be
    # started after it was resolved.
    rows = reader.rows(
        "SELECT i.id, i.title, i.status, i.impact, i.url, i.started_at, i.created_at, "
        "i.resolved_at, s.name FROM incident AS i JOIN source AS s ON s.id = i.source_id "
        "WHERE (i.started_at <= :begun OR i.created_at <= :begun OR i.resolved_at <= :begun) "
        "AND (i.resolved_at IS NULL OR i.resolved_at >= :ended)",
        {"begun": hi + _STATED_BEFORE, "ended": lo - _STATED_AFTER},
        times=(5, 6, 7),
    )
    if not rows:
        return []
    ids = [row[0] for row in rows]
    updates: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for incident, created, body in reader.rows(
        "SELECT incident_id, created_at, body FROM incident_update "
        "WHERE incident_id IN (:ids) ORDER BY created_at DESC",
        {"ids": ids},
        times=(1,),
    ):
        updates[incident].append((created, body))
    statuses: dict[int, list[UpdateStatus]] = defaultdict(list)
    for incident, created, component, old, new in reader.rows(
        "SELECT u.incident_id, u.created_at, c.component, c.old_status, c.new_status "
        "FROM incident_update AS u JOIN update_component AS c ON c.update_id = u.id "
        "WHERE u.incident_id IN (:ids) ORDER BY c.id",
        {"ids": ids},
        times=(1,),
    ):
        statuses[incident].append(UpdateStatus(created, component, old, new))
    listed: dict[int, list[str]] = defaultdict(list)
    for incident, component in reader.rows(
        "SELECT incident_id, component FROM incident_component "
        "WHERE incident_id IN (:ids) ORDER BY id",
        {"ids": ids},
    ):
        listed[incident].append(component)
    return [
        incident_window(
            DeclaredIncident(
                source=source,
                title=title,
                started_at=started,
                created_at=created,
                resolved_at=resolved,
                status=status,
                impact=impact,
                url=url,
                updates=tuple(updates[ident]),
                statuses=tuple(statuses[ident]),
                listed=tuple(listed[ident]),
            )
        )
        for ident, title, status, impact, url, started, created, resolved, source in rows
    ]


_TRANSITION = "c.source_id, c.component, c.status, c.observed_at"


def _seek(bound: str, statuses: str, *, backwards: bool) -> str:
    """One component's nearest transition past ``bound`` to one of ``statuses``: a walk
    along the (source_id, component, observed_at) key from ``bound``, stopping there."""
    order = "DESC" if backwards else ""
    return (
        "(SELECT e.observed_at FROM component_status AS e WHERE e.source_id = k.source_id "
        f"AND e.component = k.component AND e.observed_at {bound} AND e.status IN ({statuses}) "
        f"ORDER BY e.observed_at {order} LIMIT 1)"
    )


def _component_windows(
    reader: Reader, lo: datetime, hi: datetime, names: dict[int, str]
) -> list[UpstreamWindow]:
    """Transitions in the span, plus what frames it: each component's status at ``lo``
    (back to its last calm status, so a degradation that changed severity before the
    span keeps its true start) and its first recovery after ``hi`` (so one that outlived
    the span ends where it did, not "still open").

    Three statements, none of which reads a component's whole history: the span's
    transitions (a range of ``ix_component_status_observed``); each component's edges,
    a few steps along its (source_id, component, observed_at) key from ``lo`` back to
    its last operational status (or, never operational before, its last known one) and
    from ``hi`` on to its first recovery; and the rows from each such edge up to ``lo``,
    one key range per component.
    """
    span = {"lo": lo, "hi": hi, "operational": "operational", "known": sorted(_KNOWN_STATUSES)}
    rows = reader.rows(
        f"SELECT {_TRANSITION} FROM component_status AS c "
        "WHERE c.observed_at >= :lo AND c.observed_at <= :hi",
        span,
        times=(3,),
    )
    edges = reader.rows(
        "SELECT k.source_id, k.component, "
        f"{_seek('< :lo', ':operational', backwards=True)}, "
        f"{_seek('< :lo', ':known', backwards=True)}, "
        f"{_seek('> :hi', ':operational', backwards=False)} "
        "FROM (SELECT DISTINCT source_id, component FROM component_status) AS k",
        span,
        times=(2, 3, 4),
    )
    # From the last operational status before ``lo``: any known status after it
    # (operational is one) is later still, so this is the span's whole frame.
    frames = [(source, component, calm or known) for source, component, calm, known, _ in edges]
    frames = [frame for frame in frames if frame[2] is not None]
    if frames:
        values = {
            f"{key}_{n}": value
            for n, frame in enumerate(frames)
            for key, value in zip("sct", frame, strict=True)
        }
        listed = ", ".join(f"(:s_{n}, :c_{n}, :t_{n})" for n in range(len(frames)))
        rows += reader.rows(
            f"WITH edge (source_id, component, since) AS (VALUES {listed}) "
            f"SELECT {_TRANSITION} FROM edge JOIN component_status AS c "
            "ON c.source_id = edge.source_id AND c.component = edge.component "
            "AND c.observed_at >= edge.since AND c.observed_at < :lo",
            {**values, "lo": lo},
            times=(3,),
        )
    rows += [
        (source, component, "operational", recovered)
        for source, component, _, _, recovered in edges
        if recovered is not None
    ]
    transitions = {(names[source], component, at): status for source, component, status, at in rows}
    return component_windows(
        ComponentTransition(source, component, status, at)
        for (source, component, at), status in transitions.items()
    )


def _maintenance_windows(reader: Reader, lo: datetime, hi: datetime) -> list[UpstreamWindow]:
    start = "coalesce(m.started_at, m.scheduled_for)"
    end = "coalesce(m.completed_at, m.scheduled_until)"
    rows = reader.rows(
        "SELECT m.title, m.status, m.impact, m.url, m.components, m.scheduled_for, "
        "m.scheduled_until, m.started_at, m.completed_at, s.name "
        "FROM maintenance AS m JOIN source AS s ON s.id = m.source_id "
        f"WHERE {start} IS NOT NULL AND {start} <= :hi AND ({end} IS NULL OR {end} >= :lo)",
        {"lo": lo, "hi": hi},
        times=(5, 6, 7, 8),
        json=(4,),
    )
    windows = []
    for title, status, impact, url, components, scheduled_for, until, started, done, source in rows:
        begins = started or scheduled_for
        if begins is None:
            continue
        ends = done or until
        windows.append(
            UpstreamWindow(
                source=source,
                kind="maintenance",
                title=title,
                start=begins,
                end=ends,
                impact=impact or "maintenance",
                components=tuple(components or ()),
                url=url,
                status=status,
                declared_start=begins,
                declared_end=ends,
                component_level=bool(components),
            )
        )
    return windows


def pages(reader: Reader, at: datetime, components_of: Collection[str] | None = None) -> list[Page]:
    """Each status source as read around ``at``: its components, the last poll that read
    it at or before ``at``, the first failed poll after that, and the first poll that
    read it after ``at`` (a page lists past incidents, so a later read tells of earlier
    times too). Whether that makes what it declared then known is the correlator's call.

    One statement for the polls: per source, each figure is an index range on
    ``ix_poll_source_started`` that stops at its first match. The components
    (every name the page ever used) are read only for ``components_of`` when
    given: only a failure whose component must be told from its host needs them.
    """
    mine = "p.source_id = s.id"
    read = "p.outcome <> :error"
    rows = reader.rows(
        "SELECT s.id, s.name, s.page_name, s.url, "
        # Ordered, so that every engine walks the index (PostgreSQL's planner
        # would otherwise scan the poll log for "any row of this source").
        f"(SELECT p.id FROM poll AS p WHERE {mine} ORDER BY p.started_at LIMIT 1), "
        f"(SELECT max(p.started_at) FROM poll AS p WHERE {mine} AND {read} "
        "AND p.started_at <= :at), "
        f"(SELECT min(p.started_at) FROM poll AS p WHERE {mine} AND {read} AND p.started_at > :at)"
        " FROM source AS s ORDER BY s.name",
        {"at": at, "error": "error"},
        times=(5, 6),
    )
    # Every name the page has used: its component list, and what its incidents and
    # their updates named (a page's summary may be unreadable or trimmed).
    known: dict[int, list[str]] = defaultdict(list)
    wanted = [ident for ident, name, *_ in rows if components_of is None or name in components_of]
    if wanted:
        for ident, component in reader.rows(
            "SELECT source_id, component FROM component_status WHERE source_id IN (:wanted) "
            "UNION SELECT i.source_id, c.component FROM incident_component AS c "
            "JOIN incident AS i ON i.id = c.incident_id WHERE i.source_id IN (:wanted) "
            "UNION SELECT i.source_id, c.component FROM update_component AS c "
            "JOIN incident_update AS u ON u.id = c.update_id "
            "JOIN incident AS i ON i.id = u.incident_id WHERE i.source_id IN (:wanted)",
            {"wanted": wanted},
        ):
            known[ident].append(component)
    found = []
    for ident, name, page_name, url, any_poll, last, after in rows:
        # Why it was not read: the first failure since the last read up to ``at``
        # (a short range), or, never read at all, the first poll (all failed).
        failure = None
        if last is not None or after is None:
            since = "" if last is None else " AND started_at > :last AND started_at <= :at"
            failure = reader.first(
                "SELECT started_at, error FROM poll WHERE source_id = :source "
                f"AND outcome = :error{since} ORDER BY started_at LIMIT 1",
                {"source": ident, "error": "error", "last": last, "at": at},
                times=(0,),
            )
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
    reader: Reader,
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
    series = series_between(reader, lo, hi, probe=probe)
    upstream = upstream_windows(reader, lo - tolerance.lag, hi + tolerance.lead)
    beats = _heartbeats(reader, lo, hi, probe)
    observations = list_observations(reader, lo - _OBSERVED_SLACK, hi + _OBSERVED_SLACK)
    # A failure whose component is not configured is told by its host, which
    # needs the names its page has used.
    untold = {o.source for o in observations if o.source} | {
        s.check.source for s in series if s.check.source and not s.check.components
    }
    sources = pages(reader, at, components_of=untold)
    return Readings(
        series=tuple(series),
        observations=tuple(observations),
        upstream=tuple(upstream),
        alive=_alive(beats),
        pages=tuple(sources),
        hosts=_hosts(beats),
    )


def read_between(reader: Reader, lo: datetime, hi: datetime, probe: str | None = None) -> Readings:
    """What ``timeline`` shows of ``[lo, hi]``: failing runs, imports, upstream windows."""
    series = series_between(reader, lo, hi, failures_only=True, probe=probe)
    upstream = upstream_windows(reader, lo, hi)
    observed = list_observations(reader, lo - _OBSERVED_SLACK, hi + _OBSERVED_SLACK)
    return Readings(series=tuple(series), observations=tuple(observed), upstream=tuple(upstream))


def failure_series(reader: Reader, lo: datetime, hi: datetime) -> list[Series]:
    """Each check's failures in ``[lo, hi]`` per probe, and the run that ended each streak.

    Built for months: the failures come through the index of failing runs
    alone (``ix_check_result_failed``), each with the run right after it
    (one seek along the check's and probe's key, in the same statement):
    when that run did not fail, it ended the streak. A streak still failing
    past ``hi`` gets its end as ``recovered_at``. Every series also starts
    with its first run in the span (one seek per check and probe), so a
    check that only passed is known to have run, and a streak running at
    ``lo`` gets its head (``StreakHead``) as in ``series_between``.
    """
    catalog = _catalog(reader)
    infos, usual, probes = catalog.checks, catalog.usual, catalog.probes
    following = (
        "(SELECT a.{column} FROM check_result AS a WHERE a.check_id = r.check_id "
        "AND a.probe_id = r.probe_id AND a.started_ms > r.started_ms "
        "ORDER BY a.started_ms LIMIT 1)"
    )
    span = {"lo": _from(lo), "hi": _until(hi)}
    rows = reader.rows(
        "SELECT r.check_id, r.probe_id, r.started_ms, r.failure_class, r.http_status, "
        f"r.detail, {following.format(column='started_ms')}, "
        f"{following.format(column='outcome')} FROM check_result AS r "
        f"WHERE r.{_FAILED} AND r.started_ms >= :lo AND r.started_ms <= :hi",
        span,
    )
    runs: dict[tuple[int, int], dict[int, Run]] = defaultdict(dict)
    for check_id, probe_id, started_ms, code, status, detail, nxt, outcome in rows:
        info = infos.get(check_id)
        if info is None:
            continue
        mine = runs[(check_id, probe_id)]
        probe = probes[probe_id]
        mine[started_ms] = Run(
            info.name,
            probe,
            from_ms(started_ms),
            False,
            failure_name(code),
            status,
            False,
            detail_of(detail, usual[check_id]),
        )
        if nxt is not None:
            ok, skipped = outcome_flags(outcome)
            if ok:
                mine.setdefault(nxt, Run(info.name, probe, from_ms(nxt), True, skipped=skipped))
    series = []
    for check_id, info in infos.items():
        for probe_id, probe in probes.items():
            first = reader.first(
                "SELECT started_ms, outcome FROM check_result WHERE check_id = :check "
                "AND probe_id = :probe AND started_ms >= :lo AND started_ms <= :hi "
                "ORDER BY started_ms LIMIT 1",
                {**span, "check": check_id, "probe": probe_id},
            )
            if first is None:
                continue
            mine = runs.get((check_id, probe_id), {})
            ok, skipped = outcome_flags(first[1])
            if ok:
                mine.setdefault(
                    first[0], Run(info.name, probe, from_ms(first[0]), True, skipped=skipped)
                )
            items = tuple(mine[ms] for ms in sorted(mine))
            head = _streak_head(reader, check_id, probe_id, lo) if items[0].failed else None
            # The last failure's next run failed too, after hi: the streak goes on.
            last = items[-1]
            recovered = _first_end_after(reader, check_id, probe_id, hi) if last.failed else None
            series.append(Series(info, probe, items, head, recovered))
    series.sort(key=lambda s: (s.check.name, s.probe))
    return series


def run_times_between(
    reader: Reader, spans: Iterable[tuple[datetime, datetime]]
) -> tuple[datetime, ...]:
    """When checks ran (not skipped) within ``spans``: what says a stretch with no
    service was watched all the same (``monitor check`` from cron). Asked for the
    stretches no heartbeat covers, it reads what cron wrote there, and nothing where
    a service ran."""
    times: list[int] = []
    for start, end in spans:
        times += (
            ms
            for (ms,) in reader.rows(
                "SELECT started_ms FROM check_result WHERE started_ms > :start "
                f"AND started_ms < :end AND outcome <> {SKIPPED}",
                {"start": _until(start), "end": _from(end)},
            )
        )
    return tuple(from_ms(ms) for ms in sorted(times))


def read_report(reader: Reader, lo: datetime, hi: datetime) -> Readings:
    """What ``monitor report`` compares over ``[lo, hi]``: failure streaks (not every run),
    imported failures, what the pages declared and the pages themselves, when the
    service was up, and when checks ran while it was not."""
    series = failure_series(reader, lo, hi)
    upstream = upstream_windows(reader, lo, hi)
    alive = alive_between(reader, lo, hi)
    runs = run_times_between(reader, _gaps((lo, hi), alive))
    sources = pages(reader, hi)
    observed = list_observations(reader, lo, hi)
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


def watched_between(reader: Reader, lo: datetime, hi: datetime) -> tuple[bool, list[Page]]:
    """Whether the monitor watched any of ``[lo, hi]`` (a heartbeat or a check run in it),
    and the status pages as read for it: an empty timeline must say which it is."""
    beat = reader.scalar(
        "SELECT id FROM heartbeat WHERE started_at <= :hi AND last_seen >= :lo LIMIT 1",
        {"lo": lo, "hi": hi},
    )
    run = reader.scalar(
        "SELECT started_ms FROM check_result WHERE started_ms >= :lo AND started_ms <= :hi LIMIT 1",
        {"lo": _from(lo), "hi": _until(hi)},
    )
    return beat is not None or run is not None, pages(reader, lo)


def probe_is_known(reader: Reader, probe: str) -> bool:
    """Whether ``probe`` ever ran a service or a check here: one seek per check, no scan.

    What ``--probe NAME`` checks first, so that a mistyped name is told as
    such instead of answering "no monitoring data".
    """
    if reader.scalar("SELECT id FROM heartbeat WHERE probe = :probe LIMIT 1", {"probe": probe}):
        return True
    ident = reader.scalar("SELECT id FROM probe WHERE name = :probe", {"probe": probe})
    return ident is not None and any(
        _ran(reader, check_id, ident) for (check_id,) in reader.rows('SELECT id FROM "check"')
    )


def probe_names(reader: Reader) -> list[str]:
    """Every probe that ever ran a service or a check here, by name."""
    names = {name for (name,) in reader.rows("SELECT DISTINCT probe FROM heartbeat")}
    ids = [check_id for (check_id,) in reader.rows('SELECT id FROM "check"')]
    for ident, name in reader.rows("SELECT id, name FROM probe"):
        if name not in names and any(_ran(reader, check_id, ident) for check_id in ids):
            names.add(name)
    return sorted(names)


def _ran(reader: Reader, check_id: int, probe_id: int) -> bool:
    """Whether a run of this check on this probe is stored: one seek along the key."""
    return (
        reader.scalar(
            "SELECT started_ms FROM check_result WHERE check_id = :check AND probe_id = :probe "
            "LIMIT 1",
            {"check": check_id, "probe": probe_id},
        )
        is not None
    )
