"""The page's "Declared versus seen" section: the report's figures as tables, and its words.

Pure (no matplotlib): the chart in ``declared`` writes its lag labels with
``lag_text`` from here, so the chart and the table never word a lag two
ways. Every part that has nothing to show says why, because an empty table
reads as "all is well" when the truth may be "nothing was watched" or "no
control check ran, so an undeclared outage cannot be told".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from monitor.charts.markup import escape, time_text, titled
from monitor.charts.uptime import percent
from monitor.correlate.report import (
    NOT_READ,
    NOT_READ_THEN,
    UNREAD_AFTER,
    IncidentSeen,
    Report,
    SourceReport,
    UndeclaredOutage,
)
from monitor.times import format_duration

IMPACT_ORDER = ("critical", "major", "minor", "none")  # worst first; others follow by name
DASH = "—"
NO_SOURCES = (
    "No status pages are configured (<code>[[source]]</code> in the config): "
    "nothing was declared to compare with what the checks saw."
)
NOTHING_WATCHED = (
    "Nothing was watched in this range (no heartbeat, no check run): no incident "
    "could be seen or missed, and no uptime measured."
)
NO_CONTROL = (
    "Not told: no control check ran in this range, so a vendor outage cannot be told "
    "from trouble on this side, and none is called undeclared."
)
NONE_UNDECLARED = "None: every vendor outage the checks saw was one the page declared."
RULES = (
    "An incident was <b>seen</b> when a failure of a check that depends on the page (or an "
    "imported failure) is one it explains, by component, time and kind. <b>Lag</b> is the "
    "minutes from the first such failure to the declaration: late when the checks saw it "
    "first, early when the page was first. <b>Resolved after</b> is the minutes from the "
    "checks' recovery to the page's resolution. An <b>undeclared outage</b> is a vendor-side "
    "failure (5xx, stalls, resets) nothing declared explains while the control check passed. "
    "An outage that began while the page could not be read is <b>unknown</b>: counted "
    "neither as declared nor as undeclared, and declared uptime is a share of the time the "
    "page was read. "
    "Time not watched counts in no ratio: an incident entirely in it is "
    "&ldquo;not watched&rdquo;, and both uptimes are shares of the watched time."
)


def minutes_text(minutes: float) -> str:
    """Minutes as the report rounds them (to a tenth): ``12``, ``12.5``, ``-3``."""
    return f"{minutes:.0f}" if minutes == round(minutes) else f"{minutes:.1f}"


def lag_text(minutes: float) -> str:
    """A lag in words: ``12 min late`` (the checks saw it first), ``3 min early``, ``on time``."""
    if minutes == 0:
        return "on time"
    return f"{minutes_text(abs(minutes))} min {'late' if minutes > 0 else 'early'}"


def declared_section(report: Report) -> str:
    """The section's body (its heading and chart come from the page): rules, then each source."""
    parts = [
        f'<p class="meta">From {time_text(report.since)} to {time_text(report.until)} UTC the '
        f"monitor watched {_duration(report.watched_minutes)} of "
        f"{_duration(report.range_minutes)}. {RULES}</p>"
    ]
    if not report.sources:
        parts.append(f'<p class="meta" id="declared-none">{NO_SOURCES}</p>')
    elif report.watched_minutes <= 0:
        parts.append(f'<p class="meta" id="declared-unwatched">{NOTHING_WATCHED}</p>')
    parts += [_source(report, source) for source in report.sources]
    return "\n".join(parts)


def _source(report: Report, source: SourceReport) -> str:
    name = escape(source.source)
    end = source.unread_from(report.until)
    unread = (
        ""
        if end is None
        else f'<p class="meta">Not read after {time_text(end)} UTC: {UNREAD_AFTER}.</p>'
    )
    return (
        f'<section class="declared" data-source="{name}"><h3>{name}</h3>'
        + unread
        + _table("figures", ["Figure", "Value"], _figures(report, source), row_headings=True)
        + _incidents(source)
        + _undeclared(report, source)
        + _unknown(source)
        + "</section>"
    )


def _figures(report: Report, source: SourceReport) -> list[list[str]]:
    """The summary rows: each a heading and its value, written out with the reason if empty."""
    return [
        ["Incidents declared", impacts_text(source)],
        ["Seen / not seen / not watched", seen_text(source.incidents)],
        ["Median declaration lag", _median_lag(source)],
        ["Seen outages the page declared", _share(report, source)],
        ["Uptime declared vs measured", _uptimes(source)],
    ]


def impacts_text(source: SourceReport) -> str:
    """``3: critical 1, minor 2``, or ``0`` and why."""
    counts = source.by_impact
    if not counts and not source.read:
        return f"{DASH} ({NOT_READ})"
    if not counts:
        return "0 (no incidents declared in this range)"
    order = sorted(
        counts,
        key=lambda k: (IMPACT_ORDER.index(k) if k in IMPACT_ORDER else len(IMPACT_ORDER), k),
    )
    listed = ", ".join(f"{escape(key)} {counts[key]}" for key in order)
    return f"{sum(counts.values())}: {listed}"


def seen_text(incidents: Iterable[IncidentSeen]) -> str:
    """How many were seen, watched but not seen, and entirely unwatched: ``2 / 1 / 0``."""
    chosen = list(incidents)
    seen = sum(1 for i in chosen if i.seen)
    missed = sum(1 for i in chosen if i.watched and not i.seen)
    return f"{seen} / {missed} / {sum(1 for i in chosen if not i.watched)}"


def _median_lag(source: SourceReport) -> str:
    lag = source.median_lag_minutes
    if lag is None:
        return f"{DASH} (no declared incident was seen by the checks)"
    return lag_text(lag)


def _share(report: Report, source: SourceReport) -> str:
    share = source.declared_share
    caveat = "" if report.control_ran else " (undeclared outages not told: no control check ran)"
    if not source.read:
        return f"{DASH} ({NOT_READ})"
    unknown = len(source.unknown)
    apart = f"; {unknown} more {NOT_READ_THEN}" if unknown else ""
    if share is None:
        then = " while the page was read" if unknown else ""
        return f"{DASH} (the checks saw no outage{then}){caveat}{apart}"
    declared = source.seen_outages - len(source.undeclared)
    return f"{share * 100:.0f} % ({declared} of {source.seen_outages}){caveat}{apart}"


def _uptimes(source: SourceReport) -> str:
    declared, measured = source.uptime_declared, source.uptime_measured
    if source.watched_minutes <= 0:
        return f"{DASH} (nothing watched in this range)"
    shown = [
        f"{DASH if value is None else percent(value)} {what}"
        for value, what in ((declared, "declared"), (measured, "measured"))
    ]
    if not source.read:
        shown[0] = f"{DASH} declared ({NOT_READ})"
    elif source.known_watched_minutes < source.watched_minutes:
        shown[0] += f" (over the {_duration(source.known_watched_minutes)} the page was read)"
    return f"{', '.join(shown)}, over {_duration(source.watched_minutes)} watched"


def _incidents(source: SourceReport) -> str:
    if not source.incidents and not source.read:
        return f'<p class="meta">No incidents known: the page was {NOT_READ}.</p>'
    if not source.incidents:
        return '<p class="meta">No incidents declared in this range.</p>'
    rows = [
        [
            titled(i.title, i.url),
            escape(i.impact or "none"),
            time_text(i.declared),
            _first_seen(i),
            "" if i.lag_minutes is None else minutes_text(i.lag_minutes),
            _resolved_after(i),
            escape(", ".join(i.seen_by)),
        ]
        for i in source.incidents
    ]
    headings = ["Incident", "Impact", "Declared", "First seen", "Lag (min)", "Resolved after (min)"]
    return _table("incidents", [*headings, "Seen by"], rows, numeric=frozenset({4, 5}))


def _first_seen(incident: IncidentSeen) -> str:
    if incident.first_seen is not None:
        return time_text(incident.first_seen)
    return "not seen" if incident.watched else "not watched"


def _resolved_after(incident: IncidentSeen) -> str:
    after = incident.resolved_after_minutes
    if after is not None:
        return minutes_text(after)
    if incident.resolved is None:
        return "not resolved"
    return "still failing" if incident.seen else ""


def _undeclared(report: Report, source: SourceReport) -> str:
    heading = "<h4>Outages the page did not declare</h4>"
    if not source.read:
        told = f"Not told: the page was {NOT_READ}, so no outage is called undeclared."
        return f'{heading}<p class="meta">{told}</p>'
    if not report.control_ran:
        return f'{heading}<p class="meta">{NO_CONTROL}</p>'
    if source.watched_minutes <= 0:
        return f'{heading}<p class="meta">Nothing watched in this range: no outage seen.</p>'
    if not source.undeclared:
        return f'{heading}<p class="meta">{NONE_UNDECLARED}</p>'
    return heading + _outage_table("undeclared", source.undeclared)


def _unknown(source: SourceReport) -> str:
    """The outages seen while the page was not read: neither declared nor undeclared."""
    if not source.unknown:
        return ""
    heading = "<h4>Outages seen while the page was not read</h4>"
    told = (
        f'<p class="meta">The page was {NOT_READ_THEN}: these are counted neither as '
        "declared nor as undeclared.</p>"
    )
    return heading + told + _outage_table("unknown", source.unknown)


def _outage_table(kind: str, outages: Iterable[UndeclaredOutage]) -> str:
    rows = [
        [
            escape(", ".join(o.checks)),
            time_text(o.start),
            _length(o),
            escape(", ".join(o.failure_classes)),
        ]
        for o in outages
    ]
    return _table(
        kind, ["Checks", "Start", "Length (min)", "Failures"], rows, numeric=frozenset({2})
    )


def _length(outage: UndeclaredOutage) -> str:
    shown = minutes_text(outage.minutes)
    return f"{shown} (still failing)" if outage.end is None else shown


def _table(
    kind: str,
    headings: list[str],
    rows: list[list[str]],
    numeric: frozenset[int] = frozenset(),
    *,
    row_headings: bool = False,
) -> str:
    """A scrolling table of cells already escaped; ``numeric`` columns right-aligned, and the
    first cell of each row its heading when ``row_headings``."""
    head = "".join(f"<th>{h}</th>" for h in headings)
    body = "".join(
        "<tr>"
        + "".join(_cell(index, cell, numeric, row_headings) for index, cell in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return (
        f'<div class="scroll"><table class="declared-{kind}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _cell(index: int, cell: str, numeric: frozenset[int], row_headings: bool) -> str:
    if index == 0 and row_headings:
        return f'<th scope="row">{cell}</th>'
    return f'<td class="num">{cell}</td>' if index in numeric else f"<td>{cell}</td>"


def _duration(minutes: float) -> str:
    """Watched time to the minute: ``1d2h30m``."""
    return format_duration(timedelta(minutes=round(minutes)))
