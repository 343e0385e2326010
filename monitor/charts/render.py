"""matplotlib, set up once: the Agg backend, shared axes helpers, the uptime and latency charts.

Only chart code imports this module (``monitor chart`` and the service's
dashboards job, lazily), so no other command pays for matplotlib. Figures
are built with ``matplotlib.figure.Figure`` directly, never pyplot: no
global figure registry, nothing kept alive between runs in the service.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO, Any

import matplotlib

matplotlib.use("Agg")

from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from monitor.charts import style
from monitor.charts.model import Dashboard, Panel
from monitor.charts.uptime import Cell, percent
from monitor.escape import for_xml

RC: dict[str, Any] = {
    "svg.fonttype": "none",  # text stays text: searchable, selectable, smaller
    "svg.hashsalt": "monitor",  # stable ids: the same data gives the same SVG
    "text.parse_math": False,  # a vendor's "$" is a dollar sign, not mathtext
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.titley": 1.0,  # fixed: placing titles automatically measures every tick label
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 9,
    "legend.frameon": False,
}
LANE = 0.8  # bar height within a lane of height 1
# matplotlib 3.10 and later colour hatches by ``hatchcolor`` (or :rc:`hatch.color`, which
# may be set to anything); before, a hatch took the edge colour. Both are set, so a
# hatch is drawn in its look's ink on every version, whatever the user's matplotlibrc.
_HATCHCOLORS = hasattr(PolyCollection, "set_hatchcolor")
_HATCHCOLOR = hasattr(Patch, "set_hatchcolor")


@contextmanager
def chart_style() -> Iterator[None]:
    with matplotlib.rc_context(RC):  # type: ignore[arg-type]
        yield


def new_figure(height_in: float) -> Figure:
    return Figure(figsize=(style.WIDTH_IN, height_in), dpi=style.DPI, layout="constrained")


def pixels(figure: Figure) -> tuple[int, int]:
    width, height = figure.get_size_inches() * figure.dpi
    return round(width), round(height)


def save(figure: Figure, target: IO[bytes], fmt: str) -> None:
    """Write ``figure`` as PNG or SVG at its own size (no tight bbox: the size is the size)."""
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    figure.savefig(target, format=fmt, dpi=style.DPI, metadata=metadata, facecolor="white")
    # Laid out once: a second format reuses the positions instead of solving them again.
    figure.set_layout_engine("none")


def num(at: datetime) -> float:
    """A matplotlib date number (days since 1970-01-01 UTC)."""
    return (at - EPOCH).total_seconds() / 86400.0


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def time_axis(ax: Axes, lo: datetime, hi: datetime, *, label: bool = True) -> None:
    locator = mdates.AutoDateLocator(tz=UTC, minticks=4, maxticks=12)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    formatter = mdates.ConciseDateFormatter(locator, tz=UTC)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(formatter)
    ax.set_xlim(num(lo), num(hi))
    if label:
        ax.set_xlabel("time (UTC)")


def span_label(dashboard: Dashboard) -> str:
    return f"{dashboard.lo:%Y-%m-%d %H:%M} to {dashboard.hi:%Y-%m-%d %H:%M} UTC"


def filled(look: style.Look, *, border: str | None = None, width: float = 0.0) -> dict[str, Any]:
    """``PolyCollection`` arguments for ``look``: its fill, its hatch in its ink.

    Without ``border`` the edge is drawn in the ink at ``width`` 0 (that is,
    not at all): the edge colour is what older matplotlib hatches in.
    """
    kwargs: dict[str, Any] = {
        "facecolors": look.color,
        "edgecolors": border or look.ink,
        "linewidths": width if border else 0.0,
        "hatch": look.hatch or None,
    }
    if look.hatch and _HATCHCOLORS:
        kwargs["hatchcolors"] = look.ink
    elif look.hatch and border:
        kwargs["edgecolors"] = look.ink  # the hatch follows the edge: then the edge is ink too
    return kwargs


def swatch(look: style.Look, *, border: str | None = None) -> Patch:
    """A legend patch drawn as the chart draws ``look``: fill, and hatch in its ink."""
    kwargs: dict[str, Any] = {"hatchcolor": look.ink} if look.hatch and _HATCHCOLOR else {}
    edge = look.ink if look.hatch and not _HATCHCOLOR else border or look.ink
    return Patch(
        facecolor=look.color,
        hatch=look.hatch or None,
        edgecolor=edge,
        linewidth=0.5 if border else 0.0,
        label=look.label,
        **kwargs,
    )


def rect(x0: float, x1: float, y0: float, height: float) -> list[tuple[float, float]]:
    return [(x0, y0), (x1, y0), (x1, y0 + height), (x0, y0 + height)]


def uptime_figure(dashboard: Dashboard) -> Figure:
    """A strip per check: a cell per hour or day, by state; unmonitored parts greyed and striped.

    The coloured part of a cell is as tall as the share of it runs spoke for
    (``Cell.coverage``); the rest is "no data".
    """
    panels = dashboard.panels
    figure = new_figure(max(2.8, 1.7 + 0.42 * len(panels)))
    ax = figure.add_subplot()
    boxes: dict[str, list[Box]] = {key: [] for key in style.STATES}
    count = len(panels)
    for index, panel in enumerate(panels):
        y = count - 1 - index + (1 - LANE) / 2
        for cell in panel.cells:
            _cell(boxes, cell, y)
    edges = "white" if len(panels[0].cells) <= 62 else "none"
    for key, look in style.STATES.items():
        if not boxes[key]:
            continue
        edge = style.NODATA_EDGE if key == "nodata" else edges
        ax.add_collection(
            PolyCollection(
                [rect(*box) for box in boxes[key]],
                facecolors=look.color,
                edgecolors=edge,
                linewidths=0.4,
            )
        )
        if look.hatch:
            # One hatched overlay per stretch of equal cells: hatching each cell costs more.
            overlay = filled(look)
            overlay["facecolors"] = "none"
            ax.add_collection(
                PolyCollection([rect(*box) for box in _stretches(boxes[key])], **overlay)
            )
    names = [for_xml(p.name) for p in panels]  # check names from the config: XML-safe in SVG
    ax.set_ylim(0, count)
    ax.set_yticks([count - 0.5 - i for i in range(count)], names)
    right = ax.twinx()
    right.set_ylim(0, count)
    right.set_yticks(
        [count - 0.5 - i for i in range(count)], [_percent(p) for p in panels], fontsize=9
    )
    right.spines[["top", "left", "bottom"]].set_visible(False)
    right.set_ylabel("uptime over monitored time")
    time_axis(ax, dashboard.lo, dashboard.hi)
    ax.set_ylabel("check")
    per = "hour" if dashboard.step == "hour" else "day (UTC)"
    ax.set_title(f"Uptime per {per}, {span_label(dashboard)}")
    handles = [swatch(look) for look in style.STATES.values()]
    figure.legend(handles=handles, loc="outside lower center", ncols=4)
    return figure


Box = tuple[float, float, float, float]  # x0, x1, y0, height


def _cell(boxes: dict[str, list[Box]], cell: Cell, y: float) -> None:
    x0, x1 = num(cell.start), num(cell.end)
    state = cell.state
    covered = LANE * cell.coverage if state != "nodata" else 0.0
    if covered > 0:
        boxes[state].append((x0, x1, y, covered))
    if covered < LANE:
        boxes["nodata"].append((x0, x1, y + covered, LANE - covered))


def _stretches(boxes: list[Box]) -> list[Box]:
    """Boxes side by side on the same row and height, joined."""
    joined: list[Box] = []
    for box in sorted(boxes, key=lambda b: (b[2], b[3], b[0])):
        last = joined[-1] if joined else None
        if last and last[2:] == box[2:] and abs(last[1] - box[0]) < 1e-9:
            joined[-1] = (last[0], box[1], last[2], last[3])
        else:
            joined.append(box)
    return joined


def _percent(panel: Panel) -> str:
    uptime = panel.summary.counts.uptime
    return "no data" if uptime is None else percent(uptime)


def latency_figure(dashboard: Dashboard) -> Figure:
    """p50 and p95 per check over time: small multiples sharing the time axis."""
    panels = dashboard.panels
    columns = 1 if len(panels) == 1 else 2
    rows = math.ceil(len(panels) / columns)
    height = 1.5 + 2.0 * rows
    # Laid out by hand: solving a constrained layout for a dozen axes costs more than drawing.
    figure = Figure(figsize=(style.WIDTH_IN, height), dpi=style.DPI)
    figure.subplots_adjust(
        left=0.75 / style.WIDTH_IN,
        right=1 - 0.2 / style.WIDTH_IN,
        top=1 - 0.75 / height,
        bottom=1.05 / height,
        hspace=0.5,
        wspace=0.12,
    )
    axes = figure.subplots(rows, columns, sharex=True, squeeze=False)
    step = 3600.0 if dashboard.latency_step == "hour" else 86400.0
    for index, ax in enumerate(axes.flat):
        if index >= len(panels):
            ax.set_visible(False)
            continue
        panel = panels[index]
        _latency_axes(ax, panel, step)
        lowest = index >= len(panels) - columns  # nothing drawn below it in its column
        time_axis(ax, dashboard.lo, dashboard.hi, label=lowest)
        if lowest:
            ax.tick_params(labelbottom=True)
        if index % columns == 0:
            ax.set_ylabel("ms")
    per = "hour" if dashboard.latency_step == "hour" else "day"
    figure.suptitle(
        f"Latency: p50 and p95 of each run's total duration per {per}, {span_label(dashboard)}",
        fontweight="bold",
    )
    handles = [
        Line2D([], [], color=style.P50.color, label=style.P50.label),
        Line2D([], [], color=style.P95.color, linestyle="--", label=style.P95.label),
    ]
    figure.legend(handles=handles, loc="lower center", ncols=2)
    return figure


def _latency_axes(ax: Axes, panel: Panel, step_s: float) -> None:
    ax.set_title(for_xml(panel.name), fontsize=10, loc="left")
    points = panel.latency
    if not points:
        ax.text(0.5, 0.5, "no timed runs", transform=ax.transAxes, ha="center", color="#555555")
        ax.set_yticks([])
        return
    xs, p50, p95 = _with_breaks(points, step_s)
    ax.plot(xs, p50, color=style.P50.color, linewidth=1.3)
    ax.plot(xs, p95, color=style.P95.color, linewidth=1.1, linestyle="--")
    low = min(p.p50_ms for p in points)
    high = max(p.p95_ms for p in points)
    if low > 0 and high / low > 30:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.grid(True, axis="y", color="#DDDDDD", linewidth=0.6)


def _with_breaks(
    points: Sequence[Any], step_s: float
) -> tuple[list[float], list[float], list[float]]:
    """Points as lines, broken (NaN) where buckets are missing: no line across "no data"."""
    xs: list[float] = []
    p50: list[float] = []
    p95: list[float] = []
    previous: datetime | None = None
    for point in points:
        if previous is not None and (point.at - previous).total_seconds() > step_s * 1.5:
            xs.append(math.nan)
            p50.append(math.nan)
            p95.append(math.nan)
        middle = num(point.at) + step_s / 2 / 86400
        xs.append(middle)
        p50.append(point.p50_ms)
        p95.append(point.p95_ms)
        previous = point.at
    return xs, p50, p95
