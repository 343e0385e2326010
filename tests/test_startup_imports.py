"""Help, shell completion and usage errors import nothing they do not use.

``monitor --help``, ``monitor <command> --help``, a completion request and a
command line click rejects never open the database, so they must not pay
for SQLAlchemy, the models, pydantic, httpx, APScheduler, Alembic or
matplotlib: a command imports the store when it opens it, not before.

Each case runs ``python -m monitor ARGS`` as a real process (in a temporary
folder, with a config of its own) and reads back ``sys.modules`` as the
process ends. Not ``-X importtime``: it only reports imports made by an
``import`` statement, and misses every module ``importlib.import_module``
loads, which is how the command group loads a command (monitor/cli/app.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from monitor.cli.app import COMMANDS

# The child is ``python -c CODE REPORT ARGS...``, CODE being PRELUDE and then
# what to run. PRELUDE writes the names of the modules loaded to the file
# REPORT as the process ends, whichever way it ends: ``monitor.cli.entry`` leaves by ``os._exit`` (no atexit hook runs
# then), or by a normal exit while another thread is alive. It imports only
# what ``-m`` does, and the built-in atexit.
PRELUDE = """
import atexit, os, runpy, sys
report = sys.argv.pop(1)
def dump():
    with open(report, "w", encoding="utf-8") as out:
        out.write("\\n".join(sorted(sys.modules)))
atexit.register(dump)
exit_now = os._exit
def dump_then_exit(status):
    dump()
    exit_now(status)
os._exit = dump_then_exit
"""
# ``python -m monitor ARGS``, as ``-m`` runs it.
MONITOR = PRELUDE + 'runpy.run_module("monitor", run_name="__main__", alter_sys=True)\n'
# What importing click alone loads, to measure ``monitor --help`` against.
CLICK = PRELUDE + "import click\n"

# Imported only by what opens the database, runs checks or polls, draws or serves.
FORBIDDEN = (
    "sqlalchemy",
    "monitor.store",
    "alembic",
    "pydantic",
    "pydantic_core",
    "httpx",
    "apscheduler",
    "matplotlib",
    "apprise",
    "prometheus_client",
)

# Environment that would change what the process does.
CLEARED = ("MONITOR_CONFIG", "_MONITOR_COMPLETE", "COMP_WORDS", "COMP_CWORD")


@dataclass(frozen=True)
class Run:
    """One process: its exit status, its output, and every module it loaded."""

    code: int
    stdout: str
    stderr: str
    modules: frozenset[str] = field(repr=False)


Monitor = Callable[..., Run]


def run_child(
    code: str, args: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None
) -> Run:
    """Run ``python -c CODE REPORT ARGS...`` in ``cwd``; REPORT receives the module names."""
    report = cwd / "modules.txt"
    report.unlink(missing_ok=True)
    environ = {k: v for k, v in os.environ.items() if k not in CLEARED}
    process = subprocess.run(
        [sys.executable, "-c", code, str(report), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**environ, **(env or {})},
        timeout=60,
        check=False,
    )
    assert report.exists(), f"no module list written; stderr:\n{process.stderr}"
    modules = frozenset(report.read_text(encoding="utf-8").split("\n"))
    return Run(process.returncode, process.stdout, process.stderr, modules)


@pytest.fixture
def monitor(write_config, tmp_path: Path) -> Monitor:
    """``monitor(*args, **env)``: run the CLI with a config (and its database) in tmp_path."""
    config = write_config(
        sources=[{"name": "github", "kind": "statuspage", "url": "https://status.example"}]
    )

    def run(*args: str, **env: str) -> Run:
        return run_child(MONITOR, args, tmp_path, {"MONITOR_CONFIG": str(config), **env})

    return run


def forbidden(modules: frozenset[str]) -> list[str]:
    return sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))


def assert_light(run: Run, tmp_path: Path) -> None:
    assert forbidden(run.modules) == []
    assert not (tmp_path / "monitor.db").exists()  # nor is the database created


# -- the helper sees what it must ---------------------------------------------------


def test_the_helper_sees_a_command_loaded_by_the_group(monitor):
    run = monitor("why", "--help")
    assert run.code == 0
    assert "monitor.cli.why" in run.modules  # loaded with importlib.import_module
    assert "monitor.cli.chart" not in run.modules


def test_the_helper_sees_the_store_where_a_command_opens_it(monitor, tmp_path):
    run = monitor("incidents")
    assert run.code == 0, run.stderr
    assert "sqlalchemy" in run.modules
    assert "monitor.store.models" in run.modules
    assert (tmp_path / "monitor.db").exists()


# -- help -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["-h"],
        ["--version"],
        *([name, "--help"] for name in sorted(COMMANDS)),
        ["db", "upgrade", "--help"],
        ["token", "set", "--help"],
        ["notify", "test", "--help"],
    ],
    ids=" ".join,
)
def test_help_imports_nothing_heavy(monitor, tmp_path, args):
    run = monitor(*args)
    assert run.code == 0, run.stderr
    assert run.stdout.startswith("Usage: monitor") or args == ["--version"]
    assert_light(run, tmp_path)


def test_help_loads_only_the_interpreter_click_and_the_command_group(monitor, tmp_path):
    run = monitor("--help")
    assert run.code == 0
    # Libraries: click and nothing else (what is left is the interpreter's
    # own and site's plumbing: setuptools' distutils shim, an editable install).
    plumbing = ("__main__", "_distutils_hack", "_sysconfigdata", "__editable__")
    libraries = {
        top
        for top in (m.partition(".")[0] for m in run.modules)
        if top not in sys.stdlib_module_names and not top.startswith(plumbing)
    }
    assert libraries == {"click", "monitor"}
    # Ours: the package, the entry point and the group; no command, no renderer,
    # no subpackage besides the CLI (views, store, correlate ...), no config.
    ours = {m for m in run.modules if m.startswith("monitor.")}
    assert {m for m in ours if m.startswith("monitor.cli.")} == {"monitor.cli.app"}
    assert [m for m in ours if m.count(".") > 1 and not m.startswith("monitor.cli.")] == []
    assert not ours & {"monitor.config", "monitor.logs", "monitor.views", "monitor.times"}
    # Beyond what importing click loads anyway, a handful of modules.
    added = sorted(run.modules - run_child(CLICK, [], tmp_path).modules)
    assert len(added) <= 30, added


# -- completion -----------------------------------------------------------------------


def completion(kind: str, words: str = "", cword: int = 0) -> dict[str, str]:
    """The environment of a completion request (``words`` as the shell has them)."""
    env = {"_MONITOR_COMPLETE": kind}
    if words:
        env |= {"COMP_WORDS": words, "COMP_CWORD": str(cword)}
    return env


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param(completion("bash_source"), "_monitor_completion", id="bash_source"),
        pytest.param(completion("zsh_source"), "#compdef monitor", id="zsh_source"),
        pytest.param(completion("fish_source"), "complete", id="fish_source"),
        pytest.param(completion("bash_complete", "monitor wh", 1), "plain,why\n", id="wh"),
        pytest.param(completion("bash_complete", "monitor ", 1), "plain,incidents\n", id="all"),
        pytest.param(
            completion("zsh_complete", "monitor ", 1),
            "why\nExplain failures at a moment: upstream,...\n",
            id="all with help",
        ),
        pytest.param(completion("bash_complete", "monitor db ", 2), "plain,upgrade\n", id="db"),
        pytest.param(completion("bash_complete", "monitor why --", 2), "plain,--at\n", id="why --"),
    ],
)
def test_completion_imports_nothing_heavy(monitor, tmp_path, env, expected):
    run = monitor(**env)
    assert run.code == 0, run.stderr
    assert expected in run.stdout
    assert_light(run, tmp_path)


def test_completing_the_command_name_imports_no_command(monitor):
    run = monitor(**completion("zsh_complete", "monitor ", 1))
    assert run.code == 0
    assert {m for m in run.modules if m.startswith("monitor.cli.")} == {"monitor.cli.app"}


# -- usage errors ---------------------------------------------------------------------


USAGE_ERRORS = [
    (["nosuch"], "No such command 'nosuch'."),
    (["wyh"], "Did you mean 'why'?"),
    (["--log-level", "loud", "why"], "Invalid value for '--log-level'"),
    (["why", "--at", "nonsense"], "Invalid value for '--at'"),
    (["timeline", "--since", "nonsense"], "Invalid value for '--since'"),
    (["incidents", "--since", "nonsense"], "Invalid value for '--since'"),
    (["incidents", "--limit", "0"], "Invalid value for '--limit'"),
    (["results", "--until", "nonsense"], "Invalid value for '--until'"),
    (["probes", "--since", "nonsense"], "Invalid value for '--since'"),
    (["report", "--until", "nonsense"], "Invalid value for '--until'"),
    (["chart", "--format", "gif"], "Invalid value for '--format'"),
    (["prune", "--raw", "nonsense"], "Invalid value for '--raw'"),
    (["run", "--grace", "nonsense"], "Invalid value for '--grace'"),
    (["why", "--nosuch"], "No such option '--nosuch'."),
    (["token", "set"], "Missing argument 'NAME'."),
    (["import"], "Missing argument 'FILE'."),
    (["db"], "Usage: monitor db"),
    (["db", "nosuch"], "No such command 'nosuch'."),
]


@pytest.mark.parametrize(
    ("args", "message"), USAGE_ERRORS, ids=[" ".join(args) for args, _ in USAGE_ERRORS]
)
def test_a_usage_error_imports_nothing_heavy(monitor, tmp_path, args, message):
    run = monitor(*args)
    assert run.code == 2, run.stderr
    assert message in run.stderr
    assert_light(run, tmp_path)
