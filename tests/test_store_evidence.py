"""The reads ``why``, ``timeline`` and the charts make, on SQLite and on PostgreSQL.

Every row is written through the models (or a Core insert of them; check
runs in the compact layout ``runcodes.encode`` makes) with explicit
aware-UTC times, and read back through the plain DB-API reader
(``Store.reading()``): no clock is read and nothing touches the network.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from monitor.correlate.evidence import Evidence, evidence_from, timeline_events
from monitor.correlate.matching import Tolerance
from monitor.correlate.pages import Page
from monitor.correlate.windows import (
    ComponentHit,
    Coverage,
    LocalWindow,
    Run,
    Series,
    StreakHead,
    UpstreamWindow,
    check_windows,
    coverage_of,
)
from monitor.observed import ObservedLine
from monitor.store import Store, runcodes
from monitor.store.checkruns import probe_id
from monitor.store.evidence import (
    alive_between,
    pages,
    probe_is_known,
    probe_names,
    read_around,
    read_between,
    run_times_between,
    series_between,
    upstream_windows,
    watched_between,
)
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
from monitor.store.observed import record_observations

T0 = datetime(2026, 4, 13, 15, 0, tzinfo=UTC)
GAP = timedelta(minutes=10)

# One character per run: "." passed, "-" skipped, " " no run recorded, else a failure class.
CLASSES = {"t": "timeout", "5": "server_error", "d": "dns_failure"}


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


# --- seeding -----------------------------------------------------------------------------


def _source(store: Store, name: str = "github") -> int:
    with store.write() as session, session.begin():
        row = Source(name=name, kind="statuspage", url=f"https://{name}.test", created_at=T0)
        session.add(row)
        session.flush()
        return row.id


def _check(
    store: Store,
    name: str,
    *,
    role: str = "vendor",
    kind: str = "http",
    source: str | None = "github",
    components: Sequence[str] = (),
) -> int:
    with store.write() as session, session.begin():
        row = Check(
            name=name,
            kind=kind,
            role=role,
            target=f"GET https://{name}.test/health",
            depends_on_source=source,
            depends_on_components=list(components),
            created_at=T0,
        )
        session.add(row)
        session.flush()
        return row.id


def _run_rows(
    session: Session, check_id: int, pattern: str, *, probe: str, start: float, step: float
) -> list[dict[str, Any]]:
    """The compact rows of ``pattern``'s runs (no usual: every detail is stored)."""
    ident = probe_id(session, probe)
    rows = []
    for i, mark in enumerate(pattern):
        if mark == " ":
            continue
        rows.append(
            runcodes.encode(
                check_id=check_id,
                probe_id=ident,
                started_at=at(start + i * step),
                duration_ms=12.5,
                ok=mark in ".-",
                skipped=mark == "-",
                failure_class=CLASSES.get(mark),
                http_status=503 if mark == "5" else (200 if mark == "." else None),
                detail=f"{mark} #{i}",
            )
        )
    return rows


def _runs(
    store: Store,
    check_id: int,
    pattern: str,
    *,
    probe: str = "probe-a",
    start: float = 0,
    step: float = 1,
) -> None:
    """Runs of ``pattern`` at ``start``, ``start + step``, ... minutes after T0."""
    with store.write() as session, session.begin():
        rows = _run_rows(session, check_id, pattern, probe=probe, start=start, step=step)
        session.execute(insert(CheckRun), rows)


def _heartbeat(
    store: Store, probe: str, started: float, last_seen: float, stopped: float | None = None
) -> None:
    with store.write() as session, session.begin():
        session.add(
            Heartbeat(
                probe=probe,
                started_at=at(started),
                last_seen=at(last_seen),
                pid=4242,
                host="box",
                stopped_at=None if stopped is None else at(stopped),
            )
        )


Affected = Sequence[tuple[str, str | None, str | None]]


def _incident(
    store: Store,
    source_id: int,
    ident: str,
    title: str,
    *,
    created: float,
    started: float | None = None,
    resolved: float | None = None,
    updates: Sequence[tuple[float, str, Affected]] = (),
    components: Sequence[str] = (),
) -> None:
    """An incident; ``updates`` are (posted, body, [(component, old, new)]) oldest first."""
    with store.write() as session, session.begin():
        row = Incident(
            source_id=source_id,
            external_id=ident,
            title=title,
            status="investigating" if resolved is None else "resolved",
            impact="major",
            created_at=at(created),
            started_at=None if started is None else at(started),
            resolved_at=None if resolved is None else at(resolved),
            url=f"https://stspg.io/{ident}",
            first_seen_at=at(created),
            last_changed_at=at(created if resolved is None else resolved),
        )
        session.add(row)
        session.flush()
        for n, (posted, body, affected) in enumerate(updates):
            update = IncidentUpdate(
                incident_id=row.id,
                external_id=f"{ident}-u{n}",
                status="update",
                body=body,
                created_at=at(posted),
            )
            session.add(update)
            session.flush()
            for component, old, new in affected:
                session.add(
                    UpdateComponent(
                        update_id=update.id, component=component, old_status=old, new_status=new
                    )
                )
            session.flush()
        for component in components:
            session.add(IncidentComponent(incident_id=row.id, component=component))


def _transitions(
    store: Store, source_id: int, component: str, changes: Sequence[tuple[float, str]]
) -> None:
    with store.write() as session, session.begin():
        session.execute(
            insert(ComponentStatus),
            [
                {
                    "source_id": source_id,
                    "component": component,
                    "status": status,
                    "observed_at": at(when),
                }
                for when, status in changes
            ],
        )


def _maintenance(
    store: Store,
    source_id: int,
    ident: str,
    *,
    scheduled_for: float | None = None,
    scheduled_until: float | None = None,
    started: float | None = None,
    completed: float | None = None,
    impact: str | None = None,
    components: Sequence[str] = (),
) -> None:
    def when(minutes: float | None) -> datetime | None:
        return None if minutes is None else at(minutes)

    with store.write() as session, session.begin():
        session.add(
            Maintenance(
                source_id=source_id,
                external_id=ident,
                title=ident,
                status="completed" if completed is not None else "scheduled",
                impact=impact,
                scheduled_for=when(scheduled_for),
                scheduled_until=when(scheduled_until),
                started_at=when(started),
                completed_at=when(completed),
                url=None,
                components=list(components),
                first_seen_at=T0,
                last_changed_at=T0,
            )
        )


def _observations(store: Store, items: Sequence[tuple[float, str, str]], source: str) -> int:
    lines = [
        ObservedLine(
            line=n,
            at=at(minutes),
            error=f"{failure_class} calling {target}",
            failure_class=failure_class,
            fingerprint=f"fp-{n}-{minutes}-{target}",
            target=target,
        )
        for n, (minutes, target, failure_class) in enumerate(items)
    ]
    return record_observations(store, lines, origin="tool.log", source=source, imported_at=at(1000))


def _series(
    store: Store, lo: datetime, hi: datetime, *, failures_only: bool = False
) -> list[Series]:
    with store.reading() as reader:
        return series_between(reader, lo, hi, failures_only=failures_only)


def _upstream(store: Store, lo: datetime, hi: datetime) -> list[UpstreamWindow]:
    with store.reading() as reader:
        return upstream_windows(reader, lo, hi)


def _spans(series: Sequence[Series]) -> list[tuple[Any, ...]]:
    """Every window of ``series`` as what both reads must agree on (``runs`` aside)."""
    return sorted(
        (
            w.name,
            w.probe,
            w.start,
            w.end,
            w.failures,
            w.failure_classes,
            w.http_statuses,
        )
        for s in series
        for w in check_windows(s)
    )


# --- series_between ----------------------------------------------------------------------


def test_it_reads_each_checks_runs_per_probe_in_time_order(store: Store) -> None:
    _source(store)
    login = _check(store, "login", components=("Login",))
    api = _check(store, "api", components=("API", "Git"))
    _runs(store, api, "..t5..", start=-2)  # two before lo, the rest in range
    _runs(store, api, ".-.d.", probe="probe-b", start=0.5)
    _runs(store, login, "....t.", start=0.25, step=2)  # last one after hi

    series = _series(store, at(0), at(10))

    assert [(s.check.name, s.probe) for s in series][2:] == [("login", "probe-a")]
    assert {(s.check.name, s.probe) for s in series[:2]} == {
        ("api", "probe-a"),
        ("api", "probe-b"),
    }
    by_key = {(s.check.name, s.probe): s for s in series}
    api_a = by_key["api", "probe-a"]
    assert [r.started_at for r in api_a.runs] == [at(0), at(1), at(2), at(3)]
    assert [(r.ok, r.skipped, r.failure_class, r.http_status) for r in api_a.runs] == [
        (False, False, "timeout", None),
        (False, False, "server_error", 503),
        (True, False, None, 200),
        (True, False, None, 200),
    ]
    assert api_a.runs[1] == Run(
        check="api",
        probe="probe-a",
        started_at=at(1),
        ok=False,
        failure_class="server_error",
        http_status=503,
        detail="5 #3",
    )
    assert api_a.check.components == ("API", "Git")
    assert api_a.check.source == "github"
    assert api_a.check.target == "GET https://api.test/health"
    assert [r.skipped for r in by_key["api", "probe-b"].runs] == [False, True, False, False, False]
    assert [r.started_at for r in by_key["login", "probe-a"].runs] == [
        at(0.25),
        at(2.25),
        at(4.25),
        at(6.25),
        at(8.25),
    ]
    for item in series:
        times = [r.started_at for r in item.runs]
        assert times == sorted(times)
        assert all(at(0) <= t <= at(10) for t in times)


def test_it_includes_runs_exactly_at_both_ends_of_the_span(store: Store) -> None:
    _source(store)
    api = _check(store, "api")
    _runs(store, api, ".....", start=0)

    (series,) = _series(store, at(1), at(3))

    assert [r.started_at for r in series.runs] == [at(1), at(2), at(3)]


def test_it_returns_no_series_when_no_run_falls_in_the_span(store: Store) -> None:
    _source(store)
    _runs(store, _check(store, "api"), "tttt", start=0)

    assert _series(store, at(10), at(20)) == []
    assert _series(store, at(10), at(20), failures_only=True) == []


@pytest.mark.parametrize(
    ("before", "inside", "head"),
    [
        pytest.param(
            "..tt-5t",
            "t..",
            StreakHead(
                at(5), runs=2, failures=2, failure_classes={"timeout": 1, "server_error": 1}
            ),
            id="a-skipped-run-ends-the-streak-before-it",
        ),
        pytest.param(
            ".--tt5t",
            "t..",
            StreakHead(
                at(3), runs=4, failures=4, failure_classes={"timeout": 3, "server_error": 1}
            ),
            id="skipped-runs-before-the-first-failure-are-not-counted",
        ),
        pytest.param(
            "tdt",
            "t.",
            StreakHead(at(0), runs=3, failures=3, failure_classes={"timeout": 2, "dns_failure": 1}),
            id="never-passed-before",
        ),
        pytest.param("tdt-", "-t.", None, id="a-skipped-first-run-ends-it"),
        pytest.param(
            "t.t  t",
            "d.",
            StreakHead(at(2), runs=2, failures=2, failure_classes={"timeout": 2}),
            id="since-the-last-pass-only",
        ),
        pytest.param(".--", "t.", None, id="only-skipped-runs-since-the-last-pass"),
        pytest.param("..t.", "t.", None, id="streak-ended-before-the-span"),
        pytest.param("", "t.", None, id="no-run-before-the-span"),
        pytest.param("..tt", "..t", None, id="first-run-in-range-passes"),
        pytest.param("..tt", "-.t", None, id="first-real-run-in-range-passes"),
    ],
)
def test_it_summarises_a_streak_begun_before_the_span(
    store: Store, before: str, inside: str, head: StreakHead | None
) -> None:
    _source(store)
    api = _check(store, "api")
    _runs(store, api, before + inside)
    lo = at(len(before))

    (series,) = _series(store, lo, at(100))
    (only,) = _series(store, lo, at(100), failures_only=True)

    assert series.head == head
    assert only.head == head
    if head is not None:
        window = check_windows(series)[0]
        assert (window.start, window.end) == (head.start, at(len(before) + inside.index(".")))
        real = [m for m in inside[: inside.index(".")] if m != "-"]
        assert window.failures == head.failures + len(real)


def test_it_keeps_streaks_per_probe_apart(store: Store) -> None:
    _source(store)
    api = _check(store, "api")
    _runs(store, api, ".ttt" + "t.", probe="probe-a")
    _runs(store, api, "tt.." + "t.", probe="probe-b")

    heads = {s.probe: s.head for s in _series(store, at(4), at(5))}

    assert heads == {
        "probe-a": StreakHead(at(1), runs=3, failures=3, failure_classes={"timeout": 3}),
        "probe-b": None,
    }


@pytest.mark.parametrize(
    ("inside", "after", "recovered"),
    [
        pytest.param(".tt", "tt.t.", 5, id="first-pass-after-the-span"),
        pytest.param(".tt", "t-t.t.", 4, id="a-skipped-run-ends-the-streak"),
        pytest.param(".t-", "t.", None, id="last-run-skipped"),
        pytest.param(".tt", "tttt", None, id="never-recovered"),
        pytest.param(".tt", "", None, id="no-run-after"),
        pytest.param("t.", "t.", None, id="last-run-passed"),
        pytest.param("t.-", "t.", None, id="last-real-run-passed"),
    ],
)
def test_it_gives_a_streak_running_past_the_span_its_recovery(
    store: Store, inside: str, after: str, recovered: float | None
) -> None:
    _source(store)
    api = _check(store, "api")
    _runs(store, api, inside + after)
    hi = at(len(inside) - 1)
    expected = None if recovered is None else at(recovered)

    (series,) = _series(store, at(0), hi)
    (only,) = _series(store, at(0), hi, failures_only=True)

    assert series.recovered_at == expected
    assert only.recovered_at == expected
    if recovered is not None:
        assert check_windows(series)[-1].end == expected


def _kept(runs: Sequence[Run]) -> list[Run]:
    """What ``failures_only`` promises: failures, the runs ending them (a pass or a skip),
    and the first run."""
    return [r for i, r in enumerate(runs) if i == 0 or r.failed or runs[i - 1].failed]


def test_it_keeps_only_failing_runs_and_the_runs_ending_them(store: Store) -> None:
    _source(store)
    api = _check(store, "api")
    _runs(store, api, "..t-t..5.d-.-..")

    (full,) = _series(store, at(0), at(20))
    (only,) = _series(store, at(0), at(20), failures_only=True)

    assert [r.started_at for r in only.runs] == [at(m) for m in (0, 2, 3, 4, 5, 7, 8, 9, 10)]
    assert list(only.runs) == _kept(full.runs)
    assert _spans([only]) == _spans([full])


def _markov(rng: random.Random, length: int) -> str:
    """A run pattern with streaks: the state sticks, some runs are skipped or missing."""
    failing = rng.random() < 0.5
    marks = []
    for _ in range(length):
        if rng.random() < 0.15:
            failing = not failing
        roll = rng.random()
        if roll < 0.08:
            marks.append("-")
        elif roll < 0.1:
            marks.append(" ")
        else:
            marks.append(rng.choice("tt5d") if failing else ".")
    return "".join(marks)


@pytest.mark.parametrize("seed", range(8))
def test_it_finds_the_same_windows_reading_only_failures(store: Store, seed: int) -> None:
    rng = random.Random(seed)
    _source(store)
    layout = {"api": ("probe-a", "probe-b"), "login": ("probe-a",), "vpn": ("probe-a",)}
    ids = {
        name: _check(store, name, role="control" if name == "vpn" else "vendor") for name in layout
    }
    with store.write() as session, session.begin():
        rows = []
        for offset, (name, probes) in enumerate(layout.items()):
            for k, probe in enumerate(probes):
                pattern = _markov(rng, 300)
                rows += _run_rows(
                    session, ids[name], pattern, probe=probe, start=offset / 4 + k / 8, step=1
                )
        session.execute(insert(CheckRun), rows)
    spans = [(at(-10), at(400)), (at(50), at(120)), (at(0), at(0)), (at(299), at(310))]
    for _ in range(12):
        begin = rng.uniform(-5, 300)
        spans.append((at(begin), at(begin + rng.uniform(0, 120))))

    for lo, hi in spans:
        full = _series(store, lo, hi)
        only = _series(store, lo, hi, failures_only=True)

        assert _spans(only) == _spans(full), (lo, hi)
        by_key = {(s.check.name, s.probe): s for s in full}
        assert {(s.check.name, s.probe) for s in only} == set(by_key)
        for item in only:
            whole = by_key[item.check.name, item.probe]
            assert list(item.runs) == _kept(whole.runs)
            assert (item.head, item.recovered_at) == (whole.head, whole.recovered_at)


# --- coverage ----------------------------------------------------------------------------


def test_it_lists_heartbeats_meeting_the_span_and_counts_real_runs(store: Store) -> None:
    _source(store)
    _heartbeat(store, "probe-a", -120, -60, stopped=-60)  # over before the span
    _heartbeat(store, "probe-a", -30, 9, stopped=10)  # started before, stopped inside
    _heartbeat(store, "probe-a", 20, 100)  # still running: last seen after the span
    _heartbeat(store, "probe-b", -500, 0)  # last seen exactly at lo
    _heartbeat(store, "probe-b", 61, 90)  # starts after the span
    api = _check(store, "api")
    _runs(store, api, "-..t-.", start=-1, step=12)  # -1 .. 59, first and fifth skipped
    lo, hi = at(0), at(60)

    runs = [r for s in _series(store, lo, hi) for r in s.runs]
    with store.reading() as reader:
        watched = coverage_of(alive_between(reader, lo, hi), runs)

    assert watched == Coverage(
        watching=True,
        alive=((at(-500), at(0)), (at(-30), at(10)), (at(20), at(100))),
        runs=4,
        first_run=at(11),
        last_run=at(59),
    )


@pytest.mark.parametrize(
    ("pattern", "heartbeat", "watching"),
    [
        pytest.param("", False, False, id="nothing"),
        pytest.param("--", False, False, id="only-skipped-runs"),
        pytest.param("t", False, True, id="a-run-without-the-service"),
        pytest.param("", True, True, id="the-service-without-runs"),
    ],
)
def test_it_says_whether_anything_was_watching(
    store: Store, pattern: str, heartbeat: bool, watching: bool
) -> None:
    _source(store)
    if pattern:
        _runs(store, _check(store, "api"), pattern, start=5)
    _runs(store, _check(store, "old"), "....", start=-100)
    if heartbeat:
        _heartbeat(store, "probe-a", 1, 2)
    _heartbeat(store, "probe-a", -100, -50, stopped=-50)

    runs = [r for s in _series(store, at(0), at(10)) for r in s.runs]
    with store.reading() as reader:
        watched = coverage_of(alive_between(reader, at(0), at(10)), runs)

    assert watched.watching is watching
    assert watched.runs == pattern.count("t")
    if not watching:
        assert watched == Coverage(watching=False)


# --- upstream_windows --------------------------------------------------------------------

LO, HI = at(0), at(120)  # 15:00 to 17:00 UTC


@pytest.fixture
def seeded(store: Store) -> Store:
    """Incidents, component transitions and maintenances around 15:00-17:00 UTC."""
    github = _source(store)
    other = _source(store, "other")
    _incident(
        store,
        github,
        "api",
        "API errors",
        created=12,
        started=10,
        resolved=50,
        updates=[
            (
                12,
                "Investigating errors on the API",
                [("API", "operational", "partial_outage"), ("Webhooks", None, "operational")],
            ),
            (
                30,
                "Git operations are affected too",
                [("API", "partial_outage", "major_outage"), ("Git", None, "degraded_performance")],
            ),
            (
                50,
                "Resolved",
                [("API", "major_outage", "operational"), ("Git", None, "operational")],
            ),
        ],
        components=("Webhooks", "Pages", "API", "Git"),
    )
    _incident(
        store,
        other,
        "listed",
        "Degraded performance",
        created=60,
        resolved=90,
        updates=[(60, "Looking into it", [("Actions", "operational", "operational")])],
        components=("Actions", "Pages"),
    )
    _incident(store, github, "open", "Still investigating", created=100, started=100)
    _incident(
        store,
        github,
        "login",
        "Login failures",
        created=45,
        started=45,
        resolved=100,
        updates=[
            (50, "We are investigating", []),
            (80, "Errors between 15:10 to 15:40 UTC", []),
            (95, "Between 15:31 to 16:19 UTC, users saw errors signing in.", []),
            (100, "This incident has been resolved.", []),
        ],
    )
    # Declared after the span, but its final word puts the impact inside it.
    _incident(
        store,
        github,
        "late",
        "Late declaration",
        created=150,
        started=150,
        resolved=170,
        updates=[(170, "From 16:40 to 17:20 UTC requests failed.", [])],
    )
    # Declared inside the span, but its final word puts the impact after it.
    _incident(
        store,
        github,
        "after",
        "Stated after",
        created=110,
        started=110,
        resolved=200,
        updates=[(200, "Between 17:10 and 17:40 UTC pushes were delayed.", [])],
    )
    _incident(store, github, "old", "Yesterday", created=-1400, resolved=-1300)
    _incident(store, github, "future", "Tomorrow", created=1400, started=1400)

    api = [
        (-300, "operational"),
        (-30, "partial_outage"),
        (20, "major_outage"),
        (40, "operational"),
    ]
    _transitions(store, github, "API", api)
    _transitions(store, github, "Git", [(-500, "degraded_performance"), (-400, "operational")])
    _transitions(
        store,
        github,
        "Pages",
        [
            (-100, "operational"),
            (100, "degraded_performance"),
            (150, "major_outage"),
            (200, "operational"),
        ],
    )
    _transitions(store, other, "Actions", [(-60, "partial_outage"), (300, "operational")])
    _transitions(store, github, "Webhooks", [(10, "under_maintenance"), (30, "operational")])
    _transitions(store, github, "Copilot", [(130, "partial_outage")])
    _transitions(store, github, "Old", [(-50, "partial_outage"), (-10, "operational")])
    _transitions(store, github, "Lost", [(-20, "major_outage"), (10, "unknown")])

    _maintenance(
        store,
        github,
        "db-upgrade",
        scheduled_for=60,
        scheduled_until=90,
        started=65,
        completed=85,
        impact="minor",
    )
    _maintenance(store, github, "scheduled-only", scheduled_for=110, scheduled_until=180)
    _maintenance(store, github, "unplanned", started=-20, components=("API",))
    _maintenance(store, github, "started-early", scheduled_for=-90, scheduled_until=10, started=-80)
    _maintenance(store, github, "no-start", scheduled_until=60)
    _maintenance(store, github, "next-week", scheduled_for=300, scheduled_until=360)
    _maintenance(store, github, "done-before", started=-100, completed=-50)
    return store


def _titled(windows: Sequence[UpstreamWindow]) -> dict[str, UpstreamWindow]:
    return {w.title: w for w in windows}


def test_it_returns_the_upstream_windows_meeting_the_span_by_start(seeded: Store) -> None:
    windows = _upstream(seeded, LO, HI)

    assert [(w.start, w.source, w.kind, w.title, w.end) for w in windows] == [
        (at(-80), "github", "maintenance", "started-early", at(10)),
        (at(-60), "other", "component", "Actions: partial outage", at(300)),
        (at(-30), "github", "component", "API: major outage", at(40)),
        (at(-20), "github", "component", "Lost: major outage", None),
        (at(-20), "github", "maintenance", "unplanned", None),
        (at(10), "github", "incident", "API errors", at(50)),
        (at(10), "github", "incident", "Login failures", at(100)),
        (at(10), "github", "maintenance", "Webhooks: under maintenance", at(30)),
        (at(60), "other", "incident", "Degraded performance", at(90)),
        (at(65), "github", "maintenance", "db-upgrade", at(85)),
        (at(100), "github", "component", "Pages: degraded performance", at(200)),
        (at(100), "github", "incident", "Late declaration", at(170)),
        (at(100), "github", "incident", "Still investigating", None),
        (at(110), "github", "incident", "Stated after", at(200)),
        (at(110), "github", "maintenance", "scheduled-only", at(180)),
    ]


@pytest.mark.parametrize(
    ("lo", "hi", "titles"),
    [
        pytest.param(
            at(130),
            at(135),
            {
                "Actions: partial outage",
                "Lost: major outage",
                "unplanned",
                "Pages: degraded performance",
                "Late declaration",
                "Stated after",
                "Still investigating",
                "scheduled-only",
                "Copilot: partial outage",
            },
            id="after-hi",
        ),
        pytest.param(
            at(-45),
            at(-40),
            {"Actions: partial outage", "Old: partial outage", "started-early"},
            id="before-lo",
        ),
        pytest.param(
            at(-450),
            at(-440),
            {"Git: degraded performance"},
            id="long-before",
        ),
        pytest.param(at(-1380), at(-1370), {"Yesterday"}, id="yesterday"),
    ],
)
def test_it_returns_what_meets_other_spans(
    seeded: Store, lo: datetime, hi: datetime, titles: set[str]
) -> None:
    assert {w.title for w in _upstream(seeded, lo, hi)} == titles


def test_it_names_only_the_components_updates_say_were_degraded(seeded: Store) -> None:
    window = _titled(_upstream(seeded, LO, HI))["API errors"]

    assert window == UpstreamWindow(
        source="github",
        kind="incident",
        title="API errors",
        start=at(10),
        end=at(50),
        impact="major",
        components=("API", "Git"),
        url="https://stspg.io/api",
        status="resolved",
        declared_start=at(10),
        declared_end=at(50),
        stated_in_update=False,
        component_level=True,
        hits=(ComponentHit("API", at(10), at(50)), ComponentHit("Git", at(30), at(50))),
        about="Investigating errors on the API Git operations are affected too Resolved",
    )


def test_it_falls_back_on_the_incidents_own_component_list(seeded: Store) -> None:
    window = _titled(_upstream(seeded, LO, HI))["Degraded performance"]

    assert window.components == ("Actions", "Pages")
    assert window.component_level is False
    assert (window.source, window.start, window.declared_start) == ("other", at(60), at(60))


def test_it_leaves_an_unresolved_incident_open(seeded: Store) -> None:
    window = _titled(_upstream(seeded, LO, HI))["Still investigating"]

    assert (window.end, window.declared_end, window.status) == (None, None, "investigating")
    assert window.components == ()


def test_it_takes_the_impact_window_every_stating_update_gives(seeded: Store) -> None:
    windows = _titled(_upstream(seeded, LO, HI))
    login, late = windows["Login failures"], windows["Late declaration"]

    # 15:10-15:40 and 15:31-16:19, stated in two updates, widen the declared
    # 15:45-16:40 together (a later, narrower span takes nothing back).
    assert (login.start, login.end) == (at(10), at(100))
    assert login.stated == (at(10), at(79))
    assert (login.declared_start, login.declared_end) == (at(45), at(100))
    assert login.stated_in_update is True
    assert (late.start, late.end, late.declared_start) == (at(100), at(170), at(150))
    assert late.stated_in_update is True
    after = windows["Stated after"]  # a span inside the declared one changes nothing
    assert (after.start, after.end, after.stated_in_update) == (at(110), at(200), True)
    stating = {login.title, late.title, after.title}
    assert not any(w.stated_in_update for w in windows.values() if w.title not in stating)


def test_it_reads_component_degradations_from_the_last_status_before_the_span(
    seeded: Store,
) -> None:
    windows = _titled(_upstream(seeded, LO, HI))

    api = windows["API: major outage"]
    assert (api.start, api.end, api.impact, api.components) == (
        at(-30),
        at(40),
        "major_outage",
        ("API",),
    )
    assert (api.kind, api.component_level) == ("component", True)
    assert windows["Webhooks: under maintenance"].kind == "maintenance"
    assert "Old: partial outage" not in windows
    assert "Git: degraded performance" not in windows


def test_it_ends_a_degradation_running_past_the_span_at_its_recovery(seeded: Store) -> None:
    windows = _titled(_upstream(seeded, LO, HI))

    assert windows["Pages: degraded performance"].end == at(200)
    assert windows["Actions: partial outage"].end == at(300)
    assert windows["Lost: major outage"].end is None  # "unknown" is no recovery


def test_it_reads_past_an_unknown_status_to_the_last_known_one(seeded: Store) -> None:
    # "Lost" went to major_outage at 14:40, then its page became unreadable at 15:10.
    for lo, hi in ((LO, HI), (at(130), at(135))):
        lost = _titled(_upstream(seeded, lo, hi))["Lost: major outage"]
        assert (lost.start, lost.end) == (at(-20), None)


def test_it_keeps_the_true_start_of_a_degradation_that_worsened_before_the_span(
    seeded: Store,
) -> None:
    # API: partial_outage at 14:30, major_outage at 15:20, operational at 15:40.
    api = _titled(_upstream(seeded, at(25), at(30)))["API: major outage"]

    assert (api.start, api.end) == (at(-30), at(40))


def test_it_reads_maintenances_from_actual_times_else_scheduled_ones(seeded: Store) -> None:
    windows = _titled(_upstream(seeded, LO, HI))
    upgrade, scheduled = windows["db-upgrade"], windows["scheduled-only"]
    unplanned, early = windows["unplanned"], windows["started-early"]

    assert (upgrade.start, upgrade.end, upgrade.impact) == (at(65), at(85), "minor")
    assert (scheduled.start, scheduled.end, scheduled.impact) == (at(110), at(180), "maintenance")
    assert (early.start, early.end) == (at(-80), at(10))
    assert (unplanned.end, unplanned.components, unplanned.component_level) == (
        None,
        ("API",),
        True,
    )
    assert upgrade.component_level is False
    assert {w.kind for w in (upgrade, scheduled, unplanned, early)} == {"maintenance"}
    assert (upgrade.declared_start, upgrade.declared_end) == (upgrade.start, upgrade.end)


def test_it_returns_no_upstream_windows_from_an_empty_store(store: Store) -> None:
    assert _upstream(store, LO, HI) == []


# --- what why and timeline read, and make of it ----------------------------------------------


def evidence_at(
    store: Store,
    moment: datetime,
    window: timedelta,
    *,
    tolerance: Tolerance,
    observed_gap: timedelta,
) -> Evidence:
    """As ``monitor why`` does: the store reads, the correlator gathers."""
    with store.reading() as reader:
        readings = read_around(reader, moment, window, tolerance)
    return evidence_from(readings, moment, window, tolerance=tolerance, observed_gap=observed_gap)


def timeline_between(
    store: Store, lo: datetime, hi: datetime, gap: timedelta
) -> list[LocalWindow | UpstreamWindow]:
    """As ``monitor timeline`` does."""
    with store.reading() as reader:
        readings = read_between(reader, lo, hi)
    return timeline_events(readings, lo, hi, gap)


@pytest.fixture
def scenario(seeded: Store) -> Store:
    """The upstream rows above, plus checks, heartbeats and imported failures."""
    api = _check(seeded, "api", components=("API",))
    vpn = _check(seeded, "vpn", role="control", kind="tcp", source=None)
    # api fails from 14:55 (before any span asked about) to its pass at 15:40.
    _runs(seeded, api, "...." + "ttt5t" + "t" * 40 + "..", start=-9)
    _runs(seeded, vpn, "." * 60, start=-9)
    _heartbeat(seeded, "probe-a", -600, 200)
    _observations(
        seeded,
        [
            (21, "api.test", "timeout"),
            (24, "api.test", "server_error"),
            (26, "api.test", "timeout"),
        ],
        source="github",
    )
    return seeded


def test_it_gathers_the_evidence_around_a_moment(scenario: Store) -> None:
    evidence = evidence_at(
        scenario,
        at(25),
        timedelta(minutes=10),
        tolerance=Tolerance(),
        observed_gap=GAP,
    )

    assert (evidence.lo, evidence.hi) == (at(15), at(35))
    checks = [w for w in evidence.local if w.kind == "check"]
    observed = [w for w in evidence.local if w.kind == "observed"]
    (window,) = checks
    assert (window.name, window.start, window.end) == ("api", at(-5), at(40))
    # Every failing run of the streak up to hi, before the span too.
    assert (window.failures, window.runs) == (41, 41)
    assert window.failure_classes == ("timeout", "server_error")
    assert (window.source, window.components) == ("github", ("API",))
    (seen,) = observed
    assert (seen.name, seen.start, seen.end, seen.failures) == ("api.test", at(21), at(26), 3)
    activity = {a.check.name: a for a in evidence.activity}
    assert (activity["api"].runs, activity["api"].failed) == (21, 21)
    assert (activity["vpn"].runs, activity["vpn"].passed, activity["vpn"].failed) == (21, 21, 0)
    assert evidence.control_passed()
    assert evidence.coverage.watching
    assert evidence.coverage.alive == ((at(-600), at(200)),)
    assert evidence.coverage.runs == 42
    # Upstream is read from lo - lag to hi + lead: 15:00 to 16:05.
    assert [w.title for w in evidence.upstream] == [
        "started-early",
        "Actions: partial outage",
        "API: major outage",
        "Lost: major outage",
        "unplanned",
        "API errors",
        "Login failures",
        "Webhooks: under maintenance",
        "Degraded performance",
        "db-upgrade",
    ]


def test_it_says_nothing_was_watching_a_quiet_unwatched_moment(store: Store) -> None:
    evidence = evidence_at(
        store, at(25), timedelta(minutes=10), tolerance=Tolerance(), observed_gap=GAP
    )

    assert evidence.local == ()
    assert evidence.upstream == ()
    assert evidence.activity == ()
    assert evidence.coverage == Coverage(watching=False)


def test_it_lays_local_and_upstream_windows_on_one_timeline(scenario: Store) -> None:
    events = timeline_between(scenario, at(0), at(60), GAP)

    shown = [
        (
            e.start,
            "local" if isinstance(e, LocalWindow) else "upstream",
            e.title if isinstance(e, UpstreamWindow) else e.name,
        )
        for e in events
    ]
    assert shown == [
        (at(-80), "upstream", "started-early"),
        (at(-60), "upstream", "Actions: partial outage"),
        (at(-30), "upstream", "API: major outage"),
        (at(-20), "upstream", "Lost: major outage"),
        (at(-20), "upstream", "unplanned"),
        (at(-5), "local", "api"),
        (at(10), "upstream", "API errors"),
        (at(10), "upstream", "Login failures"),
        (at(10), "upstream", "Webhooks: under maintenance"),
        (at(21), "local", "api.test"),
        (at(60), "upstream", "Degraded performance"),
    ]
    (check,) = [e for e in events if isinstance(e, LocalWindow) and e.kind == "check"]
    assert (check.start, check.end, check.failures) == (at(-5), at(40), 45)
    assert check.runs == 45


def test_it_puts_the_upstream_window_first_on_a_tie(store: Store) -> None:
    github = _source(store)
    _incident(store, github, "tie", "Outage", created=5, started=5, resolved=9)
    _runs(store, _check(store, "api"), ".....tttt.", start=0)

    events = timeline_between(store, at(0), at(20), GAP)

    assert [type(e).__name__ for e in events] == ["UpstreamWindow", "LocalWindow"]
    assert [e.start for e in events] == [at(5), at(5)]


@pytest.mark.parametrize(
    ("moment", "watching"),
    [
        pytest.param(25, True, id="inside-the-heartbeat-span"),
        pytest.param(40, True, id="within-slack-of-a-run-after-the-service-stopped"),
        pytest.param(55, False, id="runs-earlier-in-the-window-do-not-cover-it"),
        pytest.param(-25, False, id="before-anything-ran"),
    ],
)
def test_it_asks_whether_the_moment_itself_was_watched(
    store: Store, moment: int, watching: bool
) -> None:
    """A service that stopped at 14:41 was not watching at 15:10, whatever ran before."""
    _source(store)
    _heartbeat(store, "probe-a", 10, 30, stopped=30)
    _runs(store, _check(store, "api"), "ttt", start=10, step=10)  # 10, 20, 30
    lo, hi = at(moment - 30), at(moment + 30)

    runs = [r for s in _series(store, lo, hi) for r in s.runs]
    with store.reading() as reader:
        watched = coverage_of(alive_between(reader, lo, hi), runs, at=at(moment))

    assert watched.watching is watching


# --- pages: could the status page be read around the moment? -----------------------------


def _polls(store: Store, source_id: int, marks: str, *, error: str = "HTTP 503") -> None:
    """One poll a minute from T0: "." read it, "x" failed."""
    with store.write() as session, session.begin():
        for i, mark in enumerate(marks):
            session.add(
                Poll(
                    source_id=source_id,
                    probe="laptop",
                    started_at=at(i),
                    duration_ms=10,
                    outcome="ok" if mark == "." else "error",
                    error=None if mark == "." else f"{error} #{i}",
                )
            )


def _page(store: Store, moment: datetime) -> Page:
    with store.reading() as reader:
        (page,) = pages(reader, moment)
    return page


@pytest.mark.parametrize(
    ("marks", "moment", "known", "facts"),
    [
        pytest.param("...", at(1), True, (at(2), at(1), None), id="read after the moment"),
        pytest.param("...", at(30), True, (None, at(2), None), id="read shortly before"),
        pytest.param("...", at(90), False, (None, at(2), None), id="not read for an hour and more"),
        pytest.param("..xxx", at(4), False, (None, at(1), at(2)), id="failing since"),
        pytest.param("..xx.", at(3), True, (at(4), at(1), at(2)), id="a later read covers it"),
        pytest.param("xxx", at(1), False, (None, None, at(0)), id="never read"),
        pytest.param("", at(1), False, (None, None, None), id="never polled"),
    ],
)
def test_it_says_whether_a_page_was_read_around_the_moment(
    store: Store, marks: str, moment: datetime, known: bool, facts: tuple[Any, ...]
) -> None:
    _polls(store, _source(store), marks)

    page = _page(store, moment)

    assert page.known is known
    assert (page.read_after, page.last_read, page.failing_since) == facts
    assert page.polled is bool(marks)
    if facts[2] is not None:
        assert page.reason == f"HTTP 503 #{marks.index('x')}"


def test_it_names_the_page_and_its_known_components(seeded: Store) -> None:
    with seeded.reading() as reader:
        found = {p.source: p for p in pages(reader, at(20))}
    assert set(found["github"].components) >= {"API", "Git", "Webhooks", "Pages"}
    assert found["github"].names == ("github", "", "https://github.test")


# --- the compact layout, read back ------------------------------------------------------


def test_a_span_holds_a_run_exactly_when_its_time_as_read_is_in_it(store: Store) -> None:
    """Runs are kept to the millisecond; bounds finer than that are rounded inwards."""
    _source(store)
    _runs(store, _check(store, "api"), ".", start=0.123 / 60)  # at 15:00:00.123
    run = at(0) + timedelta(milliseconds=123)
    us = timedelta(microseconds=1)

    def found(lo: datetime, hi: datetime) -> list[datetime]:
        return [r.started_at for s in _series(store, lo, hi) for r in s.runs]

    assert found(run, run) == [run]
    assert found(run + us, run + timedelta(minutes=1)) == []
    assert found(run - timedelta(minutes=1), run - us) == []
    assert found(run - us, run + us) == [run]


def test_a_run_reads_back_its_checks_usual_detail_and_its_codes_by_name(store: Store) -> None:
    """NULL detail is the check's usual; an unknown failure code reads as unclassified,
    an unknown outcome as a failure (never a pass)."""
    _source(store)
    api = _check(store, "api")
    with store.write() as session, session.begin():
        session.execute(
            update(Check).where(Check.id == api).values(usual_detail="HTTP 200", usual_facts="{}")
        )
        ident = probe_id(session, "probe-a")
        rows = [
            runcodes.encode(
                check_id=api,
                probe_id=ident,
                started_at=at(minute),
                duration_ms=5.0,
                ok=minute != 1,
                failure_class=None if minute != 1 else "timeout",
                detail="HTTP 200" if minute != 1 else "timed out",
                usual=runcodes.Usual("HTTP 200", "{}"),
            )
            for minute in range(3)
        ]
        rows[1]["failure_class"] = 99  # a code a later version wrote
        rows[2]["outcome"] = 7  # likewise
        session.execute(insert(CheckRun), rows)

    (series,) = _series(store, at(0), at(2))

    assert [(r.ok, r.failed, r.failure_class, r.detail) for r in series.runs] == [
        (True, False, None, "HTTP 200"),
        (False, True, "unclassified", "timed out"),
        (False, True, None, "HTTP 200"),
    ]


def test_it_reads_one_probes_runs_and_knows_which_probes_ran(store: Store) -> None:
    _source(store)
    api = _check(store, "api")
    _runs(store, api, "tt", probe="probe-a")
    _runs(store, api, "..", probe="probe-b")
    _heartbeat(store, "probe-c", 0, 1)
    with store.write() as session, session.begin():
        probe_id(session, "probe-d")  # named, but no run of it is stored

    with store.reading() as reader:
        only_b = series_between(reader, at(0), at(1), probe="probe-b")
        nothing = series_between(reader, at(0), at(1), probe="probe-z")
        known = {p: probe_is_known(reader, p) for p in ("probe-a", "probe-c", "probe-d", "x")}
        names = probe_names(reader)

    assert [(s.probe, len(s.runs)) for s in only_b] == [("probe-b", 2)]
    assert nothing == []
    assert known == {"probe-a": True, "probe-c": True, "probe-d": False, "x": False}
    assert names == ["probe-a", "probe-b", "probe-c"]


def test_it_says_whether_a_span_was_watched(store: Store) -> None:
    _source(store)
    _runs(store, _check(store, "api"), "-", start=10)
    _heartbeat(store, "probe-a", 30, 40)

    with store.reading() as reader:
        seen = {
            span: watched_between(reader, at(span[0]), at(span[1]))[0]
            for span in ((0, 5), (9, 11), (35, 36), (41, 50))
        }
        times = run_times_between(reader, [(at(0), at(20))])

    assert seen == {(0, 5): False, (9, 11): True, (35, 36): True, (41, 50): False}
    assert times == ()  # the run was skipped: it watched nothing
