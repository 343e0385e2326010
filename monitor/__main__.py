"""Allow ``python -m monitor``."""

from __future__ import annotations

from monitor.cli import entry

if __name__ == "__main__":
    entry()
