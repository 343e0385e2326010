"""Poll status sources: fetch and parse in parallel, write one source at a time.

Network waits overlap across threads; the database sees one short write
transaction per source (SQLite has one writer anyway). A failure in one
source is recorded in the poll log with its reason and never stops the rest.

A source that answers 429, 5xx or not at all backs off (monitor.polling.backoff):
its back-off is written with the poll, and a caller that asks for it
(``respect_backoff``, the service) skips the source until it is over.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace
from datetime import datetime, timedelta

import httpx

from monitor.config import Config, SourceSettings
from monitor.polling.backoff import jitter_for
from monitor.polling.fetch import Limits, build_client
from monitor.polling.harvest import Clock, Harvest, harvest, known_validators, utcnow
from monitor.polling.record import PollReport, record_safely
from monitor.redact import redact_url
from monitor.store import Store
from monitor.store.ingest import ApplyStats
from monitor.store.queries import (
    BackoffState,
    SourceSpec,
    load_validators,
    stored_sources,
    sync_sources,
)

# The outcome of a source skipped because it is backing off; no poll row is
# written for it, since nothing was asked of the vendor.
BACKING_OFF = "backing_off"


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
        done = harvest(http, source, known_validators(stored, ids[source.name]), limits, clock)
        previous = backoffs.get(source.name, BackoffState())
        return replace(done, previous_backoff=previous)

    reports: dict[str, PollReport] = {}
    try:
        if len(selected) == 1:
            done = one(selected[0])
            reports[done.source.name] = record_safely(
                store, ids[done.source.name], done, config.probe
            )
        else:
            with ThreadPoolExecutor(max_workers=max(1, min(workers, len(selected)))) as pool:
                # Write each source as soon as it is in, while the others are
                # still on the wire; nothing waits for the slowest page.
                for future in as_completed([pool.submit(one, s) for s in selected]):
                    done = future.result()
                    reports[done.source.name] = record_safely(
                        store, ids[done.source.name], done, config.probe
                    )
    finally:
        if own_client:
            http.close()
    return reports


def _settings(source: SourceSettings) -> str:
    """The config that shapes what a poll records, in a stable form (see SourceSpec)."""
    return "" if source.components is None else json.dumps(sorted(source.components))
