"""``index.html``: one self-contained page (inline CSS, no script, relative links only).

It works from ``file://`` and from any static server, reads on a phone and
on a wide screen, and escapes every string it did not write itself:
incident titles and URLs come from vendors, check names from the config.
Escaped means both HTML-escaped and stripped of the characters no HTML or
XML document may hold (``for_xml``): one control character in a vendor's
title must not make the page invalid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from monitor.charts.answer import answer_section
from monitor.charts.declared_page import declared_section
from monitor.charts.markup import escape, href, time_text, titled
from monitor.charts.model import Dashboard, Panel
from monitor.charts.uptime import percent
from monitor.correlate.windows import UpstreamWindow
from monitor.times import format_duration

__all__ = ["ChartLink", "escape", "page"]


@dataclass(frozen=True, slots=True)
class ChartLink:
    """One chart as the page shows it: files by format, and its pixel size."""

    key: str
    title: str
    caption: str
    files: dict[str, str]  # format -> file name in the same folder
    width: int
    height: int


CSS = """
:root { color-scheme: light; --ink: #1b1b1b; --muted: #5a5a5a; --line: #d9d9d9; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); background: #fff; }
main { max-width: 1280px; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 1px solid var(--line); }
.meta { color: var(--muted); margin: 0; }
figure { margin: 1rem 0; }
figure img { display: block; width: 100%; max-width: 100%; height: auto;
  border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: .9rem; margin-top: .3rem; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { background: #f4f4f4; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.time { white-space: nowrap; font-variant-numeric: tabular-nums; }
.empty { padding: 2rem; border: 2px dashed var(--line); text-align: center; font-size: 1.1rem; }
.impact { font-weight: 600; }
h3 { font-size: 1.05rem; margin: 1.5rem 0 .4rem; }
#answer { margin: 1rem 0; padding: .6rem 1rem; border: 2px solid var(--ink); }
#answer h2 { margin: .2rem 0 .4rem; border: 0; }
#answer h3 { margin: .8rem 0 .3rem; }
#answer p, #answer li { overflow-wrap: anywhere; }
#pages { margin: 0; padding-left: 1.2rem; }
#pages li[data-state="unread"], #pages li[data-state="never"] { color: #8a1c00; }
h4 { font-size: .95rem; margin: 1rem 0 .3rem; }
@media (max-width: 640px) { body { font-size: 15px; } main { padding: .6rem; }
  th, td { padding: .3rem .4rem; } }
"""


def page(dashboard: Dashboard, charts: Sequence[ChartLink], version: str) -> str:
    """The whole page; ``version`` is appended to image links so a browser refetches them."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>monitor: is it me or is it them?</title>",
        f"<style>{CSS}</style></head><body><main>",
        "<h1>Is it me, or is it them?</h1>",
        f'<p class="meta">Generated {time_text(dashboard.generated_at)} UTC. '
        f"Range {time_text(dashboard.lo)} to {time_text(dashboard.hi)} UTC "
        f"({_span(dashboard.hi - dashboard.lo)}).</p>",
    ]
    if dashboard.answer is not None:
        parts.append(answer_section(dashboard.answer))
    if dashboard.empty:
        parts.append(
            '<p class="empty">No data yet: nothing was recorded in this range, neither check '
            "runs nor upstream incidents nor imported failures. Start the service with "
            "<code>monitor run</code> (or run <code>monitor check</code> and "
            "<code>monitor poll</code>), then regenerate with <code>monitor chart</code>.</p>"
        )
    else:
        by_key = {chart.key: chart for chart in charts}
        parts += _section("Uptime per check", by_key.get("uptime"), version)
        parts.append(_uptime_table(dashboard))
        parts += _section("Upstream vs your checks", by_key.get("timeline"), version)
        parts += _section("Latency", by_key.get("latency"), version)
        parts += _no_latency(dashboard)
        parts += ["<h2>Upstream incidents and maintenances</h2>", _incidents(dashboard)]
        if dashboard.report is not None:
            parts += _section("Declared versus seen", by_key.get("declared"), version)
            parts.append(declared_section(dashboard.report))
    parts.append("</main></body></html>\n")
    return "\n".join(parts)


def _section(heading: str, chart: ChartLink | None, version: str) -> list[str]:
    parts = [f"<h2>{escape(heading)}</h2>"]
    if chart is None:
        return parts
    shown = chart.files.get("png") or chart.files["svg"]
    links = " · ".join(
        f'<a href="{href(name)}">{fmt.upper()}</a>' for fmt, name in sorted(chart.files.items())
    )
    parts.append(
        f'<figure><a href="{href(shown)}"><img src="{href(shown)}?v={escape(version)}" '
        f'alt="{escape(chart.title)}" width="{chart.width}" height="{chart.height}"></a>'
        f"<figcaption>{escape(chart.caption)} Full size: {links}.</figcaption></figure>"
    )
    return parts


def _uptime_table(dashboard: Dashboard) -> str:
    """The table per check, or why there is none: a bare header is no answer."""
    if not dashboard.panels:
        return f'<p class="meta" id="uptime-none">{_no_uptime(dashboard)}</p>'
    return _uptime_rows(dashboard.panels)


def _no_uptime(dashboard: Dashboard) -> str:
    if dashboard.observations:
        return (
            "No uptime: the only failures in this range were imported from your tools' logs "
            "(<code>monitor import</code>). A log says when a call failed, not how many "
            "worked, so it gives no uptime. Checks measure it: <code>monitor run</code> runs "
            "them on schedule."
        )
    return (
        "No uptime: no check ran in this range, so nothing was measured (the timeline shows "
        "what the status pages declared). Checks run while <code>monitor run</code> is up; "
        "<code>monitor check</code> runs them once."
    )


def _no_latency(dashboard: Dashboard) -> list[str]:
    """Why the latency section is empty, when it is."""
    if not dashboard.panels:
        text = "No latency: no check ran in this range."
    elif not any(panel.latency for panel in dashboard.panels):
        text = (
            "No latency: no check run in this range was timed (every run was skipped, "
            "for instance for want of credentials)."
        )
    else:
        return []
    return [f'<p class="meta" id="latency-none">{text}</p>']


def _uptime_rows(panels: Sequence[Panel]) -> str:
    rows = []
    for panel in panels:
        counts, longest = panel.summary.counts, panel.summary.longest
        uptime = counts.uptime
        shown = "no data" if uptime is None else percent(uptime)
        down = longest.down if longest is not None else timedelta(0)
        outage = "none" if longest is None else _outage(longest.down, longest.estimated)
        since = "" if longest is None else f" <small>from {time_text(longest.start)}</small>"
        monitored = panel.summary.monitored
        seconds = round(monitored.total_seconds())
        rows.append(
            f'<tr data-check="{escape(panel.name)}"><th scope="row">{escape(panel.name)}</th>'
            f"<td>{escape(panel.role)}</td>"
            f'<td class="num" data-value="{"" if uptime is None else repr(uptime)}">{shown}</td>'
            f'<td class="num" data-value="{counts.runs}">{counts.runs}</td>'
            f'<td class="num" data-value="{counts.failures}">{counts.failures}</td>'
            f'<td class="num" data-value="{int(down.total_seconds())}">{outage}{since}</td>'
            f'<td class="num" data-value="{seconds}">{_outage(monitored, False)}</td>'
            "</tr>"
        )
    return (
        '<div class="scroll"><table id="uptime"><thead><tr><th>Check</th><th>Role</th>'
        "<th>Uptime</th><th>Runs</th><th>Failed runs</th><th>Longest outage</th>"
        "<th>Monitored</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>"
        '<p class="meta">Uptime is passing runs over runs made (skipped runs count neither '
        "way), so time the monitor was not running is not downtime. A run speaks for its "
        "check until the next run, or for one interval when the monitor fell silent, and "
        "never past the end of the service run that made it (a run made by hand speaks for "
        "a minute): that is the monitored time. An outage runs from a failed run to the next "
        "passing one, or to where the last failure stopped speaking, the same in every range; "
        "≈ marks one estimated from hourly rollups.</p>"
    )


def _outage(down: timedelta, estimated: bool) -> str:
    text = format_duration(timedelta(seconds=round(down.total_seconds())))
    return f"≈ {text}" if estimated else text


def _incidents(dashboard: Dashboard) -> str:
    windows = dashboard.incidents
    if not windows:
        return f'<p class="meta" id="incidents-none">{_no_incidents(dashboard)}</p>'
    rows = "".join(_incident_row(w) for w in windows)
    return (
        '<div class="scroll"><table id="incidents"><thead><tr><th>Started</th><th>Ended</th>'
        "<th>Source</th><th>Impact</th><th>Title</th></tr></thead><tbody>"
        + rows
        + "</tbody></table></div>"
    )


def _no_incidents(dashboard: Dashboard) -> str:
    """No incident is news only if the status pages were read: say which were not."""
    if not dashboard.sources:
        return (
            "No incidents: no status page has been polled, so none could be recorded. "
            "Configure a <code>[[source]]</code>; <code>monitor run</code> polls it."
        )
    text = "No incidents or maintenances declared in this range."
    unread = (
        [page.source for page in dashboard.answer.pages if not page.ok] if dashboard.answer else []
    )
    if unread:
        names = ", ".join(escape(name) for name in unread)
        text += f" But {names} could not be read at the last poll (see the top of the page)."
    return text


def _incident_row(window: UpstreamWindow) -> str:
    impact = "maintenance" if window.kind == "maintenance" else (window.impact or "none")
    ended = "ongoing" if window.end is None else time_text(window.end)
    title = titled(window.title, window.url)
    return (
        f'<tr><td class="time">{time_text(window.start)}</td><td class="time">{ended}</td>'
        f"<td>{escape(window.source)}</td>"
        f'<td class="impact">{escape(impact)}</td><td>{title}</td></tr>'
    )


def _span(span: timedelta) -> str:
    minutes = round(span.total_seconds() / 60)
    if minutes < 120:
        return f"{minutes} minute{'' if minutes == 1 else 's'}"
    hours = span.total_seconds() / 3600
    return f"{hours:.0f} hours" if hours <= 48 else f"{span.days} days"
