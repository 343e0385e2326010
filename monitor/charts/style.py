"""Colours, hatches and sizes the charts share. No matplotlib here.

Colours are from the Okabe-Ito palette and Paul Tol's "vibrant" set, both
chosen to stay distinct under the common colour-vision deficiencies; every
state that matters is also told apart by a hatch, so nothing rests on hue
alone (up is plain, "some runs failed" dotted, "most runs failed" crossed,
no data grey and striped).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Look:
    label: str
    color: str
    hatch: str = ""


STATES: dict[str, Look] = {
    "up": Look("all runs passed", "#009E73"),
    "partial": Look("some runs failed", "#E69F00", ".."),
    "down": Look("most runs failed", "#D55E00", "xxx"),
    "nodata": Look("no data (not monitored)", "#E8E8E8", "////"),
}
NODATA_EDGE = "#9A9A9A"

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

# Failure classes take these in order of how often they occur in the range.
CLASS_LOOKS: tuple[tuple[str, str], ...] = (
    ("#CC3311", ""),
    ("#0077BB", "////"),
    ("#EE7733", "...."),
    ("#009988", "\\\\\\\\"),
    ("#EE3377", "xx"),
    ("#33BBEE", "++"),
    ("#555555", "--"),
    ("#BBBBBB", "oo"),
)
P50 = Look("p50 (median)", "#0072B2")
P95 = Look("p95", "#D55E00")
ALIVE = Look("service running (heartbeats)", "#7F7F7F")
OBSERVED = Look("imported failure (your logs)", "#000000")
INSIDE_EDGE = "#000000"

WIDTH_IN = 12.0
DPI = 100


def impact_key(kind: str, impact: str | None) -> str:
    """Which ``IMPACTS`` entry an upstream window is drawn with."""
    if kind == "maintenance":
        return "maintenance"
    if kind == "component":
        return COMPONENT_IMPACT.get(impact or "", "minor")
    return impact if impact in IMPACTS else "none"


def class_looks(classes: list[str]) -> dict[str, tuple[str, str]]:
    """A colour and hatch per failure class, most frequent first; the rest share the last."""
    return {
        name: CLASS_LOOKS[min(index, len(CLASS_LOOKS) - 1)] for index, name in enumerate(classes)
    }
