"""Every ``--json`` writes its times one way: RFC 3339 in UTC, with ``Z``.

One database holds something of everything (polled status pages, check
runs, a service's heartbeats, a notification, imported failures); every
command that takes ``--json`` is run on it, in process, and each string in
its answer that is a time must match ``RFC3339_UTC`` (a sentence for people,
such as one of ``why``'s reasons, may name a time as the text does). A command
that gains ``--json`` without a row in ``COMMANDS`` fails the first test,
so a new one cannot drift unseen.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import pytest

from monitor.cli import main
from monitor.cli.app import cli
from monitor.config import load_config
from monitor.store import open_store
from monitor.store.notifications import NotificationRecord, record_notification
from tests.conftest import fixture_bytes
from tests.loopback import LoopbackServer
from tests.probe_seed import service

RFC3339_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")
# Anything a person or a parser would take for a timestamp, in any spelling:
# ``T`` or a space, seconds or not, ``Z``, an offset, or no zone at all.
TIME_LIKE = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?", re.IGNORECASE
)

# Each command that takes --json, and its arguments here ("{log}": the file to import).
COMMANDS: dict[tuple[str, ...], list[str]] = {
    ("check",): ["check"],
    ("db", "upgrade"): ["db", "upgrade"],
    ("import",): ["import", "{log}", "--source", "github"],
    ("incidents",): ["incidents"],
    ("maintenances",): ["maintenances"],
    ("notify", "list"): ["notify", "list"],
    ("poll",): ["poll"],
    ("probes",): ["probes", "--since", "2d ago"],
    ("report",): ["report", "--since", "400d"],
    ("results",): ["results"],
    ("sources",): ["sources"],
    ("status",): ["status"],
    ("timeline",): ["timeline", "--since", "2d ago"],
    ("why",): ["why", "--at", "1h ago"],
}
# Commands whose answer holds no time at all.
TIMELESS = {("db", "upgrade")}


def json_commands() -> set[tuple[str, ...]]:
    """Every command and subcommand of ``monitor`` with a ``--json`` option."""
    found: set[tuple[str, ...]] = set()

    def visit(group: click.Group, path: tuple[str, ...]) -> None:
        context = click.Context(group)
        for name in group.list_commands(context):
            command = group.get_command(context, name)
            assert command is not None, name
            if isinstance(command, click.Group):
                visit(command, (*path, name))
            elif any("--json" in p.opts for p in command.params):
                found.add((*path, name))

    visit(cli, ())
    return found


def test_every_command_with_json_is_walked() -> None:
    assert json_commands() == set(COMMANDS)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A config whose sources and checks answer from a loopback server, and a database."""
    folder = tmp_path_factory.mktemp("json-times")
    with LoopbackServer() as server:
        server.route("/github/api/v2/summary.json", fixture_bytes("github/summary-2026-07-31.json"))
        server.route(
            "/github/api/v2/incidents.json", fixture_bytes("github/incidents-2026-07-31.json")
        )
        server.route(
            "/github/api/v2/scheduled-maintenances.json", b'{"scheduled_maintenances": []}'
        )
        server.route(
            "/sauce/history.atom",
            fixture_bytes("saucelabs/us-west-1-history.atom"),
            content_type="application/atom+xml",
        )
        server.route("/v1/messages", b'{"error": {"message": "invalid x-api-key"}}', status=401)
        server.route("/generate_204", b"", status=204)
        path = folder / "config.toml"
        path.write_text(
            f"""[monitor]
probe = "laptop"

[[source]]
name = "github"
kind = "statuspage"
url = "{server.url}/github"

[[source]]
name = "sauce"
kind = "feed"
url = "{server.url}/sauce/history.atom"

[[check]]
name = "api-reachable"
kind = "http"
url = "{server.url}/v1/messages"
expect_status = [401]
depends_on = {{ source = "github" }}

[[check]]
name = "api-authenticated"
kind = "http"
url = "{server.url}/v1/messages"
when_env = "MONITOR_JSON_TIMES_UNSET"

[[check]]
name = "control"
kind = "http"
role = "control"
url = "{server.url}/generate_204"
expect_status = [204]

[[notify]]
name = "team"
url = "ntfy://ntfy.example/monitor"
""",
            encoding="utf-8",
        )
        seed(path)
        yield path


def seed(path: Path) -> None:
    """Polls, runs, a stopped service and a notification, besides what the commands write."""
    for args in (["poll"], ["check"]):
        with pytest.raises(SystemExit):
            main(["--config", str(path), *args])
    now = datetime.now(UTC)
    store = open_store(load_config(path).database_url)
    try:
        service(store, "laptop", "box-a", 4242, now - timedelta(hours=2), now - timedelta(hours=1))
        record_notification(
            store,
            NotificationRecord(
                probe="laptop",
                channel="team",
                kind="change",
                verdict="upstream",
                confidence="high",
                answer="upstream",
                episode_start=now - timedelta(hours=2),
                decided_at=now - timedelta(hours=1),
                sent_at=now - timedelta(hours=1),
                attempts=1,
                error=None,
                title="github: upstream",
                body="body",
            ),
        )
    finally:
        store.close()
    lines = [
        {"at": (now - timedelta(minutes=m)).isoformat(), "error": "API Error: 500", "target": "x"}
        for m in (50, 40)
    ]
    (path.parent / "tool.log").write_text("".join(json.dumps(line) + "\n" for line in lines))


def strings(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a JSON document, keys too, with where it was found."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key, f"{where}.{key} (key)")
            yield from strings(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, f"{where}[{index}]")


@pytest.mark.parametrize("command", sorted(COMMANDS), ids=" ".join)
def test_every_time_in_its_json_is_rfc3339_utc_with_z(
    command: tuple[str, ...], config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [a.replace("{log}", str(config.parent / "tool.log")) for a in COMMANDS[command]]
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config), *args, "--json"])
    out, err = capsys.readouterr()
    assert exited.value.code in (0, None), err

    times = [(where, s) for where, s in strings(json.loads(out)) if TIME_LIKE.fullmatch(s.strip())]
    wrong = [(where, s) for where, s in times if not RFC3339_UTC.fullmatch(s)]
    assert wrong == []
    assert bool(times) == (command not in TIMELESS)


@pytest.mark.parametrize(
    "text",
    ["2026-04-14T10:00:00+00:00", "2026-04-14 10:00", "2026-04-14T10:00:00", "2026-04-14T10:00Z"],
)
def test_a_time_written_another_way_is_caught(text: str) -> None:
    assert TIME_LIKE.fullmatch(text)
    assert not RFC3339_UTC.fullmatch(text)
