"""``generate()``: the planned story written into a fresh database at the head revision.

The schema comes from monitor's own migrations, the source, check and probe
rows from its own sync functions; the bulk goes in through plain sqlite3 in
big transactions, journal off (a crash just means regenerate), in time order
as the service writes it. A run's columns are ``runcodes.encode``'s: a pass
is one of a pool ``encode`` made per check and load level, picked and dated
by SQL (``RUNS``); every other run is encoded on its own. Hours older than
the store's retention (raw 90 days, or ``raw_days``) also get the rollup a
prune would fold them into, computed as ``monitor.rollups.fold`` does.
"""

from __future__ import annotations

import bisect
import json
import random
import sqlite3
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.generate import story, world
from benchmarks.generate.story import DAY, HOUR, GeneratedSummary, Plan, iso
from benchmarks.generate.world import PROBE, SOURCES
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
ISO = "%Y-%m-%dT%H:%M:%SZ"  # a Date as a clock run's facts hold it (isoformat_z, whole seconds)
POOL, PRIME, FAILED = 512, 2_147_483_647, 1 << 40  # FAILED: the first failed run's pool key
COLUMNS = tuple(runcodes.encode(check_id=0, probe_id=0, started_at=datetime.now(UTC),
                                duration_ms=0, ok=True))[3:]  # fmt: skip
STAGING = f"""
CREATE TEMP TABLE pool (key INTEGER PRIMARY KEY, {", ".join(COLUMNS)}, to_date, usual);
CREATE TEMP TABLE special (k, c, key, level, PRIMARY KEY (k, c)) WITHOUT ROWID;
CREATE TEMP TABLE chk (c INTEGER PRIMARY KEY, id);
CREATE TEMP TABLE downs (a, b);
CREATE TEMP TABLE lvl (hod INTEGER PRIMARY KEY, level);
CREATE TEMP TABLE day (check_id, started_ms, {", ".join(COLUMNS)});
"""
# A day's runs: tick k's of check c (k0 <= k < k1, monitoring up) starts at its slot, 150 ms a
# check, plus up to a tenth of the interval (APScheduler's jitter), and is its own row when it
# failed, else a pass at the hour's load level; ``mix`` draws both as this does. A clock run's
# facts get the server's Date: its start + to_date ms, in whole seconds.
DAY_RUNS = f"""WITH RECURSIVE t(k) AS (SELECT :k0 UNION ALL SELECT k + 1 FROM t WHERE k + 1 < :k1),
u AS (SELECT k, c, id, ((k * 2654435761 + c * 40503 + :seed * 97) % {PRIME} + 1) AS x0 FROM t, chk
      WHERE NOT EXISTS (SELECT 1 FROM downs WHERE k >= a AND k < b)),
v AS (SELECT k, c, id, (x0 * x0 + 12345) % {PRIME} AS x FROM u),
r AS (SELECT v.id, (:start + v.k * :interval) * 1000 + v.c * 150 + v.x / {POOL} %
      (:interval * 100) AS started_ms, coalesce(s.key, (v.c * {len(LEVELS)} + coalesce(s.level,
      lvl.level)) * {POOL} + v.x % {POOL}) AS key FROM v LEFT JOIN special s ON s.k = v.k
      AND s.c = v.c JOIN lvl ON lvl.hod = (:start + v.k * :interval) / 3600 % 24)
INSERT INTO day SELECT r.id, r.started_ms, {", ".join(f"p.{c}" for c in COLUMNS[:-1])},
    CASE WHEN p.to_date IS NULL THEN p.facts ELSE nullif(replace(p.facts, '{world.SERVER_DATE}',
        strftime('{ISO}', (r.started_ms + p.to_date) / 1000, 'unixepoch')), p.usual) END
FROM r JOIN pool p ON p.key = r.key
"""
COPY_DAY = f"""INSERT INTO check_result (check_id, probe_id, started_ms, {", ".join(COLUMNS)})
SELECT check_id, :probe, started_ms, {", ".join(COLUMNS)} FROM day WHERE started_ms >= :raw_ms"""
FOLD_DAY = """SELECT check_id, started_ms / 3600000, group_concat(iif(outcome != 2, duration_us,
    NULL)), sum(outcome = 2), group_concat(iif(outcome = 1, failure_class, NULL))
FROM day WHERE started_ms < :fold_ms GROUP BY 1, 2"""
EVENTS = ("new_incidents", "updated_incidents", "new_updates", "component_changes",
          "maintenance_changes")  # fmt: skip
RANK = (
    "operational",
    "under_maintenance",
    "degraded_performance",
    "partial_outage",
    "major_outage",
)
BAD = {"minor": RANK[2], "major": RANK[3], "critical": RANK[4]}
BODIES = {
    "investigating": "We are currently investigating this issue.",
    "identified": "The issue has been identified and a fix is being implemented.",
    "update": "We are continuing to work on a fix for this issue.",
    "monitoring": "A fix has been implemented and we are monitoring the results.",
    "resolved": "This incident has been resolved.",
}


def db(t: float) -> str:
    """An instant as the app stores it on SQLite: naive UTC text with microseconds."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def mix(seed: int, k: int, c: int) -> int:
    """The number ``DAY_RUNS`` draws tick k's run of check c from (pool index, jitter)."""
    return (((k * 2654435761 + c * 40503 + seed * 97) % PRIME + 1) ** 2 + 12345) % PRIME


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
        con.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
            "PRAGMA cache_size=-1000000; PRAGMA temp_store=MEMORY;" + STAGING
        )
        con.execute("BEGIN")
        _upstream(con, plan, sources)
        con.execute("COMMIT")
        runs = Runs(con, plan, [ids[c.name] for c in plan.checks], probe, found)
        runs.write(raw_from, fold_before, progress)
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


def _put(con: sqlite3.Connection, table: str, rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows``: values for the table's first columns, in its own order."""
    names = [row[1] for row in con.execute(f"PRAGMA table_info({table})")][: len(rows[0])]
    marks = ", ".join("?" * len(names))
    con.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", rows)


def _upstream(con: sqlite3.Connection, plan: Plan, source_ids: dict[str, int]) -> None:
    """Per page: incidents with updates and components, component transitions, maintenances,
    the poll log (a fact is dated by the first poll after it, as apply_snapshot dates it) and
    ETags; then the heartbeats, a row per service start."""
    rng, rows = random.Random(f"{plan.seed}:upstream"), defaultdict[str, list[Any]](list)
    offline = [(e.start, e.end) for e in plan.episodes if e.kind == "vpn"]
    for n, source in enumerate(SOURCES):
        sid, events, spans = source_ids[source.name], [], defaultdict[str, list[Any]](list)
        polls = [t for t in range(plan.start + 3 + 7 * n, plan.end, source.interval_s)
                 if not any(s.start <= t < s.end for s in plan.down)]  # fmt: skip

        def seen(t: int, polls: list[int] = polls) -> int:
            i = bisect.bisect_left(polls, t)
            return polls[i] if i < len(polls) else plan.end

        for i in (i for i in plan.incidents if i.source is source):
            iid, bad = len(rows["incident"]) + 1, BAD.get(i.impact or "")
            url = f"{source.url.removesuffix('/history.atom')}/incidents/{i.external_id}"
            rows["incident"].append((iid, sid, i.external_id, i.title, "resolved", i.impact,
                                     db(i.created), db(i.created), db(i.resolved), url,
                                     db(seen(i.created)), db(seen(i.resolved))))  # fmt: skip
            rows["incident_component"] += [(None, iid, c) for c in i.components]
            events.append((seen(i.created), EVENTS[0]))
            for at, status, external_id, names in i.updates:
                uid = len(rows["incident_update"]) + 1
                rows["incident_update"].append((uid, iid, external_id, status, BODIES[status],
                                                db(at)))  # fmt: skip
                was = ("operational", bad) if status == "investigating" else (bad, "operational")
                rows["update_component"] += [(None, uid, c, *was) for c in i.components if names]
                events += [(seen(at), EVENTS[2])] if at > i.created else []
            for c in i.components if bad and source.kind == "statuspage" else ():
                spans[c].append((i.created, i.resolved, bad))
        for m in (m for m in plan.maintenances if m.source is source):
            done = m.end <= plan.end
            rows["maintenance"].append((
                None, sid, m.external_id, f"Scheduled maintenance: {m.names[0]}",
                "completed" if done else "in_progress", "maintenance", db(m.start), db(m.end),
                db(m.start), db(m.end) if done else None, f"{source.url}/incidents/{m.external_id}",
                json.dumps(list(m.names)), db(seen(m.announced)), db(seen(m.end))))  # fmt: skip
            events += [(seen(m.announced), EVENTS[4]), (seen(m.end), EVENTS[4])]
            for c in m.names:
                spans[c].append((m.start, m.end, RANK[1]))
        for component in source.components if source.kind == "statuspage" else ():
            covering, worst, last = spans[component], dict[int, int](), None
            for t in sorted({plan.start, *(t for a, b, _ in covering for t in (a, b))}):
                ranks = (RANK.index(s) for a, b, s in covering if a <= t < b)
                worst[seen(t)] = max(ranks, default=0)  # of what covers it
            for at, now in sorted(worst.items()):  # as the polls saw it
                if now != last and at < plan.end:
                    rows["component_status"].append((None, sid, component, RANK[now], db(at)))
                    events += [(at, EVENTS[3])] if last is not None else []
                    last = now
        events.sort()
        pending, e, log = Counter[str](), 0, []
        for t in polls:  # 304 unless something changed; failed while offline, and now and then
            while e < len(events) and events[e][0] <= t:
                pending[events[e][1]] += 1
                e += 1
            stamp, cut = db(t + rng.random()), any(a <= t < b for a, b in offline)
            if cut or rng.random() < 0.002:
                error = world.TRANSPORT["network_unreachable" if cut else "timeout"]
                log.append((sid, stamp, rng.randrange(2, 10_000), "error", 0, error, *[0] * 5))
            else:
                size = (52_000 if n == 2 else 36_000) + rng.randrange(4000) if pending else 0
                counts = [pending[name] for name in EVENTS]
                log.append((sid, stamp, rng.randrange(40, 900), "ok" if size else "not_modified",
                            size, "", *counts))  # fmt: skip
                pending.clear()
        con.executemany(  # NULLs made in SQL: binding None is slow in Python's sqlite3
            "INSERT INTO poll (source_id, probe, started_at, duration_ms, outcome, http_status, "
            f"bytes, error, {', '.join(EVENTS)}) SELECT ?1, '{PROBE}', ?2, ?3, ?4, CASE ?4 WHEN "
            "'ok' THEN 200 WHEN 'not_modified' THEN 304 END, ?5, nullif(?6, ''), ?7, ?8, ?9, "
            "?10, ?11", log)  # fmt: skip
        endpoints = ("summary", "incidents", "scheduled-maintenances")
        urls = [f"{source.url}/api/v2/{name}.json" for name in endpoints] if n < 2 else [source.url]
        rows["http_validator"] += [(sid, url, f'W/"{rng.getrandbits(128):032x}"') for url in urls]
    ends = [*plan.down, story.Span(plan.end, plan.end, "running", clean=False)]
    for a, s in zip([plan.start, *(s.end for s in plan.down)], ends, strict=True):
        beat = a + (s.start - a) // 30 * 30  # the last heartbeat; a crash leaves no stopped_at
        rows["heartbeat"].append((None, PROBE, db(a + 0.25), db(beat + 0.26),
                                  rng.randrange(1000, 99_999), world.HOST,
                                  db(s.start) if s.clean else None))  # fmt: skip
    for table, found in rows.items():
        _put(con, table, found)


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
            usual = runcodes.usual_of(first["detail"], first.get("phases_ms", {}),
                                      first.get("facts", {}))  # fmt: skip
            if check.kind == "clock":
                date = time.gmtime((started + _to_date(first)) // 1000)
                facts = (usual.facts or "").replace(world.SERVER_DATE, time.strftime(ISO, date))
                usual = runcodes.Usual(usual.detail, facts)
            self.usual[c] = usual
            pool = [((c * len(LEVELS) + level) * POOL + i, *self.encode(c, 0, run),
                     _to_date(run) if check.kind == "clock" else None, usual.facts)
                    for level, same in enumerate(runs) for i, run in enumerate(same)]  # fmt: skip
            _put(con, "pool", pool)
        settled = [(u.detail, u.facts, i) for u, i in zip(self.usual, ids, strict=True)]
        con.executemany(
            'UPDATE "check" SET usual_detail = ?, usual_facts = ? WHERE id = ?', settled
        )

    def pick(self, k: int, c: int) -> tuple[int, int]:
        """Tick ``k``'s run of check ``c`` as ``DAY_RUNS`` picks it: its start (ms), pool key."""
        x, slot = mix(self.plan.seed, k, c), self.plan.start + k * self.plan.interval
        level = 4 if k in self.found[c] else LEVEL_OF_HOUR[slot // HOUR % 24]
        started = slot * 1000 + c * 150 + x // POOL % (self.plan.interval * 100)
        return started, (c * len(LEVELS) + level) * POOL + x % POOL

    def encode(self, c: int, started_ms: int, run: world.Run) -> tuple[Any, ...]:
        """The run's columns after the key, as ``runcodes.encode`` gives them."""
        row = runcodes.encode(check_id=self.ids[c], probe_id=self.probe, usual=self.usual[c],
                              started_at=runcodes.from_ms(started_ms), **run)  # fmt: skip
        return tuple(row.values())[3:]

    def write(self, raw_from: int, fold_before: int, progress: Callable[[str], None]) -> None:
        """A day a transaction: its failed runs encoded here, then every run copied by SQL."""
        plan, n, began = self.plan, len(self.ids), time.perf_counter()
        ticks, per_day = [sorted(f) for f in self.found], DAY // plan.interval
        for k0 in range(0, plan.ticks, per_day):
            k1, failures = min(k0 + per_day, plan.ticks), []
            special: list[tuple[int, int, int | None, int | None]] = []
            for c, check in enumerate(plan.checks):
                first, last = bisect.bisect_left(ticks[c], k0), bisect.bisect_left(ticks[c], k1)
                for k in ticks[c][first:last]:
                    what, key = self.found[c][k], FAILED + k * n + c
                    if what == "slow":
                        special.append((k, c, None, 4))
                        continue
                    started = self.pick(k, c)[0]
                    run = world.failed(check, what, random.Random(mix(plan.seed, k, c)),
                                       runcodes.from_ms(started))  # fmt: skip
                    failures.append((key, *self.encode(c, started, run)))
                    special.append((k, c, key, None))
            self.con.execute("BEGIN")
            if failures:
                _put(self.con, "pool", failures)
            self.con.executemany("INSERT INTO special VALUES (?, ?, ?, ?)", special)
            where = {"k0": k0, "k1": k1, "seed": plan.seed, "start": plan.start,
                     "interval": plan.interval, "probe": self.probe, "raw_ms": raw_from * 1000,
                     "fold_ms": fold_before * 1000}  # fmt: skip
            self.con.execute(DAY_RUNS, where)
            if plan.start + k1 * plan.interval > raw_from:
                self.con.execute(COPY_DAY, where)
            if plan.start + k0 * plan.interval < fold_before:
                self.fold(self.con.execute(FOLD_DAY, where).fetchall())
            self.con.execute("DELETE FROM special")
            self.con.execute("DELETE FROM day")
            self.con.execute("COMMIT")
            if k0 // per_day % 30 == 29:
                took = time.perf_counter() - began
                progress(f"  check runs: {k1 / plan.ticks:.0%} ({took:.0f} s)")

    def fold(self, hours: list[tuple[Any, ...]]) -> None:
        """The rollups of these hours from their durations, skipped runs and failure classes:
        runs, failures, skipped, p50_ms, p95_ms and failure_classes, as monitor.rollups.fold."""
        rows = []
        for check_id, hour, durations, skipped, classes in hours:
            timed = sorted(int(us) / 1000 for us in (durations or "").split(",") if us)
            codes = (int(code) for code in (classes or "").split(",") if code)
            names = Counter(runcodes.failure_name(code) or "" for code in codes)
            p50, p95 = (percentile(timed, q) for q in (0.5, 0.95))
            rows.append((None, check_id, PROBE, db(hour * HOUR), len(timed) + skipped,
                         names.total(), skipped, p50 if p50 is None else round(p50, 3),
                         p95 if p95 is None else round(p95, 3),
                         json.dumps(dict(sorted(names.items())))))  # fmt: skip
        if rows:
            _put(self.con, "rollup_hourly", rows)


def _to_date(run: world.Run) -> int:
    """ms from a clock run's start to the server's Date (skew = Date + 0.5 s - midpoint)."""
    return round(float(run["duration_ms"]) / 2 + float(run["facts"]["skew_s"]) * 1000 - 500)
