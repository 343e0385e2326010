"""The ``monitor`` command group and what every command shares.

Commands are thin: parse options, call the library, render. Loading the
config and opening the database happen lazily, once, through ``App``.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import click

from monitor import __version__
from monitor.escape import for_terminal

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.store import Store

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
F = TypeVar("F", bound=Callable[..., Any])


class App:
    """Per-invocation state: the config path given, and what was loaded from it."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._store: Store | None = None

    @cached_property
    def config(self) -> Config:
        from monitor.config import load_config

        return load_config(self.config_path)

    def store(self) -> Store:
        if self._store is None:
            from monitor.store import open_store

            self._store = open_store(self.config.database_url)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


# Command name -> "module:attribute". Commands are imported only when run
# (or listed by --help), so ``monitor why`` never pays for httpx, APScheduler
# or matplotlib: start-up time is part of answering quickly.
COMMANDS: dict[str, str] = {
    "run": "monitor.cli.run:run",
    "status": "monitor.cli.run:status",
    "probes": "monitor.cli.probes:probes",
    "poll": "monitor.cli.poll:poll",
    "sources": "monitor.cli.sources:sources",
    "incidents": "monitor.cli.upstream:incidents",
    "maintenances": "monitor.cli.upstream:maintenances",
    "check": "monitor.cli.checks:check",
    "results": "monitor.cli.checks:results",
    "import": "monitor.cli.importer:import_command",
    "prune": "monitor.cli.prune:prune_command",
    "token": "monitor.cli.token:token",
    "db": "monitor.cli.db:db",
    "why": "monitor.cli.why:why",
    "timeline": "monitor.cli.why:timeline",
    "report": "monitor.cli.report:report",
    "chart": "monitor.cli.chart:chart",
    "notify": "monitor.cli.notify:notify",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module_name, attribute = COMMANDS[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attribute)
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="monitor")
@click.option(
    "-c",
    "--config",
    "config_path",
    metavar="PATH",
    envvar="MONITOR_CONFIG",
    help="Config file. Default: $MONITOR_CONFIG, else ./config.toml.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default="warning",
    show_default=True,
    help="How much to log to stderr.",
)
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, log_level: str) -> None:
    """Is it me, or is it them? Record vendor status pages and explain failures.

    \b
    Examples:
      monitor poll                 poll every configured status page once
      monitor sources              last poll and component health per source
      monitor incidents --since '7d ago'
      monitor incidents --source github --json
    """
    handler = logging.StreamHandler()  # stderr
    handler.setFormatter(EscapingFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=log_level.upper(), handlers=[handler])
    # httpx logs every request URL at INFO; a URL can carry a token.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    app = App(config_path)
    ctx.obj = app
    ctx.call_on_close(app.close)


pass_app = click.make_pass_decorator(App)


class EscapingFormatter(logging.Formatter):
    """Log lines with the outside text in them escaped, like everything else printed.

    The service logs poll errors and check details; a vendor's newline in
    one must not forge a log line, nor its ESC reach the terminal. A
    traceback, added after the line, keeps its own line breaks, each of its
    lines escaped and scrubbed: an exception's message is outside text too.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:
        return for_terminal(super().formatMessage(record))

    def formatException(self, ei: Any) -> str:
        return _escaped_lines(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return _escaped_lines(super().formatStack(stack_info))


def _escaped_lines(text: str) -> str:
    """Each line scrubbed and escaped, its indentation kept (a traceback's shape)."""
    from monitor.redact import redact_text

    lines = []
    for line in text.splitlines():
        body = line.lstrip(" ")
        indent = line[: len(line) - len(body)]
        lines.append(indent + for_terminal(redact_text(body, limit=len(body) + 64)))
    return "\n".join(lines)


@contextmanager
def usage_errors() -> Iterator[None]:
    """A parameter that cannot be read (``ParamError``) is a usage error naming its option."""
    from monitor.views.params import ParamError

    try:
        yield
    except ParamError as exc:
        raise click.BadParameter(exc.message, param_hint=f"'{exc.option}'") from None


def time_bounds(
    since: str | None, until: str | None, tz_name: str | None
) -> tuple[datetime | None, datetime | None]:
    """Parse ``--since``/``--until`` in ``--tz``; a bad value is a usage error naming it."""
    from monitor.views.params import time_param, zone_param

    now = datetime.now(UTC)
    with usage_errors():
        tz = zone_param(tz_name)
        return tuple(  # type: ignore[return-value]
            time_param(text, hint, now=now, tz=tz) if text is not None else None
            for hint, text in (("--since", since), ("--until", until))
        )


def json_option(f: F) -> F:
    """``--json``: print machine-readable output instead of a table."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(f)
