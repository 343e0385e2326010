"""Fetch and parse every endpoint of one source: a ``Harvest``, before anything is written."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from monitor.config import SourceSettings
from monitor.errors import ParseError, SourceError
from monitor.polling.backoff import parse_retry_after, should_back_off
from monitor.polling.fetch import ErrorResponse, Limits, TransportFailure, Validators, fetch
from monitor.redact import redact_url
from monitor.sources.records import Snapshot
from monitor.sources.registry import endpoints_for
from monitor.store.queries import BackoffState

log = logging.getLogger("monitor.polling")
Clock = Callable[[], datetime]


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
    # A failure that asks us to slow down (monitor.polling.backoff.should_back_off),
    # and the wait its Retry-After asked for, measured from ``started_at``.
    back_off: bool = False
    retry_after: timedelta | None = None
    # What a person should know of a poll that worked (a page that moved).
    notes: tuple[str, ...] = ()
    # The source's back-off as read before this poll (the poll's one read).
    previous_backoff: BackoffState = field(default_factory=BackoffState)

    @property
    def outcome(self) -> str:
        if self.error:
            return "error"
        return "ok" if self.snapshots else "not_modified"


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
    notes: list[str] = []
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
            if fetched.moved_to:
                moved = f"redirected to another host, {fetched.moved_to}: update the source's url"
                notes.append(_located(endpoint.url, source.url, moved))
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
        notes=tuple(notes),
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


def known_validators(
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
