"""Poll status sources: fetch and parse in parallel, write one source at a time.

Network waits overlap across threads; the database sees one short write
transaction per source (SQLite has one writer anyway). A failure in one
source is recorded in the poll log with its reason and never stops the rest.

A source that answers 429, 5xx or not at all backs off (monitor.backoff):
its back-off is written with the poll, and a caller that asks for it
(``respect_backoff``, the service) skips the source until it is over.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.orm import Session

from monitor.backoff import backoff_delay, jitter_for, parse_retry_after, should_back_off
from monitor.config import Config, SourceSettings
from monitor.errors import ParseError, SourceError
from monitor.redact import redact_url
from monitor.sources.fetch import (
    ErrorResponse,
    Limits,
    TransportFailure,
    Validators,
    build_client,
    fetch,
)
from monitor.sources.records import Snapshot, merge_snapshots
from monitor.sources.registry import endpoints_for
from monitor.store import Store
from monitor.store.ingest import ApplyStats, apply_snapshot
from monitor.store.queries import (
    BackoffState,
    SourceSpec,
    load_validators,
    record_backoff,
    record_poll,
    save_validator,
    stored_sources,
    sync_sources,
)

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]

# The outcome of a source skipped because it is backing off; no poll row is
# written for it, since nothing was asked of the vendor.
BACKING_OFF = "backing_off"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Harvest:
    """What fetching and parsing one source produced, before anything is written."""

    source: SourceSettings
    started_at: datetime
    duration_ms: int
    snapshots: tuple[Snapshot, ...] = ()
    validators: dict[str, Validators] = field(default_factory=dict)
    http_status: int | None = None
    size: int = 0
    error: str | None = None
    # A failure that asks us to slow down (monitor.backoff.should_back_off),
    # and the wait its Retry-After asked for, measured from ``started_at``.
    back_off: bool = False
    retry_after: timedelta | None = None
    # The source's back-off as read before this poll (the poll's one read).
    previous_backoff: BackoffState = field(default_factory=BackoffState)

    @property
    def outcome(self) -> str:
        if self.error:
            return "error"
        return "ok" if self.snapshots else "not_modified"


@dataclass(frozen=True, slots=True)
class PollReport:
    """One line of ``monitor poll``: what happened to one source.

    ``outcome`` is ok, not_modified, error, or backing_off (not polled:
    ``backoff_until`` says until when). After a failure that backs off,
    ``backoff_until`` and ``consecutive_failures`` say what was recorded.
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


def limits_from(config: Config) -> Limits:
    http = config.http
    return Limits(
        timeout=http.timeout.total_seconds(),
        connect_timeout=http.connect_timeout.total_seconds(),
        max_bytes=http.max_bytes,
        max_redirects=http.max_redirects,
    )


def client_for(config: Config) -> httpx.Client:
    verify: str | bool = str(config.ca_file) if config.ca_file else True
    return build_client(limits_from(config), verify=verify)


def harvest(
    client: httpx.Client,
    source: SourceSettings,
    known: dict[str, Validators],
    limits: Limits,
    clock: Clock = utcnow,
) -> Harvest:
    """Fetch and parse every endpoint of ``source``; never raises for a bad source.

    An endpoint that answers badly (an HTTP error, a payload that does not
    parse) does not hide the others: a broken ``summary.json`` still lets
    ``incidents.json`` through. A transport failure (refused, timed out, DNS)
    ends the poll, since the other endpoints are on the same host; so does a
    429, a rate limit on us rather than one broken endpoint. A 5xx does not:
    one failing endpoint often sits behind a different backend than the rest.
    Either makes the source back off; the longest Retry-After seen counts.
    """
    started_at = clock()
    began = time.perf_counter()
    snapshots: list[Snapshot] = []
    validators: dict[str, Validators] = {}
    errors: list[str] = []
    size, http_status, failed_status = 0, None, None
    back_off, retry_after = False, None
    for endpoint in endpoints_for(source.kind, source.url):
        answered: int | None = None
        try:
            # Validators are kept under the URL as it may be written down:
            # with any token in its query redacted.
            key = redact_url(endpoint.url)
            fetched = fetch(client, endpoint.url, known.get(key), limits)
            http_status = answered = fetched.status
            size += fetched.size
            if fetched.body is not None:
                snapshots.append(endpoint.parse(fetched.body))
                validators[key] = fetched.validators
        except SourceError as exc:
            errors.append(_located(endpoint.url, source.url, exc.reason))
            if len(errors) == 1:  # the poll log keeps the status of the first failure
                failed_status = exc.http_status if exc.http_status is not None else answered
            if _asks_to_back_off(exc):
                back_off, retry_after = True, _longer(retry_after, _retry_after(exc, started_at))
            if _ends_poll(exc):
                break
        except Exception as exc:  # a parser bug must not take the other sources down
            log.exception("[polling.harvest] parser crashed source=%s", source.name)
            errors.append(_located(endpoint.url, source.url, f"internal error: {exc!r}"))
    error = "; ".join(errors) or None
    if errors:
        http_status = failed_status
    return Harvest(
        source=source,
        started_at=started_at,
        duration_ms=round((time.perf_counter() - began) * 1000),
        snapshots=tuple(snapshots),
        validators=validators,
        http_status=http_status,
        size=size,
        error=error,
        back_off=back_off,
        retry_after=retry_after,
    )


def _ends_poll(exc: SourceError) -> bool:
    """No answer at all, or a rate limit on us: the other endpoints are on the same host."""
    return exc.http_status == 429 or (exc.http_status is None and not isinstance(exc, ParseError))


def _asks_to_back_off(exc: SourceError) -> bool:
    failure_class = exc.failure_class if isinstance(exc, TransportFailure) else None
    return should_back_off(exc.http_status, failure_class)


def _retry_after(exc: SourceError, now: datetime) -> timedelta | None:
    return parse_retry_after(exc.retry_after, now) if isinstance(exc, ErrorResponse) else None


def _longer(a: timedelta | None, b: timedelta | None) -> timedelta | None:
    return b if a is None or (b is not None and b > a) else a


def poll_sources(
    store: Store,
    config: Config,
    names: Sequence[str] = (),
    *,
    client: httpx.Client | None = None,
    clock: Clock = utcnow,
    workers: int = 16,
    respect_backoff: bool = False,
) -> list[PollReport]:
    """Poll the named sources (all enabled ones by default) once; one report per source.

    With ``respect_backoff`` a source still backing off at ``clock()`` is not
    asked anything: its report says ``backing_off`` and until when, and no
    poll row is written. The service passes True; ``monitor poll`` does not,
    since a person asking for a poll now means now (and a success then ends
    the back-off).
    """
    selected = (
        [config.source(n) for n in names] if names else [s for s in config.sources if s.enabled]
    )
    if not selected:
        return []
    specs = [SourceSpec(s.name, s.kind, redact_url(s.url), _settings(s)) for s in selected]
    # The steady state reads only; a write lock is taken just when the
    # config names a source the database does not have yet (or moved it).
    with store.read() as session:
        known = stored_sources(session, specs)
        stored = load_validators(session, [source_id for source_id, _ in known.values()])
    ids = {name: source_id for name, (source_id, _) in known.items()}
    backoffs = {name: state for name, (_, state) in known.items()}
    waiting = _waiting(selected, backoffs, clock()) if respect_backoff else {}
    if len(ids) < len(specs):
        with store.write() as session, session.begin():
            ids = sync_sources(session, specs, clock())
    reports = {name: _backing_off(name, state) for name, state in waiting.items()}
    due = [s for s in selected if s.name not in waiting]
    if due:
        reports.update(
            _harvest_all(
                store,
                config,
                due,
                ids,
                stored,
                backoffs,
                client=client,
                clock=clock,
                workers=workers,
            )
        )
    return [reports[s.name] for s in selected]


def _waiting(
    sources: Sequence[SourceSettings], backoffs: dict[str, BackoffState], now: datetime
) -> dict[str, BackoffState]:
    """The sources whose back-off has not ended at ``now`` (give or take the jitter), by name.

    A source not stored yet was never polled, so it is never backing off.
    """
    waiting = {}
    for source in sources:
        state = backoffs.get(source.name)
        slack = timedelta(seconds=jitter_for(source.interval))
        if state and state.until is not None and state.until > now + slack:
            waiting[source.name] = state
    return waiting


def _backing_off(name: str, state: BackoffState) -> PollReport:
    return PollReport(
        source=name,
        outcome=BACKING_OFF,
        stats=ApplyStats(),
        error=None,
        http_status=None,
        duration_ms=0,
        backoff_until=state.until,
        consecutive_failures=state.failures,
    )


def _harvest_all(
    store: Store,
    config: Config,
    selected: Sequence[SourceSettings],
    ids: dict[str, int],
    stored: dict[tuple[int, str], tuple[str | None, str | None]],
    backoffs: dict[str, BackoffState],
    *,
    client: httpx.Client | None,
    clock: Clock,
    workers: int,
) -> dict[str, PollReport]:
    """Fetch and parse ``selected`` in parallel, recording each as soon as it is in."""
    limits = limits_from(config)
    own_client = client is None
    http = client or client_for(config)

    def one(source: SourceSettings) -> Harvest:
        done = harvest(http, source, _known(stored, ids[source.name]), limits, clock)
        previous = backoffs.get(source.name, BackoffState())
        return replace(done, previous_backoff=previous)

    reports: dict[str, PollReport] = {}
    try:
        if len(selected) == 1:
            done = one(selected[0])
            reports[done.source.name] = _record_safely(
                store, ids[done.source.name], done, config.probe
            )
        else:
            with ThreadPoolExecutor(max_workers=max(1, min(workers, len(selected)))) as pool:
                # Write each source as soon as it is in, while the others are
                # still on the wire; nothing waits for the slowest page.
                for future in as_completed([pool.submit(one, s) for s in selected]):
                    done = future.result()
                    reports[done.source.name] = _record_safely(
                        store, ids[done.source.name], done, config.probe
                    )
    finally:
        if own_client:
            http.close()
    return reports


def record_harvest(store: Store, source_id: int, harvest: Harvest, probe: str) -> PollReport:
    """Apply a harvest, log the poll and set the back-off, in one transaction.

    All of it lands or none: a poll row never disagrees with the back-off
    it caused.
    """
    snapshot = merge_snapshots(harvest.snapshots)
    notes = [*snapshot.notes, *_missing_components(harvest.source, snapshot)]
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
            new_incidents=stats.new_incidents,
            updated_incidents=stats.updated_incidents,
            new_updates=stats.new_updates,
            component_changes=stats.component_changes,
            maintenance_changes=stats.maintenance_changes,
        )
        backoff = _update_backoff(session, source_id, harvest)
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
    )


def _update_backoff(session: Session, source_id: int, harvest: Harvest) -> BackoffState:
    """Grow the back-off after a failure that asks for it; end it after anything else.

    Anything else includes a 404 or a payload that does not parse: the
    vendor answered promptly, so it is not struggling, and a back-off would
    only delay noticing the fix. The delay starts from ``started_at``, the
    time the vendor was asked, so a Retry-After date is met exactly.
    """
    if not harvest.back_off:
        if harvest.previous_backoff != BackoffState():  # the steady state writes nothing
            record_backoff(session, source_id, 0, None)
        return BackoffState()
    failures = harvest.previous_backoff.failures + 1
    delay = backoff_delay(harvest.source.interval, failures, harvest.retry_after)
    state = BackoffState(failures, harvest.started_at + delay)
    record_backoff(session, source_id, state.failures, state.until)
    return state


def _settings(source: SourceSettings) -> str:
    """The config that shapes what a poll records, in a stable form (see SourceSpec)."""
    return "" if source.components is None else json.dumps(sorted(source.components))


def _record_safely(store: Store, source_id: int, harvest: Harvest, probe: str) -> PollReport:
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
                harvest.source.name, "error", ApplyStats(), failed.error, None, harvest.duration_ms
            )


def _missing_components(source: SourceSettings, snapshot: Snapshot) -> list[str]:
    """Warn about allow-listed components the page does not have (a typo records nothing)."""
    if source.components is None or snapshot.components is None:
        return []
    present = {c.name for c in snapshot.components}
    return [
        f"component {name!r} is not on this page; check source {source.name!r} components"
        for name in source.components
        if name not in present
    ]


def _known(
    stored: dict[tuple[int, str], tuple[str | None, str | None]], source_id: int
) -> dict[str, Validators]:
    return {url: Validators(*pair) for (sid, url), pair in stored.items() if sid == source_id}


def _located(url: str, base: str, reason: str) -> str:
    """Prefix a reason with the endpoint when a source has several (``/api/v2/summary.json``)."""
    root = base.rstrip("/")
    if url.rstrip("/") == root:
        return reason
    where = url[len(root) :] if url.startswith(root) else url
    return f"{where}: {reason}"
