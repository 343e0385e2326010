"""``python -m benchmarks.generate --days 365 --checks 12 --interval 30s --out PATH``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import benchmarks.generate
from benchmarks.generate.core import DEFAULT_END, ORDERS, generate
from benchmarks.generate.summary import summary_path
from benchmarks.generate.timefmt import parse_interval


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.generate", description=benchmarks.generate.__doc__
    )
    parser.add_argument("--days", type=int, default=365, help="range in days (%(default)s)")
    parser.add_argument("--checks", type=int, default=12, help="number of checks (%(default)s)")
    parser.add_argument(
        "--interval", type=parse_interval, default=30, help="check interval, e.g. 30s (30s)"
    )
    parser.add_argument("--out", type=Path, required=True, help="the SQLite file to write")
    parser.add_argument("--seed", type=int, default=1, help="random seed (%(default)s)")
    parser.add_argument("--end", default=DEFAULT_END, help="end of the range (%(default)s)")
    parser.add_argument(
        "--raw-days", type=int, help="keep raw check runs for the last D days only (default: all)"
    )
    parser.add_argument(
        "--order",
        choices=ORDERS,
        default="time",
        help="insert order of check runs, for measuring the load (%(default)s)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    summary = generate(
        args.out,
        days=args.days,
        checks=args.checks,
        interval=args.interval,
        seed=args.seed,
        end=args.end,
        raw_days=args.raw_days,
        order=args.order,
        progress=lambda line: print(line, flush=True),
    )
    width = max(len(t) for t in summary.counts)
    for table, rows in summary.counts.items():
        print(f"  {table.ljust(width)} {rows:>12,}")
    print(
        f"file: {summary.bytes:,} bytes ({summary.bytes / 1e6:,.1f} MB), "
        f"{summary.bytes / max(1, summary.counts['check_result']):.0f} bytes per check result"
    )
    print(f"elapsed: {summary.elapsed_s:.1f} s")
    for kind, moments in summary.interesting.items():
        print(f"  {kind}: " + ", ".join(m.at for m in moments))
    print(f"summary: {summary_path(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
