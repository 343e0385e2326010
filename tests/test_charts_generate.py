"""``generate`` on a seeded SQLite file: the files it writes and what they say."""

from __future__ import annotations

import os
import re
import struct
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from monitor.charts import generate as generate_module
from monitor.charts.generate import ChartReport, generate
from monitor.store import Store
from tests.dashboard_seed import (
    CHECKS,
    HTMLISH_TITLE,
    INCIDENT_TITLE,
    MAINTENANCE_TITLE,
    NOW,
    T0,
    T1,
    expected_row,
    seed,
)

INTERVALS = dict.fromkeys(CHECKS, timedelta(minutes=5))
INTERVAL = timedelta(minutes=5)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def svg_text(path: Path) -> str:
    root = ET.parse(path).getroot()  # noqa: S314 (our own file)
    return " ".join("".join(node.itertext()) for node in root.iter())


class Table(HTMLParser):
    """The uptime table's cells: check -> [data-value of each numeric cell]."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[str]] = {}
        self.current: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "tr" and "data-check" in values:
            self.current = values["data-check"]
            self.rows[self.current or ""] = []
        elif tag == "td" and self.current is not None and "data-value" in values:
            self.rows[self.current].append(values["data-value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self.current = None


def run(store: Store, out: Path, **kwargs: object) -> ChartReport:
    options: dict[str, object] = {
        "since": T0,
        "until": T1,
        "out_dir": out,
        "now": NOW,
        "intervals": INTERVALS,
    }
    options.update(kwargs)
    return generate(store, **options)  # type: ignore[arg-type]


@pytest.fixture
def seeded(sqlite_store: Store):
    return seed(sqlite_store)


def test_it_writes_pngs_of_the_expected_size(sqlite_store, seeded, tmp_path):
    report = run(sqlite_store, tmp_path / "out")

    sizes = {f.chart: png_size(f.path) for f in report.files if f.format == "png"}
    # 12 in at 100 dpi wide; heights grow with the lanes: 3 checks, 2 sources, 1 import source.
    assert sizes == {"uptime": (1200, 296), "timeline": (1200, 514), "latency": (1200, 550)}
    assert all((f.width, f.height) == sizes[f.chart] for f in report.files)


def test_its_svgs_name_the_checks_and_the_incidents(sqlite_store, seeded, tmp_path):
    report = run(sqlite_store, tmp_path / "out")
    svgs = {f.chart: f.path for f in report.files if f.format == "svg"}

    timeline = svg_text(svgs["timeline"])
    for name in ("api-reachable", "control", "api-authenticated"):
        assert name in timeline
        assert name in svg_text(svgs["uptime"])
    assert INCIDENT_TITLE in timeline
    assert HTMLISH_TITLE in timeline  # as text, escaped in the file
    assert MAINTENANCE_TITLE in timeline
    raw = svgs["timeline"].read_text(encoding="utf-8")
    assert "&lt;b&gt;API &amp; Console&lt;/b&gt;" in raw
    assert "<b>" not in raw


def test_the_uptime_table_equals_what_the_rows_say(sqlite_store, seeded, tmp_path):
    report = run(sqlite_store, tmp_path / "out")
    table = Table()
    table.feed(report.index.read_text(encoding="utf-8"))

    for check in ("api-reachable", "control"):
        want = expected_row(seeded, check, INTERVAL)
        uptime, runs, failures, longest, monitored = table.rows[check]
        assert float(uptime) == pytest.approx(want["uptime"], abs=1e-12)
        assert (int(runs), int(failures), int(longest), int(monitored)) == (
            want["runs"],
            want["failures"],
            want["longest_s"],
            want["monitored_s"],
        )
    # The gap (6 h) is neither up nor down, and the failure before it is not a 6 h outage.
    assert table.rows["api-reachable"][1:] == ["504", "11", "2700", str(42 * 3600)]
    assert table.rows["control"][2:4] == ["1", "300"]
    assert table.rows["api-authenticated"] == ["", "0", "0", "0", "0"]  # only skipped: no data


def test_the_page_shows_the_range_the_incidents_and_safe_links(sqlite_store, seeded, tmp_path):
    report = run(sqlite_store, tmp_path / "out")
    html = report.index.read_text(encoding="utf-8")

    assert "Generated 2026-04-15 01:00 UTC" in html
    assert "Range 2026-04-13 00:00 to 2026-04-15 00:00 UTC (48 hours)" in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "&lt;b&gt;API &amp; Console&lt;/b&gt;" in html
    assert "<b>API" not in html
    assert "javascript:" not in html  # a vendor URL that is not http(s) is no link
    assert 'href="https://status.claude.com/incidents/inc-1"' in html
    assert MAINTENANCE_TITLE in html
    assert "<script" not in html
    srcs = re.findall(r'(?:src|href)="([^"]+)"', html)
    local = [s for s in srcs if not s.startswith("https://")]
    assert local
    assert all("/" not in s.split("?")[0] and ":" not in s for s in local)
    assert {s.split("?")[0] for s in local} == {f.path.name for f in report.files}


def test_an_empty_database_gives_a_no_data_yet_page(sqlite_store, tmp_path):
    report = run(sqlite_store, tmp_path / "out")

    assert report.empty
    assert report.files == ()
    html = report.index.read_text(encoding="utf-8")
    assert "No data yet" in html
    assert "<img" not in html
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["index.html"]


def test_it_writes_only_the_formats_asked_and_drops_stale_charts(sqlite_store, seeded, tmp_path):
    out = tmp_path / "out"
    run(sqlite_store, out)
    assert {p.name for p in out.iterdir()} == {
        "index.html",
        *(f"{c}.{f}" for c in ("uptime", "timeline", "latency") for f in ("png", "svg")),
    }

    report = run(sqlite_store, out, formats=("svg",))

    assert {f.format for f in report.files} == {"svg"}
    assert sorted(p.name for p in out.iterdir()) == [
        "index.html",
        "latency.svg",
        "timeline.svg",
        "uptime.svg",
    ]
    assert 'src="uptime.svg?v=' in report.index.read_text(encoding="utf-8")
    assert all(oct(p.stat().st_mode & 0o777) == "0o644" for p in out.iterdir())


def test_a_failure_while_drawing_leaves_the_previous_set_and_no_temporary_files(
    sqlite_store, seeded, tmp_path, monkeypatch
):
    out = tmp_path / "out"
    run(sqlite_store, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(dashboard):
        raise RuntimeError("no more ink")

    charts = list(generate_module.CHARTS)
    charts[-1] = (*charts[-1][:3], broken)
    monkeypatch.setattr(generate_module, "CHARTS", tuple(charts))
    with pytest.raises(RuntimeError, match="no more ink"):
        run(sqlite_store, out, now=NOW + timedelta(hours=1))

    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not [name for name in os.listdir(out) if name.startswith(".")]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"since": T1, "until": T0}, "must start before it ends"),
        ({"since": T1 - timedelta(days=3661), "until": T1}, "at most 3660 days long"),
        ({"since": datetime(1969, 12, 31, tzinfo=UTC), "until": T1}, "within 1970 to 3000"),
        ({"formats": ("pdf",)}, "formats must be among png, svg"),
        ({"formats": ()}, "formats must be among png, svg"),
    ],
)
def test_it_refuses_a_backwards_or_too_long_range_or_an_unknown_format(
    sqlite_store, tmp_path, kwargs, message
):
    with pytest.raises(ValueError, match=message):
        run(sqlite_store, tmp_path / "out", **kwargs)
