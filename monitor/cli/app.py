"""The ``monitor`` command group and what every command shares.

Commands are thin: parse options, call the library, render. Loading the
config and opening the database happen lazily, once, through ``App``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import click

from monitor import __version__

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

    from monitor.config import Config
    from monitor.store import Store
    from monitor.store.sqlread import Reader

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
# What click's ``Command.get_short_help_str()`` keeps of a help by default.
COMPLETION_HELP_LIMIT = 45
F = TypeVar("F", bound=Callable[..., Any])


# Commands that may be answered by the running service (monitor/cli/remote.py).
# Such an answer logs nothing, and setting logging up (importing it) is a
# tenth of what the answer may cost, so for these it waits until the command
# loads the config or opens the database itself.
ANSWERED_BY_SERVICE = frozenset({"why", "timeline", "status"})


class App:
    """Per-invocation state: the config path given, and what was loaded from it."""

    def __init__(
        self, config_path: str | None, *, log_level: str = "warning", log_format: str = "plain"
    ) -> None:
        self.config_path = config_path
        self.log_level = log_level
        self.log_format = log_format
        self._logging = False
        self._store: Store | None = None
        self._reader: Reader | None = None

    def start_logging(self) -> None:
        """Log to stderr as ``--log-level`` and ``--log-format`` say (once)."""
        if not self._logging:
            from monitor.logs import configure

            self._logging = True
            configure(self.log_level, self.log_format)

    @cached_property
    def config(self) -> Config:
        from monitor.config import load_config

        self.start_logging()
        return load_config(self.config_path)

    def store(self) -> Store:
        if self._store is None:
            from monitor.store import open_store

            self.start_logging()
            self._store = open_store(self.config.database_url)
        return self._store

    def reader(self) -> Reader:
        """The database to read (one read transaction), without SQLAlchemy when it can be.

        A database already at the schema's head is read through its driver
        alone (``sqlread.open_reader``); any other is opened as ``store()``
        opens it (migrated first), and read on one of its connections.
        """
        if self._reader is None:
            from monitor.store.sqlread import open_reader

            self.start_logging()
            self._reader = open_reader(self.config.database_url) or self.store().reader()
        return self._reader

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        if self._store is not None:
            self._store.close()


class Entry(NamedTuple):
    """Where a command lives ("module:attribute"), and its one line for the command list."""

    target: str
    short_help: str


# Command name -> where it lives and what ``monitor --help`` says of it. Commands
# are imported only when run, so ``monitor why`` never pays for httpx,
# APScheduler or matplotlib, and listing them imports none at all: start-up
# time is part of answering quickly. Each short help is the command's own
# (``get_short_help_str``); tests/test_cli_startup.py fails when they drift.
COMMANDS: dict[str, Entry] = {
    "run": Entry(
        "monitor.cli.run:run",
        "Keep every source polled and every check run on its interval, until stopped.",
    ),
    "status": Entry(
        "monitor.cli.run:status",
        "Is a service running for this database and probe, and what is failing now?",
    ),
    "probes": Entry(
        "monitor.cli.probes:probes",
        "Every probe writing into this database: is its service running, and what does it run?",
    ),
    "poll": Entry(
        "monitor.cli.poll:poll",
        "Poll the named status sources (default: all enabled) once and record what changed.",
    ),
    "sources": Entry(
        "monitor.cli.sources:sources",
        "Show each configured source: last poll, its outcome, and component health.",
    ),
    "incidents": Entry(
        "monitor.cli.upstream:incidents", "List recorded upstream incidents, newest first."
    ),
    "maintenances": Entry(
        "monitor.cli.upstream:maintenances", "List recorded maintenance windows, newest first."
    ),
    "check": Entry(
        "monitor.cli.checks:check",
        "Run the named checks (default: all enabled) once now, concurrently, and record them.",
    ),
    "results": Entry("monitor.cli.checks:results", "List recorded check runs, newest first."),
    "import": Entry(
        "monitor.cli.importer:import_command",
        "Import failures your own tools logged (FILE, or - for stdin) to line up with incidents.",
    ),
    "prune": Entry(
        "monitor.cli.prune:prune_command",
        "Fold old check runs into hourly rollups and delete them, now.",
    ),
    "token": Entry(
        "monitor.cli.token:token",
        "Manage monitor's own OAuth refresh tokens (for oauth_refresh checks).",
    ),
    "db": Entry("monitor.cli.db:db", "Database maintenance commands."),
    "notify": Entry(
        "monitor.cli.notify:notify",
        "Notifications when the answer changes: try the channels, list them.",
    ),
    "why": Entry(
        "monitor.cli.why:why",
        "Explain failures at a moment: upstream, local, network, or not enough evidence.",
    ),
    "timeline": Entry(
        "monitor.cli.why:timeline",
        "Local failure windows and upstream windows merged in time order.",
    ),
    "report": Entry(
        "monitor.cli.report:report",
        "Declared versus seen: how well each status page told the truth.",
    ),
    "chart": Entry(
        "monitor.cli.chart:chart",
        "Draw uptime, upstream-vs-checks and latency charts, and an index.html to open.",
    ),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use, and listed without importing any."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module_name, attribute = COMMANDS[cmd_name].target.split(":")
            command = getattr(importlib.import_module(module_name), attribute)
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list as click writes it, from ``COMMANDS``: nothing is imported."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, shorten(self._short_help(name, limit), limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        """As click's, from ``COMMANDS``: completing ``monitor <TAB>`` imports no command."""
        from click.shell_completion import CompletionItem

        results = [
            CompletionItem(name, help=self._completion_help(name))
            for name in self.list_commands(ctx)
            if name.startswith(incomplete)
            and (name not in self.commands or not self.commands[name].hidden)
        ]
        results.extend(click.Command.shell_complete(self, ctx, incomplete))
        return results

    def _completion_help(self, name: str) -> str:
        """The help a completion shows: click's ``get_short_help_str()`` (45 characters)."""
        if name in self.commands:
            return self.commands[name].get_short_help_str()
        return shorten(COMMANDS[name].short_help, COMPLETION_HELP_LIMIT)

    def _short_help(self, name: str, limit: int) -> str:
        if name in COMMANDS:
            return COMMANDS[name].short_help
        return self.commands[name].get_short_help_str(limit)  # added in code, already loaded

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """As click's, but "did you mean" looks among every command, loaded or not."""
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:
            from monitor.suggest import did_you_mean

            hint = did_you_mean(exc.command_name, self.list_commands(ctx))
            message = f"No such command {exc.command_name!r}."
            if hint:
                message += f" {hint[:1].upper()}{hint[1:]}"
            raise click.exceptions.NoSuchCommand(exc.command_name, message, ctx=ctx) from None


def shorten(text: str, limit: int) -> str:
    """A short help cut to ``limit`` characters as click cuts it (``...`` at a word boundary)."""
    if len(text) <= limit:
        return text
    if limit < len("..."):
        return "..."
    import textwrap

    return textwrap.shorten(text, limit, placeholder="...", break_on_hyphens=False)


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
@click.option(
    "--log-format",
    type=click.Choice(["plain", "json"]),
    default="plain",
    show_default=True,
    help="Log lines for people (plain; no time of its own under systemd's journal) "
    "or machines (JSON lines).",
)
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, log_level: str, log_format: str) -> None:
    """Is it me, or is it them? Record vendor status pages and explain failures.

    \b
    Examples:
      monitor run                  keep polling and checking (the service)
      monitor why                  is it me or them, right now?
      monitor why --at "2h ago"    ... or at a moment
      monitor import tool.log      line your own tool's failures up too
      monitor status               is the service up, and what fails now
      monitor incidents --since '7d ago'
      monitor incidents --source github --json
    """
    app = App(config_path, log_level=log_level, log_format=log_format)
    if ctx.invoked_subcommand not in ANSWERED_BY_SERVICE:
        app.start_logging()
    ctx.obj = app
    ctx.call_on_close(app.close)


pass_app = click.make_pass_decorator(App)


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
