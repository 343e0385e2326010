"""A check run as the compact ``check_result`` row holds it, and back.

The row is numbers wherever it can be (see ``models.CheckRun``); this
module is the one place that knows the numbering, so writers, readers and
the benchmarks' generator agree. Pure functions only.

Codes are forever: a number written to a database keeps naming the same
thing for every later version, so ``FAILURE_CODES`` is only ever appended
to, and a code this version does not know reads as ``unclassified``
rather than failing the read. (Migration 0010 carries its own copy of the
table, as migrations must not change when the code does.)

Lossless, with one exception the issue asked for: a passing or skipped
run's request id and server date are not kept. They name one request to a
vendor's support, which only a failure needs. Everything else reads back
as it was written, to the microsecond for durations and the millisecond
for times.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

PASSED, FAILED, SKIPPED = 0, 1, 2

FAILURE_CODES: dict[str, int] = {
    "auth_rejected": 1,
    "forbidden": 2,
    "rate_limited": 3,
    "server_error": 4,
    "unexpected_status": 5,
    "invalid_grant": 6,
    "timeout": 7,
    "connect_timeout": 8,
    "connect_refused": 9,
    "network_unreachable": 10,
    "connection_reset": 11,
    "dns_failure": 12,
    "tls_error": 13,
    "credentials_missing": 14,
    "credentials_invalid": 15,
    "credentials_expired": 16,
    "credentials_insecure": 17,
    "port_unavailable": 18,
    "callback_failed": 19,
    "clock_skew": 20,
    "misconfigured": 21,
    "protocol_error": 22,
    "internal_error": 23,
    "unclassified": 24,
}
FAILURE_NAMES: dict[int, str] = {code: name for name, code in FAILURE_CODES.items()}
UNCLASSIFIED = "unclassified"

# Phases with a column of their own (``<phase>_us``); any other phase a
# check reports stays in ``facts["phases_ms"]``.
PHASE_COLUMNS = ("dns", "connect", "tls", "ttfb")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def to_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, rounded down (a run's time is kept to the millisecond)."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r} refused: store aware UTC times only")
    return (moment - _EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    """The aware UTC moment ``to_ms`` gave ``ms`` for."""
    return _EPOCH + ms * _MS  # exact, and twice as fast as timedelta(milliseconds=ms)


def truncate_ms(moment: datetime) -> datetime:
    """``moment`` as it will read back from the store: a run is dated to the millisecond."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def to_us(ms: float | None) -> int | None:
    """A duration in milliseconds as integer microseconds (None stays None)."""
    return None if ms is None else round(ms * 1000)


def from_us(us: int | None) -> float | None:
    return None if us is None else us / 1000


def outcome_code(ok: bool, skipped: bool) -> int:
    """``skipped`` first: a skipped run is ok (it ends no streak) yet measured nothing."""
    if skipped:
        return SKIPPED
    return PASSED if ok else FAILED


def outcome_flags(outcome: int) -> tuple[bool, bool]:
    """(ok, skipped) of an outcome code; an unknown code reads as a failure, never a pass."""
    return outcome in (PASSED, SKIPPED), outcome == SKIPPED


def failure_code(name: str | None) -> int | None:
    """The code of a failure class; a name with no code is kept as ``unclassified``."""
    if name is None:
        return None
    return FAILURE_CODES.get(str(name), FAILURE_CODES[UNCLASSIFIED])


def failure_name(code: int | None) -> str | None:
    if code is None:
        return None
    return FAILURE_NAMES.get(code, UNCLASSIFIED)


def facts_text(facts: Mapping[str, Any]) -> str:
    """The stored form of a run's facts: compact JSON, keys in the order the check wrote them.

    Compact separators and ASCII escapes are also what SQLite's own JSON
    functions give the rows migration 0010 converted, so a converted usual
    and a newly written run compare equal when they say the same.
    """
    return json.dumps(facts, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Usual:
    """What a passing run of one check usually says: its detail and facts text (or None)."""

    detail: str | None = None
    facts: str | None = None


def split_phases(
    phases_ms: Mapping[str, float], facts: Mapping[str, Any]
) -> tuple[dict[str, int | None], str]:
    """The phase columns (``<phase>_us``) and the facts text to store.

    Phases with a column leave ``facts``; any other phase stays in
    ``facts["phases_ms"]``. Phases found in ``facts["phases_ms"]`` (how
    runs were written before the columns) count as given.
    """
    phases = {**facts.get("phases_ms", {}), **phases_ms}
    columns = {f"{phase}_us": to_us(phases.pop(phase, None)) for phase in PHASE_COLUMNS}
    rest = {key: value for key, value in facts.items() if key != "phases_ms"}
    if phases:
        rest["phases_ms"] = phases
    return columns, facts_text(rest)


def usual_of(detail: str, phases_ms: Mapping[str, float], facts: Mapping[str, Any]) -> Usual:
    """The usual a check's first pass sets: its detail, and its facts without the phases."""
    return Usual(detail, split_phases(phases_ms, facts)[1])


def encode(
    *,
    check_id: int,
    probe_id: int,
    started_at: datetime,
    duration_ms: float,
    ok: bool,
    skipped: bool = False,
    failure_class: str | None = None,
    http_status: int | None = None,
    phases_ms: Mapping[str, float] | None = None,
    request_id: str | None = None,
    server_date: datetime | None = None,
    detail: str = "",
    facts: Mapping[str, Any] | None = None,
    usual: Usual = Usual(),
) -> dict[str, Any]:
    """The column values of one run's row (what ``insert(CheckRun)`` takes)."""
    columns, text = split_phases(phases_ms or {}, facts or {})
    failed = not ok
    return {
        "check_id": check_id,
        "probe_id": probe_id,
        "started_ms": to_ms(started_at),
        "outcome": outcome_code(ok, skipped),
        "failure_class": failure_code(failure_class),
        "http_status": http_status,
        "duration_us": to_us(duration_ms),
        **columns,
        "request_id": request_id if failed else None,
        "server_date_ms": to_ms(server_date) if failed and server_date is not None else None,
        "detail": None if detail == usual.detail else detail,
        "facts": facts_against(text, usual.facts),
    }


# Facts stored as what differs from the check's usual start with this mark;
# any other text is a run's whole facts (as migration 0010 wrote them).
CHANGED = "+"
_GONE = "-"  # in a difference: the usual's keys this run did not have


def facts_against(text: str, usual: str | None) -> str | None:
    """The facts to store: None for the usual, else what differs from it, else the whole.

    A check's facts mostly repeat its usual with a value or two moved (a
    token's age, a measured skew); storing those keys alone is most of the
    saving. ``facts_of`` puts the usual back.
    """
    if text == usual:
        return None
    if not usual:
        return text
    whole, base = json.loads(text), json.loads(usual)
    if _GONE in whole:  # a key the difference's own mark would be read as
        return text
    # Compared as JSON text: 1, 1.0 and true are equal in Python, not in what was written.
    changed = {
        k: v for k, v in whole.items() if k not in base or facts_text(base[k]) != facts_text(v)
    }
    gone = [k for k in base if k not in whole]
    if gone:
        changed[_GONE] = gone
    difference = CHANGED + facts_text(changed)
    return difference if len(difference) < len(text) else text


def phases_of(
    dns_us: int | None,
    connect_us: int | None,
    tls_us: int | None,
    ttfb_us: int | None,
    facts: Mapping[str, Any],
) -> dict[str, float]:
    """A run's phases in milliseconds: its phase columns, then any kept in its facts."""
    phases = {
        phase: us / 1000
        for phase, us in zip(PHASE_COLUMNS, (dns_us, connect_us, tls_us, ttfb_us), strict=True)
        if us is not None
    }
    phases.update(facts.get("phases_ms", {}))
    return phases


def facts_of(text: str | None, usual: str | None) -> dict[str, Any]:
    """A run's facts (without its phases): its own, the usual, or the usual with its changes."""
    if text is None:
        return {} if not usual else dict(json.loads(usual))
    if not text.startswith(CHANGED):
        return dict(json.loads(text))
    changed: dict[str, Any] = json.loads(text[len(CHANGED) :])
    gone = set(changed.pop(_GONE, ()))
    base = json.loads(usual) if usual else {}
    merged: dict[str, Any] = {k: v for k, v in base.items() if k not in gone}
    return merged | changed


def detail_of(detail: str | None, usual: str | None) -> str:
    return detail if detail is not None else (usual or "")


# The columns ``decode`` reads, in its order: select them (from check_result
# joined to check and probe) and hand each row over as it comes.
STORED_COLUMNS = (
    "check.name",
    "probe.name",
    "check_result.started_ms",
    "check_result.outcome",
    "check_result.failure_class",
    "check_result.http_status",
    "check_result.duration_us",
    "check_result.dns_us",
    "check_result.connect_us",
    "check_result.tls_us",
    "check_result.ttfb_us",
    "check_result.request_id",
    "check_result.server_date_ms",
    "check_result.detail",
    "check_result.facts",
    "check.usual_detail",
    "check.usual_facts",
)


@dataclass(frozen=True, slots=True)
class StoredRun:
    """One recorded run, as every reader sees it whatever the row's encoding."""

    check: str
    probe: str
    started_at: datetime
    ok: bool
    skipped: bool
    failure_class: str | None
    http_status: int | None
    duration_ms: float
    phases_ms: dict[str, float]
    request_id: str | None
    server_date: datetime | None
    detail: str
    facts: dict[str, Any]


def decode(row: tuple[Any, ...]) -> StoredRun:
    """A ``StoredRun`` from one row of ``STORED_COLUMNS``."""
    (
        check,
        probe,
        started_ms,
        outcome,
        failure_class,
        http_status,
        duration_us,
        dns_us,
        connect_us,
        tls_us,
        ttfb_us,
        request_id,
        server_date_ms,
        detail,
        facts,
        usual_detail,
        usual_facts,
    ) = row
    ok, skipped = outcome_flags(outcome)
    fact_values = facts_of(facts, usual_facts)
    return StoredRun(
        check=check,
        probe=probe,
        started_at=from_ms(started_ms),
        ok=ok,
        skipped=skipped,
        failure_class=failure_name(failure_class),
        http_status=http_status,
        duration_ms=duration_us / 1000,
        phases_ms=phases_of(dns_us, connect_us, tls_us, ttfb_us, fact_values),
        request_id=request_id,
        server_date=None if server_date_ms is None else from_ms(server_date_ms),
        detail=detail_of(detail, usual_detail),
        facts={k: v for k, v in fact_values.items() if k != "phases_ms"},
    )
