"""``monitor why`` and ``monitor timeline``: is it me or is it them, with the evidence.

Kept light on purpose: a user asks this in the middle of an outage, so the
command loads the config, the store and the pure correlator, nothing else
(no HTTP client, no scheduler, no plotting).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import click

from monitor.cli.app import App, json_option, pass_app, time_bounds
from monitor.cli.render import echo, echo_json
from monitor.correlate.agreement import ProbeView
from monitor.correlate.evidence import evidence_from, timeline_events
from monitor.correlate.matching import Tolerance
from monitor.correlate.verdict import Verdict, explain
from monitor.correlate.windows import Coverage, LocalWindow, UpstreamWindow, by_name
from monitor.escape import for_terminal
from monitor.times import isoformat_z, parse_duration, parse_time, zone

# ``why`` is about a moment; a wider look is ``timeline``'s job (and would load
# every run in it).
MAX_WINDOW = timedelta(hours=24)
TZ_HELP = (
    "Zone for times typed without an offset and for local times shown. Default: this machine's."
)
probe_option = click.option(
    "--probe",
    metavar="NAME",
    help="Only this probe's check runs and heartbeats (imported failures stay). "
    "Default: every probe writing to this database.",
)


@click.command("why")
@click.option(
    "--at",
    "at_text",
    default="now",
    show_default=True,
    metavar="TIME",
    help="The moment to explain: ISO 8601, 'YYYY-MM-DD HH:MM' (in --tz), 'now', '90m ago'.",
)
@click.option(
    "--window",
    "window_text",
    default="30m",
    show_default=True,
    metavar="DURATION",
    help="Look this far either side of --at.",
)
@click.option("--tz", "tz_name", metavar="ZONE", help=TZ_HELP)
@probe_option
@json_option
@pass_app
def why(
    app: App,
    at_text: str,
    window_text: str,
    tz_name: str | None,
    probe: str | None,
    as_json: bool,
) -> None:
    """Explain failures at a moment: upstream, local, network, or not enough evidence.

    Lines up what the checks and your imported logs saw against what the
    status pages declared, and says which side is at fault, how sure, why,
    and what to do next. With several probes writing to one database, what
    each saw is evidence too: a call failing on one machine while another
    makes it fine is that machine's trouble; failing on every one, it is not.

    \b
    Examples:
      monitor why --at "2026-04-14 10:00" --tz UTC
      monitor why --at "2h ago" --window 1h
      monitor why --probe laptop
      monitor why --json
    """
    tz = _zone(tz_name)
    at = _parse(at_text, "--at", tz)
    window = _duration(window_text)
    config = app.config
    from monitor.store.evidence import read_around

    tolerance = Tolerance(lead=config.correlate.lead, lag=config.correlate.lag)
    _known(app, probe)
    readings = read_around(app.store(), at, window, tolerance, probe)
    evidence = evidence_from(
        readings,
        at,
        window,
        tolerance=tolerance,
        observed_gap=config.correlate.observed_gap,
        home=config.probe,
    )
    verdict = explain(evidence)
    if as_json:
        echo_json(verdict_json(verdict))
    else:
        echo(*verdict_lines(verdict, tz))


@click.command("timeline")
@click.option("--since", default="24h ago", show_default=True, metavar="TIME", help="Start.")
@click.option("--until", default="now", show_default=True, metavar="TIME", help="End.")
@click.option("--tz", "tz_name", metavar="ZONE", help=TZ_HELP)
@probe_option
@json_option
@pass_app
def timeline(
    app: App, since: str, until: str, tz_name: str | None, probe: str | None, as_json: bool
) -> None:
    """Local failure windows and upstream windows merged in time order.

    The story of a bad afternoon: when each check started and stopped
    failing, what you imported from your tools, and what the vendors
    declared, one line each.

    \b
    Examples:
      monitor timeline --since "2026-04-13 15:00" --until "2026-04-13 17:00" --tz UTC
      monitor timeline --since "3d ago" --json
    """
    lo, hi = time_bounds(since, until, tz_name)
    assert lo is not None
    assert hi is not None
    if hi < lo:
        raise click.BadParameter("--until is before --since", param_hint="'--until'")
    tz = _zone(tz_name)
    from monitor.store.evidence import read_between, watched_between

    _known(app, probe)
    readings = read_between(app.store(), lo, hi, probe)
    events = timeline_events(readings, lo, hi, app.config.correlate.observed_gap)
    if as_json:
        echo_json(
            {
                "since": isoformat_z(lo),
                "until": isoformat_z(hi),
                "events": [_event_json(e) for e in events],
            }
        )
        return
    if not events:
        watching, sources = watched_between(app.store(), lo, hi)
        span = f"{_both(lo, tz)} \u2013 {_both(hi, tz)}"
        if watching:
            echo(f"nothing failed and nothing was declared {span}")
        else:
            echo(
                f"nothing recorded {span}: the monitor was not watching then (no service "
                "heartbeat, no check run) and no failure was imported for it"
            )
        for page in sources:
            if not page.known:
                echo(f"{page.unread()}: what it declared then is unknown")
        return
    echo(*(_event_line(event, tz) for event in events))


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
        "role": window.role,
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
    lines += [f"  {page.unread()}: what it declared then is unknown" for page in verdict.unread]
    if not verdict.upstream and not verdict.unread:
        lines.append("  nothing declared on the status pages")
    if verdict.probes:
        lines += ["", "Probes:"]
        lines += [f"  {_probe_line(view)}" for view in verdict.probes]
    lines += ["", "Why:"]
    lines += [f"  - {reason}" for reason in verdict.reasons]
    lines += ["", f"Coverage: {_coverage_line(verdict, tz)}"]
    return lines


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
    label = "imported" if first.kind == "observed" else first.role
    classes = ", ".join(dict.fromkeys(c for w in windows for c in w.failure_classes))
    failures, runs = sum(w.failures for w in windows), sum(w.runs for w in windows)
    return (
        f"{first.label} [{label}] {classes}: {failures} failed of {runs} in "
        f"{len(windows)} spells, {_range(first.start, last.end, tz)}"
    )


def _local_line(window: LocalWindow, tz: tzinfo | None) -> str:
    label = "imported" if window.kind == "observed" else window.role
    return (
        f"{window.label} [{label}] {', '.join(window.failure_classes)}: "
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


def _known(app: App, probe: str | None) -> None:
    """A ``--probe`` that never ran here is a usage error naming the probes that did."""
    if probe is None:
        return
    from monitor.store.probes import probe_is_known, probe_names

    with app.store().read() as session:
        if probe_is_known(session, probe):
            return
        names = probe_names(session)
    known = f"probes here: {', '.join(names)}" if names else "no probe has run here yet"
    raise click.BadParameter(
        for_terminal(f"no probe {probe!r} in this database ({known})"), param_hint="'--probe'"
    )


def _zone(name: str | None) -> tzinfo | None:
    try:
        return zone(name)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--tz'") from None


def _parse(text: str, hint: str, tz: tzinfo | None) -> datetime:
    try:
        return parse_time(text, now=datetime.now(UTC), tz=tz)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=f"'{hint}'") from None


def _duration(text: str) -> timedelta:
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--window'") from None
    if value <= timedelta(0):
        raise click.BadParameter("must be longer than zero, e.g. 30m", param_hint="'--window'")
    if value > MAX_WINDOW:
        raise click.BadParameter(
            "at most 24h either side of --at; for a longer span use `monitor timeline`",
            param_hint="'--window'",
        )
    return value
