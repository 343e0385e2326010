"""``python -m benchmarks.generate --days 365 --checks 12 --interval 30s --out PATH``."""

import argparse
import sys
from pathlib import Path

import benchmarks.generate
from benchmarks.generate import DEFAULT_END, generate, summary_path
from benchmarks.generate.verify import verify


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser("python -m benchmarks.generate", description=__doc__)
    parser.description = benchmarks.generate.__doc__
    arg = parser.add_argument
    arg("--days", type=int, default=365, help="range in days (%(default)s)")
    arg("--checks", type=int, default=12, help="number of checks (%(default)s)")
    arg("--interval", default="30s", help="check interval: 30s, 1m... (%(default)s)")
    arg("--out", type=Path, required=True, help="the SQLite file to write")
    arg("--seed", type=int, default=1, help="random seed (%(default)s)")
    arg("--end", default=DEFAULT_END, help="end of the range (%(default)s)")
    arg("--raw-days", type=int, help="keep raw check runs for the last D days only")
    arg("--verify", action="store_true", help="then ask monitor's why at each planted moment")
    args = parser.parse_args(argv)
    seconds = int(args.interval.rstrip("sm")) * (60 if args.interval.endswith("m") else 1)
    summary = generate(
        args.out,
        days=args.days,
        checks=args.checks,
        interval=seconds,
        seed=args.seed,
        end=args.end,
        raw_days=args.raw_days,
        progress=print,
    )
    for table, rows in summary.counts.items():
        print(f"  {table:<20} {rows:>12,}")
    per_run = summary.bytes / max(1, summary.counts["check_result"])
    print(f"file: {summary.bytes / 1e6:,.1f} MB, {per_run:.1f} bytes per check run")
    for kind, found in summary.interesting.items():
        print(f"  {kind}: " + ", ".join(m.at for m in found))
    print(f"summary: {summary_path(args.out)}")
    problems = verify(args.out) if args.verify else []
    print("\n".join(f"  verify: {problem}" for problem in problems) or "", end="")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
