"""How a text log is laid out: where each entry starts, and which lines carry on from it.

Pure and streaming: ``entries`` reads lines one at a time and holds at most
one entry back (to join its continuation lines), so an endless input is read
in bounded memory. It says nothing about what an entry means: classifying
and redacting its text is ``monitor.observed``'s job.

An entry starts at a line with a timestamp, either ISO 8601
(``2026-04-14T09:41:07Z ...``, ``[2026-04-14 09:41:07] ...``, journald's
``-o short-iso``, Go's ``2026/04/14 09:41:07``) or syslog's (``Apr 14
11:45:01 host prog[123]: ...``, as ``journalctl`` prints by default), and
runs on over the lines that continue it: indented lines (stack frames,
wrapped text), ``Caused by:``, ``... 5 more``, a Python traceback down to
its closing ``ValueError: ...`` line, and under a stamped line the
``java.net.ConnectException: ...`` a Java logger writes before the frames.
A line that starts with a date or time in another shape is an entry whose
time cannot be read (``problem``); any other line starts an entry without a
time. Frames (``at ...``, a traceback's ``File ...`` and source lines) join
their entry but not its text: they say where, never why.

The rule for a stamped line: it is a line of its own, a failure of its own,
unless it is visibly a piece of an open traceback its writer is writing
(rsyslog stamps each line of one). So it joins the entry above only when
all of these hold: the same writer wrote both (syslog's ``host prog[pid]``,
read only after a syslog stamp or an ISO one in the syslog layout, with a
zone and a pid: an app log's ``ERROR worker:`` names no writer); it is
within ``SAME_MOMENT`` of the entry's *first* stamp (a window that never
slides, so a stream of lines cannot grow one entry for ever); and the entry
is inside a traceback (its message started ``Traceback (most recent call
last):``, or a traceback opened under it) and the line is indented, a ``File
"..."`` frame, or the exception line that closes it, or, once a traceback
closed, the ``During handling of the above exception`` that chains the next.
An exception's line is never joined to an entry that is no traceback: two
failures one program logs in the same second are two failures, and the
second may be the 401 the first would hide.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta, tzinfo
from typing import NamedTuple

from monitor.times import MONTHS, wall_time

# Characters of continuation text one entry keeps, in whole lines. The
# classifier reads a quarter of this once redacted, so a longer trace adds
# nothing but memory; the lines past it are still taken as the entry's.
ENTRY_CAP = 8000
# A yearless syslog date is never read as further ahead of now than this.
AHEAD = timedelta(days=1)

_ISO_STAMP = re.compile(
    r"\s*(?P<open>\[)?(?P<date>\d{4}(?P<sep>[-/])\d{2}(?P=sep)\d{2})"
    r"[T ](?P<time>\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)"
    r"(?P<zone>Z|[+-]\d{2}(?::?\d{2})?|\s[+-]\d{2}:?\d{2}\b|\s(?:UTC|GMT)\b)?"
    r"(?(open)\])(?P<rest>.*)",
    re.IGNORECASE | re.DOTALL,
)
# RFC 3164 as syslog and journald write it: the day padded with a space
# (``Apr  4``), the time to the second (journald's short-precise adds
# microseconds), then the host. No year and no zone: the writer's wall clock.
_SYSLOG_STAMP = re.compile(
    r"\s*(?P<month>[A-Za-z]{3}) {1,2}(?P<day>\d{1,2}) (?P<time>\d{2}:\d{2}:\d{2})"
    r"(?:\.(?P<micro>\d{1,6}))?\s(?P<rest>.*)",
    re.DOTALL,
)
# A start that is a date or a time of day in some shape the stamps above are
# not (``14.04.2026``, ``04/14/2026 9:41``, ``2026-04-14 9:41``, ``09:41:07``):
# the line has a time of its own that cannot be read, so a time given with
# --at must not stand in for it.
_DATE_SHAPED = re.compile(
    r"\[?(?P<shape>\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}([-/.])\d{1,2}\2\d{4}(?!\d)"
    r"|\d{1,2}[- ](?:[A-Za-z]{3})[- ]\d{4}(?!\d)|\d{1,2}:\d{2}:\d{2}(?![:\d]))"
)
_CONTINUES = re.compile(
    r"[ \t]+\S"  # indented: a stack frame, a wrapped line, an indented "Caused by:"
    r"|(?:Caused by|Suppressed|Wrapped by):"
    r"|\.\.\. \d+ (?:more|common frames omitted)"
    r"|Traceback \(most recent call last\):"
    r"|During handling of the above exception"
    r"|The above exception was the direct cause"
)
# Lines that only say where the code was, never why it failed: left out of
# the entry's text, so "timeout=5" in a quoted source line classifies nothing.
_FRAME = re.compile(
    r"\s*(?:at\s|File \"|\.\.\. \d+ |Traceback \(most recent|During handling of"
    r"|The above exception)"
)
# What closes a Python traceback: ``httpx.ConnectTimeout: timed out``,
# ``KeyboardInterrupt``. The name must be an exception's (``...Error``,
# ``...Exception``, ``...Interrupt``, ``...Exit``, ``...Warning``, or dotted):
# Node's bare ``Error: 500 ...`` below a traceback is a failure of its own.
_EXCEPTION_LINE = re.compile(
    r"(?:(?:[A-Za-z_]\w*\.)+[A-Za-z_]\w*"
    r"|(?=[A-Za-z_])\w*(?:\wError|Exception|\wInterrupt|\wExit|\wWarning|ExceptionGroup)"
    r"|Stop(?:Async)?Iteration)"
    r"(?::\s.*|:?\s*)",
    re.DOTALL,
)
# The ``host prog[123]: `` syslog and journald put before a message: the
# writer, so lines it wrote with stamps of their own can be joined. Read
# after a syslog stamp only; after an ISO stamp only in the layout journald's
# short-iso and rsyslog's RFC 3339 files write (``T``, a zone, a pid), never
# an app log's ``%(asctime)s %(levelname)s %(name)s:``, whose ``ERROR
# worker`` is no one writer.
_HEADER = re.compile(r"(?P<writer>[\w.-]+ [\w./@-]+(?:\[\d+\])?): ?")
_ISO_HEADER = re.compile(r"(?P<writer>[\w.-]+ [\w./@-]+\[\d+\]): ?")
# A writer's stamped line this close to the first stamp of its open
# traceback may continue it; measured from the first, never the last.
SAME_MOMENT = timedelta(seconds=1)
_TRACEBACK = "Traceback (most recent call last)"
# What chains a closed traceback to the next one.
_CHAINED = re.compile(r"During handling of the above exception|The above exception was the direct")
# What a Java logger writes under its message, unindented, before the frames:
# ``java.net.ConnectException: Connection refused``. Taken only under a
# stamped line: in untimed output it may well start a failure of its own.
_QUALIFIED_EXCEPTION = re.compile(
    r"(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable)(?::\s.*)?\s*", re.DOTALL
)


class Entry(NamedTuple):
    """One log entry: where it starts, its time as written, its text and what continues it.

    A tuple, not a dataclass: one is made per line of a file, and this is cheaper.

    ``at`` is the ISO stamp as text (read later in the caller's zone), a
    syslog time already dated (aware UTC), or None when the line has none.
    ``more`` is the text its continuation lines add, frames left out.
    ``problem`` says why a stamp it has cannot be dated. ``writer`` is a
    syslog header's ``host prog[123]`` and ``body`` where its message
    starts in ``text`` (0 without one).
    """

    line: int
    at: str | datetime | None
    text: str
    more: str = ""
    problem: str | None = None
    writer: str | None = None
    body: int = 0


def entries(
    lines: Iterable[str], *, tz: tzinfo | None, now: datetime, reference: datetime | None = None
) -> Iterator[Entry]:
    """Group ``lines`` into entries, in the order they start.

    Blank lines and ``#`` comments are skipped (they neither start nor end
    an entry). A syslog date gets its year from ``reference`` (else ``now``):
    see ``syslog_year``.
    """
    pending: _Pending | None = None
    years: dict[tuple[int, int], int] = {}
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        head = _stamped(line, number, tz=tz, now=now, reference=reference, years=years)
        if pending is not None and (
            pending.takes(line) if head is None else pending.takes_stamped(head)
        ):
            continue
        if pending is not None:
            yield pending.entry()
        pending = _Pending(head or Entry(number, None, stripped))
    if pending is not None:
        yield pending.entry()


def _rest(text: str) -> str:
    """The error text after a stamp: ``ERROR: ...``, ``- ...`` and ``| ...`` lose their lead."""
    return text.strip().lstrip("-:|>").strip()


def _stamped(
    line: str,
    number: int,
    *,
    tz: tzinfo | None,
    now: datetime,
    reference: datetime | None,
    years: dict[tuple[int, int], int],
) -> Entry | None:
    """The entry a stamped line starts (a ``problem`` if it cannot be dated); None: no stamp."""
    match = _ISO_STAMP.match(line)
    if match is not None:
        zone_text = (match["zone"] or "").strip()
        zone_text = "Z" if zone_text.upper() in ("UTC", "GMT") else zone_text
        day = match["date"].replace("/", "-")  # Go's log package: 2026/04/14 09:41:07
        stamp = f"{day}T{match['time'].replace(',', '.')}{zone_text}"
        entry = Entry(number, stamp, _rest(match["rest"]))
        syslog_layout = line[match.end("date")] in "Tt" and bool(zone_text)
        return _with_writer(entry, _ISO_HEADER) if syslog_layout else entry
    match = _SYSLOG_STAMP.match(line)
    if match is None or match["month"].lower() not in MONTHS:
        shaped = _DATE_SHAPED.match(line)
        if shaped is None:
            return None
        problem = (
            f"starts with a date or time ({shaped['shape']!r}) in a shape monitor does not "
            "read; expected e.g. '2026-04-14T09:41:07Z', '2026/04/14 09:41:07' or "
            "'Apr 14 09:41:07'"
        )
        return Entry(number, None, line.strip(), problem=problem)
    month, day = MONTHS[match["month"].lower()], int(match["day"])
    try:
        clock = time.fromisoformat(match["time"])
        year = years.get((month, day))
        if year is None:
            year = years[month, day] = syslog_year(month, day, tz=tz, now=now, reference=reference)
        when = wall_time(datetime.combine(date(year, month, day), clock), tz)
    except (ValueError, OverflowError) as exc:
        problem = f"cannot read the syslog time {match['month']} {day} {match['time']}: {exc}"
        return Entry(number, None, _rest(match["rest"]), problem=problem)
    micro = int((match["micro"] or "0").ljust(6, "0"))
    entry = Entry(number, when + timedelta(microseconds=micro), _rest(match["rest"]))
    return _with_writer(entry, _HEADER)


def _with_writer(entry: Entry, header_shape: re.Pattern[str]) -> Entry:
    """``entry`` knowing its syslog writer (``host prog[123]``), if its text has that header."""
    header = header_shape.match(entry.text)
    if header is None:
        return entry
    return entry._replace(writer=header["writer"], body=header.end())


def _close(a: str | datetime | None, b: str | datetime | None) -> bool:
    """Whether two stamps are within ``SAME_MOMENT`` (ISO ones compared as written)."""
    if isinstance(a, str) and isinstance(b, str):
        try:
            a, b = datetime.fromisoformat(a[:26]), datetime.fromisoformat(b[:26])
        except ValueError:
            return False
    if not isinstance(a, datetime) or not isinstance(b, datetime):
        return False
    try:
        return abs(a - b) <= SAME_MOMENT
    except TypeError:  # one with an offset, one without: not the same writer's
        return False


def syslog_year(
    month: int, day: int, *, tz: tzinfo | None, now: datetime, reference: datetime | None = None
) -> int:
    """The year of a syslog date, which has none: the one nearest ``reference``, never ahead.

    ``reference`` is when the user says the log is from (``--at``), else
    now; of the years around it, the date is taken in the one that puts it
    nearest, leaving out any more than a day after now. Without ``--at`` that
    is the most recent such date not in the future, so a log running over
    New Year reads right (``Dec 31`` imported on 2 January is last year's).
    ValueError for a date no nearby year has (``Feb 29`` far from a leap year).
    """
    return _year(month, day, _today(now, tz), _today(reference or now, tz))


def _today(moment: datetime, tz: tzinfo | None) -> date:
    return moment.astimezone(tz).date()


def _year(month: int, day: int, today: date, near: date) -> int:
    latest = today + AHEAD
    candidates = []
    for year in (near.year - 1, near.year, near.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:  # Feb 29 in a common year; a day the month lacks
            continue
        if candidate <= latest:
            candidates.append(candidate)
    if not candidates:
        raise ValueError(f"no year near {near.year} has that date")
    return min(candidates, key=lambda c: abs(c - near)).year


class _Pending:
    """The entry being read, gathering what its continuation lines say (up to ``ENTRY_CAP``)."""

    __slots__ = ("chained", "first", "frame_indent", "kept", "parts", "traceback")

    def __init__(self, first: Entry) -> None:
        self.first = first
        self.parts: list[str] = []
        self.kept = 0
        # Inside a Python traceback its frames are indented, and the line
        # that closes it ("ValueError: ...") is still this entry's. The
        # message is read past a syslog header (journald's "host prog[1]: "),
        # or ends with the traceback's opening ("ERROR worker: Traceback ...").
        message = first.text[first.body :]
        self.traceback = message.startswith(_TRACEBACK) or first.text.endswith(f"{_TRACEBACK}:")
        # Whether a traceback was ever open here: after its closing line, a
        # stamped "During handling of the above exception" may chain the next.
        self.chained = self.traceback
        # How far the last ``File "..."`` line is indented: a closing line
        # is indented no further (journalctl indents it with the rest), while
        # the source line quoted under a frame is indented further.
        self.frame_indent: int | None = None

    def takes(self, line: str) -> bool:
        """Join ``line`` to this entry if it continues it; False: it starts the next one."""
        text = line.strip()
        if self.traceback:
            indent = len(line) - len(line.lstrip())
            if text.startswith('File "'):
                self.frame_indent = indent
                return True
            if _EXCEPTION_LINE.fullmatch(text) and (
                self.frame_indent is None or indent <= self.frame_indent
            ):
                self.traceback = False
                self._keep(text)
                return True
            return _CONTINUES.match(line) is not None  # frames, source lines, chaining
        if _CONTINUES.match(line):
            if text.startswith(_TRACEBACK):
                self.traceback, self.chained, self.frame_indent = True, True, None
            elif not _FRAME.match(line):
                self._keep(text)
            return True
        if self.first.at is not None and _QUALIFIED_EXCEPTION.fullmatch(line):
            self._keep(text)
            return True
        return False

    def takes_stamped(self, head: Entry) -> bool:
        """Join a stamped line only as a piece of this entry's open traceback (rsyslog's).

        The same ``host prog[pid]``, within ``SAME_MOMENT`` of the entry's
        first stamp, and while a traceback is open a line indented, a ``File
        "..."`` frame or the exception closing it (or, once it closed, what
        chains the next). Anything else, an exception's line above all, is
        a failure of its own, however close in time.
        """
        if head.writer is None or head.writer != self.first.writer or head.problem is not None:
            return False
        if not _close(head.at, self.first.at):
            return False
        message = head.text[head.body :]
        text = message.strip()
        if self.traceback:
            piece = (
                message[:1] in (" ", "\t")
                or text.startswith('File "')
                or _EXCEPTION_LINE.fullmatch(text) is not None
            )
        else:
            piece = self.chained and (
                _CHAINED.match(text) is not None or text.startswith(_TRACEBACK)
            )
        return piece and self.takes(message)

    def _keep(self, text: str) -> None:
        if self.kept + len(text) <= ENTRY_CAP:  # whole lines: a cut could halve a secret
            self.parts.append(text)
            self.kept += len(text) + 1

    def entry(self) -> Entry:
        if not self.parts:
            return self.first
        return self.first._replace(more="\n".join(self.parts))
