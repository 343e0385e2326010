"""The benchmark harness runs end to end (--quick, one repeat) and reports every figure.

Timings are machine-dependent: nothing here asserts on them, only that each
figure was measured and written to the results file. The two service figures
run a real ``monitor run`` for tens of seconds each, so the end-to-end run
skips them (they are still listed, as skipped); the selection itself is
tested on its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.harness import KEYS, main, parse_args, selected

MEASURED = (
    "parse + upsert 50-incident incidents.json",
    "repeat poll answered 304 (CPU)",
    "100 loopback sources polled concurrently",
    "check run overhead, http (CPU)",
    "check run overhead, tcp (CPU)",
    "check run overhead, local_port (CPU)",
    "50 loopback http checks: wall - slowest",
)
SERVICE = (
    "service resident memory after warm-up",
    "service CPU, 20 checks at 30 s against 127.0.0.1",
)


def verdicts(markdown: str) -> dict[str, str]:
    """Figure -> verdict for each row of the results table that has a target."""
    rows = {}
    for line in markdown.splitlines():
        if not line.startswith("| ") or line.startswith("| figure |"):
            continue
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        if cells[4] != "-":
            rows[cells[0]] = cells[5]
    return rows


def test_quick_run_reports_every_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "RESULTS.md"

    assert main(["--quick", "--repeat", "1", "--skip", "service", "--out", str(out)]) == 0

    printed = capsys.readouterr().out
    written = out.read_text(encoding="utf-8")
    assert "| median | min | max | target | verdict |" in written
    assert "Python: " in written
    assert "CPU: " in written
    assert "skipped: service-memory, service-cpu" in written
    for figure in (*MEASURED, *SERVICE):
        assert figure in printed
        assert f"| {figure} |" in written
    found = verdicts(written)
    assert set(found) == {*MEASURED, *SERVICE}
    assert {found[f] for f in MEASURED} <= {"met", "MISSED"}
    assert {found[f] for f in SERVICE} == {"skipped"}


@pytest.mark.parametrize(
    ("argv", "keys"),
    [
        ([], KEYS),
        (["--skip", "service"], KEYS[:-2]),
        (["--only", "service"], ("service-memory", "service-cpu")),
        (["--only", "poll", "--skip", "poll-hundred"], ("poll-304",)),
    ],
)
def test_only_and_skip_select_figures_by_name_or_prefix(
    argv: list[str], keys: tuple[str, ...]
) -> None:
    args = parse_args(argv)

    assert tuple(f.key for f in selected(args.only, args.skip)) == keys


def test_an_unknown_figure_name_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--skip", "servic"])

    assert "no figure 'servic'" in capsys.readouterr().err
