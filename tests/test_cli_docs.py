"""Every command documents itself, and the CLI keeps its exit status contract.

Exit status: 0 ok, 1 something failed, 2 usage or config error; errors on
stderr, data on stdout.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import click
import pytest

import monitor
import monitor.cli
import monitor.polling.poll
from monitor.cli import main
from monitor.cli.app import App, cli
from monitor.polling.record import PollReport
from monitor.store.ingest import ApplyStats

Row = tuple[tuple[str, ...], click.Command]


def walk(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[Row]:
    yield path, command
    if isinstance(command, click.Group):
        for name in command.list_commands(click.Context(command)):
            sub = command.get_command(click.Context(command), name)
            assert sub is not None, name
            yield from walk(sub, (*path, name))


COMMANDS = list(walk(cli))
SUBCOMMANDS = [(path, command) for path, command in COMMANDS if path]
LEAVES = [(path, command) for path, command in COMMANDS if not isinstance(command, click.Group)]


def ids(rows: list[Row]) -> list[str]:
    return [" ".join(path) or "monitor" for path, _ in rows]


@pytest.fixture(autouse=True)
def no_config_from_environment(monkeypatch):
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)


def test_it_registers_every_command_module():
    assert {" ".join(path) for path, _ in SUBCOMMANDS} >= {
        "poll",
        "sources",
        "incidents",
        "db",
        "db upgrade",
    }


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=ids(COMMANDS))
def test_it_gives_every_command_a_help_text(path, command):
    assert command.help
    assert command.help.strip()
    assert command.get_short_help_str().strip()


@pytest.mark.parametrize(("path", "command"), LEAVES, ids=ids(LEAVES))
def test_it_shows_an_example_in_every_leaf_commands_help(path, command):
    assert "Example" in command.help
    assert f"monitor {' '.join(path)}" in command.help


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=ids(COMMANDS))
def test_it_documents_every_option(path, command):
    undocumented = [
        p.name
        for p in command.params
        if isinstance(p, click.Option) and not p.help and p.name not in ("help", "version")
    ]
    assert undocumented == []


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=ids(COMMANDS))
def test_it_prints_help_on_stdout_and_exits_0(path, command, capsys):
    with pytest.raises(SystemExit) as exited:
        main([*path, "--help"])
    assert exited.value.code == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"Usage: {' '.join(('monitor', *path))} [OPTIONS]")
    assert " ".join(command.help.splitlines()[0].split()) in " ".join(out.split())
    assert err == ""


def test_it_accepts_h_as_short_for_help(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["-h"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("Usage: monitor [OPTIONS] COMMAND [ARGS]...")


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_it_prints_its_version_and_exits_0(flag, capsys):
    with pytest.raises(SystemExit) as exited:
        main([flag])
    assert exited.value.code == 0
    out, err = capsys.readouterr()
    assert out == f"monitor, version {monitor.__version__}\n"
    assert err == ""


def test_it_prints_its_version_when_run_as_python_m_monitor(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"monitor, version {monitor.__version__}\n"
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["frobnicate"], "Error: No such command 'frobnicate'.", id="command"),
        pytest.param(["db", "frob"], "Error: No such command 'frob'.", id="subcommand"),
        pytest.param(["--bogus"], "Error: No such option '--bogus'.", id="option"),
        pytest.param(
            ["incidents", "--since", "garbage"],
            "Error: Invalid value for '--since': cannot read 'garbage' as a time; use "
            "'2026-04-14 10:00' or '14 Apr 2026 9:45' (local time), '10:00', "
            "'yesterday 15:30', '2026-04-14', 'now', '2h ago' or '2026-04-14T10:00:00Z'",
            id="since",
        ),
        pytest.param(
            ["incidents", "--tz", "Nowhere/City"],
            "Error: Invalid value for '--tz': unknown time zone 'Nowhere/City'; "
            "use an IANA name like 'Europe/Berlin' or 'UTC'",
            id="tz",
        ),
        pytest.param(
            ["incidents", "--limit", "0"],
            "Error: Invalid value for '--limit': 0 is not in the range x>=1.",
            id="limit",
        ),
    ],
)
def test_it_exits_2_on_a_usage_error_with_the_message_on_stderr(argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("Usage: monitor")
    assert err.rstrip("\n").splitlines()[-1] == message


def test_it_exits_2_when_poll_is_given_a_source_the_config_does_not_have(write_config, capsys):
    path = write_config(sources=[{"name": "a", "kind": "feed", "url": "https://a.example"}])
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(path), "poll", "nosuch"])
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.rstrip("\n").splitlines()[-1] == (
        f"Error: Invalid value for 'NAME': no source named 'nosuch' in {path} (configured: a)"
    )
    assert not (path.parent / "monitor.db").exists()


def test_it_exits_1_when_a_poll_fails(write_config, monkeypatch, capsys):
    path = write_config(sources=[{"name": "a", "kind": "feed", "url": "https://a.example"}])
    failed = PollReport(
        source="a",
        outcome="error",
        stats=ApplyStats(),
        error="connection refused",
        http_status=None,
        duration_ms=3,
    )
    monkeypatch.setattr(App, "store", lambda self: None)
    monkeypatch.setattr(monitor.polling.poll, "poll_sources", lambda store, config, names: [failed])
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(path), "poll"])
    assert capsys.readouterr().out == "a  error: connection refused\n"
    assert exited.value.code == 1
