"""``python -m benchmarks``: run the benchmarks and print the results table."""

from __future__ import annotations

from benchmarks.harness import main

# The guard matters: the loopback server runs in a spawned process, which
# re-imports this module as ``__mp_main__`` and must not run the benchmarks.
if __name__ == "__main__":
    raise SystemExit(main())
