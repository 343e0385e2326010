"""``monitor token set NAME``: give an ``oauth_refresh`` check its own refresh token.

The token is read from standard input, never from an argument (which would
land in shell history and the process list), and never printed back: only
its fingerprint, so a user can tell which token is stored.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

import click

from monitor.cli.app import App, pass_app
from monitor.cli.render import echo
from monitor.escape import for_terminal

if TYPE_CHECKING:  # the check modules import httpx, pydantic and the store's files
    from monitor.checks.settings import OAuthRefreshCheck
    from monitor.config import Config

OAUTH_REFRESH = "oauth_refresh"


@click.group()
def token() -> None:
    """Manage monitor's own OAuth refresh tokens (for oauth_refresh checks).

    These are tokens of a grant made for monitor, kept in 0600 files under
    the state folder beside the config; never your tools' own credentials.

    \b
    Example:
      monitor token set claude-refresh < token.txt
    """


@token.command("set")
@click.argument("name")
@pass_app
def set_token(app: App, name: str) -> None:
    """Store the refresh token for the oauth_refresh check NAME, read from standard input.

    At a terminal the token is asked for without echo; otherwise the first
    line of standard input is read. The file is replaced atomically and
    only the token's fingerprint is printed.

    \b
    Examples:
      monitor token set claude-refresh
      pass show monitor/refresh | monitor token set claude-refresh
    """
    from monitor.checks.context import CheckContext
    from monitor.checks.tokenstore import (
        TokenBusy,
        default_state_dir,
        fingerprint,
        refresh_lock,
        token_file_path,
        write_token,
    )

    settings = _refresh_check(app.config, name)
    value = _read_token(name)
    config = app.config
    context = CheckContext(config_dir=config.path.parent, state_dir=default_state_dir(config.path))
    path = token_file_path(settings, context)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # The same lock a refresh holds: never replace the file under a
        # refresh that is about to save its rotated token.
        with refresh_lock(path, wait_s=LOCK_WAIT_S, name=name):
            write_token(path, value, settings.client_id, datetime.now(UTC))
    except TokenBusy:
        raise click.ClickException(
            f"a refresh of {name} is in progress; run the command again in a moment"
        ) from None
    except OSError as exc:
        raise click.ClickException(
            f"cannot write token file {path}: {exc.strerror or exc}"
        ) from None
    echo(f"stored refresh token for {name} in {path} (fingerprint {fingerprint(value)}…)")


LOCK_WAIT_S = 15.0


def _refresh_check(config: Config, name: str) -> OAuthRefreshCheck:
    """The ``[[check]]`` called ``name``; a usage error if it is missing or of another kind."""
    from monitor.checks.settings import OAuthRefreshCheck

    refresh_names = ", ".join(c.name for c in config.checks if c.kind == OAUTH_REFRESH) or "none"
    for check in config.checks:
        if check.name != name:
            continue
        if isinstance(check, OAuthRefreshCheck):
            return check
        raise click.BadParameter(
            f"check {name!r} is of kind {check.kind!r}; tokens are stored only for "
            f"{OAUTH_REFRESH} checks (configured {OAUTH_REFRESH} checks: {refresh_names})",
            param_hint="'NAME'",
        )
    raise click.BadParameter(
        f"no check named {name!r} in {config.path} "
        f"(configured {OAUTH_REFRESH} checks: {refresh_names})",
        param_hint="'NAME'",
    )


def _read_token(name: str) -> str:
    """One line from stdin; hidden prompt at a terminal. Surrounding whitespace is dropped."""
    stdin = sys.stdin  # CliRunner swaps it too; click.get_text_stream is deprecated
    if _is_terminal(stdin):
        value = click.prompt(
            f"Refresh token for {for_terminal(name)}", hide_input=True, err=True, show_default=False
        )
    else:
        value = stdin.readline()
    value = str(value).strip()
    if not value:
        raise click.UsageError("no refresh token read from standard input")
    if any(ch.isspace() for ch in value):
        raise click.UsageError("a refresh token has no spaces: is this the right value?")
    return value


def _is_terminal(stream: TextIO) -> bool:
    """A person typing (prompt without echo) rather than a pipe or a file."""
    return stream.isatty()
