"""``monitor chart``: what it writes, what it prints, and its usage errors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time

from monitor.cli import main
from monitor.store import open_store
from tests.conftest import WriteConfig, load, run_monitor
from tests.dashboard_seed import seed

RANGE = ("--since", "2026-04-13T00:00:00Z", "--until", "2026-04-15T00:00:00Z")
TEN_YEARS = ("--since", "2016-01-01T00:00Z", "--until", "2026-01-08T00:00Z")  # 3660 days


@pytest.fixture
def config(write_config: WriteConfig) -> Path:
    path = write_config(
        extra='[[check]]\nname = "api-reachable"\nkind = "tcp"\nhost = "127.0.0.1"\nport = 9\n'
        'interval = "5m"\n'
    )
    store = open_store(load(path).database_url)
    try:
        seed(store)
    finally:
        store.close()
    return path


def test_it_writes_the_charts_and_the_page_and_says_where(config, tmp_path):
    out = tmp_path / "site"

    done = run_monitor(config, "chart", *RANGE, "--out", str(out), "--format", "png")

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:4] == [
        f"wrote {out / 'uptime.png'} (1200x296)",
        f"wrote {out / 'timeline.png'} (1200x514)",
        f"wrote {out / 'latency.png'} (1200x550)",
        f"wrote {out / 'index.html'}",
    ]
    assert lines[4].startswith("range 2026-04-13 00:00Z to 2026-04-15 00:00Z; read in ")
    assert sorted(p.name for p in out.iterdir()) == [
        "index.html",
        "latency.png",
        "timeline.png",
        "uptime.png",
    ]
    assert done.stderr == ""


def test_it_writes_both_formats_into_the_configured_folder_by_default(config, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config), "chart", *RANGE])

    assert exited.value.code == 0
    folder = config.parent / "dashboards"
    assert {p.suffix for p in folder.iterdir()} == {".png", ".svg", ".html"}
    assert f"wrote {folder / 'index.html'}" in capsys.readouterr().out


def test_it_ends_a_range_still_to_come_now(write_config, tmp_path, capsys):
    # Nothing can be recorded after now; drawn, the time ahead would read as "no data".
    path = write_config()
    args = ["--since", "2026-04-14 10:00", "--until", "2099-01-01", "--tz", "UTC"]
    with freeze_time("2026-04-14 12:00:00"), pytest.raises(SystemExit) as exited:
        main(
            ["--config", str(path), "chart", *args, "--out", str(tmp_path / "o"), "--format", "svg"]
        )

    assert exited.value.code == 0
    assert "range 2026-04-14 10:00Z to 2026-04-14 12:00Z;" in capsys.readouterr().out


def test_it_says_when_there_is_no_data_yet(write_config, tmp_path, capsys):
    path = write_config()
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(path), "chart", *RANGE, "--out", str(tmp_path / "o")])

    assert exited.value.code == 0
    assert f"wrote {tmp_path / 'o' / 'index.html'} (no data yet in this range)" in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--format", "pdf"],
            "Error: Invalid value for '--format': expected png, svg or png,svg, got 'pdf'",
        ),
        (["--since", "garbage"], "Error: Invalid value for '--since': cannot read 'garbage'"),
        (
            ["--since", "2026-04-15T00:00:00Z", "--until", "2026-04-14T00:00:00Z"],
            "Error: --since (2026-04-15 00:00Z) must be before --until (2026-04-14 00:00Z)",
        ),
        (
            ["--since", "2016-01-01T00:00Z", "--until", "2026-01-09T00:00Z"],
            "Error: --since/--until span 3661 days; a chart covers at most 3660 days (10 years)",
        ),
        (
            ["--since", "0001-01-02T00:00Z"],  # once drew day after day for minutes
            "Error: Invalid value for '--since': '0001-01-02T00:00Z' is out of range",
        ),
        (
            ["--since", "0001-01-01T00:00+05:00"],  # a year before year 1 in UTC
            "Error: Invalid value for '--since': '0001-01-01T00:00+05:00' is out of range",
        ),
        (
            ["--since", "9999-12-31T00:00Z", "--until", "9999-12-31T23:00Z"],
            "Error: Invalid value for '--since': '9999-12-31T00:00Z' is out of range",
        ),
        (
            ["--until", "9999-12-31T23:00-05:00"],  # past year 9999 in UTC
            "Error: Invalid value for '--until': '9999-12-31T23:00-05:00' is out of range",
        ),
        (
            ["--since", "25000d ago"],
            "Error: Invalid value for '--since': '25000d ago' is out of range",
        ),
    ],
)
def test_it_exits_2_on_bad_arguments(write_config, tmp_path, capsys, args, message):
    path = write_config()
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(path), "chart", "--out", str(tmp_path / "o"), *args])

    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.rstrip("\n").splitlines()[-1].startswith(message)
    assert not (tmp_path / "o").exists()


def test_a_range_of_exactly_ten_years_is_drawn(write_config, tmp_path, capsys):
    path = write_config()
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(path), "chart", "--out", str(tmp_path / "o"), *TEN_YEARS])

    assert exited.value.code == 0, capsys.readouterr().err
    assert "range 2016-01-01 00:00Z to 2026-01-08 00:00Z" in capsys.readouterr().out


def test_its_limits_are_the_ones_generate_enforces():
    from monitor.charts import generate
    from monitor.cli import chart

    assert timedelta(days=chart.MAX_DAYS) == generate.MAX_RANGE
    assert (chart.EARLIEST, chart.LATEST) == (generate.EARLIEST, generate.LATEST)
