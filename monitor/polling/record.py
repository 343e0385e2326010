"""Record one harvest in one transaction: records, validators, poll row and back-off."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from monitor.config import SourceSettings
from monitor.polling.backoff import backoff_delay
from monitor.polling.harvest import Harvest
from monitor.sources.records import Snapshot, merge_snapshots
from monitor.store import Store
from monitor.store.ingest import ApplyStats, apply_snapshot
from monitor.store.queries import BackoffState, record_backoff, record_poll, save_validator
from monitor.suggest import did_you_mean

log = logging.getLogger("monitor.polling")


@dataclass(frozen=True, slots=True)
class PollReport:
    """One line of ``monitor poll``: what happened to one source.

    ``outcome`` is ok, not_modified, error, or backing_off (not polled:
    ``backoff_until`` says until when). After a failure that backs off,
    ``backoff_until`` and ``consecutive_failures`` say what was recorded.
    ``started_at`` is when the vendor was asked (None: it was not), and
    ``incidents_seen`` how many incidents its pages listed (None when no
    page was read: a failure, or nothing modified).
    """

    source: str
    outcome: str
    stats: ApplyStats
    error: str | None
    http_status: int | None
    duration_ms: int
    notes: tuple[str, ...] = ()
    retry_after: timedelta | None = None
    backoff_until: datetime | None = None
    consecutive_failures: int = 0
    started_at: datetime | None = None
    incidents_seen: int | None = None


def record_harvest(store: Store, source_id: int, harvest: Harvest, probe: str) -> PollReport:
    """Apply a harvest, log the poll and set the back-off, in one transaction.

    All of it lands or none: a poll row never disagrees with the back-off
    it caused.
    """
    snapshot = merge_snapshots(harvest.snapshots)
    notes = [*harvest.notes, *snapshot.notes, *_missing_components(harvest.source, snapshot)]
    backoff = _backoff_after(harvest)
    with store.write() as session, session.begin():
        stats = ApplyStats()
        if harvest.snapshots:  # all 304: nothing to parse, nothing to compare
            stats = apply_snapshot(
                session, source_id, snapshot, harvest.started_at, harvest.source.components
            )
        for url, validators in harvest.validators.items():
            save_validator(session, source_id, url, validators.etag, validators.last_modified)
        record_poll(
            session,
            source_id=source_id,
            probe=probe,
            started_at=harvest.started_at,
            duration_ms=harvest.duration_ms,
            outcome=harvest.outcome,
            http_status=harvest.http_status,
            bytes=harvest.size,
            error=harvest.error,
            note="; ".join(harvest.notes) or None,
            new_incidents=stats.new_incidents,
            updated_incidents=stats.updated_incidents,
            new_updates=stats.new_updates,
            component_changes=stats.component_changes,
            maintenance_changes=stats.maintenance_changes,
        )
        if backoff is not None:
            record_backoff(session, source_id, backoff.failures, backoff.until)
    backoff = backoff or BackoffState()
    return PollReport(
        source=harvest.source.name,
        outcome=harvest.outcome,
        stats=stats,
        error=harvest.error,
        http_status=harvest.http_status,
        duration_ms=harvest.duration_ms,
        notes=tuple(dict.fromkeys(notes)),
        retry_after=harvest.retry_after,
        backoff_until=backoff.until,
        consecutive_failures=backoff.failures,
        started_at=harvest.started_at,
        # One incident listed by two of a page's endpoints is one incident seen.
        incidents_seen=len({i.external_id for i in snapshot.incidents})
        if harvest.snapshots
        else None,
    )


def _backoff_after(harvest: Harvest) -> BackoffState | None:
    """Grow the back-off after a failure that asks for it; end it after anything else.

    Anything else includes a 404 or a payload that does not parse: the
    vendor answered promptly, so it is not struggling, and a back-off would
    only delay noticing the fix. The delay starts from ``started_at``, the
    time the vendor was asked, so a Retry-After date is met exactly. None
    where nothing changes: the steady state writes nothing.
    """
    if not harvest.back_off:
        return BackoffState() if harvest.previous_backoff != BackoffState() else None
    failures = harvest.previous_backoff.failures + 1
    delay = backoff_delay(harvest.source.interval, failures, harvest.retry_after)
    return BackoffState(failures, harvest.started_at + delay)


def record_safely(store: Store, source_id: int, harvest: Harvest, probe: str) -> PollReport:
    """Record a harvest; if the database refuses it, log a failed poll instead and go on.

    A write that fails (a lock held past the busy timeout, a value the
    database rejects) is this source's problem only: its transaction rolls
    back whole, and the other sources are still written.
    """
    try:
        return record_harvest(store, source_id, harvest, probe)
    except Exception as exc:
        log.exception("[polling.record] write failed source=%s", harvest.source.name)
        detail = (str(exc).splitlines() or [""])[0][:200]
        failed = replace(
            harvest,
            snapshots=(),
            validators={},
            error=f"could not record the poll: {type(exc).__name__}: {detail}",
        )
        try:
            return record_harvest(store, source_id, failed, probe)
        except Exception:
            log.exception("[polling.record] poll log write failed source=%s", harvest.source.name)
            return PollReport(
                harvest.source.name,
                "error",
                ApplyStats(),
                failed.error,
                None,
                harvest.duration_ms,
                started_at=harvest.started_at,
            )


def _missing_components(source: SourceSettings, snapshot: Snapshot) -> list[str]:
    """Warn about allow-listed components the page does not have (a typo records nothing).

    The note names the page's close matches, so ``"Git Operation"`` says
    which name the page spells ``"Git Operations"``.
    """
    if source.components is None or snapshot.components is None:
        return []
    present = [c.name for c in snapshot.components]
    notes = []
    for name in source.components:
        if name in present:
            continue
        hint = did_you_mean(name, present)
        notes.append(
            f"component {name!r} is not on this page{f' ({hint})' if hint else ''}; "
            f"check source {source.name!r} components"
        )
    return notes
