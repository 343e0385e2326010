"""Failures the user's own tools saw: classify their error text and read their logs.

Pure functions, no I/O: ``monitor import`` feeds lines in and stores what
comes out, so every rule here is a plain unit test. Error text is redacted
and capped before anything else looks at it (the classifier, the host it
names, the fingerprint): an API key in a log line must never reach the
database, a fingerprint or the terminal.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from itertools import takewhile
from typing import Any
from urllib.parse import urlsplit

from monitor.failures import Failure
from monitor.logshape import entries
from monitor.redact import redact_text, redact_url
from monitor.times import parse_log_time, short_time

MAX_ERROR = 500  # characters of error text kept (after redaction)
_CLASSIFY_SPAN = 2000  # characters the classifier reads, so a late "503" still counts
FUTURE_SLACK = timedelta(days=1)


def _status(codes: str) -> str:
    """A status alone, or npm's ``code E401``: not in ``07.500``, ``1.2.3.4:500``, ``#500``,
    ``5001``, ``500ms``, ``503 milliseconds``, ``port 503``, nor in an id's ``-e503-``."""
    return (
        rf"(?:(?<=code e)|(?<![\w.#/])(?<!\d:)(?<!port[ =])){codes}"
        r"(?![\w]|[.:]\d|\s?(?:ms|s|secs?|seconds|milliseconds|bytes|[kmg]i?b)\b)"
    )


# Tried in order against the lowercased text; the first match names the
# class. Specific causes come before the HTTP status that carries them (a
# 401 saying "token has expired" is an expired credential, a 400 saying
# invalid_grant a refused grant, a 403 saying "API rate limit exceeded" a
# rate limit, and AWS's UnauthorizedOperation a 403), statuses before network
# words (an Envoy 503 mentioning "connection timeout" is the vendor's), a
# failed lookup before any timeout (Go's "lookup h on 127.0.0.53:53: ...
# i/o timeout", curl's "Resolving timed out"), a connect timeout before a
# plain one, and a text naming a network cause before one that only says the
# connection failed. EADDRINUSE is port_unavailable, not callback_failed: it
# names the cause (the callback port is taken), as the local_port check does.
# openai/anthropic's "APIConnectionError: Connection error." is deliberately
# left unclassified: the SDK hides whether DNS, a refusal or TLS failed, and a
# traceback that shows the cause is classified by the cause.
_VOCABULARY: tuple[tuple[Failure, str], ...] = (
    (
        Failure.PORT_UNAVAILABLE,
        r"eaddrinuse|address already in use|port \d+ (?:is )?(?:already )?in use",
    ),
    (
        Failure.CALLBACK_FAILED,
        r"callback\b.{0,40}\b(?:not|never)\b.{0,20}\b(?:received|arrived|reached|came)"
        r"|callback\b.{0,20}\btime(?:d[ _-]?)?out"
        r"|redirect\b.{0,80}\b(?:localhost|127\.0\.0\.1)\b.{0,80}\bnever\b",
    ),
    (
        Failure.INVALID_GRANT,
        r"invalid_grant|refresh[ _]token\b.{0,30}\b(?:expired|revoked|invalid|not found)",
    ),
    (
        Failure.CREDENTIALS_EXPIRED,
        r"token\b.{0,12}\bexpired\b|credentials?\b.{0,12}\bexpired\b"
        r"|expired[ _]?(?:token|credentials?)(?:exception)?\b|token_expired"
        # gcloud and google-auth: the session must be renewed by a new login.
        r"|re-?authenticat(?:e|ion)\b",
    ),
    (
        Failure.CREDENTIALS_MISSING,
        "unable to locate credentials|nocredentialserror|default credentials were not found"
        "|do not currently have an active account|not logged into any github hosts"
        "|to get started with github cli|to use github cli in .{0,30}set the gh_token",
    ),
    (
        Failure.AUTH_REJECTED,
        _status("401") + r"|unauthori[sz]ed(?!operation)|authentication[ _]?error"
        "|authentication failed|invalid authentication credentials|unable to authenticate"
        "|invalid[ _-]?(?:x-)?api[ _-]?key|incorrect api key|bad credentials"
        r"|invalid username or (?:password|token)|permission denied \(publickey"
        "|password authentication (?:was removed|is not supported)"
        "|must be logged in to the server|asked for the client to provide credentials"
        "|unrecognizedclientexception|invalidclienttokenid|signaturedoesnotmatch",
    ),
    (
        # A header's name ("x-ratelimit-remaining") is no limit reached.
        Failure.RATE_LIMITED,
        _status("429") + r"|(?<![\w/-])rate[ _-]?limit|too[ _-]?many[ _-]?requests"
        r"|\brate exceeded|throttling|requestlimitexceeded|reduce your request rate",
    ),
    (
        Failure.FORBIDDEN,
        _status("403") + "|forbidden|permission_error|permission_?denied|access[ _-]?denied"
        "|unauthorizedoperation|not authorized to perform|does not have permission",
    ),
    (
        Failure.SERVER_ERROR,
        _status(r"5\d\d") + "|internal[ _]?server[ _]?(?:error|exception)|internal(?:error|failure)"
        r"|bad gateway|service[ _]?unavailable|gateway time-?out|overloaded|api_error\b"
        # Envoy's 503 body, from the vendor's own proxy.
        "|upstream connect error|reset before headers",
    ),
    (
        Failure.DNS_FAILURE,
        "enotfound|eai_again|getaddrinfo|gaierror|name ?resolution|name or service not known"
        "|nodename nor servname|no address associated with hostname|unknownhost"
        "|could not resolve (?:host|proxy)|failed to resolve '|dns (?:lookup|resolution)"
        # Go's resolver ("dial tcp: lookup h on 127.0.0.53:53: no such host"), and
        # curl's lookup running out of time.
        r"|no such host|server misbehaving|dial \w+: lookup |\blookup \S+ on \S+:"
        "|resolving timed out"
        # gh says only this, and only for a failed lookup (a net.DNSError); a
        # dotted name, so another tool's "error connecting to server" is not it.
        r"|error connecting to [\w-]+\.[\w.-]+(?:\s+check your internet connection|\s*$)",
    ),
    (
        Failure.CONNECT_TIMEOUT,
        r"connect\s+etimedout|connect(?:ion)?[ _-]?time(?:d[ _-]?)?out"
        "|tls handshake time(?:d[ _-]?)?out"
        # The step is named: Go's dialer, curl's connect (code 28 whatever the
        # wording), ssh's connect, each running out of time.
        r"|dial tcp \S+: i/o timeout|\(28\) failed to connect"
        r"|(?:failed to connect|connect to host)\b.{0,100}?\btimed out",
    ),
    (
        Failure.NETWORK_UNREACHABLE,
        "e(?:net|host)unreach|network is unreachable|no route to host|host unreachable",
    ),
    (
        Failure.CONNECT_REFUSED,
        "econnrefused|connection refused|actively refused"
        r"|connection to the server \S+ was refused",
    ),
    (
        Failure.CONNECTION_RESET,
        "econnreset|socket hang up|connection (?:was )?reset|reset by peer|epipe|broken pipe"
        "|other side closed|disconnected without sending a response|und_err_socket"
        "|empty reply from server|remote end closed connection|remotedisconnected"
        "|hung up unexpectedly|connection closed by remote host"
        "|(?:kex|ssh)_exchange_identification",
    ),
    (Failure.TIMEOUT, "e(?:socket)?timedout|timed?[ _-]?out|deadline exceeded"),
    (
        Failure.TLS_ERROR,
        r"cert_|_cert\b|certificate|ssl(?<![a-z]ssl)|tls(?<![a-z]tls)|self[ -]signed"
        "|x509|gnutls|schannel",
    ),
    # The connection failed and the text hides why. curl 8 words every failed
    # connect() "Couldn't connect to server" (one that ran out of time it
    # reports as code 28, above); botocore words a failed lookup or connect
    # "Could not connect to the endpoint URL" (a timeout it words "Connect
    # timeout on endpoint URL", above). No time ran out, and nothing says the
    # server answered: connect_refused would claim it did. What is left is that
    # the endpoint could not be reached from here, the path this class names.
    (
        Failure.NETWORK_UNREACHABLE,
        "couldn't connect to server|could not connect to the endpoint url",
    ),
    # gcloud's closing hint on an auth failure ("Please run: $ gcloud auth
    # login"), weaker than any cause above: a refresh that could not reach
    # Google may end with it too.
    (Failure.CREDENTIALS_EXPIRED, "gcloud auth (?:application-default )?login"),
    (
        Failure.PROTOCOL_ERROR,
        r"invalid json|not valid json|unexpected token .{0,10}\bin json|unexpected end of json"
        "|jsondecodeerror|malformed (?:response|json)|protocol error|too many redirects"
        "|hpe_[a-z_]+",
    ),
    (
        Failure.UNEXPECTED_STATUS,
        r"(?:status(?:[ _]?code)?|http(?:/[\d.]+)?|error|code)[\"']?\s*[:=]?\s*[\"']?"
        r"[1-5]\d\d(?!\w)|bad request|404 not found|method not allowed|payload too large"
        "|invalid_request_error|not_found_error|request_too_large",
    ),
)
RULES: tuple[tuple[re.Pattern[str], Failure], ...] = tuple(
    (re.compile(pattern, re.DOTALL), failure_class) for failure_class, pattern in _VOCABULARY
)
# The credential refusals no other class in an entry may hide (``refused``):
# only the specific rules above the statuses, not gcloud's closing hint, which
# a refresh that never reached Google may end with too.
_REFUSALS = frozenset(
    (
        Failure.INVALID_GRANT,
        Failure.CREDENTIALS_EXPIRED,
        Failure.CREDENTIALS_MISSING,
        Failure.AUTH_REJECTED,
    )
)
_REFUSAL_RULES = tuple(
    (pattern, failure_class)
    for pattern, failure_class in takewhile(lambda rule: rule[1] is not Failure.RATE_LIMITED, RULES)
    if failure_class in _REFUSALS
)


@lru_cache(maxsize=4096)
def classify(error: str, status: int | None = None) -> Failure:
    """The failure class an error text names (``RULES``), else unclassified.

    An unclassified failure still counts; it just explains nothing.
    ``status`` is an HTTP status the log gave separately; it is read as if
    the text said ``HTTP <status>``, so a more specific cause in the text
    (an expired token behind a 401) still wins. Cached: real logs repeat
    the same few errors thousands of times.
    """
    text = (error if status is None else f"{error} HTTP {status}").lower()
    for pattern, failure_class in RULES:
        if pattern.search(text):
            return failure_class
    return Failure.UNCLASSIFIED


@lru_cache(maxsize=4096)
def refused(error: str, status: int | None = None) -> Failure | None:
    """The credential refusal an error text names anywhere in it (a 401, an invalid key,
    an expired token or refused grant, no credentials), else None; read as ``classify``."""
    text = (error if status is None else f"{error} HTTP {status}").lower()
    return next((c for pattern, c in _REFUSAL_RULES if pattern.search(text)), None)


# Where a failing request went, in the wording of the tools that print it: a
# URL (not one the text points the reader to: "see", "or https://status..."),
# else the host a phrase names. The resolver in "lookup h on 127.0.0.53:53"
# is never taken: the host looked up is.
_URL = re.compile(r"https?://([^\s/?#\"'<>()\\,;]+)")
_POINTER = re.compile(r"\b(?:see|at|visit|here|check|or|information|details|docs?)\W{0,3}$")
_NAMED = re.compile(
    r"(?:getaddrinfo (?:enotfound|eai_again) |could not resolve host(?:name)?:? "
    r"|failed to resolve '|\bhost='|failed to connect to (?=\S+ port \d)"
    r"|error connecting to (?=[\w-]+\.\w)"
    r"|dial \w+: lookup |\blookup (?=\S+ on ))"
    r"(\[[\da-f:.]+\]|[\w.-]+)"
)
_HOSTNAME = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?|[\da-f:.]*:[\da-f:.]*")


@lru_cache(maxsize=4096)
def named_host(error: str) -> str | None:
    """The host a failure's text says it used, so imported failures group by host.

    Read from redacted text, and only ever a host (lowercase, without port
    or user info): a target built from it can quote no secret.
    """
    text = error.lower()
    for url in _URL.finditer(text):
        if not _POINTER.search(text, max(0, url.start() - 20), url.start()):
            return _host(url[1])
    named = _NAMED.search(text)
    return _host(named[1]) if named else None


def _host(netloc: str) -> str | None:
    try:
        host = (urlsplit(f"//{netloc}").hostname or "").strip(".")
    except ValueError:  # an unclosed "[" of an IPv6 address
        return None
    if not _HOSTNAME.fullmatch(host) or "redacted" in host:
        return None
    return host


def fingerprint(at: datetime, target: str | None, error: str, ordinal: int) -> str:
    """Identify one failure line so a re-import of the same file adds nothing.

    ``ordinal`` counts earlier identical (at, target, error) lines of the same
    file: a failure genuinely logged twice in one second is two failures.
    """
    stamp = at.astimezone(UTC).isoformat()
    data = "\x1f".join((stamp, target or "", error, str(ordinal)))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ObservedLine:
    """One failure read from a log line: redacted, classified and fingerprinted.

    ``target`` is the one the line gave, else the host its error text names
    (``named_host``), so failures group per host as checks do.
    """

    line: int
    at: datetime
    error: str
    failure_class: str
    fingerprint: str
    target: str | None = None


@dataclass(frozen=True, slots=True)
class RejectedLine:
    """A line that could not be read, and why (never its text: it may hold a secret)."""

    line: int
    reason: str


ParsedLine = ObservedLine | RejectedLine

_TEXT_EXPECTED = (
    "expected e.g. '2026-04-14T09:41:07Z ERROR ...', '[2026-04-14 09:41:07] ...' or "
    "'Apr 14 09:41:07 host prog[123]: ...', or give lines without one a time with --at"
)


def parse_text(
    lines: Iterable[str], *, tz: tzinfo | None, now: datetime, at: datetime | None = None
) -> Iterator[ParsedLine]:
    """Read ``<timestamp> <error>`` entries (``monitor.logshape``): ISO 8601 or syslog stamps.

    Blank lines and ``#`` comments are skipped, not rejected. A time without
    a zone is read in ``tz`` (None: this machine's), as the tool wrote it.
    Continuation lines (stack frames, ``Caused by:``, a Python traceback)
    belong to the entry above them: their text helps classify it and is
    stored with it, redacted like the rest. A line without a stamp that
    continues nothing takes ``at`` (``--at``), else is rejected. ``at`` is
    also when a syslog file is from, for the year its dates leave out.
    """
    builder = _Builder(now, tz)
    for entry in entries(lines, tz=tz, now=now, reference=at):
        if entry.problem is not None:
            yield RejectedLine(entry.line, entry.problem)
        elif entry.at is None and at is None:
            yield RejectedLine(entry.line, f"no timestamp at the start; {_TEXT_EXPECTED}")
        else:
            when = at if entry.at is None else entry.at
            yield builder.build(entry.line, when, entry.text, None, None, more=entry.more)


def parse_jsonl(
    lines: Iterable[str], *, tz: tzinfo | None, now: datetime, at: datetime | None = None
) -> Iterator[ParsedLine]:
    """Read one JSON object a line: ``{"at": ..., "error": ..., "target": ..., "status": ...}``.

    ``time``/``timestamp`` stand for ``at`` and ``message`` for ``error``; an
    ``at`` may also be Unix seconds or milliseconds, and an object without
    one takes the ``at`` given (``--at``). ``status`` (an HTTP status) helps
    the classifier. Blank lines and ``#`` comments are skipped.
    """
    builder = _Builder(now, tz)
    for number, line in enumerate(lines, start=1):
        if _skipped(line):
            continue
        try:
            parsed = _read_object(builder, number, line, at)
        except RecursionError:
            # json and repr() recurse once a level: a line nested thousands deep
            # is unreadable, and must not end the import of the lines after it.
            parsed = RejectedLine(number, _TOO_DEEP)
        yield parsed


_TOO_DEEP = "JSON nested too deeply to read; expected one flat object a line"
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _read_object(builder: _Builder, number: int, line: str, given: datetime | None) -> ParsedLine:
    try:
        item = json.loads(line)
    except ValueError as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        return RejectedLine(number, f"not valid JSON ({reason}); expected one object a line")
    if not isinstance(item, dict):
        return RejectedLine(number, f"expected a JSON object, got {type(item).__name__}")
    at = _first(item, "at", "time", "timestamp")
    at = given if at is None else at
    error = _first(item, "error", "message")
    if at is None:
        return RejectedLine(number, 'no "at" (or "time", "timestamp") field, and no --at')
    if error is None or error == "":
        return RejectedLine(number, 'no "error" (or "message") field')
    text = error if isinstance(error, str) else json.dumps(error, ensure_ascii=False)
    target = item.get("target")
    target = None if target is None else str(target)
    return builder.build(number, at, text, target, _status_hint(item.get("status")))


def detect_format(first_line: str) -> str:
    """``jsonl`` when the first line that is not blank or a comment starts with ``{``."""
    return "jsonl" if first_line.lstrip().startswith("{") else "text"


def _skipped(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _first(item: dict[str, Any], *keys: str) -> Any:
    return next((item[k] for k in keys if item.get(k) is not None), None)


class _Builder:
    """Turns one line's fields into an observation, counting repeats for the fingerprint."""

    def __init__(self, now: datetime, tz: tzinfo | None) -> None:
        self.now, self.tz = now, tz
        self.seen: Counter[tuple[datetime, str | None, str]] = Counter()

    def build(
        self,
        number: int,
        at: Any,
        error: str,
        target: str | None,
        status: int | None,
        *,
        more: str = "",
    ) -> ParsedLine:
        """One observation; ``more`` is what continuation lines add to ``error``."""
        # A JSON "\ud800" escape decodes to a lone surrogate, which neither the
        # fingerprint's hash nor SQLite can encode: read it as a bad byte is read.
        error = _LONE_SURROGATE.sub("\ufffd", error)
        target = _LONE_SURROGATE.sub("\ufffd", target) if target else target
        try:
            when = _read_time(at, self.tz)
        except ValueError as exc:  # the message quotes the value: scrub it like the text
            return RejectedLine(number, redact_text(str(exc)))
        if when > self.now + FUTURE_SLACK:
            return RejectedLine(number, f"time {short_time(when)} is in the future")
        if not error.strip() and not more.strip():  # a JSON "error": "  " too: nothing to store
            return RejectedLine(number, "no error text after the timestamp")
        scrubbed = redact_text(error, limit=_CLASSIFY_SPAN)
        kept = _excerpt(scrubbed)
        failure_class = classify(scrubbed, status)
        if more:
            # The whole entry is stored, redacted as one text (a secret split
            # over two lines is still one secret). Its first line says what
            # failed; what follows (a cause, a trace) names the class when the
            # first line names none, and a credential refusal it names (a 401,
            # an invalid key, an expired token) wins over any class the first
            # line names but one of those: a hidden refusal is the worst answer.
            scrubbed = redact_text(f"{error}\n{more}", limit=_CLASSIFY_SPAN)
            if failure_class is Failure.UNCLASSIFIED:
                failure_class = classify(scrubbed, status)
            if failure_class not in _REFUSALS:
                failure_class = refused(scrubbed, status) or failure_class
        target = _clean_target(target) if target else None
        key = (when, target, kept)
        ordinal = self.seen[key]
        self.seen[key] = ordinal + 1
        # Only a given target counts in the fingerprint, and only the entry's
        # first line: a host read from the text, or a stack trace below it,
        # adds nothing the line does not already identify, and a file
        # imported before either was read must not import twice.
        digest = fingerprint(when, target, kept, ordinal)
        host = target or named_host(scrubbed)
        return ObservedLine(number, when, _excerpt(scrubbed), failure_class, digest, host)


def _excerpt(text: str) -> str:
    """At most ``MAX_ERROR`` characters, a cut marked with an ellipsis."""
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"


def _status_hint(status: Any) -> int | None:
    # isdigit() also passes "²" and 5000-digit strings, which int() refuses.
    if isinstance(status, str) and status.strip().isdigit():
        try:
            return int(status)
        except ValueError:
            return None
    return status if isinstance(status, int) and not isinstance(status, bool) else None


def _read_time(value: Any, tz: tzinfo | None) -> datetime:
    """A log's time: Unix seconds or milliseconds, or an absolute time as text.

    Never one read against the clock (``10:00``, ``yesterday``, ``3h ago``):
    the same file imported again later must give the same times, or each
    import would add its lines again.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Unix time; past ~5138 AD in seconds it must be milliseconds.
        try:
            return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)
        except (OverflowError, OSError, ValueError):  # a 400-digit int overflows the division
            shown = repr(value) if len(repr(value)) <= 40 else f"{repr(value)[:40]}…"
            raise ValueError(f"cannot read {shown} as a Unix time") from None
    if isinstance(value, datetime):  # already read: --at, or a syslog stamp dated in its file
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a time as text or Unix seconds, got {type(value).__name__}")
    return parse_log_time(value, tz=tz)


@lru_cache(maxsize=1024)
def _clean_target(target: str) -> str:
    """A target may be a URL with a token in its query: store the redacted form."""
    return redact_text(redact_url(target), limit=200)
