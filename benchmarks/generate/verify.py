"""Ask monitor's own ``why`` at every planted moment of a generated database.

``python -m benchmarks.generate.verify PATH``: through ``monitor.views.why``,
the entry the CLI and the service answer with, so it checks the database
the way a user would read it. Moments whose raw runs were left out
(``--raw-days``) are skipped: only rollups remain there.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from benchmarks.generate.story import load_summary
from benchmarks.generate.world import PROBE
from monitor.config import parse_config
from monitor.store import open_store
from monitor.views.why import WhyQuestion, verdict_at

EXPECTED = {
    "upstream_incident": "upstream",
    "stale_token": "local",
    "vpn": "network",
    "quiet": "healthy",
    "gap": "no_data",
}


def verify(path: Path) -> list[str]:
    """What did not come out as planted ("kind at T: why said X, expected Y"); empty if all did."""
    summary = load_summary(path)
    if summary is None:
        return [f"{path} has no generator summary beside it"]
    url = f"sqlite:///{path}"
    config = parse_config({"monitor": {"probe": PROBE}, "database": {"url": url}}, path)
    store = open_store(url, upgrade=False)
    problems = []
    try:
        for kind, found in summary.interesting.items():
            for moment in (m for m in found if m.raw or kind == "gap"):
                at = datetime.fromisoformat(moment.at.replace("Z", "+00:00"))
                said = verdict_at(store, config, WhyQuestion(at=at)).verdict
                if said != EXPECTED[kind]:
                    problems.append(f"{kind} at {moment.at}: why said {said}, not {EXPECTED[kind]}")
    finally:
        store.close()
    return problems


if __name__ == "__main__":
    found = verify(Path(sys.argv[1]))
    print("\n".join(found) or "every planted moment gets its verdict")
    sys.exit(1 if found else 0)
