"""The timeline's legend: one entry per look the chart actually uses."""

from __future__ import annotations

from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from monitor.charts import style
from monitor.charts.render import swatch


def timeline_legend(
    impacts: set[str],
    classes: set[str],
    inside: bool,
    observed: bool,
    unwatched: bool,
) -> list[Patch | Line2D]:
    """Only what the chart shows: impacts and classes present (by family), and the marks used."""
    handles: list[Patch | Line2D] = [
        swatch(look, border=style.BAR_EDGE) for key, look in style.IMPACTS.items() if key in impacts
    ]
    handles += [swatch(look) for key, look in style.CLASS_LOOKS.items() if key in classes]
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
        handles.append(swatch(style.STATES["nodata"]))
    return handles
