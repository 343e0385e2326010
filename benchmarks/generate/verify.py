"""``python -m benchmarks.generate.verify PATH``: monitor's own ``why`` at each planted moment.

Asked through ``monitor.views.why``, which the CLI and the service answer
with, so the database is read as a user would read it. Moments where only
rollups remain (``--raw-days``) are skipped.
"""

import sys
from datetime import datetime
from pathlib import Path

from benchmarks.generate.story import load_summary
from benchmarks.generate.world import PROBE
from monitor.config import parse_config
from monitor.store import open_store
from monitor.store.sqlread import open_reader
from monitor.views.why import WhyQuestion, verdict_at

EXPECTED = {"upstream_incident": "upstream", "stale_token": "local", "vpn": "network"}
EXPECTED |= {"quiet": "healthy", "gap": "no_data"}


def verify(path: Path) -> list[str]:
    """What did not come out as planted ("kind at T: why said X, not Y"); empty if all did."""
    summary, url = load_summary(path), f"sqlite:///{path.resolve()}"
    if summary is None:
        return [f"{path} has no generator summary beside it"]
    config = parse_config({"monitor": {"probe": PROBE}, "database": {"url": url}}, path)
    problems = []
    with open_reader(url) or open_store(url, upgrade=False).reader() as reader:
        for kind, found in summary.interesting.items():
            for moment in (m for m in found if m.raw or kind == "gap"):
                at = datetime.fromisoformat(moment.at.replace("Z", "+00:00"))
                said = verdict_at(reader, config, WhyQuestion(at=at)).verdict
                if said != EXPECTED[kind]:
                    problems.append(f"{kind} at {moment.at}: why said {said}, not {EXPECTED[kind]}")
    return problems


if __name__ == "__main__":
    found = verify(Path(sys.argv[1]))
    print("\n".join(found) or "every planted moment gets its verdict")
    sys.exit(1 if found else 0)
