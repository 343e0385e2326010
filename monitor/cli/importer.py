"""``monitor import``: failures the user's own tools logged, as evidence for ``why``."""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from monitor.cli.app import App, json_option, pass_app, usage_errors
from monitor.cli.render import echo, echo_json, short_time
from monitor.times import TIME_HELP, zone
from monitor.views.params import moment_param
from monitor.views.text import counted

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.observed import ObservedLine, ParsedLine, RejectedLine

PROGRESS_BYTES = 5 * 1024 * 1024  # larger files show a progress bar on a terminal
SHOWN_UNREADABLE = 5  # lines listed on stderr
JSON_UNREADABLE = 100  # lines listed in --json (``unreadable`` is the full count)
# Bytes of one line read at the most: an error a tool logged fits many times
# over, and a longer line is skipped unread, so memory stays bounded whatever
# the input.
LINE_CAP = 64 * 1024
# A "line" still going after this many bytes is no log (/dev/zero, a binary
# piped in by mistake): the import stops there, keeping what it read before.
RUNAWAY_LINE = 16 * 1024 * 1024


@click.command("import")
@click.argument("file", metavar="FILE")
@click.option(
    "--source",
    metavar="NAME",
    help="The configured status source these calls depend on, recorded with each failure. "
    "Default: the one source the vendor checks depend on, else the first configured "
    "source, else none.",
)
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["auto", "jsonl", "text"]),
    default="auto",
    show_default=True,
    help='jsonl: one {"at", "error", "target"} object a line; text: a timestamp '
    "then the error; auto: jsonl if the first line starts with '{'.",
)
@click.option(
    "--tz", "tz_name", metavar="ZONE", help="Zone for times without one. Default: local time."
)
@click.option(
    "--at",
    "at_text",
    metavar="TIME",
    help="When lines without a timestamp happened (terminal output), and the year a syslog "
    f"date leaves out: {TIME_HELP}.",
)
@json_option
@pass_app
def import_command(
    app: App,
    file: str,
    source: str | None,
    file_format: str,
    tz_name: str | None,
    at_text: str | None,
    as_json: bool,
) -> None:
    """Import failures your own tools logged (FILE, or - for stdin) to line up with incidents.

    Each line becomes one failure with a time, a failure class read from its
    error text (auth_rejected, server_error, timeout, dns_failure, ...) and
    an optional target. In text, lines that continue an entry (indented
    stack frames, "Caused by:", a Python traceback) are part of it and help
    classify it. A syslog or journalctl date has no year: it is the one
    nearest --at (else now), never more than a day ahead, so without --at
    the most recent such date. Lines without a time take --at, if given.
    Secrets in the text (sk-... keys, Bearer tokens) are redacted before
    anything is stored or printed. Importing the same file
    again adds nothing; unreadable lines are counted and shown, never
    silently dropped. A line is read 64 KiB at the most (a longer one is
    skipped); input running 16 MiB without a line break is no log, and the
    import stops there. Exit status 0 when the import ran, 1 if FILE cannot
    be read or the import stopped (what was read before is kept), 2 for a
    bad option.

    \b
    JSONL: {"at": "2026-04-14T09:41:07Z", "error": "API Error: 401 ...", "target": "api"}
    Text:  2026-04-14T09:41:07.123Z ERROR API Error: 401 {"type":"error",...}
           [2026-04-14 09:41:07] OAuth error: Request failed with status code 500
           Apr 14 09:41:07 laptop claude[4121]: API Error: 401 ...

    \b
    Examples:
      monitor import ~/claude-errors.jsonl
      monitor import tool.log --format text --tz Europe/Berlin --source claude
      grep -h 'API Error' ~/logs/*.log | monitor import - --json
      journalctl --user -u claude --since today | monitor import -
      monitor import pasted-terminal.txt --at "yesterday 15:30"
    """
    try:
        tz = zone(tz_name)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--tz'") from None
    now = datetime.now(UTC)
    at = _given_time(at_text, tz, now)
    chosen = _source(app.config, source)
    with contextlib.ExitStack() as stack:
        try:
            stream, size = _open(file, stack)
        except OSError as exc:
            echo(f"error: cannot read {file}: {exc.strerror or exc}", err=True)
            raise click.exceptions.Exit(1) from None
        try:
            tally = _import(app, stream, size, file, chosen, file_format, tz, now=now, at=at)
        except OSError as exc:  # a read failing mid-file (what was read is kept)
            echo(f"error: cannot read {file}: {exc.strerror or exc}", err=True)
            raise click.exceptions.Exit(1) from None
    _report(tally, file, chosen, as_json)
    if tally.stopped:
        echo(f"error: {tally.stopped}", err=True)
        raise click.exceptions.Exit(1)


@dataclass
class _Tally:
    """What one import read, counted while the rows stream into the database."""

    read: int = 0
    new: int = 0
    classes: Counter[str] = field(default_factory=Counter)
    rejected: list[RejectedLine] = field(default_factory=list)
    unreadable: int = 0
    first: datetime | None = None
    last: datetime | None = None
    stopped: str | None = None  # why the import ended before the input did

    def reject(self, line: RejectedLine) -> None:
        self.unreadable += 1
        if len(self.rejected) < JSON_UNREADABLE:
            self.rejected.append(line)

    def count(self, items: Iterable[ParsedLine]) -> Iterator[ObservedLine]:
        from monitor.observed import RejectedLine

        for item in items:
            if isinstance(item, RejectedLine):
                self.reject(item)
                continue
            self.read += 1
            self.classes[item.failure_class] += 1
            self.first = item.at if self.first is None else min(self.first, item.at)
            self.last = item.at if self.last is None else max(self.last, item.at)
            yield item


def _import(
    app: App,
    stream: IO[bytes],
    size: int | None,
    file: str,
    source: str | None,
    file_format: str,
    tz: tzinfo | None,
    *,
    now: datetime,
    at: datetime | None,
) -> _Tally:
    from monitor.observed import detect_format, parse_jsonl, parse_text
    from monitor.store.observed import record_observations

    store = app.store()
    tally = _Tally()
    with contextlib.ExitStack() as stack:
        progress: Callable[[int], None] | None = None
        if size is not None and size > PROGRESS_BYTES and sys.stderr.isatty():
            # Not on a pipe: click would print the label there once, as noise.
            bar = click.progressbar(length=size, label="importing", file=sys.stderr)
            progress = stack.enter_context(bar).update
        lines = _decoded(stream, progress, tally)
        head: list[str] = []
        for line in lines:
            head.append(line)
            if line.strip() and not line.lstrip().startswith("#"):
                break
        if file_format == "auto":
            file_format = detect_format(head[-1] if head else "")
        parse = parse_jsonl if file_format == "jsonl" else parse_text
        parsed = parse(itertools.chain(head, lines), tz=tz, now=now, at=at)
        origin = "stdin" if file == "-" else str(Path(file).expanduser().resolve())
        tally.new = record_observations(
            store, tally.count(parsed), origin=origin, source=source, imported_at=now
        )
    return tally


_BOM = b"\xef\xbb\xbf"


def _content(raw: bytes, number: int) -> bytes:
    """A line's bytes less its line break, and less a byte order mark on the first line."""
    content = raw.rstrip(b"\r\n") if raw.endswith(b"\n") else raw
    return content.removeprefix(_BOM) if number == 1 else content


def _decoded(
    stream: IO[bytes], progress: Callable[[int], None] | None, tally: _Tally
) -> Iterator[str]:
    """Lines as text, read at most ``LINE_CAP`` bytes at a time; a bad byte becomes U+FFFD.

    A longer line is passed over unread (an empty line stands in for it, so
    the lines after it keep their numbers) and counted unreadable; one that
    runs past ``RUNAWAY_LINE`` ends the import (``tally.stopped`` says why).
    """
    from monitor.observed import RejectedLine

    pending = 0
    number = 0
    # Room for a byte order mark and a CRLF beyond the cap: they are not the line.
    while raw := stream.readline(LINE_CAP + len(_BOM) + 2):
        number += 1
        size = len(raw)
        if len(_content(raw, number)) > LINE_CAP or (not raw.endswith(b"\n") and size > LINE_CAP):
            ended = raw.endswith(b"\n")
            while not ended and size <= RUNAWAY_LINE:
                raw = stream.readline(LINE_CAP)
                size += len(raw)
                ended = not raw or raw.endswith(b"\n")
            if not ended:
                tally.stopped = (
                    f"line {number} runs past {RUNAWAY_LINE // (1 << 20)} MiB without a "
                    "line break: this is not a log of lines; stopped there, keeping what "
                    "was read before it"
                )
                return
            tally.reject(
                RejectedLine(number, f"longer than {LINE_CAP // 1024} KiB ({size} bytes); skipped")
            )
            raw = b"\n"
        line = raw.decode("utf-8", "replace")
        yield line.removeprefix("\ufeff") if number == 1 else line
        if progress is not None:
            pending += size
            if pending >= 1 << 20:
                progress(pending)
                pending = 0
    if progress is not None and pending:
        progress(pending)


def _open(file: str, stack: contextlib.ExitStack) -> tuple[IO[bytes], int | None]:
    """FILE as bytes with its size (None for stdin, which is left open)."""
    if file == "-":
        return sys.stdin.buffer, None
    path = Path(file).expanduser()
    if path.is_dir():
        raise IsADirectoryError(21, "is a directory")
    stream = stack.enter_context(path.open("rb"))
    return stream, os.fstat(stream.fileno()).st_size


def _given_time(text: str | None, tz: tzinfo | None, now: datetime) -> datetime | None:
    """``--at``, read as ``why --at`` reads it; a time after now is a usage error."""
    if text is None:
        return None
    with usage_errors():
        return moment_param(
            text, "--at", now=now, tz=tz, because="the output was written before now"
        )


def _source(config: Config, given: str | None) -> str | None:
    """``--source``, checked against the config; else the config's evident vendor source."""
    names = [s.name for s in config.sources]
    if given is not None:
        if given not in names:
            known = ", ".join(names) or "none"
            raise click.BadParameter(
                f"no source named {given!r} in {config.path} (configured: {known})",
                param_hint="'--source'",
            )
        return given
    depended = {c.depends_on.source for c in config.checks if c.role == "vendor" and c.depends_on}
    if len(depended) == 1:
        return depended.pop()
    return names[0] if names else None


def _report(tally: _Tally, file: str, source: str | None, as_json: bool) -> None:
    from monitor.times import isoformat_z

    duplicates = tally.read - tally.new
    if as_json:
        echo_json(
            {
                "file": file,
                "source": source,
                "new": tally.new,
                "duplicates": duplicates,
                "unreadable": tally.unreadable,
                "unreadable_lines": [{"line": r.line, "reason": r.reason} for r in tally.rejected],
                "stopped": tally.stopped,
                "classes": dict(tally.classes.most_common()),
                "first": isoformat_z(tally.first),
                "last": isoformat_z(tally.last),
            }
        )
        return
    shown = "stdin" if file == "-" else file
    echo(
        f"imported {counted(tally.new, 'new failure')} ({duplicates} already known) "
        f"from {shown}, {counted(tally.unreadable, 'line')} unreadable"
    )
    if tally.read:
        span = f"{short_time(tally.first)} to {short_time(tally.last)}"
        echo(f"  {counted(tally.read, 'failure')} read, {span}, source {source or '-'}")
        width = max(len(name) for name in tally.classes)
        for name, count in tally.classes.most_common():
            echo(f"  {name.ljust(width)}  {count}")
    for rejected in tally.rejected[:SHOWN_UNREADABLE]:
        echo(f"line {rejected.line}: {rejected.reason}", err=True)
    if tally.unreadable > SHOWN_UNREADABLE:
        echo(f"... and {tally.unreadable - SHOWN_UNREADABLE} more unreadable lines", err=True)
