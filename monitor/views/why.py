"""``why`` and ``timeline`` answered: read the evidence, weigh it, and render it.

The one place that turns a question (a moment, a span, a probe) into the
text or JSON the user sees, so the command line and the service's HTTP API
answer alike. ``verdict_at`` is the weighing alone, for the service's own
view of "now".

Each reads through a ``Reader`` (``monitor.store.sqlread``): the command
line's opens the database with its driver alone, the service's is one of
its engine's connections (``Store.reading()``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from monitor.correlate.agreement import ProbeView
from monitor.correlate.classes import shown_role
from monitor.correlate.evidence import evidence_from, timeline_events
from monitor.correlate.matching import Tolerance
from monitor.correlate.pages import Page
from monitor.correlate.verdict import Verdict, explain
from monitor.correlate.windows import Coverage, LocalWindow, UpstreamWindow, by_name
from monitor.times import isoformat_z
from monitor.views.params import DEFAULT_WINDOW, ParamError
from monitor.views.text import json_text, lines_text

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.store.sqlread import Reader


@dataclass(frozen=True, slots=True)
class WhyQuestion:
    """``monitor why``'s question: the moment, how far either side, which probe."""

    at: datetime
    window: timedelta = DEFAULT_WINDOW
    probe: str | None = None


def verdict_at(reader: Reader, config: Config, question: WhyQuestion) -> Verdict:
    """The verdict for one moment, from what the database holds."""
    from monitor.store.evidence import read_around

    tolerance = Tolerance(lead=config.correlate.lead, lag=config.correlate.lag)
    readings = read_around(reader, question.at, question.window, tolerance, question.probe)
    # A configured page no poll has reached yet is not in the database: it is
    # unknown, as one polled without success is, never quiet.
    stored = {page.source for page in readings.pages}
    missing = [Page(s.name, polled=False) for s in config.sources if s.name not in stored]
    if missing:
        readings = replace(readings, pages=(*readings.pages, *missing))
    evidence = evidence_from(
        readings,
        question.at,
        question.window,
        tolerance=tolerance,
        observed_gap=config.correlate.observed_gap,
        home=config.probe,
    )
    return explain(evidence)


def why_output(
    reader: Reader, config: Config, question: WhyQuestion, *, tz: tzinfo | None, as_json: bool
) -> str:
    """What ``monitor why`` prints (without the final newline)."""
    known_probe(reader, question.probe)
    verdict = verdict_at(reader, config, question)
    if as_json:
        return json_text(verdict_json(verdict))
    return lines_text(*verdict_lines(verdict, tz))


def timeline_output(
    reader: Reader,
    config: Config,
    lo: datetime,
    hi: datetime,
    *,
    probe: str | None,
    tz: tzinfo | None,
    as_json: bool,
) -> str:
    """What ``monitor timeline`` prints (without the final newline)."""
    from monitor.store.evidence import read_between, watched_between

    known_probe(reader, probe)
    readings = read_between(reader, lo, hi, probe)
    events = timeline_events(readings, lo, hi, config.correlate.observed_gap)
    if as_json:
        return json_text(
            {
                "since": isoformat_z(lo),
                "until": isoformat_z(hi),
                "events": [_event_json(e) for e in events],
            }
        )
    if events:
        return lines_text(*(_event_line(event, tz) for event in events))
    watching, sources = watched_between(reader, lo, hi)
    span = f"{_both(lo, tz)} \u2013 {_both(hi, tz)}"
    if watching:
        lines = [f"nothing failed and nothing was declared {span}"]
    else:
        lines = [
            f"nothing recorded {span}: the monitor was not watching then (no service "
            "heartbeat, no check run) and no failure was imported for it"
        ]
    unread = [page for page in sources if not page.known]
    lines += [f"{page.unread()}: what it declared then is unknown" for page in unread]
    return lines_text(*lines)


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    """The ``--json`` object: stable keys, times in ISO 8601 UTC."""
    return {
        "at": isoformat_z(verdict.at),
        "window": {"start": isoformat_z(verdict.lo), "end": isoformat_z(verdict.hi)},
        "verdict": verdict.verdict,
        "confidence": verdict.confidence,
        "summary": verdict.summary,
        "reasons": list(verdict.reasons),
        "next_step": verdict.next_step,
        "local": [local_json(w) for w in verdict.local],
        "upstream": [upstream_json(w) for w in verdict.upstream],
        "coverage": coverage_json(verdict.coverage),
        "probes": [
            {
                "probe": view.probe,
                "host": view.host,
                "runs": view.runs,
                "failed": list(view.failed),
                "passed": list(view.passed),
            }
            for view in verdict.probes
        ],
        "unreadable_sources": [
            {
                "source": page.source,
                "never_read": not page.polled,
                "last_read": isoformat_z(page.last_read),
                "failing_since": isoformat_z(page.failing_since),
                "reason": page.reason,
            }
            for page in verdict.unread
        ],
    }


def local_json(window: LocalWindow) -> dict[str, Any]:
    return {
        window.kind: window.name,
        "kind": window.kind,
        "failure_classes": list(window.failure_classes),
        "start": isoformat_z(window.start),
        "end": isoformat_z(window.end),
        "runs": window.runs,
        "failures": window.failures,
        "role": shown_role(window.role, window.check_kind),
        "target": window.target,
        "probe": window.probe,
        "source": window.source,
        "components": list(window.components),
        "http_statuses": list(window.http_statuses),
        "detail": window.detail,
    }


def upstream_json(window: UpstreamWindow) -> dict[str, Any]:
    return {
        "source": window.source,
        "kind": window.kind,
        "title": window.title,
        "impact": window.impact,
        "status": window.status,
        "start": isoformat_z(window.start),
        "end": isoformat_z(window.end),
        "declared_start": isoformat_z(window.declared_start),
        "declared_end": isoformat_z(window.declared_end),
        "stated_in_update": window.stated_in_update,
        "stated_start": isoformat_z(window.stated[0]) if window.stated else None,
        "stated_end": isoformat_z(window.stated[1]) if window.stated else None,
        "components": list(window.components),
        "component_hits": [
            {"component": h.component, "start": isoformat_z(h.start), "end": isoformat_z(h.end)}
            for h in window.hits
        ],
        "url": window.url,
    }


def coverage_json(coverage: Coverage) -> dict[str, Any]:
    return {
        "watching": coverage.watching,
        "runs": coverage.runs,
        "first_run": isoformat_z(coverage.first_run),
        "last_run": isoformat_z(coverage.last_run),
        "service": [{"start": isoformat_z(a), "end": isoformat_z(b)} for a, b in coverage.alive],
    }


def verdict_lines(verdict: Verdict, tz: tzinfo | None) -> list[str]:
    """Human output: the verdict and summary first, then the evidence, then what to do.

    One string per line; the titles and names inside are raw, for ``echo`` to escape.
    """
    lines = [
        f"{verdict.verdict} ({verdict.confidence} confidence): {verdict.summary}",
        f"at {_both(verdict.at, tz)}, looking {_range(verdict.lo, verdict.hi, tz)}",
        f"Next step: {verdict.next_step}",
        "",
        "Local evidence:",
    ]
    lines += [f"  {_local_group(group, tz)}" for group in by_name(verdict.local)] or [
        "  nothing failed" if verdict.coverage.watching else "  nothing recorded: not watching then"
    ]
    lines += ["", "Upstream evidence:"]
    lines += [f"  {_upstream_line(w, tz)}" for w in verdict.upstream]
    if not verdict.upstream:
        lines.append(f"  {_nothing_declared(verdict)}")
    lines += [f"  {page.unread()}: what it declared then is unknown" for page in verdict.unread]
    if verdict.probes:
        lines += ["", "Probes:"]
        lines += [f"  {_probe_line(view)}" for view in verdict.probes]
    lines += ["", "Why:"]
    lines += [f"  - {reason}" for reason in verdict.reasons]
    lines += ["", f"Coverage: {_coverage_line(verdict, tz)}"]
    return lines


def _nothing_declared(verdict: Verdict) -> str:
    """What no declared window means: quiet pages, or pages nobody could read."""
    if verdict.read:
        pages = ", ".join(verdict.read)
        plural = "s" if len(verdict.read) > 1 else ""
        return f"nothing declared on the {pages} status page{plural}"
    if verdict.not_read:
        return "no status page has been read for this moment: what they declared is unknown"
    return (
        "no status page is configured ([[source]] in the config): what the vendors declared "
        "is unknown"
    )


def _probe_line(view: ProbeView) -> str:
    """ "laptop (host a1): 40 runs; failed api; passed control": which probe saw what."""
    where = f" (host {view.host})" if view.host else ""
    seen = [f"failed {', '.join(view.failed)}"] if view.failed else []
    seen += [f"passed {', '.join(view.passed)}"] if view.passed else []
    runs = f"{view.runs} run{'s' if view.runs != 1 else ''}"
    return f"{view.probe}{where}: {'; '.join([runs, *seen])}"


def _local_group(windows: list[LocalWindow], tz: tzinfo | None) -> str:
    """One line per check, however often it flapped (``--json`` keeps every window)."""
    if len(windows) == 1:
        return _local_line(windows[0], tz)
    first, last = windows[0], windows[-1]
    label = _label(first)
    classes = ", ".join(dict.fromkeys(c for w in windows for c in w.failure_classes))
    failures, runs = sum(w.failures for w in windows), sum(w.runs for w in windows)
    return (
        f"{first.label} [{label}] {classes}: {failures} failed of {runs} in "
        f"{len(windows)} spells, {_range(first.start, last.end, tz)}"
    )


def _label(window: LocalWindow) -> str:
    """``[imported]`` for the user's own logs, else the check's shown role (local, ...)."""
    return "imported" if window.kind == "observed" else shown_role(window.role, window.check_kind)


def _local_line(window: LocalWindow, tz: tzinfo | None) -> str:
    return (
        f"{window.label} [{_label(window)}] {', '.join(window.failure_classes)}: "
        f"{window.failures} failed of {window.runs}, {_range(window.start, window.end, tz)}"
    )


def _upstream_line(window: UpstreamWindow, tz: tzinfo | None) -> str:
    declared = _range(window.declared_start or window.start, window.declared_end, tz)
    parts = [
        f"{window.source} {window.kind} \u201c{window.title}\u201d",
        f"impact {window.impact or 'unstated'}",
    ]
    if window.stated is not None:
        parts.append(f"{_range(*window.stated, tz)} as stated in an update (declared {declared})")
    else:
        parts.append(declared)
    if window.components:
        parts.append(f"components: {', '.join(window.components)}")
    if window.url:
        parts.append(window.url)
    return " | ".join(parts)


def _coverage_line(verdict: Verdict, tz: tzinfo | None) -> str:
    coverage = verdict.coverage
    if not coverage.watching:
        line = "not watching then: no service heartbeat and no check run near that moment"
        if any(w.kind == "observed" for w in verdict.local):
            line += "; the local evidence is the failures you imported"
        return line
    if not coverage.alive:
        return f"watching ({coverage.runs} check runs; no `monitor run` service then)"
    spans = ", ".join(_range(a, b, tz) for a, b in _union(coverage.alive))
    return f"watching ({coverage.runs} check runs; service up {spans})"


def _union(spans: tuple[tuple[datetime, datetime], ...]) -> list[tuple[datetime, datetime]]:
    """Overlapping service spans as one: several probes up at once were one watch."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _range(start: datetime | None, end: datetime | None, tz: tzinfo | None) -> str:
    if start is None:
        return "time unknown"
    return f"{_both(start, tz)} \u2013 {_both(end, tz) if end else 'still open'}"


def _both(value: datetime, tz: tzinfo | None) -> str:
    """UTC first, the local wall time beside it (the time the user's own logs show)."""
    utc = value.astimezone(UTC)
    local = utc.astimezone(tz) if tz is not None else utc.astimezone()
    shown = utc.strftime("%Y-%m-%d %H:%M UTC")
    if local.utcoffset() == timedelta(0):
        return shown
    return f"{shown} ({local.strftime('%H:%M %Z')} local)"


def _event_json(event: UpstreamWindow | LocalWindow) -> dict[str, Any]:
    if isinstance(event, UpstreamWindow):
        return {"side": "upstream", **upstream_json(event)}
    return {"side": "local", **local_json(event)}


def _event_line(event: UpstreamWindow | LocalWindow, tz: tzinfo | None) -> str:
    if isinstance(event, UpstreamWindow):
        return f"them  {_upstream_line(event, tz)}"
    return f"you   {_local_line(event, tz)}"


def known_probe(reader: Reader, probe: str | None) -> None:
    """A ``--probe`` that never ran here is a usage error naming the probes that did."""
    if probe is None:
        return
    from monitor.store.evidence import probe_is_known, probe_names

    if probe_is_known(reader, probe):
        return
    names = probe_names(reader)
    known = f"probes here: {', '.join(names)}" if names else "no probe has run here yet"
    raise ParamError("--probe", f"no probe {probe!r} in this database ({known})")
