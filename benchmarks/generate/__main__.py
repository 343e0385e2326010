"""``python -m benchmarks.generate --days 365 --checks 12 --interval 30s --out PATH``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import benchmarks.generate
from benchmarks.generate import DEFAULT_END, generate, summary_path
from benchmarks.generate.verify import verify

UNITS = {"s": 1, "m": 60, "h": 3600}


def interval(text: str) -> int:
    """``30s``, ``1m``: whole seconds."""
    if text[-1:] not in UNITS or not text[:-1].isdigit():
        raise argparse.ArgumentTypeError(f"not an interval like 30s or 1m: {text!r}")
    return int(text[:-1]) * UNITS[text[-1]]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.generate", description=benchmarks.generate.__doc__
    )
    parser.add_argument("--days", type=int, default=365, help="range in days (%(default)s)")
    parser.add_argument("--checks", type=int, default=12, help="number of checks (%(default)s)")
    parser.add_argument("--interval", type=interval, default=30, help="check interval (30s)")
    parser.add_argument("--out", type=Path, required=True, help="the SQLite file to write")
    parser.add_argument("--seed", type=int, default=1, help="random seed (%(default)s)")
    parser.add_argument("--end", default=DEFAULT_END, help="end of the range (%(default)s)")
    parser.add_argument("--raw-days", type=int, help="keep raw check runs for the last D days")
    parser.add_argument(
        "--verify", action="store_true", help="then ask monitor's why at every planted moment"
    )
    args = parser.parse_args(argv)
    summary = generate(
        args.out,
        days=args.days,
        checks=args.checks,
        interval=args.interval,
        seed=args.seed,
        end=args.end,
        raw_days=args.raw_days,
        progress=lambda line: print(line, flush=True),
    )
    for table, rows in summary.counts.items():
        print(f"  {table:<20} {rows:>12,}")
    per_run = summary.bytes / max(1, summary.counts["check_result"])
    print(f"file: {summary.bytes / 1e6:,.1f} MB, {per_run:.1f} bytes per check run")
    for kind, found in summary.interesting.items():
        print(f"  {kind}: " + ", ".join(m.at for m in found))
    print(f"summary: {summary_path(args.out)}")
    problems = verify(args.out) if args.verify else []
    for problem in problems:
        print(f"  verify: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
