"""The payloads every figure serves or parses: a real GitHub Statuspage snapshot."""

from __future__ import annotations

from functools import cache
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "github"
INCIDENTS_FILE = FIXTURES / "incidents-2026-07-31.json"
SUMMARY_FILE = FIXTURES / "summary-2026-07-31.json"
EMPTY_MAINTENANCES = b'{"scheduled_maintenances": []}'


@cache
def incidents() -> bytes:
    """50 incidents, 287 updates (332 kB, as published)."""
    return INCIDENTS_FILE.read_bytes()


@cache
def summary() -> bytes:
    return SUMMARY_FILE.read_bytes()


def statuspage_routes(prefix: str = "") -> dict[str, bytes]:
    """The three endpoints a ``statuspage`` source polls, under ``prefix`` (``/s17``)."""
    return {
        f"{prefix}/api/v2/summary.json": summary(),
        f"{prefix}/api/v2/incidents.json": incidents(),
        f"{prefix}/api/v2/scheduled-maintenances.json": EMPTY_MAINTENANCES,
    }
