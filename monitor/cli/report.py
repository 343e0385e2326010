"""``monitor report``: how honest each status page was, declared against seen.

Kept light like ``why``: config, store and the pure report, no plotting.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

import click

from monitor.cli.app import App, json_option, pass_app, time_bounds
from monitor.cli.render import echo, echo_json
from monitor.correlate.matching import Tolerance
from monitor.correlate.report import (
    NOT_READ,
    NOT_READ_THEN,
    UNREAD_AFTER,
    IncidentSeen,
    Report,
    SourceReport,
    UndeclaredOutage,
    build_report,
)
from monitor.times import TIME_HELP, UNTIL_HELP, isoformat_z, parse_duration, zone

TZ_HELP = "Zone for times typed without an offset and for times shown. Default: UTC."


@click.command("report")
@click.option(
    "--since",
    default="30d",
    show_default=True,
    metavar="TIME",
    help=f"Start: a length back from --until ('30d', '90d'), or a time: {TIME_HELP}.",
)
@click.option(
    "--until", default="now", show_default=True, metavar="TIME", help=f"End: {UNTIL_HELP}."
)
@click.option("--source", "source_names", multiple=True, metavar="NAME", help="Only this source.")
@click.option("--tz", "tz_name", metavar="ZONE", help=TZ_HELP)
@json_option
@pass_app
def report(
    app: App,
    since: str,
    until: str,
    source_names: tuple[str, ...],
    tz_name: str | None,
    as_json: bool,
) -> None:
    """Declared versus seen: how well each status page told the truth.

    Per source over the range: the incidents it declared, whether your
    checks (or imported failures) saw each one and how many minutes before
    or after the page said so, outages it never declared, and uptime as it
    declared it against uptime as measured. Time the monitor did not watch
    is shown as such and left out of every ratio.

    \b
    Examples:
      monitor report
      monitor report --since 90d --source claude
      monitor report --since "2026-04-01" --until "2026-05-01" --json
    """
    lo, hi = _range(since, until, tz_name)
    config = app.config
    names = [s.name for s in config.sources]
    unknown = [n for n in source_names if n not in names]
    if unknown:
        raise click.BadParameter(
            f"no source named {unknown[0]!r} in the config (sources: {', '.join(names)})",
            param_hint="'--source'",
        )
    from monitor.store.evidence import read_report

    built = build_report(
        read_report(app.reader(), lo, hi),
        lo,
        hi,
        sources=list(source_names) or names,
        tolerance=Tolerance(lead=config.correlate.lead, lag=config.correlate.lag),
        observed_gap=config.correlate.observed_gap,
    )
    if as_json:
        echo_json(report_json(built))
    else:
        echo(*report_lines(built, zone(tz_name) if tz_name else None))


def _range(since: str, until: str, tz_name: str | None) -> tuple[datetime, datetime]:
    """``--since`` as a time, or as a length back from ``--until``."""
    _, hi = time_bounds(None, until, tz_name)
    assert hi is not None
    try:
        lo = hi - parse_duration(since)
    except ValueError:
        start, _ = time_bounds(since, None, tz_name)
        assert start is not None
        lo = start
    if hi <= lo:
        raise click.BadParameter("--until is not after --since", param_hint="'--until'")
    return lo, hi


def report_json(built: Report) -> dict[str, Any]:
    """Every figure the text shows, times in ISO 8601 UTC, minutes as numbers."""
    return {
        "since": isoformat_z(built.since),
        "until": isoformat_z(built.until),
        "range_minutes": built.range_minutes,
        "watched_minutes": built.watched_minutes,
        "watched": [{"start": isoformat_z(a), "end": isoformat_z(b)} for a, b in built.watched],
        "control_ran": built.control_ran,
        "sources": [_source_json(s) for s in built.sources],
    }


def _source_json(source: SourceReport) -> dict[str, Any]:
    return {
        "source": source.source,
        "incidents_by_impact": source.by_impact,
        "incidents": [_incident_json(i) for i in source.incidents],
        "undeclared": [_outage_json(o) for o in source.undeclared],
        "unknown": [_outage_json(o) for o in source.unknown],
        "median_lag_minutes": source.median_lag_minutes,
        "seen_outages": source.seen_outages,
        "unknown_outages": len(source.unknown),
        "read": source.read,
        "known": [{"start": isoformat_z(a), "end": isoformat_z(b)} for a, b in source.known],
        "declared_share": source.declared_share,
        "watched_minutes": source.watched_minutes,
        "known_watched_minutes": source.known_watched_minutes,
        "declared_down_minutes": source.declared_down_minutes,
        "measured_down_minutes": source.measured_down_minutes,
        "uptime_declared": source.uptime_declared,
        "uptime_measured": source.uptime_measured,
    }


def _outage_json(outage: UndeclaredOutage) -> dict[str, Any]:
    return {
        "checks": list(outage.checks),
        "start": isoformat_z(outage.start),
        "end": isoformat_z(outage.end),
        "minutes": outage.minutes,
        "failure_classes": list(outage.failure_classes),
    }


def _incident_json(incident: IncidentSeen) -> dict[str, Any]:
    return {
        "title": incident.title,
        "impact": incident.impact,
        "url": incident.url,
        "declared": isoformat_z(incident.declared),
        "resolved": isoformat_z(incident.resolved),
        "watched": incident.watched,
        "seen": incident.seen,
        "first_seen": isoformat_z(incident.first_seen),
        "recovered": isoformat_z(incident.recovered),
        "lag_minutes": incident.lag_minutes,
        "resolved_after_minutes": incident.resolved_after_minutes,
        "seen_by": list(incident.seen_by),
    }


def report_lines(built: Report, tz: tzinfo | None) -> list[str]:
    """The report for people: per source, its figures, then its incidents and outages."""
    watched = built.watched_minutes
    lines = [
        f"Declared versus seen, {_when(built.since, tz)} \u2013 {_when(built.until, tz)}: "
        f"watched {_share(watched / built.range_minutes if built.range_minutes else None)} "
        f"of it ({_length(watched)})."
    ]
    if not built.watched:
        lines.append(
            "Nothing was watched in this range (no service heartbeat, no failure recorded): "
            "no figure below can say what happened."
        )
    if not built.control_ran:
        lines.append(
            "No control check ran: a vendor outage cannot be told from trouble on this side, "
            "so no outage is called undeclared."
        )
    for source in built.sources:
        lines += ["", *_source_lines(source, built.until, tz)]
    return lines


def _source_lines(source: SourceReport, until: datetime, tz: tzinfo | None) -> list[str]:
    impacts = ", ".join(f"{n} {impact}" for impact, n in sorted(source.by_impact.items()))
    seen = sum(1 for i in source.incidents if i.seen)
    unwatched = sum(1 for i in source.incidents if not i.watched)
    missed = len(source.incidents) - seen - unwatched
    lines = [
        f"{source.source}:" + _unread_head(source, until, tz),
        f"  declared: {len(source.incidents)} incident{'s' if len(source.incidents) != 1 else ''}"
        + (f" ({impacts})" if impacts else "")
        + f"; seen by your checks {seen}, not seen {missed}, not watched {unwatched}",
        f"  median declaration lag: {_lag(source.median_lag_minutes)}",
        _outages_line(source),
        f"  uptime over watched time: declared {_share(source.uptime_declared, 3)}"
        + _known_basis(source)
        + f", measured {_share(source.uptime_measured, 3)}",
    ]
    for incident in source.incidents:
        lines.append(f"  - {_incident_line(incident, tz)}")
    for outage in source.undeclared:
        lines.append(f"  - never declared: {_outage_text(outage, tz)}")
    for outage in source.unknown:
        lines.append(f"  - unknown: {_outage_text(outage, tz)} (the page was {NOT_READ_THEN})")
    return lines


def _unread_head(source: SourceReport, until: datetime, tz: tzinfo | None) -> str:
    """After the source's name: not read in the range, or from when it was not."""
    if not source.read:
        return f" {NOT_READ}"
    end = source.unread_from(until)
    return "" if end is None else f" not read after {_when(end, tz)}: {UNREAD_AFTER}"


def _cut(source: SourceReport) -> bool:
    """The page's known time is less than the watched time."""
    return source.known_watched_minutes < source.watched_minutes


def _outages_line(source: SourceReport) -> str:
    """``outages seen 3, declared 50.0 % of the 2 seen while the page was read; 1 not read
    then: ...``: the unknown are counted apart."""
    judged, unknown = source.seen_outages, len(source.unknown)
    line = f"  outages seen {judged + unknown}, declared {_share(source.declared_share)}"
    if not source.read:
        return f"{line} ({NOT_READ})"
    if not unknown:
        return line
    basis = f" of the {judged}" if judged else " (none"
    basis += " seen while the page was read" + ("" if judged else ")")
    return f"{line}{basis}; {unknown} {NOT_READ_THEN}"


def _known_basis(source: SourceReport) -> str:
    """`` (over the 1 h 0 min the page was read)`` when that is less than the watched time."""
    if not source.read or not _cut(source):
        return ""
    return f" (over the {_length(source.known_watched_minutes)} the page was read)"


def _outage_text(outage: UndeclaredOutage, tz: tzinfo | None) -> str:
    end = _when(outage.end, tz) if outage.end else "still failing"
    return (
        f"{', '.join(outage.checks)} failed ({', '.join(outage.failure_classes)}) "
        f"{_when(outage.start, tz)} \u2013 {end}, {_length(outage.minutes)}"
    )


def _incident_line(incident: IncidentSeen, tz: tzinfo | None) -> str:
    head = f"\u201c{incident.title}\u201d ({incident.impact or 'no impact given'}), declared " + (
        _when(incident.declared, tz)
    )
    if not incident.watched:
        return f"{head}: not watched then"
    if not incident.seen:
        return f"{head}: not seen by your checks"
    assert incident.first_seen is not None
    resolved = incident.resolved_after_minutes
    after = f"; {_resolved(resolved)}" if resolved is not None else ""
    return (
        f"{head}: seen {_when(incident.first_seen, tz)} by {', '.join(incident.seen_by)}, "
        f"{_lag(incident.lag_minutes)}{after}"
    )


def _lag(minutes: float | None) -> str:
    """Declared minus first seen, in words."""
    if minutes is None:
        return "none (nothing declared was seen)"
    if minutes == 0:
        return "declared as your checks saw it"
    return (
        f"declared {abs(minutes):g} min {'after' if minutes > 0 else 'before'} your checks saw it"
    )


def _resolved(minutes: float) -> str:
    """Resolved minus recovered, in words."""
    return f"resolved {abs(minutes):g} min {'after' if minutes >= 0 else 'before'} they recovered"


def _share(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{100 * value:.{digits}f} %"


def _length(minutes: float) -> str:
    hours, rest = divmod(round(minutes), 60)
    return f"{hours} h {rest} min" if hours else f"{rest} min"


def _when(value: datetime | None, tz: tzinfo | None) -> str:
    if value is None:
        return "still open"
    shown = value.astimezone(tz) if tz else value
    suffix = "" if tz else " UTC"
    return f"{shown:%Y-%m-%d %H:%M}{suffix}"
