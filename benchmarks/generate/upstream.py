"""Write the status pages' side: incidents and their children, component history,
maintenances, and the polls that learned of them.

Rows carry the times monitor would have recorded: ``first_seen_at`` and a
component transition's ``observed_at`` are the first poll after the fact
(after a monitoring gap, the first poll after it), as apply_snapshot dates them.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections import defaultdict

from benchmarks.generate.catalog import SOURCES, SourceDef
from benchmarks.generate.incidents import IncidentPlan, component_status
from benchmarks.generate.polling import (
    Schedule,
    SpanIndex,
    write_heartbeats,
    write_polls,
    write_validators,
)
from benchmarks.generate.story import Plan
from benchmarks.generate.timefmt import db_text

RANK = {"operational": 0, "under_maintenance": 1, "degraded_performance": 2}
RANK |= {"partial_outage": 3, "major_outage": 4}
Events = list[tuple[int, str]]


def write_upstream(
    con: sqlite3.Connection, plan: Plan, source_ids: dict[str, int]
) -> dict[str, int]:
    """Every upstream table, the poll log and the heartbeats; returns rows written per table."""
    rng = random.Random(f"{plan.seed}:upstream")
    down = SpanIndex(plan.downtime)
    outages = SpanIndex([e for e in plan.episodes if e.kind == "vpn"])
    written: defaultdict[str, int] = defaultdict(int)
    for n, source in enumerate(SOURCES):
        sid = source_ids[source.name]
        schedule = Schedule(plan.start, plan.end, source.interval_s, 3 + 7 * n, down)
        events: Events = []
        mine = [i for i in plan.incidents if i.source is source]
        _incidents(con, sid, mine, schedule, events, written)
        if source.kind == "statuspage":
            _components(con, plan, source, sid, schedule, events, written)
            _maintenances(con, plan, source, sid, schedule, events, written)
        events.sort()
        written["poll"] += write_polls(con, source, sid, schedule, events, outages, rng)
        written["http_validator"] += write_validators(con, source, sid, rng)
    written["heartbeat"] = write_heartbeats(con, plan.start, plan.end, down, rng)
    return dict(written)


def _incidents(
    con: sqlite3.Connection,
    sid: int,
    incidents: list[IncidentPlan],
    schedule: Schedule,
    events: Events,
    written: defaultdict[str, int],
) -> None:
    incident_rows, update_rows, component_rows, affected_rows = [], [], [], []
    next_incident = _next_id(con, "incident")
    next_update = _next_id(con, "incident_update")
    for i, plan in enumerate(incidents):
        iid = next_incident + i
        seen = schedule.seen_at(plan.created)
        changed = schedule.seen_at(plan.resolved)
        events.append((seen, "new_incidents"))
        incident_rows.append(
            (
                iid,
                sid,
                plan.external_id,
                plan.title,
                "resolved",
                plan.impact,
                db_text(plan.created),
                db_text(plan.created),
                db_text(plan.resolved),
                plan.url,
                db_text(seen),
                db_text(changed),
            )
        )
        component_rows += [(iid, name) for name in plan.components]
        for update in plan.updates:
            uid = next_update
            next_update += 1
            update_rows.append(
                (uid, iid, update.external_id, update.status, update.body, db_text(update.at))
            )
            affected_rows += [(uid, *a) for a in update.affected]
            if update.at > plan.created:
                events.append((schedule.seen_at(update.at), "new_updates"))
    con.executemany(
        "INSERT INTO incident (id, source_id, external_id, title, status, impact, created_at, "
        "started_at, resolved_at, url, first_seen_at, last_changed_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        incident_rows,
    )
    con.executemany(
        "INSERT INTO incident_update (id, incident_id, external_id, status, body, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        update_rows,
    )
    con.executemany(
        "INSERT INTO incident_component (incident_id, component) VALUES (?, ?)", component_rows
    )
    con.executemany(
        "INSERT INTO update_component (update_id, component, old_status, new_status) "
        "VALUES (?, ?, ?, ?)",
        affected_rows,
    )
    written["incident"] += len(incident_rows)
    written["incident_update"] += len(update_rows)
    written["incident_component"] += len(component_rows)
    written["update_component"] += len(affected_rows)


def _next_id(con: sqlite3.Connection, table: str) -> int:
    return int(con.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0])


def _components(
    con: sqlite3.Connection,
    plan: Plan,
    source: SourceDef,
    sid: int,
    schedule: Schedule,
    events: Events,
    written: defaultdict[str, int],
) -> None:
    """Status transitions per component: the worst status of what covers it, as polls saw it."""
    spans: defaultdict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for incident in plan.incidents:
        status = component_status(incident.impact)
        if incident.source is source and status is not None:
            for name in incident.components:
                spans[name].append((incident.created, incident.resolved, status))
    for m in plan.maintenances:
        if m.source is source:
            for name in m.components:
                spans[name].append((m.start, m.end, "under_maintenance"))
    rows = []
    first = schedule.seen_at(plan.start)
    for name in source.components:
        observed = {first: "operational"}
        covering = spans[name]
        for t in sorted({t for a, b, _ in covering for t in (a, b)}):
            now = [s for a, b, s in covering if a <= t < b]
            observed[schedule.seen_at(t)] = max(now, key=RANK.__getitem__, default="operational")
        last = None
        for at in sorted(observed):
            if observed[at] != last and at < plan.end:
                rows.append((sid, name, observed[at], db_text(at, 500_000)))
                if last is not None:
                    events.append((at, "component_changes"))
                last = observed[at]
    con.executemany(
        "INSERT INTO component_status (source_id, component, status, observed_at) "
        "VALUES (?, ?, ?, ?)",
        rows,
    )
    written["component_status"] += len(rows)


def _maintenances(
    con: sqlite3.Connection,
    plan: Plan,
    source: SourceDef,
    sid: int,
    schedule: Schedule,
    events: Events,
    written: defaultdict[str, int],
) -> None:
    rows = []
    for m in (m for m in plan.maintenances if m.source is source):
        done = m.end <= plan.end
        seen, changed = schedule.seen_at(m.announced), schedule.seen_at(min(m.end, plan.end - 1))
        events += [(seen, "maintenance_changes"), (changed, "maintenance_changes")]
        rows.append(
            (
                sid,
                m.external_id,
                m.title,
                "completed" if done else "in_progress",
                "maintenance",
                db_text(m.start),
                db_text(m.end),
                db_text(m.start),
                db_text(m.end) if done else None,
                f"{source.url}/incidents/{m.external_id}",
                json.dumps(list(m.components)),
                db_text(seen),
                db_text(changed),
            )
        )
    con.executemany(
        "INSERT INTO maintenance (source_id, external_id, title, status, impact, scheduled_for, "
        "scheduled_until, started_at, completed_at, url, components, first_seen_at, "
        "last_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    written["maintenance"] += len(rows)
