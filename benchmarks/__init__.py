"""monitor's performance figures, each beside a reference measured in the same run:
``python -m benchmarks [--quick]`` (benchmarks/harness.py). Nothing leaves the machine."""
