"""The "declared versus seen" chart: what each status page said above what the checks saw.

Two lanes per status page. Above, its incidents from declared start to
resolution, coloured by impact. Below, what the checks saw: the failures
each incident explains, from first seen to recovery, and the outages no
incident explains (hatched, another colour). Between them an arrow runs from
first seen to declared, labelled with the lag in words, so "the page was 25
minutes late" is read off the chart, not computed. Time the monitor did not
watch is shaded and striped: nothing there was seen, or missed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from monitor.charts import style
from monitor.charts.declared_page import lag_text
from monitor.charts.model import Dashboard
from monitor.charts.render import LANE, filled, new_figure, num, rect, swatch, time_axis
from monitor.correlate.report import Report, SourceReport
from monitor.escape import for_xml

PIXELS = 900.0  # the least bar is a pixel of the time axis wide, so a short one still shows
MAX_LAGS = 24  # lag labels written on the chart, largest lags first (the page lists them all)
# Arrows drawn, largest lags first: each is its own patch, and over a year of incidents the
# smallest are shorter than a pixel anyway.
MAX_ARROWS = 300
LAG_PT = 7
LANE_IN = 0.42  # inches per lane, as the timeline
LEGEND_COLUMNS = 4
LEGEND_ROW_IN = 0.2


def declared_chart(dashboard: Dashboard) -> Figure:
    """The chart as the dashboard draws it: only called when the dashboard holds a report."""
    if dashboard.report is None:
        raise ValueError("this dashboard holds no declared-versus-seen report")
    return declared_figure(dashboard.report)


def declared_figure(report: Report) -> Figure:
    """A declared lane over a seen lane per source, lags between them, unwatched time striped."""
    count = 2 * len(report.sources)
    lo, hi = num(report.since), num(report.until)
    least = (hi - lo) / PIXELS
    gaps = unwatched(report)
    impacts = {style.impact_key("incident", i.impact) for s in report.sources for i in s.incidents}
    handles = _legend(impacts, any(s.undeclared for s in report.sources), bool(gaps))
    legend_rows = -(-len(handles) // LEGEND_COLUMNS)
    figure = new_figure(max(2.8, 1.6 + LANE_IN * count + LEGEND_ROW_IN * legend_rows))
    ax = figure.add_subplot()
    if gaps:
        ax.add_collection(
            PolyCollection(
                [rect(num(a), num(b), 0, count) for a, b in gaps],
                **filled(style.NOT_WATCHED),
                zorder=0,
            )
        )
    lags: list[tuple[float, float, float, float]] = []  # lag (min), first seen, declared, y
    for index, source in enumerate(report.sources):
        seen_y = count - 2 - 2 * index + (1 - LANE) / 2
        _lanes(ax, source, report.until, seen_y, least)
        between = seen_y + LANE + (1 - LANE) / 2
        lags += [
            (i.lag_minutes, num(i.first_seen), num(i.declared), between)
            for i in source.incidents
            if i.first_seen is not None and i.lag_minutes is not None
        ]
        if index:
            ax.axhline(count - 2 * index, color="#999999", linewidth=0.6)
    _lags(ax, lags)
    labels = [
        f"{for_xml(s.source)}: {lane}" for s in report.sources for lane in ("declared", "seen")
    ]
    ax.set_ylim(0, max(count, 1))
    ax.set_yticks([count - 0.5 - i for i in range(count)], labels)
    time_axis(ax, report.since, report.until)
    ax.set_title(
        f"Declared versus seen, {report.since:%Y-%m-%d %H:%M} to {report.until:%Y-%m-%d %H:%M} UTC"
    )
    figure.legend(handles=handles, loc="outside lower center", ncols=LEGEND_COLUMNS)
    return figure


def unwatched(report: Report) -> list[tuple[datetime, datetime]]:
    """The parts of the range outside every watched span (the report gives them merged, sorted)."""
    gaps = []
    at = report.since
    for start, end in report.watched:
        if start > at:
            gaps.append((at, start))
        at = max(at, end)
    if at < report.until:
        gaps.append((at, report.until))
    return gaps


def _lanes(ax: Axes, source: SourceReport, until: datetime, seen_y: float, least: float) -> None:
    """One source's two lanes: incidents by impact above, explained and undeclared below."""
    declared: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for incident in source.incidents:
        key = style.impact_key("incident", incident.impact)
        declared[key].append((incident.declared, incident.resolved or until))
    for key, spans in declared.items():
        _bars(ax, spans, seen_y + 1, least, style.IMPACTS[key], border=style.BAR_EDGE)
    seen = [
        (i.first_seen, i.recovered or until) for i in source.incidents if i.first_seen is not None
    ]
    _bars(ax, seen, seen_y, least, style.SEEN)
    _bars(
        ax, [(o.start, o.end or until) for o in source.undeclared], seen_y, least, style.UNDECLARED
    )


def _bars(
    ax: Axes,
    spans: Iterable[tuple[datetime, datetime]],
    y: float,
    least: float,
    look: style.Look,
    *,
    border: str | None = None,
) -> None:
    boxes = [rect(num(a), max(num(b), num(a) + least), y, LANE) for a, b in spans]
    if boxes:
        ax.add_collection(PolyCollection(boxes, **filled(look, border=border, width=0.5), zorder=2))


def _lags(ax: Axes, lags: list[tuple[float, float, float, float]]) -> None:
    """An arrow from first seen to declared for each seen incident (at most ``MAX_ARROWS``),
    the largest lags labelled.

    The label sits past the arrow's head on a white box, so it reads over bars and stripes.
    """
    ranked = sorted(lags, key=lambda lag: -abs(lag[0]))[:MAX_ARROWS]
    for rank, (minutes, first, declared, y) in enumerate(ranked):
        ax.annotate(
            "",
            xy=(declared, y),
            xytext=(first, y),
            arrowprops={"arrowstyle": "->", "color": style.LAG.color, "linewidth": 1.0},
            zorder=3,
        )
        if rank >= MAX_LAGS:
            continue
        ax.annotate(
            lag_text(minutes),
            xy=(max(first, declared), y),
            xytext=(3, 0),
            textcoords="offset points",
            fontsize=LAG_PT,
            ha="left",
            va="center",
            annotation_clip=True,
            zorder=4,
            bbox={"facecolor": "white", "alpha": 0.8, "linewidth": 0, "pad": 1},
        )


def _legend(impacts: set[str], undeclared: bool, gaps: bool) -> list[Patch | Line2D]:
    """Only what the chart shows: the impacts present, seen, undeclared, the lag, not watched."""
    handles: list[Patch | Line2D] = [
        swatch(look, border=style.BAR_EDGE) for key, look in style.IMPACTS.items() if key in impacts
    ]
    handles.append(swatch(style.SEEN))
    if undeclared:
        handles.append(swatch(style.UNDECLARED))
    handles.append(
        Line2D([], [], color=style.LAG.color, marker=">", markersize=5, label=style.LAG.label)
    )
    if gaps:
        handles.append(swatch(style.NOT_WATCHED))
    return handles
