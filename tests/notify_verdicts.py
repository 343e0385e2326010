"""Literal verdicts for the notification tests: the answers the service works out, built by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.correlate.pages import Page
from monitor.correlate.rules import Confidence
from monitor.correlate.verdict import Verdict
from monitor.correlate.windows import Coverage, LocalWindow, UpstreamWindow

T0 = datetime(2026, 5, 1, 15, 0, tzinfo=UTC)
API = "Claude API (api.anthropic.com)"


def minutes(count: float) -> datetime:
    return T0 + timedelta(minutes=count)


def failing(
    since: datetime, *, end: datetime | None = None, classes: str = "server_error"
) -> LocalWindow:
    return LocalWindow(
        kind="check",
        name="api-reachable",
        start=since,
        end=end,
        failure_classes=(classes,),
        runs=4,
        failures=4,
        source="claude",
        components=(API,),
    )


def incident(title: str = "Claude.ai down", *, start: datetime | None = None) -> UpstreamWindow:
    begun = start or minutes(40)
    return UpstreamWindow(
        source="claude",
        kind="incident",
        title=title,
        start=begun,
        end=None,
        impact="major",
        components=(API,),
        url="https://stspg.io/claude-down",
        declared_start=begun,
    )


def verdict(
    kind: str,
    at: datetime,
    *,
    confidence: Confidence = "high",
    local: tuple[LocalWindow, ...] | None = None,
    explained_by: tuple[UpstreamWindow, ...] = (),
    summary: str | None = None,
    next_step: str = "Wait.",
    ongoing: tuple[LocalWindow, ...] | None = None,
    unread: tuple[Page, ...] = (),
) -> Verdict:
    """A verdict at ``at``: a failure one has a check failing since 15:33 unless told otherwise.

    ``ongoing`` (what ``explain`` judges still failing) defaults to the open windows;
    tests/test_correlate_rules.py holds ``explain``'s own judgement.
    """
    quiet = kind in ("healthy", "no_data")
    windows = local if local is not None else (() if quiet else (failing(minutes(33)),))
    going_on = ongoing if ongoing is not None else tuple(w for w in windows if w.end is None)
    return Verdict(
        at=at,
        lo=at - timedelta(minutes=30),
        hi=at + timedelta(minutes=30),
        verdict=kind,
        confidence=confidence,
        summary=summary or f"{kind} summary.",
        reasons=(),
        next_step=next_step,
        local=windows,
        upstream=explained_by,
        coverage=Coverage(watching=kind != "no_data", runs=10),
        explained_by=explained_by,
        unread=unread,
        ongoing=going_on,
    )
