"""``generate()``: the planned story written into a fresh database at the head revision.

The schema comes from monitor's own migrations, the source, check and probe
rows from its own sync functions; the bulk goes in through plain sqlite3 in
big transactions with the journal off (a crash just means regenerate), in
time order as the service writes it. Each run's columns are
``runcodes.encode``'s: a passing run is one of a pool that ``encode`` made
per check and load level (only its time, and a clock run's server date, is
set per row, by SQL), every other run is encoded on its own. Hours older
than the store's retention (raw 90 days, or ``raw_days``) also get the
rollup a prune would fold them into, computed as ``monitor.rollups`` does.
"""

from __future__ import annotations

import bisect
import json
import random
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.generate import story, world
from benchmarks.generate.story import DAY, HOUR, GeneratedSummary, Plan, iso
from benchmarks.generate.world import PROBE, SOURCES
from monitor.failures import Failure
from monitor.rollups import percentile
from monitor.store import open_store, runcodes
from monitor.store.checkruns import CheckSpec, probe_id, sync_checks
from monitor.store.queries import SourceSpec, sync_sources

DEFAULT_END = "2026-11-01T00:00:00Z"
TABLES = ("source", "http_validator", "poll", "incident", "incident_update", "incident_component",
          "update_component", "component_status", "maintenance", "check", "probe", "check_result",
          "rollup_hourly", "heartbeat")  # fmt: skip
RETENTION_DAYS = 90  # the store's default for raw runs
LEVELS = (0.9, 1.0, 1.25, 1.1, 1.8)  # latency by UTC hours 0-6, 6-13, 13-21, 21-24; "slow"
LEVEL_OF_HOUR = [0] * 6 + [1] * 7 + [2] * 8 + [3] * 3
POOL = 512  # passing runs per check and level
COLUMNS = tuple(runcodes.encode(check_id=0, probe_id=0, started_at=datetime.now(UTC),
                                duration_ms=0, ok=True))[3:]  # fmt: skip
PRIME = 2_147_483_647
STAGING = f"""
CREATE TEMP TABLE pool (key INTEGER PRIMARY KEY, {", ".join(COLUMNS)}, to_date, usual);
CREATE TEMP TABLE special (k, c, key, level, PRIMARY KEY (k, c)) WITHOUT ROWID;
CREATE TEMP TABLE chk (c INTEGER PRIMARY KEY, id);
CREATE TEMP TABLE downs (a, b);
CREATE TEMP TABLE lvl (hod INTEGER PRIMARY KEY, level);
"""
# Tick k's run of check c, for ticks k0 <= k < k1 while monitoring was up: its time (the slot,
# 150 ms a check, and a jitter of up to a tenth of the interval, as APScheduler's) and its
# pool key (a failure's own, else a pass at the hour's load level), from ``mix``'s numbers.
RUNS = f"""
WITH RECURSIVE t(k) AS (SELECT :k0 UNION ALL SELECT k + 1 FROM t WHERE k + 1 < :k1),
u AS (SELECT k, c, id, (k * 2654435761 + c * 40503 + :seed * 97) % {PRIME} + 1 AS x0 FROM t, chk
      WHERE NOT EXISTS (SELECT 1 FROM downs WHERE k >= a AND k < b)),
v AS (SELECT k, c, id, (x0 * x0 + 12345) % {PRIME} AS x1 FROM u),
w AS (SELECT k, c, id, x1, (x1 * x1 + 54321) % {PRIME} AS x2 FROM v),
r AS (SELECT w.id, (:start + w.k * :interval) * 1000 + w.c * 150 + w.x2 % (:interval * 100)
      AS started_ms, coalesce(s.key, (w.c * {len(LEVELS)} + coalesce(s.level, lvl.level))
      * {POOL} + w.x1 % {POOL}) AS key FROM w LEFT JOIN special s ON s.k = w.k AND s.c = w.c
      JOIN lvl ON lvl.hod = (:start + w.k * :interval) / 3600 % 24)
"""
COPY_RUNS = f"""{RUNS}
INSERT INTO check_result (check_id, probe_id, started_ms, {", ".join(COLUMNS)})
SELECT r.id, :probe, r.started_ms, {", ".join(f"p.{c}" for c in COLUMNS[:-1])},
    CASE WHEN p.to_date IS NULL THEN p.facts ELSE nullif(replace(p.facts, '{world.SERVER_DATE}',
        strftime('%Y-%m-%dT%H:%M:%SZ', (r.started_ms + p.to_date) / 1000, 'unixepoch')), p.usual)
    END
FROM r JOIN pool p ON p.key = r.key WHERE r.started_ms >= :raw_ms
"""  # a clock run's facts get the server's Date: its start + to_date ms, in whole seconds
FOLD_RUNS = f"""{RUNS}
SELECT r.id, r.started_ms / 3600000, group_concat(CASE WHEN p.outcome != 2 THEN p.duration_us END),
    sum(p.outcome = 2), group_concat(CASE WHEN p.outcome = 1 THEN p.failure_class END)
FROM r JOIN pool p ON p.key = r.key WHERE r.started_ms < :fold_ms GROUP BY 1, 2
"""


def mix(seed: int, k: int, c: int) -> tuple[int, int]:
    """The two numbers RUNS draws tick k's run of check c from (pool index, jitter)."""
    x1 = (((k * 2654435761 + c * 40503 + seed * 97) % PRIME + 1) ** 2 + 12345) % PRIME
    return x1, (x1 * x1 + 54321) % PRIME


def db(t: float) -> str:
    """An instant as the app stores it on SQLite: naive UTC text with microseconds."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def generate(
    path: Path | str, *, days: int, checks: int = 12, interval: int = 30, seed: int = 1,
    end: str = DEFAULT_END, raw_days: int | None = None,
    progress: Callable[[str], None] = lambda _line: None,
) -> GeneratedSummary:  # fmt: skip
    """Write a fresh database at ``path`` (replacing any) and its summary beside it (.json).

    ``interval`` (s) must divide an hour; ``end`` is rounded down to the hour;
    ``raw_days`` keeps raw check runs for the last that many days only.
    """
    began, path = time.perf_counter(), Path(path)
    if min(days, checks, interval) < 1 or HOUR % interval or (raw_days or 0) < 0:
        raise ValueError("days and checks >= 1, an interval dividing an hour, raw_days >= 0")
    stop = int(datetime.fromisoformat(end.replace("Z", "+00:00")).timestamp()) // HOUR * HOUR
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm", f"{path.name}.json"):
        path.with_name(name).unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    plan = story.make_plan(days=days, count=checks, interval=interval, seed=seed, end=stop)
    raw_from = plan.start if raw_days is None else max(plan.start, stop - raw_days * DAY)
    fold_before = stop - (RETENTION_DAYS if raw_days is None else raw_days) * DAY
    progress(f"generating {days} days x {checks} checks every {interval} s into {path}")
    store = open_store(f"sqlite:///{path}")
    try:
        with store.write() as session, session.begin():
            created = datetime.fromtimestamp(plan.start, UTC)
            sources = sync_sources(session, [SourceSpec(s.name, s.kind, s.url) for s in SOURCES],
                                   created)  # fmt: skip
            specs = [CheckSpec(c.name, c.kind, c.role, c.target, c.source, list(c.components))
                     for c in plan.checks]  # fmt: skip
            ids = sync_checks(session, specs, created)
            probe = probe_id(session, PROBE)
    finally:
        store.close()
    found = story.overrides(plan)
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
                          "PRAGMA cache_size=-1000000; PRAGMA temp_store=MEMORY;" + STAGING)  # fmt: skip
        con.execute("BEGIN")
        _upstream(con, plan, sources)
        con.execute("COMMIT")
        Runs(con, plan, [ids[c.name] for c in plan.checks], probe, found).write(
            raw_from, fold_before, progress
        )
        con.execute("PRAGMA journal_mode=WAL")
        counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in TABLES}
    finally:
        con.close()
    summary = GeneratedSummary(
        str(path.resolve()), days, checks, interval, seed, iso(plan.start), end, raw_days,
        iso(raw_from), counts, path.stat().st_size, round(time.perf_counter() - began, 1),
        story.moments(plan, found, raw_from),
    )  # fmt: skip
    story.summary_path(path).write_text(summary.to_json(), encoding="utf-8")
    progress(f"wrote {summary.bytes / 1e6:,.1f} MB in {summary.elapsed_s:.1f} s")
    return summary


BODIES = {
    "investigating": "We are currently investigating this issue.",
    "identified": "The issue has been identified and a fix is being implemented.",
    "update": "We are continuing to work on a fix for this issue.",
    "monitoring": "A fix has been implemented and we are monitoring the results.",
    "resolved": "This incident has been resolved.",
}
RANK = (
    "operational",
    "under_maintenance",
    "degraded_performance",
    "partial_outage",
    "major_outage",
)
BAD = {"minor": "degraded_performance", "major": "partial_outage", "critical": "major_outage"}
EVENTS = ("new_incidents", "updated_incidents", "new_updates", "component_changes",
          "maintenance_changes")  # fmt: skip


def _insert(con: sqlite3.Connection, table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
    marks = ", ".join("?" * len(columns.split(", ")))
    con.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def _upstream(con: sqlite3.Connection, plan: Plan, source_ids: dict[str, int]) -> None:
    """Per page: incidents with updates and components, component transitions, maintenances,
    the poll log (each fact dated by the first poll after it, as apply_snapshot dates it) and
    ETags; then the heartbeats, one row per service start."""
    rng = random.Random(f"{plan.seed}:upstream")
    offline = [(e.start, e.end) for e in plan.episodes if e.kind == "vpn"]
    for n, source in enumerate(SOURCES):
        sid, events, ticks = source_ids[source.name], [], []
        for t in range(plan.start + 3 + 7 * n, plan.end, source.interval_s):
            ticks += [] if any(s.start <= t < s.end for s in plan.down) else [t]

        def seen(t: int, polls: list[int] = ticks) -> int:
            i = bisect.bisect_left(polls, t)
            return polls[i] if i < len(polls) else plan.end

        spans: dict[str, list[tuple[int, int, str]]] = {c: [] for c in source.components}
        for i in (i for i in plan.incidents if i.source is source):
            url = f"{source.url.removesuffix('/history.atom')}/incidents/{i.external_id}"
            (iid,) = con.execute(
                "INSERT INTO incident (source_id, external_id, title, status, impact, created_at, "
                "started_at, resolved_at, url, first_seen_at, last_changed_at) VALUES "
                "(?, ?, ?, 'resolved', ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (sid, i.external_id, i.title, i.impact, db(i.created), db(i.created),
                 db(i.resolved), url, db(seen(i.created)), db(seen(i.resolved))),
            ).fetchone()  # fmt: skip
            _insert(con, "incident_component", "incident_id, component",
                    [(iid, c) for c in i.components])  # fmt: skip
            events += [(seen(i.created), "new_incidents")]
            bad = BAD.get(i.impact or "")
            for at, status, external_id, names in i.updates:
                (uid,) = con.execute(
                    "INSERT INTO incident_update (incident_id, external_id, status, body, "
                    "created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
                    (iid, external_id, status, BODIES[status], db(at)),
                ).fetchone()
                events += [(seen(at), "new_updates")] if at > i.created else []
                was = ("operational", bad) if status == "investigating" else (bad, "operational")
                _insert(con, "update_component", "update_id, component, old_status, new_status",
                        [(uid, c, *was) for c in i.components if names])  # fmt: skip
            for c in i.components if bad and source.kind == "statuspage" else ():
                spans[c].append((i.created, i.resolved, bad))
        for m in (m for m in plan.maintenances if m.source is source):
            done = m.end <= plan.end
            _insert(con, "maintenance", "source_id, external_id, title, status, impact, "
                    "scheduled_for, scheduled_until, started_at, completed_at, url, components, "
                    "first_seen_at, last_changed_at", [(
                        sid, m.external_id, f"Scheduled maintenance: {m.checks[0]}",
                        "completed" if done else "in_progress", "maintenance", db(m.start),
                        db(m.end), db(m.start), db(m.end) if done else None,
                        f"{source.url}/incidents/{m.external_id}", json.dumps(list(m.checks)),
                        db(seen(m.announced)), db(seen(min(m.end, plan.end - 1))))])  # fmt: skip
            events += [(seen(m.announced), EVENTS[4]), (seen(m.end), EVENTS[4])]
            spans.update({c: [*spans[c], (m.start, m.end, RANK[1])] for c in m.checks})
        changes = []
        for component, covering in spans.items() if source.kind == "statuspage" else ():
            last = None
            for t in sorted({plan.start, *(t for a, b, _ in covering for t in (a, b))}):
                now = RANK[max((RANK.index(s) for a, b, s in covering if a <= t < b), default=0)]
                if now != last and seen(t) < plan.end:
                    changes.append((sid, component, now, db(seen(t))))
                    events += [(seen(t), EVENTS[3])] if last else []
                    last = now
        con.executemany("INSERT OR REPLACE INTO component_status (source_id, component, status, "
                        "observed_at) VALUES (?, ?, ?, ?)", changes)  # fmt: skip
        events.sort()
        pending, e, polls = Counter[str](), 0, []
        for t in ticks:
            while e < len(events) and events[e][0] <= t:
                pending[events[e][1]] += 1
                e += 1
            at, cut = db(t + rng.random()), any(a <= t < b for a, b in offline)
            if cut or rng.random() < 0.002:
                error = world.TRANSPORT["network_unreachable" if cut else "timeout"]
                polls.append((sid, PROBE, at, rng.randrange(2, 10_000), "error", 0, error, 0, 0, 0, 0, 0))  # fmt: skip
            elif pending:
                size = (52_000 if source.kind == "feed" else 36_000) + rng.randrange(4000)
                counts = [pending[name] for name in EVENTS]
                polls.append((sid, PROBE, at, rng.randrange(180, 900), "ok", size, "", *counts))
                pending.clear()
            else:
                polls.append((sid, PROBE, at, rng.randrange(40, 250), "not_modified", 0, "", 0, 0, 0, 0, 0))  # fmt: skip
        con.executemany(  # no error and no status bound as NULL: binding None is slow in sqlite3
            "INSERT INTO poll (source_id, probe, started_at, duration_ms, outcome, http_status, "
            f"bytes, error, {', '.join(EVENTS)}) SELECT ?1, ?2, ?3, ?4, ?5, CASE ?5 WHEN 'ok' "
            "THEN 200 WHEN 'not_modified' THEN 304 END, ?6, nullif(?7, ''), ?8, ?9, ?10, ?11, ?12",
            polls,
        )  # fmt: skip
        urls = [source.url] if source.kind == "feed" else [
            f"{source.url}/api/v2/{name}.json" for name in ("summary", "incidents", "scheduled-maintenances")]  # fmt: skip
        _insert(con, "http_validator", "source_id, url, etag",
                [(sid, url, f'W/"{rng.getrandbits(128):032x}"') for url in urls])  # fmt: skip
    began, beats = plan.start, []
    for span in [*plan.down, None]:  # a crash leaves no stopped_at
        stop = plan.end if span is None else span.start
        stopped = db(stop) if span is not None and span.clean else None
        beats.append((PROBE, db(began + 0.25), db(began + (stop - began) // 30 * 30 + 0.26),
                      rng.randrange(1000, 99_999), world.HOST, stopped))  # fmt: skip
        began = span.end if span is not None else began
    _insert(con, "heartbeat", "probe, started_at, last_seen, pid, host, stopped_at", beats)


def fold_hour(durations_us: list[int], skipped: int, classes: list[str]) -> tuple[Any, ...]:
    """runs, failures, skipped, p50_ms, p95_ms, failure_classes, as monitor.rollups.fold."""
    ordered = sorted(us / 1000 for us in durations_us)
    p50, p95 = percentile(ordered, 0.5), percentile(ordered, 0.95)
    counts = dict(sorted(Counter(c or Failure.UNCLASSIFIED for c in classes).items()))
    return (len(durations_us) + skipped, len(classes), skipped, None if p50 is None else
            round(p50, 3), None if p95 is None else round(p95, 3), json.dumps(counts))  # fmt: skip


class Runs:
    """Every check's runs, a day at a time, and the rollups of the folded hours."""

    def __init__(
        self, con: sqlite3.Connection, plan: Plan, ids: list[int], probe: int,
        found: list[dict[int, str]],
    ) -> None:  # fmt: skip
        self.con, self.plan, self.ids, self.probe, self.found = con, plan, ids, probe, found
        self.usual = [runcodes.Usual()] * len(ids)
        down = [plan.slots(s.start, s.end) for s in plan.down]
        con.executemany("INSERT INTO downs VALUES (?, ?)", [(r.start, r.stop) for r in down])
        con.executemany("INSERT INTO chk VALUES (?, ?)", list(enumerate(ids)))
        con.executemany("INSERT INTO lvl VALUES (?, ?)", list(enumerate(LEVEL_OF_HOUR)))
        for c, check in enumerate(plan.checks):
            rng = random.Random(f"{plan.seed}:pool:{c}")
            runs = [[world.passed(check, rng, scale) for _ in range(POOL)] for scale in LEVELS]
            k = next(k for k in range(plan.ticks) if found[c].get(k, "slow") == "slow"
                     and not any(k in r for r in down))  # fmt: skip
            started, key = self.pick(k, c)
            first = runs[key // POOL % len(LEVELS)][key % POOL]  # its first pass sets the usual
            usual = runcodes.usual_of(first["detail"], first.get("phases_ms", {}), first.get("facts", {}))  # fmt: skip
            if check.kind == "clock":
                date = time.gmtime((started + _to_date(first)) // 1000)
                usual = runcodes.Usual(usual.detail, (usual.facts or "").replace(
                    world.SERVER_DATE, time.strftime("%Y-%m-%dT%H:%M:%SZ", date)))  # fmt: skip
            self.usual[c] = usual
            rows = [((c * len(LEVELS) + level) * POOL + i, *self.encode(c, 0, run),
                     _to_date(run) if check.kind == "clock" else None, usual.facts)
                    for level, pool in enumerate(runs) for i, run in enumerate(pool)]  # fmt: skip
            con.executemany(f"INSERT INTO pool VALUES ({', '.join('?' * len(rows[0]))})", rows)
        con.executemany('UPDATE "check" SET usual_detail = ?, usual_facts = ? WHERE id = ?',
                        [(u.detail, u.facts, cid) for u, cid in zip(self.usual, ids, strict=True)])  # fmt: skip

    def pick(self, k: int, c: int) -> tuple[int, int]:
        """Tick ``k``'s run of check ``c`` (as RUNS picks it): its start (ms) and pool key."""
        x1, x2 = mix(self.plan.seed, k, c)
        slot = self.plan.start + k * self.plan.interval
        level = 4 if k in self.found[c] else LEVEL_OF_HOUR[slot // HOUR % 24]
        started = slot * 1000 + c * 150 + x2 % (self.plan.interval * 100)
        return started, (c * len(LEVELS) + level) * POOL + x1 % POOL

    def encode(self, c: int, started_ms: int, run: world.Run) -> tuple[Any, ...]:
        """The run's columns after the key, as ``runcodes.encode`` gives them."""
        at = runcodes.from_ms(started_ms)
        row = runcodes.encode(check_id=self.ids[c], probe_id=self.probe, started_at=at,
                              usual=self.usual[c], **run)  # fmt: skip
        return tuple(row.values())[3:]

    def write(self, raw_from: int, fold_before: int, progress: Callable[[str], None]) -> None:
        plan, n, began = self.plan, len(self.ids), time.perf_counter()
        ticks = [sorted(f) for f in self.found]
        per_day = DAY // plan.interval
        for k0 in range(0, plan.ticks, per_day):
            k1 = min(k0 + per_day, plan.ticks)
            special, failures = [], []
            for c, check in enumerate(plan.checks):
                for k in ticks[c][
                    bisect.bisect_left(ticks[c], k0) : bisect.bisect_left(ticks[c], k1)
                ]:
                    what = self.found[c][k]
                    if what == "slow":
                        special.append((k, c, None, 4))
                        continue
                    started, _ = self.pick(k, c)
                    run = world.failed(check, what, random.Random(mix(plan.seed, k, c)[1]),
                                       runcodes.from_ms(started))  # fmt: skip
                    key = (1 << 40) + k * n + c
                    failures.append((key, *self.encode(c, started, run), None, None))
                    special.append((k, c, key, None))
            self.con.execute("BEGIN")
            if failures:
                marks = ", ".join("?" * len(failures[0]))
                self.con.executemany(f"INSERT INTO pool VALUES ({marks})", failures)
            self.con.executemany("INSERT INTO special VALUES (?, ?, ?, ?)", special)
            where = {"k0": k0, "k1": k1, "seed": plan.seed, "start": plan.start,
                     "interval": plan.interval, "probe": self.probe, "raw_ms": raw_from * 1000,
                     "fold_ms": fold_before * 1000}  # fmt: skip
            if plan.start + k1 * plan.interval > raw_from:
                self.con.execute(COPY_RUNS, where)
            if plan.start + k0 * plan.interval < fold_before:
                self.fold(self.con.execute(FOLD_RUNS, where).fetchall())
            self.con.execute("DELETE FROM special")
            self.con.execute("COMMIT")
            if k0 // per_day % 30 == 29:
                progress(
                    f"  check runs: {k1 / plan.ticks:.0%} ({time.perf_counter() - began:.0f} s)"
                )

    def fold(self, hours: list[tuple[Any, ...]]) -> None:
        """Rollups from each hour's durations, skipped runs and failure classes."""
        rows = [(cid, PROBE, db(hour * HOUR), *fold_hour(
                    [int(d) for d in (durations or "").split(",") if d], skipped,
                    [runcodes.failure_name(int(f)) or "" for f in (classes or "").split(",") if f]))
                for cid, hour, durations, skipped, classes in hours]  # fmt: skip
        self.con.executemany("INSERT INTO rollup_hourly (check_id, probe, hour, runs, failures, "
                             "skipped, p50_ms, p95_ms, failure_classes) VALUES "
                             "(?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)  # fmt: skip


def _to_date(run: world.Run) -> int:
    """ms from a clock run's start to the server's Date (skew = Date + 0.5 s - midpoint)."""
    return round(run["duration_ms"] / 2 + run["facts"]["skew_s"] * 1000 - 500)
