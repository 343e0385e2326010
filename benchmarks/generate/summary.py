"""What a generated database holds, saved as JSON beside it so later runs can reuse the file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Bump when the generator's output changes: a cached database with another
# version is regenerated rather than trusted.
GENERATOR_VERSION = 3  # 3: schema 0005 (check_result keyed by check, time, probe)
KINDS = ("upstream_incident", "stale_token", "vpn", "quiet", "gap")


@dataclass(frozen=True, slots=True)
class Moment:
    """A time worth asking ``why`` about, with the stretch it belongs to.

    ``at`` lies just after a run of each check in ``checks`` that failed for
    this reason (none for quiet and gap moments); for an upstream incident,
    ``start``-``end`` is while the vendor had it open and the checks were
    failing, and ``at`` lies inside it. ``raw`` says whether raw
    check_result rows exist there (``--raw-days`` may have left rollups only).
    """

    kind: str
    at: str  # ISO 8601, Z
    start: str
    end: str
    checks: tuple[str, ...] = ()
    failure_class: str | None = None
    note: str = ""
    raw: bool = True


@dataclass(frozen=True, slots=True)
class GeneratedSummary:
    """Parameters, row counts, size and the interesting moments of one generated database."""

    path: str
    days: int
    checks: int
    interval_s: int
    seed: int
    start: str
    end: str
    raw_days: int | None
    raw_from: str
    counts: dict[str, int]
    bytes: int
    elapsed_s: float
    interesting: dict[str, list[Moment]] = field(default_factory=dict)
    check_names: list[str] = field(default_factory=list)
    order: str = "time"
    version: int = GENERATOR_VERSION

    def moment(self, kind: str) -> Moment:
        """The middle one of ``kind`` (every database has at least one of each)."""
        found = self.interesting[kind]
        return found[len(found) // 2]

    def matches(self, **parameters: object) -> bool:
        """Made by this generator version with these parameters (``days=365, seed=1``...)?"""
        return self.version == GENERATOR_VERSION and all(
            getattr(self, name) == value for name, value in parameters.items()
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @staticmethod
    def from_json(text: str) -> GeneratedSummary:
        data: dict[str, Any] = json.loads(text)
        moments = {
            kind: [Moment(**{**m, "checks": tuple(m["checks"])}) for m in found]
            for kind, found in data.pop("interesting").items()
        }
        return GeneratedSummary(**data, interesting=moments)


def summary_path(db: Path) -> Path:
    """``year.db`` -> ``year.db.json``."""
    return db.with_name(db.name + ".json")


def load_summary(db: Path) -> GeneratedSummary | None:
    """The summary written beside ``db``, or None when there is none (or it does not parse)."""
    try:
        return GeneratedSummary.from_json(summary_path(db).read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError, KeyError):
        return None
