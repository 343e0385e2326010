"""The timeline's legend: one entry per look the chart actually uses."""

from __future__ import annotations

from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from monitor.charts import style


def timeline_legend(
    impacts: set[str],
    looks: dict[str, tuple[str, str]],
    inside: bool,
    observed: bool,
    unwatched: bool,
) -> list[Patch | Line2D]:
    """Only what the chart shows: impacts and classes present, and the marks used."""
    handles: list[Patch | Line2D] = [
        Patch(facecolor=look.color, hatch=look.hatch, edgecolor="#333333", label=look.label)
        for key, look in style.IMPACTS.items()
        if key in impacts
    ]
    handles += [
        Patch(facecolor=color, hatch=hatch, edgecolor=color, label=name.replace("_", " "))
        for name, (color, hatch) in looks.items()
    ]
    if inside:
        handles.append(
            Patch(
                facecolor=style.INSIDE_EDGE,
                label="underline: check failure during its status page's window",
            )
        )
    if observed:
        handles.append(
            Line2D(
                [],
                [],
                color=style.OBSERVED.color,
                marker="|",
                linestyle="",
                markersize=10,
                label=style.OBSERVED.label,
            )
        )
    handles.append(Patch(facecolor=style.ALIVE.color, label=style.ALIVE.label))
    if unwatched:
        look = style.STATES["nodata"]
        handles.append(
            Patch(
                facecolor=look.color,
                hatch=look.hatch,
                edgecolor=style.NODATA_EDGE,
                label=look.label,
            )
        )
    return handles
