"""Command-line entry point: ``monitor`` (also ``python -m monitor``).

Exit status: 0 success, 1 something failed (a poll, the database), 2 usage
or configuration error. Errors go to stderr, data to stdout. An error message
may quote outside text (a vendor's answer, a path, a name typed), so it is
escaped like everything else printed.
"""

from __future__ import annotations

import os
import sys
import threading

import click

from monitor.cli.app import cli
from monitor.errors import ConfigError, MonitorError
from monitor.escape import for_terminal

EXIT_FAILED = 1
EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> None:
    """Run the CLI, turning library errors into a message and an exit status."""
    try:
        # Outside standalone mode click returns ctx.exit()'s code instead of exiting.
        status = cli.main(args=argv, prog_name="monitor", standalone_mode=False)
    except click.ClickException as exc:
        # show() prints the message (one line, click's or ours, which may quote
        # what was typed or read) after click's own usage and hint. ``message`` is
        # Final to type checkers only.
        object.__setattr__(exc, "message", for_terminal(exc.message))
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        _error("Aborted.")
        sys.exit(EXIT_FAILED)
    except ConfigError as exc:
        # One line per problem, by design: the text is from the user's own config
        # file, so its line breaks are kept; each line is escaped all the same.
        _error(*f"error: {exc}".split("\n"))
        sys.exit(EXIT_USAGE)
    except MonitorError as exc:
        _error(f"error: {exc}")
        sys.exit(EXIT_FAILED)
    except Exception as exc:
        # sqlalchemy is imported by the commands that need it, not here.
        sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")
        if sqlalchemy_exc is None or not isinstance(exc, sqlalchemy_exc.SQLAlchemyError):
            raise
        detail = (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]
        _error(f"error: database: {detail}")
        sys.exit(EXIT_FAILED)
    sys.exit(status if isinstance(status, int) else 0)


def _error(*lines: str) -> None:
    """Print ``lines`` to stderr, each escaped (``render.echo``).

    Imported here, not at the top: ``monitor --help`` and a usage error
    never need the renderer (nor the time and zone modules it imports).
    """
    from monitor.cli.render import echo

    echo(*lines, err=True)


def entry() -> None:
    """The installed ``monitor`` command (and ``python -m monitor``): ``main``, then exit fast.

    Tearing the interpreter down (unloading SQLAlchemy, pydantic and their
    caches) is a sizeable share of a short command like ``monitor why``, and frees nothing
    the operating system would not. So once nothing else is running, output
    is flushed and the process ends at once. Whenever another non-daemon
    thread is still alive, the normal exit runs instead, so no worker is cut
    short. ``main`` itself keeps raising SystemExit, for tests to call it.
    """
    try:
        main()
        code: object = 0
    except SystemExit as done:
        code = done.code
    if not isinstance(code, int):
        if code is not None:
            _error(str(code))
        code = 0 if code is None else EXIT_FAILED
    logging = sys.modules.get("logging")  # imported only if something logged or could have
    if logging is not None:
        logging.shutdown()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: nothing more can be said
        code = code or EXIT_FAILED
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if others:
        sys.exit(code)
    os._exit(code)
