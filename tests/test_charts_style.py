"""How the charts look: a fixed, unique look per failure class, visible hatches, titles apart."""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter
from datetime import timedelta

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from monitor.charts import style
from monitor.charts.model import Dashboard, build
from monitor.charts.outages import Outage
from monitor.charts.render import chart_style, uptime_figure
from monitor.charts.timeline import MAX_LABELS, timeline_figure
from monitor.correlate.windows import UpstreamWindow
from monitor.failures import FAMILIES, Failure
from monitor.store.history import read_history
from tests.dashboard_seed import NOW, T0, T1, seed

EVERY_CLASS = (*Failure, "unknown")


@pytest.fixture
def dashboard(sqlite_store) -> Dashboard:
    seed(sqlite_store)
    return build(read_history(sqlite_store, T0, T1), NOW)


def with_classes(dashboard: Dashboard, classes: list[str]) -> Dashboard:
    """The first panel failing once an hour with ``classes`` in turn (earlier ones more often)."""
    panel = dashboard.panels[0]
    outages = []
    for index, name in enumerate(itertools.chain.from_iterable(classes[:n] for n in range(1, 9))):
        start = T0 + timedelta(minutes=40 * index)
        outages.append(
            Outage(0, "p", start, start + timedelta(minutes=10), name, 1, timedelta(minutes=10))
        )
    first = dataclasses.replace(panel, outages=tuple(outages))
    return dataclasses.replace(dashboard, panels=(first, *dashboard.panels[1:]))


def legend_looks(figure: Figure) -> dict[str, tuple[str, str]]:
    """Each legend patch's label with its fill and hatch, as drawn."""
    [legend] = figure.legends
    return {
        text.get_text(): (to_hex(patch.get_facecolor()), patch.get_hatch() or "")
        for patch, text in zip(legend.legend_handles, legend.get_texts(), strict=True)
        if isinstance(patch, Patch)
    }


def hatch_color(collection: PolyCollection) -> str:
    getter = getattr(collection, "get_hatchcolor", None)  # matplotlib 3.10+
    colors = getter() if getter else collection.get_edgecolor()
    assert isinstance(colors, np.ndarray)  # a collection's colors: an N×4 RGBA array
    return to_hex(colors[0])


def test_every_failure_class_has_its_own_look_and_nothing_else_shares_it():
    looks = {name: style.CLASS_LOOKS[style.class_key(name)] for name in EVERY_CLASS}

    assert set(style.CLASS_LOOKS) == set(EVERY_CLASS)
    pairs = Counter((look.color, look.hatch) for look in looks.values())
    assert [pair for pair, n in pairs.items() if n > 1] == []
    assert len({look.label for look in looks.values()}) == len(EVERY_CLASS)
    assert style.class_key("a_class_from_the_future") == "unknown"


def test_the_classes_of_one_family_share_a_colour_and_families_differ():
    color = {name: look.color for name, look in style.CLASS_LOOKS.items()}
    family_colors = [{color[member] for member in members} for members in FAMILIES.values()]

    assert all(len(colors) == 1 for colors in family_colors)
    assert len(set.union(*family_colors)) == len(FAMILIES)
    # The chart colours a stall as the server's, as why does, not as the network's.
    assert color["timeout"] == color["server_error"] != color["connect_timeout"]


def test_every_hatch_is_inked_in_a_colour_that_stands_out_from_its_fill():
    for look in [*style.CLASS_LOOKS.values(), *style.STATES.values(), *style.IMPACTS.values()]:
        if not look.hatch or look is style.STATES["nodata"]:
            continue
        fill, ink = style._luminance(look.color), style._luminance(look.ink)
        contrast = (max(fill, ink) + 0.05) / (min(fill, ink) + 0.05)
        assert contrast >= 3, (look.label, look.color, look.ink, contrast)


def test_a_class_looks_the_same_whatever_else_the_range_holds(dashboard):
    often = ["server_error", "timeout", "dns_failure", "auth_rejected"]
    other = ["credentials_expired", "rate_limited", "clock_skew", "tls_error", "forbidden"]
    other += ["connection_reset", "unclassified", "server_error"]  # server_error now last

    with chart_style():
        first = legend_looks(timeline_figure(with_classes(dashboard, often)))
        second = legend_looks(timeline_figure(with_classes(dashboard, other)))

    merged: dict[str, tuple[str, str]] = {}
    for looks in (first, second):
        for label, look in looks.items():
            assert merged.setdefault(label, look) == look, label  # the same in both ranges
    assert len(set(merged.values())) == len(merged)  # and no two entries alike
    for name in (*often, *other):
        expected = style.CLASS_LOOKS[name]
        assert merged[expected.label] == (expected.color.lower(), expected.hatch)


def test_hatches_are_drawn_in_their_ink_not_in_their_fill(dashboard):
    every = list(style.CLASS_LOOKS)
    with chart_style():
        figures = [timeline_figure(with_classes(dashboard, every)), uptime_figure(dashboard)]

    hatched = [
        c
        for figure in figures
        for c in figure.axes[0].collections
        if isinstance(c, PolyCollection) and c.get_hatch()
    ]
    assert len(hatched) >= 5
    for collection in hatched:
        fills = collection.get_facecolor()
        assert isinstance(fills, np.ndarray)
        ink = hatch_color(collection)
        assert len(fills) == 0 or to_hex(fills[0]) != ink
        assert ink in {style.DARK_INK.lower(), style.LIGHT_INK.lower(), style.NODATA_EDGE.lower()}
    # And in the legends, the same.
    for figure in figures:
        for patch in figure.legends[0].get_patches():
            if patch.get_hatch():
                color = getattr(patch, "get_hatchcolor", patch.get_edgecolor)()
                assert to_hex(color) != to_hex(patch.get_facecolor())


def test_incident_titles_never_overlap_in_a_busy_lane(dashboard):
    busy = tuple(
        UpstreamWindow(
            source="claude",
            kind="incident",
            title=f"Busy incident number {i} with a fairly long title on the status page",
            start=T0 + timedelta(minutes=37 * i + 5),
            end=T0 + timedelta(minutes=37 * i + 25 + 13 * (i % 5)),
            impact=("minor", "major", "critical")[i % 3],
        )
        for i in range(60)
    )
    crowded = dataclasses.replace(dashboard, upstream=dashboard.upstream + busy)
    with chart_style():
        figure = timeline_figure(crowded)
        canvas = FigureCanvasAgg(figure)
        # matplotlib's backend_agg is unannotated (no stub for FigureCanvasAgg's methods)
        canvas.draw()  # type: ignore[no-untyped-call]
    renderer = canvas.get_renderer()  # type: ignore[no-untyped-call]
    ax = figure.axes[0]
    boxes = []
    for text in ax.texts:
        patch = text.get_bbox_patch()
        assert patch is not None, text.get_text()  # every title is drawn in its box
        boxes.append(patch.get_window_extent(renderer))

    assert 4 <= len(boxes) <= MAX_LABELS
    for one, other in itertools.combinations(boxes, 2):
        assert not one.overlaps(other), (one, other)
    frame = ax.get_window_extent(renderer)
    for box in boxes:
        assert frame.x0 - 1 <= box.x0
        assert box.x1 <= frame.x1 + 1
