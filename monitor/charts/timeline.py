"""The correlation timeline: what upstream declared above, what the checks saw below.

Lanes, top to bottom: one per status page (incidents coloured by impact,
maintenances hatched, component degradations as a thin bar), one per source
of imported failures (a tick each), the monitor itself (heartbeats), then one
per check (failure windows coloured and hatched by failure class). Every
incident and maintenance is also shaded down through all lanes, and a check
failure inside a window of the status page it depends on is underlined in
black: "them" shows as failures sitting in a shaded column.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from monitor.charts import style
from monitor.charts.legends import timeline_legend
from monitor.charts.model import Dashboard, Panel
from monitor.charts.render import LANE, filled, new_figure, num, rect, span_label, time_axis
from monitor.correlate.windows import UpstreamWindow
from monitor.escape import for_xml

MAX_LABELS = 16  # incident titles written on the chart (the page lists them all)
TITLE_CHARS = 48
TITLE_PT = 7  # their font size
# A title's width, estimated high: DejaVu Sans averages about 0.55 em a character.
EM_PER_CHAR = 0.62
TITLE_GAP_PX = 6.0  # the least room between two titles in one row
# Titles sit in two rows per status-page lane (their height in the lane's bar),
# far enough apart that a row of 7 pt text never touches the other.
TITLE_ROWS = (0.75, 0.3)
PIXELS = 900.0  # bars closer than a pixel of the time axis are drawn as one
UNDERLINE = 0.18 * LANE  # the mark under a check failure that happened during an upstream window
LEGEND_COLUMNS = 4
LANE_IN = 0.42  # inches per lane
LEGEND_ROW_IN = 0.2  # inches per legend row
_RANK = {"critical": 4, "major": 3, "minor": 2, "none": 1, "maintenance": 0}


@dataclass(slots=True)
class _Bar:
    x0: float
    x1: float
    classes: Counter[str]
    inside: bool

    @property
    def dominant(self) -> str:
        """The class it is drawn with: its most frequent (ties by name), as a known look."""
        return style.class_key(min(self.classes.items(), key=lambda kv: (-kv[1], kv[0]))[0])


def timeline_figure(dashboard: Dashboard) -> Figure:
    observed = sorted({o.source or "imported" for o in dashboard.observations})
    # Names from the config and the store, made XML-safe: the SVG keeps its text as text.
    lanes = [
        *(f"{for_xml(name)} (status page)" for name in dashboard.sources),
        *(f"imported: {for_xml(name)}" for name in observed),
        "monitor",
        *(for_xml(p.name) for p in dashboard.panels),
    ]
    count = len(lanes)
    lo, hi = num(dashboard.lo), num(dashboard.hi)
    least = (hi - lo) / PIXELS
    bars = [_bars(panel, dashboard.upstream, least) for panel in dashboard.panels]
    handles = timeline_legend(
        {style.impact_key(w.kind, w.impact) for w in dashboard.upstream},
        {bar.dominant for rows in bars for bar in rows},
        any(bar.inside for rows in bars for bar in rows),
        bool(observed),
        bool(dashboard.unwatched),
    )
    # Room for the lanes and for every row of the legend, so a long legend never squeezes them.
    legend_rows = -(-len(handles) // LEGEND_COLUMNS)
    figure = new_figure(max(3.2, 1.6 + LANE_IN * count + LEGEND_ROW_IN * legend_rows))
    ax = figure.add_subplot()

    def y_of(index: int) -> float:
        return count - 1 - index + (1 - LANE) / 2

    for start, end in dashboard.unwatched:
        look = style.STATES["nodata"]
        ax.add_collection(
            PolyCollection([rect(num(start), num(end), 0, count)], **filled(look), zorder=0)
        )
    _upstream(ax, dashboard, y_of, least, count)
    _titles(ax, dashboard, y_of, least, _axis_pixels(lanes))
    for index, name in enumerate(observed, start=len(dashboard.sources)):
        times = sorted(
            {
                round(num(o.at) / least) * least
                for o in dashboard.observations
                if (o.source or "imported") == name
            }
        )
        ax.vlines(
            times,
            y_of(index),
            y_of(index) + LANE,
            colors=style.OBSERVED.color,
            linewidth=0.9,
            zorder=3,
        )
    monitor_lane = len(dashboard.sources) + len(observed)
    alive = [
        rect(num(a), max(num(b), num(a) + least), y_of(monitor_lane) + LANE / 3, LANE / 3)
        for a, b in dashboard.alive
    ]
    if alive:
        ax.add_collection(PolyCollection(alive, facecolors=style.ALIVE.color, linewidths=0))
    for offset, rows in enumerate(bars):
        _draw_bars(ax, rows, y_of(monitor_lane + 1 + offset))
    ax.set_ylim(0, count)
    ax.set_yticks([count - 0.5 - i for i in range(count)], lanes)
    for boundary in (len(dashboard.sources), monitor_lane, monitor_lane + 1):
        if 0 < boundary < count:
            ax.axhline(count - boundary, color="#999999", linewidth=0.6)
    time_axis(ax, dashboard.lo, dashboard.hi)
    ax.set_title(f"Upstream declared vs your checks, {span_label(dashboard)}")
    figure.legend(handles=handles, loc="outside lower center", ncols=LEGEND_COLUMNS)
    return figure


def _axis_pixels(lanes: Sequence[str]) -> float:
    """The time axis's width in pixels, estimated low: the figure less the lane names and margins.

    Estimated, not measured: measuring means laying the figure out twice.
    """
    names = max((len(name) for name in lanes), default=0) * EM_PER_CHAR * 10 * style.DPI / 72
    return style.WIDTH_IN * style.DPI - names - 0.6 * style.DPI


def _upstream(
    ax: Axes, dashboard: Dashboard, y_of: Callable[[int], float], least: float, count: int
) -> None:
    """Draw every upstream window, one collection per look.

    A year holds thousands of windows: bars of one look in one lane closer
    than a pixel are drawn as one, and so are the shaded columns.
    """
    lanes = {name: index for index, name in enumerate(dashboard.sources)}
    lo = num(dashboard.lo)
    bars: dict[tuple[str, bool, int], list[tuple[float, float]]] = defaultdict(list)
    columns: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for window in dashboard.upstream:
        key = style.impact_key(window.kind, window.impact)
        x0 = max(num(window.start), lo)
        x1 = max(num(window.end or dashboard.hi), x0 + least)
        component = window.kind == "component"
        bars[(key, component, lanes[window.source])].append((x0, x1))
        if not component and key != "none":  # informational notices shade nothing
            columns[key].append((x0, x1))
    for (key, component, lane), spans in bars.items():
        look = style.IMPACTS[key]
        y = y_of(lane)
        bottom, height = (y, LANE / 4) if component else (y + LANE / 4, LANE * 3 / 4)
        ax.add_collection(
            PolyCollection(
                [rect(a, b, bottom, height) for a, b in _union(spans, least)],
                **filled(look, border=style.BAR_EDGE, width=0.5),
                alpha=0.9 if component else 1.0,
                zorder=2,
            )
        )
    for key, spans in columns.items():
        ax.add_collection(
            PolyCollection(
                [rect(a, b, 0, count) for a, b in _union(spans, least)],
                facecolors=style.IMPACTS[key].color,
                alpha=0.13,
                linewidths=0,
                zorder=0.5,
            )
        )


def _titles(
    ax: Axes,
    dashboard: Dashboard,
    y_of: Callable[[int], float],
    least: float,
    axis_px: float,
) -> None:
    """The titles of the worst incidents (the page lists them all), none over another.

    Worst first, each goes where its window starts (moved left if it would run
    off the chart) in the first of its lane's two rows where its estimated
    width is free; a title with room in neither row is left to the page.
    """
    lanes = {name: index for index, name in enumerate(dashboard.sources)}
    lo, hi = num(dashboard.lo), num(dashboard.hi)
    per_px = (hi - lo) / axis_px
    ranked = sorted(
        (w for w in dashboard.upstream if w.kind != "component"),
        key=lambda w: (
            -_RANK[style.impact_key(w.kind, w.impact)],
            -((w.end or dashboard.hi) - w.start).total_seconds(),
            w.start,
        ),
    )
    taken: dict[tuple[str, int], list[tuple[float, float]]] = defaultdict(list)
    shown = 0
    for window in ranked:
        if shown >= MAX_LABELS:
            break
        text = _short(window.title)
        width = title_width_px(text) * per_px
        if width > hi - lo:
            continue
        x0 = max(num(window.start), lo)
        x1 = max(num(window.end or dashboard.hi), x0 + least)
        # Over its window; near the right edge it ends where the window ends (or at the edge).
        left = x0 if x0 + width <= hi else max(lo, min(hi, x1) - width)
        span = (left - TITLE_GAP_PX * per_px, left + width + TITLE_GAP_PX * per_px)
        for row, lift in enumerate(TITLE_ROWS):
            placed = taken[(window.source, row)]
            if any(a < span[1] and span[0] < b for a, b in placed):
                continue
            placed.append(span)
            shown += 1
            ax.text(
                left,
                y_of(lanes[window.source]) + LANE * lift,
                text,
                fontsize=TITLE_PT,
                ha="left",
                va="center",
                clip_on=True,
                zorder=4,
                bbox={"facecolor": "white", "alpha": 0.75, "linewidth": 0, "pad": 1},
            )
            break


def title_width_px(text: str) -> float:
    """A title's width on the chart in pixels, box padding included, estimated high."""
    return (len(text) * EM_PER_CHAR * TITLE_PT + 2) * style.DPI / 72


def _short(title: str) -> str:
    """A vendor's title as the chart writes it: cut to fit, and XML-safe for the SVG."""
    title = for_xml(title)
    return title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1] + "…"


def _bars(panel: Panel, upstream: Sequence[UpstreamWindow], least: float) -> list[_Bar]:
    """The check's failure windows, merged where closer than a pixel, each marked if inside."""
    spans = _union(
        (num(w.start), num(w.end) if w.end else float("inf"))
        for w in upstream
        if w.source == panel.source  # a check that depends on no status page gets none
    )
    starts = [a for a, _ in spans]
    bars: list[_Bar] = []
    for outage in panel.outages:
        x0, x1 = num(outage.start), max(num(outage.end), num(outage.start) + least)
        at = bisect.bisect_right(starts, x1) - 1
        inside = at >= 0 and spans[at][1] >= x0
        if bars and x0 - bars[-1].x1 <= least:
            bar = bars[-1]
            bar.x1 = max(bar.x1, x1)
            bar.classes[outage.failure_class] += outage.failures
            bar.inside |= inside
            continue
        bars.append(_Bar(x0, x1, Counter({outage.failure_class: outage.failures}), inside))
    return bars


def _union(spans: Iterable[tuple[float, float]], join: float = 0.0) -> list[tuple[float, float]]:
    """Overlapping spans (and those less than ``join`` apart) merged."""
    merged: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1] + join:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _draw_bars(ax: Axes, bars: list[_Bar], y: float) -> None:
    """Failure windows by class; those during an upstream window also get a black underline."""
    groups: dict[str, list[list[tuple[float, float]]]] = defaultdict(list)
    underlined = []
    for bar in bars:
        groups[bar.dominant].append(rect(bar.x0, bar.x1, y + UNDERLINE, LANE - UNDERLINE))
        if bar.inside:
            underlined.append(rect(bar.x0, bar.x1, y, UNDERLINE * 0.8))
    for name, boxes in groups.items():
        look = style.CLASS_LOOKS[name]
        ax.add_collection(PolyCollection(boxes, **filled(look), zorder=2.5))
    if underlined:
        ax.add_collection(
            PolyCollection(underlined, facecolors=style.INSIDE_EDGE, linewidths=0, zorder=2.6)
        )
