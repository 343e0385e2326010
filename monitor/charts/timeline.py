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
from monitor.charts.render import LANE, new_figure, num, rect, span_label, time_axis
from monitor.correlate.windows import UpstreamWindow

MAX_LABELS = 16  # incident titles written on the chart (the page lists them all)
TITLE_CHARS = 48
PIXELS = 900.0  # bars closer than a pixel of the time axis are drawn as one
UNDERLINE = 0.18 * LANE  # the mark under a check failure that happened during an upstream window
_RANK = {"critical": 4, "major": 3, "minor": 2, "none": 1, "maintenance": 0}


@dataclass(slots=True)
class _Bar:
    x0: float
    x1: float
    classes: Counter[str]
    inside: bool


def timeline_figure(dashboard: Dashboard) -> Figure:
    observed = sorted({o.source or "imported" for o in dashboard.observations})
    lanes = [
        *(f"{name} (status page)" for name in dashboard.sources),
        *(f"imported: {name}" for name in observed),
        "monitor",
        *(p.name for p in dashboard.panels),
    ]
    count = len(lanes)
    figure = new_figure(max(3.2, 2.2 + 0.42 * count))
    ax = figure.add_subplot()
    lo, hi = num(dashboard.lo), num(dashboard.hi)
    least = (hi - lo) / PIXELS

    def y_of(index: int) -> float:
        return count - 1 - index + (1 - LANE) / 2

    for start, end in dashboard.unwatched:
        look = style.STATES["nodata"]
        ax.axvspan(
            num(start),
            num(end),
            facecolor=look.color,
            hatch=look.hatch,
            edgecolor=style.NODATA_EDGE,
            linewidth=0,
            zorder=0,
        )
    impacts = _upstream(ax, dashboard, y_of, least, count)
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
    classes = Counter(o.failure_class for p in dashboard.panels for o in p.outages)
    looks = style.class_looks([name for name, _ in classes.most_common()])
    inside_any = False
    for offset, panel in enumerate(dashboard.panels):
        bars = _bars(panel, dashboard.upstream, least)
        inside_any |= any(bar.inside for bar in bars)
        _draw_bars(ax, bars, looks, y_of(monitor_lane + 1 + offset))
    ax.set_ylim(0, count)
    ax.set_yticks([count - 0.5 - i for i in range(count)], lanes)
    for boundary in (len(dashboard.sources), monitor_lane, monitor_lane + 1):
        if 0 < boundary < count:
            ax.axhline(count - boundary, color="#999999", linewidth=0.6)
    time_axis(ax, dashboard.lo, dashboard.hi)
    ax.set_title(f"Upstream declared vs your checks, {span_label(dashboard)}")
    handles = timeline_legend(impacts, looks, inside_any, bool(observed), bool(dashboard.unwatched))
    figure.legend(handles=handles, loc="outside lower center", ncols=4)
    return figure


def _upstream(
    ax: Axes, dashboard: Dashboard, y_of: Callable[[int], float], least: float, count: int
) -> set[str]:
    """Draw every upstream window, one collection per look; return the impact keys used.

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
                facecolors=look.color,
                edgecolors="#333333",
                linewidths=0.5,
                hatch=look.hatch or None,
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
    _titles(ax, dashboard, y_of, lanes, least)
    return {key for key, _, _ in bars}


def _titles(
    ax: Axes,
    dashboard: Dashboard,
    y_of: Callable[[int], float],
    lanes: dict[str, int],
    least: float,
) -> None:
    """The titles of the worst incidents (the page lists them all), staggered in their lane."""
    lo, hi = num(dashboard.lo), num(dashboard.hi)
    ranked = sorted(
        (w for w in dashboard.upstream if w.kind != "component"),
        key=lambda w: (
            -_RANK[style.impact_key(w.kind, w.impact)],
            -((w.end or dashboard.hi) - w.start).total_seconds(),
        ),
    )
    room = (hi - lo) * 0.18  # a title's width, roughly: no two closer in one lane
    placed: dict[str, list[float]] = defaultdict(list)
    chosen: list[UpstreamWindow] = []
    for window in ranked:
        x = max(num(window.start), lo)
        if len(chosen) < MAX_LABELS and all(abs(x - o) > room for o in placed[window.source]):
            placed[window.source].append(x)
            chosen.append(window)
    stagger: Counter[str] = Counter()
    for window in sorted(chosen, key=lambda w: w.start):
        x0 = max(num(window.start), lo)
        x1 = max(num(window.end or dashboard.hi), x0 + least)
        lift = (0.62, 0.38)[stagger[window.source] % 2]
        stagger[window.source] += 1
        # Near the right edge the title ends at the bar instead of running off the chart.
        right = x0 > lo + 0.7 * (hi - lo)
        ax.text(
            min(x1, hi) if right else x0,
            y_of(lanes[window.source]) + LANE * lift,
            _short(window.title),
            fontsize=7,
            ha="right" if right else "left",
            va="center",
            clip_on=True,
            zorder=4,
            bbox={"facecolor": "white", "alpha": 0.75, "linewidth": 0, "pad": 1},
        )


def _short(title: str) -> str:
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


def _draw_bars(ax: Axes, bars: list[_Bar], looks: dict[str, tuple[str, str]], y: float) -> None:
    """Failure windows by class; those during an upstream window also get a black underline."""
    groups: dict[str, list[list[tuple[float, float]]]] = defaultdict(list)
    underlined = []
    for bar in bars:
        dominant = min(bar.classes.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        groups[dominant].append(rect(bar.x0, bar.x1, y + UNDERLINE, LANE - UNDERLINE))
        if bar.inside:
            underlined.append(rect(bar.x0, bar.x1, y, UNDERLINE * 0.8))
    for name, boxes in groups.items():
        color, hatch = looks[name]
        ax.add_collection(
            PolyCollection(
                boxes,
                facecolors=color,
                hatch=hatch or None,
                zorder=2.5,
                edgecolors=color,
                linewidths=0.3,
            )
        )
    if underlined:
        ax.add_collection(
            PolyCollection(underlined, facecolors=style.INSIDE_EDGE, linewidths=0, zorder=2.6)
        )
