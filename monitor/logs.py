"""Log lines for people and for machines, to stderr, with outside text made harmless.

Two formats (``--log-format``): ``plain``, one line per record with the
time, level, logger and message; and ``json``, one JSON object per line
with the same keys plus whatever structured fields a record carries
(``extra={"fields": {...}}``: what changed state, its failure class, for
how long). Under systemd the journal stamps each line itself, so ``plain``
leaves its own time out and starts with the ``<N>`` priority prefix the
journal reads (sd-daemon(3)): ``journalctl -p warning`` then works.

Either way a vendor's newline in a message cannot forge a log line, nor its
ESC reach a terminal: ``plain`` escapes as everything printed is escaped,
``json`` escapes as JSON (and writes the characters JSON leaves raw as
``\\u`` escapes). A traceback is outside text too: each of its lines is
scrubbed of secrets.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import IO, Any

from monitor.escape import for_terminal, for_terminal_json

PLAIN = "%(asctime)s %(levelname)s %(name)s %(message)s"
# The journal adds the time (and the unit, the pid) itself.
JOURNAL = "<%(priority)d>%(levelname)s %(name)s %(message)s"
# syslog priorities (RFC 5424) by logging level, for the journal's ``<N>`` prefix.
PRIORITIES = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}
# The HTTP clients log every request URL at INFO; a URL can carry a token.
QUIETED = ("httpx", "httpcore")


def configure(level: str, log_format: str, stream: IO[str] | None = None) -> None:
    """Send records at ``level`` and above to ``stream`` (stderr), ``plain`` or ``json``."""
    target = sys.stderr if stream is None else stream
    handler = logging.StreamHandler(target)
    handler.setFormatter(formatter(log_format, under_journal(target)))
    logging.basicConfig(level=level.upper(), handlers=[handler])
    for noisy in QUIETED:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


def formatter(log_format: str, journal: bool = False) -> logging.Formatter:
    """The formatter for ``log_format``; ``journal``: the plain lines the journal wants."""
    if log_format == "json":
        return JsonFormatter()
    if journal:
        return JournalFormatter(JOURNAL)
    return EscapingFormatter(PLAIN)


def under_journal(stream: IO[str], environ: dict[str, str] | None = None) -> bool:
    """Whether ``stream`` is connected to the systemd journal.

    systemd sets ``JOURNAL_STREAM=DEVICE:INODE`` for a service whose output
    goes to the journal; the variable is inherited by children whose output
    may go elsewhere, so it counts only when it names this very stream's
    file (systemd.exec(5)).
    """
    value = (os.environ if environ is None else environ).get("JOURNAL_STREAM", "")
    device, _, inode = value.partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    try:
        status = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):  # no file behind it (a test's buffer)
        return False
    return (status.st_dev, status.st_ino) == (int(device), int(inode))


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
        return escaped_lines(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return escaped_lines(super().formatStack(stack_info))


class JournalFormatter(EscapingFormatter):
    """Plain lines for the journal: its ``<N>`` priority first, no time of our own."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.priority = PRIORITIES.get(record.levelno, 6)
        return super().formatMessage(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the record's ``fields``.

    Strings are escaped as JSON, so a line break or an ESC in them stays
    inside the value; a traceback goes whole into ``exception``, each line
    scrubbed of secrets as the plain format does.
    """

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": _utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            document |= {k: v for k, v in fields.items() if k not in document}
        if record.exc_info:
            document["exception"] = scrubbed_lines(self.formatException(record.exc_info))
        if record.stack_info:
            document["stack"] = scrubbed_lines(self.formatStack(record.stack_info))
        return for_terminal_json(json.dumps(document, ensure_ascii=False, default=str))


def _utc(created: float) -> str:
    """``2026-04-14T10:00:00.123Z``: a record's time, UTC, to the millisecond."""
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def scrubbed_lines(text: str) -> str:
    """Each line of a traceback scrubbed of secrets, its indentation kept."""
    from monitor.redact import redact_text

    lines = []
    for line in text.splitlines():
        body = line.lstrip(" ")
        lines.append(line[: len(line) - len(body)] + redact_text(body, limit=len(body) + 64))
    return "\n".join(lines)


def escaped_lines(text: str) -> str:
    """Each line scrubbed and escaped, its indentation kept (a traceback's shape)."""
    lines = []
    for line in scrubbed_lines(text).splitlines():
        body = line.lstrip(" ")
        lines.append(line[: len(line) - len(body)] + for_terminal(body))
    return "\n".join(lines)
