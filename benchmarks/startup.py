"""Starting ``monitor``: ``--help``, and ``why`` answered by a running service, as new processes.

A command typed in the middle of an outage should answer at once. Measured
as the user runs them (the installed ``monitor`` script, a new process each
time, output read to the end):

* ``monitor --help``: lists every command without importing any;
* ``monitor why --at T --json`` while ``monitor run`` serves the same config
  (a real child over a copy of the generated database, ``[http] listen =
  "127.0.0.1:0"``): the command finds it through the lock file and asks it;
* the same ``why`` with no service, reading the database itself (through its
  driver alone: the database is at the schema's head, so no SQLAlchemy).

Reference for all three, measured in the same run and interleaved with them
(each round runs the floor, then each command once, so load on the machine
falls on all alike): ``python -c "import sqlite3"``, the least any Python
program that reads SQLite costs.

The children run with bytecode caching on (into a scratch folder), as an
installed package has it; the first, uncounted run of each writes the cache.
"""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from benchmarks.measure import BenchmarkError, Reference, Row, expect
from benchmarks.registry import Context, Figure
from benchmarks.service_config import write_toml
from benchmarks.service_process import START_TIMEOUT_S, alive, log_tail, monitor_run, stop
from benchmarks.why import EXPECTED, moments
from monitor.configfile import glance
from monitor.discovery import read_lock

TARGET_S = 0.150
TARGET_COLD_S = 0.350  # issue 17
FIGURE_HELP = "`monitor --help`, a new process"
FIGURE_WHY = "`monitor why --at T --json`, a new process, service running"
FIGURE_COLD = "`monitor why --at T --json`, a new process, no service"
FLOOR = 'python -c "import sqlite3"'
MIN_RUNS = 15  # start-up times are short and noisy: more samples than the default repeat


def _script() -> list[str]:
    """The installed ``monitor`` script beside this Python, else ``python -m monitor``."""
    script = Path(sys.executable).with_name("monitor")
    return [str(script)] if script.exists() else [sys.executable, "-m", "monitor"]


def _env(cache: Path) -> dict[str, str]:
    """This environment with bytecode caching on, into ``cache``; no proxies for loopback."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def command(args: Sequence[str], env: dict[str, str], printed: str) -> Callable[[], str]:
    """A new process running ``args``; it must exit 0 and print ``printed``."""

    def run() -> str:
        done = subprocess.run(
            list(args), capture_output=True, text=True, env=env, timeout=120, check=False
        )
        if done.returncode != 0 or printed not in done.stdout:
            raise BenchmarkError(
                f"{' '.join(args[-4:])} failed ({done.returncode}): {done.stderr[-500:]}"
            )
        return done.stdout

    return run


def interleaved(actions: Sequence[Callable[[], object]], runs: int) -> list[list[float]]:
    """Wall seconds of each action, ``runs`` rounds of one call each, after a warm-up round."""
    for action in actions:
        action()
    walls: list[list[float]] = [[] for _ in actions]
    for _ in range(runs):
        for action, times in zip(actions, walls, strict=True):
            began = time.perf_counter()
            action()
            times.append(time.perf_counter() - began)
    return walls


def _advertised(config: Path, check: Callable[[], None]) -> str:
    """The service's API address, read from its lock file as the command reads it."""
    seen = glance(config)
    expect(seen is not None, f"cannot read {config}")
    assert seen is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        check()
        api = read_lock(seen.lock_path).api
        if api is not None:
            return api
        time.sleep(0.05)
    raise BenchmarkError(f"the service did not advertise its API within {START_TIMEOUT_S:g} s")


def _get(url: str, path: str) -> bytes:
    """One GET from this (warm) process: the service's share of a command's wait."""
    split = urlsplit(url)
    connection = http.client.HTTPConnection(split.hostname or "", split.port, timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    expect(response.status == 200, f"GET {path} answered {response.status}: {body[:300]!r}")
    return body


def _imports(args: Sequence[str], env: dict[str, str]) -> str:
    """What ``monitor ARGS`` imported (``-X importtime``'s report)."""
    program = [sys.executable, "-X", "importtime", "-m", "monitor", *args]
    done = subprocess.run(program, capture_output=True, text=True, env=env, timeout=120)
    return done.stderr


def run(context: Context) -> list[Row]:
    runs = context.repeat if context.quick else max(context.repeat, MIN_RUNS)
    (kind, at), *_ = moments(context)
    expected = f'"verdict": "{EXPECTED[kind]}"'
    with tempfile.TemporaryDirectory(prefix="monitor-bench-startup-") as name:
        folder = Path(name)
        db = folder / "monitor.db"
        shutil.copyfile(context.dataset().path, db)
        config = write_toml(
            folder / "config.toml",
            {
                "monitor": {"probe": "bench"},
                "database": {"url": f"sqlite:///{db}"},
                "http": {"listen": "127.0.0.1:0"},
            },
        )
        env = _env(folder / "pycache")
        why_args = ["--config", str(config), "why", "--at", at.isoformat(), "--json"]
        floor = command([sys.executable, "-c", "import sqlite3"], env, "")
        help_ = command([*_script(), "--help"], env, "Commands:")
        why = command([*_script(), *why_args], env, expected)

        context.progress("  startup: no service")
        cold_floor, cold = interleaved([floor, why], runs)
        cold_answer = why()
        loaded = [m for m in ("sqlalchemy", "alembic") if f" {m}\n" in _imports(why_args, env)]
        expect(not loaded, f"why with no service loaded {', '.join(loaded)}")
        with monitor_run(config) as process:
            api = _advertised(config, lambda: alive(process, config))
            context.progress("  startup: --help, and why with the service running")
            question = "/api/why?" + urlencode({"at": at.isoformat(), "format": "json"})
            floors, helps, whys, answers = interleaved(
                [floor, help_, why, lambda: _get(api, question)], runs
            )
            expect(why() == cold_answer, "the service's answer differs from the command's own")
            report = _imports(why_args, env)
            expect(
                "monitor.store" not in report and "monitor.cli.remote" in report,
                "why did not take the service's answer (it imported monitor.store)"
                + log_tail(config),
            )
            stop(process, config)
    return [
        Row(
            FIGURE_HELP,
            tuple(helps),
            unit="s",
            target=TARGET_S,
            target_label="<= 0.15 s median",
            reference=Reference(FLOOR, tuple(floors)),
        ),
        Row(
            FIGURE_WHY,
            tuple(whys),
            unit="s",
            target=TARGET_S,
            target_label="<= 0.15 s median",
            reference=Reference(FLOOR, tuple(floors)),
        ),
        Row(
            "\u21b3 of which the service's answer (one GET from a warm process)",
            tuple(answers),
            "s",
        ),
        Row(
            FIGURE_COLD,
            tuple(cold),
            unit="s",
            target=TARGET_COLD_S,
            target_label="<= 0.35 s median",
            reference=Reference(FLOOR, tuple(cold_floor)),
        ),
    ]


FIGURES = (
    Figure(
        "startup",
        run,
        (
            (FIGURE_HELP, "<= 0.15 s median"),
            (FIGURE_WHY, "<= 0.15 s median"),
            (FIGURE_COLD, "<= 0.35 s median"),
        ),
        repeats=False,
        notes=(
            "startup: the installed `monitor` script as a new process each time, output read "
            "to the end; bytecode cached in a scratch folder (as an installed package has it), "
            f"one uncounted warm-up round; at least {MIN_RUNS} rounds (--quick: --repeat). "
            "why: --at the generator's upstream-incident moment on a copy of the generated "
            "database; with the service, a real `monitor run` child over that copy with "
            "[http] listen = 127.0.0.1:0 and no sources or checks, found through its lock "
            "file; the answer must equal the command's own (read with no service) and the "
            "run must not import monitor.store, or the harness stops. The sub-row is the same "
            "question put to the service by this (warm) benchmark process with http.client, in "
            "the same rounds: the service's share of the wait. With no service: the same "
            "command before the service starts, as many rounds, reading the database through "
            "its driver alone (the harness stops if it loaded SQLAlchemy or Alembic). Reference: "
            '`python -c "import sqlite3"` in the same rounds, interleaved with the commands.',
        ),
    ),
)
