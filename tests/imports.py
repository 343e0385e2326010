"""Which modules a ``monitor`` command imports, seen from inside a fresh interpreter.

Start-up time is mostly imports; asserting the import set (not a timing)
keeps a command light without a timed test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

# Runs ``monitor ARGS`` in the child through ``main`` (so its exit is a
# SystemExit), then writes the names of every module loaded to a file.
CHILD = """
import json, sys
from monitor.cli import main
try:
    main(sys.argv[2:])
except SystemExit as done:
    code = done.code
else:
    code = 0
with open(sys.argv[1], "w", encoding="utf-8") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""

HEAVY = ("sqlalchemy", "pydantic", "httpx", "apprise", "prometheus_client", "apscheduler")


def imported_by(
    args: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], int, set[str]]:
    """Run ``monitor ARGS`` in a new interpreter: the process, its exit status, its modules."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "modules.json"
        process = subprocess.run(
            [sys.executable, "-c", CHILD, str(report), *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=dict(os.environ if env is None else env),
            timeout=60,
        )
        assert report.exists(), process.stderr
        seen = json.loads(report.read_text(encoding="utf-8"))
    return process, seen["code"], set(seen["modules"])


def heavy(modules: set[str], *extra: str) -> list[str]:
    """The heavy packages, and the ``extra`` packages (``monitor.store``), among ``modules``."""
    packages = (*HEAVY, *extra)
    return sorted(
        name for name in modules if any(name == p or name.startswith(p + ".") for p in packages)
    )
