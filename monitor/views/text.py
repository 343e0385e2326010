"""Text shapes every output shares: JSON documents, lines, aligned tables, short times.

Each function returns the exact text to print (without the final newline)
and escapes outside text (incident titles, component names, error texts,
URLs, check details) with ``monitor.escape`` on the way: a vendor's string
is shown, never obeyed by a terminal. The CLI prints these strings, the
HTTP API sends them; neither escapes again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from monitor.escape import for_terminal, for_terminal_json
from monitor.times import isoformat_z

# A cell holds one value, a line several. Past these lengths the value is cut
# with a marker: a runaway title must not bury the answer (``--json`` has it whole).
CELL_LIMIT = 500
LINE_LIMIT = 2000


def json_text(value: Any) -> str:
    """``value`` as JSON: exact strings, with nothing in them a terminal would obey.

    A datetime is written as every JSON time is, RFC 3339 UTC with ``Z``
    (``isoformat_z``), so a view that hands one over cannot drift to
    ``+00:00``; anything else JSON cannot hold is still a TypeError.
    """
    import json  # here, not at the top: a command answered by the service never needs it

    return for_terminal_json(json.dumps(value, indent=2, ensure_ascii=False, default=_json_default))


def _json_default(value: object) -> str | None:
    if isinstance(value, datetime):
        return isoformat_z(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def lines_text(*lines: str) -> str:
    """The lines, each escaped on its own: a newline inside one is shown as ``\\n``.

    Only the line breaks between ``lines`` are real, so outside text inside a
    line can never start a line of its own.
    """
    return "\n".join(for_terminal(line, limit=LINE_LIMIT) for line in lines)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns; the last column is not padded so long titles wrap naturally.

    Every cell is escaped (and cut past ``CELL_LIMIT``) before the columns are
    measured, so the columns line up on what is shown.
    """
    shown = [[for_terminal(str(c), limit=CELL_LIMIT) for c in row] for row in [headers, *rows]]
    widths = [max(len(r[i]) for r in shown) for i in range(len(headers))]
    lines = []
    for row in shown:
        cells = [c.ljust(w) for c, w in zip(row[:-1], widths[:-1], strict=True)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def ago(value: datetime | None, now: datetime) -> str:
    """``3m ago``: how stale a value is, at a glance."""
    if value is None:
        return "never"
    seconds = int((now - value).total_seconds())
    if seconds < 0:
        return "in the future"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def counted(count: int, noun: str) -> str:
    """``1 failure``, ``3 failures``: a count reads as English, not as ``1 failures``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
