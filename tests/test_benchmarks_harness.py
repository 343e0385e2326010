"""The benchmark harness runs end to end (--quick, one repeat) and reports every figure.

Timings are machine-dependent: nothing here asserts on them, only that each
figure was measured and written to the results file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.harness import main

FIGURES = (
    "parse + upsert 50-incident incidents.json",
    "repeat poll answered 304 (CPU)",
    "100 loopback sources polled concurrently",
    "check run overhead, http (CPU)",
    "check run overhead, tcp (CPU)",
    "check run overhead, local_port (CPU)",
    "50 loopback http checks: wall - slowest",
)


def test_quick_run_reports_every_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "RESULTS.md"

    assert main(["--quick", "--repeat", "1", "--out", str(out)]) == 0

    printed = capsys.readouterr().out
    written = out.read_text(encoding="utf-8")
    assert "| median | min | max | target | verdict |" in written
    assert "Python: " in written
    assert "CPU: " in written
    for figure in FIGURES:
        assert figure in printed
        assert f"| {figure} |" in written
    verdicts = [line.rsplit("|", 2)[1].strip() for line in written.splitlines() if "<=" in line]
    assert len(verdicts) == len(FIGURES)
    assert set(verdicts) <= {"met", "MISSED"}
