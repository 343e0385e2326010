"""Colours, hatches and sizes the charts share. No matplotlib here.

Colours are from the Okabe-Ito palette and Paul Tol's "vibrant" set, both
chosen to stay distinct under the common colour-vision deficiencies; every
state that matters is also told apart by a hatch, so nothing rests on hue
alone (up is plain, "some runs failed" dotted, "most runs failed" crossed,
no data grey and striped). Hatches are drawn in an ink that contrasts with
their fill (dark grey on light fills, white on dark ones), never in the
fill's own colour, where they would vanish.

Each failure class has a fixed look, the same in every chart and range:
the classes of one family (``monitor.failures.FAMILIES``) share a colour and
differ by hatch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from monitor.failures import FAMILIES, Family

UNKNOWN = "unknown"  # a class this version does not know, or none recorded
DARK_INK = "#333333"
LIGHT_INK = "#FFFFFF"


@dataclass(frozen=True, slots=True)
class Look:
    label: str
    color: str
    hatch: str = ""
    ink_override: str | None = None

    @property
    def ink(self) -> str:
        """The colour its hatch is drawn in."""
        return self.ink_override or ink(self.color)


NODATA_EDGE = "#9A9A9A"  # softer than the usual ink: "no data" is background, not an event
STATES: dict[str, Look] = {
    "up": Look("all runs passed", "#009E73"),
    "partial": Look("some runs failed", "#E69F00", ".."),
    "down": Look("most runs failed", "#D55E00", "xxx"),
    "nodata": Look("no data (not monitored)", "#E8E8E8", "////", NODATA_EDGE),
}

# Upstream impact, lightest to worst; maintenances hatched.
IMPACTS: dict[str, Look] = {
    "none": Look("impact none", "#F0E442"),
    "minor": Look("impact minor", "#E69F00"),
    "major": Look("impact major", "#D55E00"),
    "critical": Look("impact critical", "#882255"),
    "maintenance": Look("maintenance", "#56B4E9", "////"),
}
# Component statuses as impacts.
COMPONENT_IMPACT = {
    "degraded_performance": "minor",
    "partial_outage": "major",
    "major_outage": "critical",
    "under_maintenance": "maintenance",
}

# The colour of each failure family (Paul Tol's "bright" and "vibrant").
FAMILY_COLORS: dict[Family, str] = {
    Family.CREDENTIALS: "#AA3377",  # purple
    Family.NETWORK: "#0077BB",  # blue
    Family.SERVER: "#EE7733",  # orange
    Family.LOCAL: "#009988",  # teal
    Family.UNCLASSIFIED: "#BBBBBB",  # grey
}
# Hatches to tell the members of a family apart, each distinct at legend size.
HATCHES = ("", "////", "\\\\\\\\", "xx", "++", "----", "..", "oo")
# Every class's look, in legend order (by family): fixed, whatever the data.
CLASS_LOOKS: dict[str, Look] = {
    name: Look(name.replace("_", " "), FAMILY_COLORS[family], HATCHES[index])
    for family, members in FAMILIES.items()
    for index, name in enumerate((*members, UNKNOWN) if family is Family.UNCLASSIFIED else members)
}
P50 = Look("p50 (median)", "#0072B2")
P95 = Look("p95", "#D55E00")
ALIVE = Look("service running (heartbeats)", "#7F7F7F")
OBSERVED = Look("imported failure (your logs)", "#000000")
# Declared versus seen: failures an incident explains, and outages nothing declared (hatched,
# so "undeclared" never rests on hue alone); time not watched looks like "no data".
SEEN = Look("seen, declared", "#0077BB")
UNDECLARED = Look("seen, never declared", "#CC3311", "xx")
LAG = Look("lag: first seen to declared", "#000000")
NOT_WATCHED = replace(STATES["nodata"], label="not watched (no heartbeat, no run)")
INSIDE_EDGE = "#000000"
BAR_EDGE = "#333333"  # around upstream windows

WIDTH_IN = 12.0
DPI = 100


def impact_key(kind: str, impact: str | None) -> str:
    """Which ``IMPACTS`` entry an upstream window is drawn with."""
    if kind == "maintenance":
        return "maintenance"
    if kind == "component":
        return COMPONENT_IMPACT.get(impact or "", "minor")
    return impact if impact in IMPACTS else "none"


def class_key(name: str) -> str:
    """The ``CLASS_LOOKS`` entry a failure class is drawn with: a class not known is "unknown"."""
    return name if name in CLASS_LOOKS else UNKNOWN


def ink(color: str) -> str:
    """Dark grey or white, whichever contrasts more with ``color`` (WCAG contrast ratio)."""
    fill = _luminance(color)
    dark = _luminance(DARK_INK)
    return DARK_INK if (fill + 0.05) / (dark + 0.05) >= 1.05 / (fill + 0.05) else LIGHT_INK


def _luminance(color: str) -> float:
    """Relative luminance of a ``#RRGGBB`` colour."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
