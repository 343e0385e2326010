"""Charts of a database several probes write into: a series per check and probe, labelled."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from monitor.charts.generate import generate
from monitor.charts.model import Dashboard, build
from monitor.store import Store
from monitor.store.history import read_history
from tests.probe_seed import NOW, Run, runs

LO = NOW - timedelta(hours=2)
MINUTE = timedelta(minutes=1)


def every(check: str, probe: str, step: timedelta, fails: Sequence[int] = ()) -> list[Run]:
    """Runs of ``check`` on ``probe`` every ``step`` over the two hours; the ``fails``-th fail."""
    count = int(timedelta(hours=2) / step)
    return [
        Run(
            check,
            probe,
            LO + n * step,
            ok=n not in fails,
            failure_class=None if n not in fails else "server_error",
        )
        for n in range(count)
    ]


def dashboard(store: Store) -> Dashboard:
    return build(read_history(store, LO, NOW), NOW)


def test_one_probe_keeps_each_checks_name(sqlite_store: Store) -> None:
    runs(sqlite_store, every("api", "laptop", 5 * MINUTE) + every("control", "laptop", 5 * MINUTE))

    panels = dashboard(sqlite_store).panels

    assert [(p.name, p.check, p.probe) for p in panels] == [
        ("api", "api", None),
        ("control", "control", None),
    ]
    assert panels[0].summary.check == "api"


def test_several_probes_give_a_panel_per_check_and_probe(sqlite_store: Store) -> None:
    runs(
        sqlite_store,
        every("api", "laptop", 5 * MINUTE)
        + every("api", "ci", 5 * MINUTE, fails=range(6, 9))
        + every("control", "laptop", 5 * MINUTE),
    )

    panels = {p.name: p for p in dashboard(sqlite_store).panels}

    assert list(panels) == ["api @ ci", "api @ laptop", "control @ laptop"]
    ci, laptop = panels["api @ ci"], panels["api @ laptop"]
    assert (ci.summary.counts.runs, ci.summary.counts.failures) == (24, 3)
    assert (laptop.summary.counts.runs, laptop.summary.counts.failures) == (24, 0)
    assert [(o.probe, o.start, o.end) for o in ci.outages] == [
        ("ci", LO + 30 * MINUTE, LO + 45 * MINUTE)
    ]
    assert laptop.outages == ()
    assert ci.summary.check == "api @ ci"


def test_a_sparse_probe_keeps_its_own_gap_beside_a_busy_one(sqlite_store: Store) -> None:
    # ci checks every 20 minutes, laptop every 2: together 33 runs an hour, but
    # ci's failure at +20 and +40 then its pass at +60 is one outage, not two blips.
    runs(
        sqlite_store,
        every("api", "laptop", 2 * MINUTE) + every("api", "ci", 20 * MINUTE, fails=(1, 2)),
    )

    panels = {p.name: p for p in dashboard(sqlite_store).panels}

    [outage] = panels["api @ ci"].outages
    assert (outage.start, outage.end) == (LO + 20 * MINUTE, LO + 60 * MINUTE)


def test_the_drawn_charts_and_page_name_each_check_and_probe(
    sqlite_store: Store, tmp_path: Path
) -> None:
    runs(
        sqlite_store,
        every("api", "laptop", 5 * MINUTE) + every("api", "ci", 5 * MINUTE, fails=range(6, 9)),
    )

    report = generate(
        sqlite_store, since=LO, until=NOW, out_dir=tmp_path, now=NOW, formats=("svg",)
    )

    svgs = {f.chart: f.path for f in report.files}
    for chart in ("uptime", "timeline", "latency"):
        root = ET.parse(svgs[chart]).getroot()  # noqa: S314 (our own file)
        text = " ".join("".join(node.itertext()) for node in root.iter())
        assert "api @ ci" in text, chart
        assert "api @ laptop" in text, chart
    page = report.index.read_text(encoding="utf-8")
    assert 'data-check="api @ ci"' in page
    assert 'data-check="api @ laptop"' in page
