"""Reading text logs: syslog and journald stamps, continuation lines, and lines given a time."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from monitor.logshape import ENTRY_CAP, entries, syslog_year
from monitor.observed import ObservedLine, RejectedLine, fingerprint, parse_jsonl, parse_text

NOW = datetime(2026, 4, 20, 12, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
KEY = "sk-ant-api03-Zx9aQw7ErTy5UiOp3AsDf1GhJkL"
BEARER = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtZSJ9.c2lnbmF0dXJl"


def read(*lines: str, tz=UTC, now=NOW, at=None) -> list[ObservedLine | RejectedLine]:
    return list(parse_text([f"{line}\n" for line in lines], tz=tz, now=now, at=at))


def observed(*lines: str, **options) -> ObservedLine:
    [item] = read(*lines, **options)
    assert isinstance(item, ObservedLine), item
    return item


# -- syslog and journald ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "at", "error"),
    [
        (
            "Apr 14 11:45:01 laptop claude[4121]: API Error: 401 Invalid authentication credentials",
            datetime(2026, 4, 14, 9, 45, 1, tzinfo=UTC),  # Berlin summer time
            "laptop claude[4121]: API Error: 401 Invalid authentication credentials",
        ),
        (
            "Apr  4 08:00:00 laptop gh: error connecting to api.github.com",
            datetime(2026, 4, 4, 6, 0, tzinfo=UTC),
            "laptop gh: error connecting to api.github.com",
        ),
        (
            "Jan 14 11:45:01.250000 laptop claude[4121]: socket hang up",  # short-precise
            datetime(2026, 1, 14, 10, 45, 1, 250000, tzinfo=UTC),  # winter time
            "laptop claude[4121]: socket hang up",
        ),
        (
            "2026-04-14T11:45:01+0000 laptop claude[4121]: socket hang up",  # short-iso
            datetime(2026, 4, 14, 11, 45, 1, tzinfo=UTC),
            "laptop claude[4121]: socket hang up",
        ),
        (
            "2026-04-14T11:45:01+0200 laptop claude[4121]: socket hang up",
            datetime(2026, 4, 14, 9, 45, 1, tzinfo=UTC),
            "laptop claude[4121]: socket hang up",
        ),
    ],
)
def test_it_reads_syslog_and_journald_lines_in_the_zone_given(line, at, error):
    item = observed(line, tz=BERLIN)
    assert (item.at, item.error) == (at, error)


def test_it_classifies_a_syslog_line_by_its_message():
    item = observed("Apr 14 11:45:01 laptop claude[4121]: API Error: 401 Invalid authentication")
    assert item.failure_class == "auth_rejected"


@pytest.mark.parametrize(
    ("now", "month", "day", "year"),
    [
        (NOW, 4, 14, 2026),  # earlier this year
        (NOW, 4, 21, 2026),  # tomorrow: a clock a little ahead, still this year
        (NOW, 4, 22, 2025),  # further ahead: last year's
        (NOW, 12, 31, 2025),
        (datetime(2027, 1, 2, tzinfo=UTC), 12, 31, 2026),  # a log running over New Year
        (datetime(2027, 1, 2, tzinfo=UTC), 1, 1, 2027),
        (datetime(2028, 3, 1, tzinfo=UTC), 2, 29, 2028),
    ],
)
def test_it_dates_a_syslog_day_in_the_most_recent_year_not_ahead_of_now(now, month, day, year):
    assert syslog_year(month, day, tz=UTC, now=now) == year


@pytest.mark.parametrize(
    ("month", "day", "year"),
    [(6, 5, 2025), (1, 3, 2025), (12, 30, 2024), (5, 28, 2025)],
)
def test_it_dates_a_syslog_day_nearest_the_time_given_with_at(month, day, year):
    reference = datetime(2025, 6, 1, tzinfo=UTC)
    assert syslog_year(month, day, tz=UTC, now=NOW, reference=reference) == year


def test_it_takes_the_syslog_year_from_at_in_the_reader():
    item = observed("Dec 30 23:00:00 host x: socket hang up", at=datetime(2025, 1, 2, tzinfo=UTC))
    assert item.at == datetime(2024, 12, 30, 23, tzinfo=UTC)


def test_it_rejects_a_syslog_date_no_nearby_year_has_with_a_reason():
    [item] = read("Feb 29 10:00:00 host x: socket hang up")
    assert isinstance(item, RejectedLine)
    assert item.reason == (
        "cannot read the syslog time Feb 29 10:00:00: no year near 2026 has that date"
    )


@pytest.mark.parametrize(
    "line",
    ["Foo 14 11:45:01 host x: socket hang up", "Apr 14 11:45 host x: y", "Apr 144 11:45:01 h x"],
)
def test_it_rejects_what_only_looks_like_a_syslog_stamp(line):
    [item] = read(line)
    assert isinstance(item, RejectedLine)
    assert item.reason.startswith("no timestamp at the start")


def test_it_says_a_time_ahead_is_in_the_future_as_other_output_shows_times():
    [item] = read("2026-04-25T12:00:00.123456Z socket hang up")
    assert isinstance(item, RejectedLine)
    assert item.reason == "time 2026-04-25 12:00Z is in the future"


# -- continuation lines --------------------------------------------------------------

NODE = (
    "2026-04-14T09:41:07Z ERROR Error: connect ECONNREFUSED 127.0.0.1:443",
    "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)",
    "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
)
JAVA = (
    "2026-04-14 09:41:07,250 ERROR c.e.Client - Request to api.example.com failed",
    "java.io.UncheckedIOException: request failed",
    "\tat com.example.Client.send(Client.java:42)",
    "Caused by: java.net.SocketTimeoutException: Connect timed out",
    "\tat java.base/java.net.Socket.connect(Socket.java:633)",
    "\t... 5 more",
)
PYTHON = (
    "2026-04-14 09:41:07 ERROR token refresh failed",
    "Traceback (most recent call last):",
    '  File "/app/auth.py", line 12, in refresh',
    "    response = client.post(url, timeout=5)",
    "             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
    "KeyError: 'access_token'",
)


def test_it_joins_a_node_stack_trace_to_its_entry_leaving_the_frames_out_of_the_text():
    items = read(*NODE, "2026-04-14T09:42:00Z socket hang up")
    assert [(type(i).__name__, i.line) for i in items] == [("ObservedLine", 1), ("ObservedLine", 4)]
    first = items[0]
    assert isinstance(first, ObservedLine)
    assert first.error == "ERROR Error: connect ECONNREFUSED 127.0.0.1:443"
    assert first.failure_class == "connect_refused"


def test_it_classifies_a_java_entry_by_the_cause_below_it():
    item = observed(*JAVA)
    assert item.error == (
        "ERROR c.e.Client - Request to api.example.com failed "
        "java.io.UncheckedIOException: request failed "
        "Caused by: java.net.SocketTimeoutException: Connect timed out"
    )
    assert item.failure_class == "connect_timeout"
    assert item.at == datetime(2026, 4, 14, 9, 41, 7, 250000, tzinfo=UTC)


def test_it_reads_a_python_traceback_to_its_last_line_and_never_classifies_its_source_lines():
    item = observed(*PYTHON)
    assert item.error == "ERROR token refresh failed KeyError: 'access_token'"
    assert item.failure_class == "unclassified"  # not "timeout", from the quoted source line


def test_it_reads_a_chained_python_traceback_as_one_entry():
    items = read(
        "2026-04-14 09:41:07 ERROR refresh failed",
        "Traceback (most recent call last):",
        '  File "/app/auth.py", line 12, in refresh',
        "httpcore.ConnectTimeout: timed out",
        "",
        "The above exception was the direct cause of the following exception:",
        "",
        "Traceback (most recent call last):",
        '  File "/app/main.py", line 3, in <module>',
        "httpx.ConnectTimeout: timed out",
        "2026-04-14 09:42:00 socket hang up",
    )
    assert [i.line for i in items] == [1, 11]
    first = items[0]
    assert isinstance(first, ObservedLine)
    assert first.error == (
        "ERROR refresh failed httpcore.ConnectTimeout: timed out httpx.ConnectTimeout: timed out"
    )
    assert first.failure_class == "connect_timeout"


def test_it_reads_an_untimed_python_traceback_given_a_time_as_one_failure():
    at = datetime(2026, 4, 14, 13, 30, tzinfo=UTC)
    item = observed(*PYTHON[1:], at=at)
    assert (item.line, item.at) == (1, at)
    assert item.error == "Traceback (most recent call last): KeyError: 'access_token'"


def test_it_fingerprints_an_entry_by_its_first_line_so_an_earlier_import_still_matches():
    joined = observed(*NODE)
    alone = observed(NODE[0])
    assert joined.fingerprint == alone.fingerprint
    assert joined.fingerprint == fingerprint(joined.at, None, alone.error, 0)


def test_it_keeps_the_text_of_an_entry_to_whole_lines_within_a_cap():
    cause = "  Caused by: " + "x" * 70
    lines = [f"{NODE[0]}\n", *itertools.repeat(f"{cause}\n", 10_000), "2026-04-14T09:42:00Z y\n"]
    first, second = entries(lines, tz=UTC, now=NOW)
    assert len(first.more) <= ENTRY_CAP
    assert set(first.more.split("\n")) == {cause.strip()}
    assert second.line == 10_002


def test_it_streams_entries_from_an_endless_input():
    endless = itertools.cycle([f"{NODE[0]}\n", f"{NODE[1]}\n"])
    first, second, third = itertools.islice(entries(endless, tz=UTC, now=NOW), 3)
    assert [first.line, second.line, third.line] == [1, 3, 5]


def test_it_starts_an_entry_at_an_indented_line_when_none_is_open():
    [item] = read("    at f (cli.js:1:1)")
    assert isinstance(item, RejectedLine)
    assert item.line == 1


def test_a_java_exception_name_alone_is_a_line_of_its_own_in_untimed_output():
    at = datetime(2026, 4, 14, 13, 30, tzinfo=UTC)
    items = read("API Error: 401", "java.net.ConnectException: Connection refused", at=at)
    assert [i.line for i in items] == [1, 2]


def test_it_redacts_secrets_in_continuation_lines_even_split_over_two():
    item = observed(
        "2026-04-14T09:41:07Z ERROR request failed: 401",
        "  request headers: Authorization:",
        f"    Bearer {BEARER}",
        f"Caused by: invalid x-api-key {KEY}",
    )
    assert BEARER not in item.error
    assert KEY not in item.error
    assert "REDACTED" in item.error
    assert item.failure_class == "auth_rejected"


def test_it_keeps_terminal_escapes_in_a_continuation_as_data_for_output_to_escape():
    item = observed("2026-04-14T09:41:07Z ERROR failed", "  Caused by: \x1b[2Jsocket hang up")
    # Stored as the text was (the database keeps exact text); every output escapes it.
    assert item.error == "ERROR failed Caused by: \x1b[2Jsocket hang up"


# -- lines given a time with --at ------------------------------------------------------

AT = datetime(2026, 4, 14, 13, 30, tzinfo=UTC)


def test_it_gives_lines_without_a_timestamp_the_time_given():
    items = read(
        "API Error: 401 Invalid authentication credentials",
        "    at f (cli.js:1:1)",
        "OAuth error: Request failed with status code 500",
        "2026-04-14T09:41:07Z socket hang up",
        at=AT,
    )
    assert [(i.line, i.at, i.failure_class) for i in items if isinstance(i, ObservedLine)] == [
        (1, AT, "auth_rejected"),
        (3, AT, "server_error"),
        (4, datetime(2026, 4, 14, 9, 41, 7, tzinfo=UTC), "connection_reset"),
    ]


def test_it_gives_identical_untimed_lines_distinct_fingerprints():
    items = read("socket hang up", "socket hang up", at=AT)
    assert len({i.fingerprint for i in items if isinstance(i, ObservedLine)}) == 2


def test_it_gives_a_jsonl_object_without_a_time_the_time_given():
    [item] = parse_jsonl(['{"error": "socket hang up"}\n'], tz=UTC, now=NOW, at=AT)
    assert isinstance(item, ObservedLine)
    assert item.at == AT


def test_it_dates_a_syslog_day_by_the_calendar_of_the_zone_given():
    # 00:30 on 1 January in Berlin is still 31 December in UTC: the year is Berlin's.
    now = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert syslog_year(1, 1, tz=BERLIN, now=now) == 2027
    item = observed("Jan  1 00:10:00 host x: socket hang up", tz=BERLIN, now=now)
    assert item.at == datetime(2026, 12, 31, 23, 10, tzinfo=UTC)


# -- a log's own times are absolute --------------------------------------------------


@pytest.mark.parametrize("at", ["10:00:05", "yesterday", "now", "3h ago", "today 9:00"])
def test_a_jsonl_time_relative_to_the_import_is_refused_so_a_reimport_adds_nothing(at):
    line = f'{{"at": "{at}", "error": "socket hang up"}}\n'
    for now in (NOW, NOW.replace(day=21)):
        [item] = parse_jsonl([line], tz=UTC, now=now)
        assert isinstance(item, RejectedLine)
        assert item.reason == (
            f"cannot read {at!r} as a time; a log's times must be absolute, such as "
            "'2026-04-14T09:41:07Z' or '14 Apr 2026 9:41'"
        )


def test_a_jsonl_time_on_a_day_its_month_lacks_says_so():
    [item] = parse_jsonl(['{"at": "2026-02-29T10:00:00Z", "error": "x"}\n'], tz=UTC, now=NOW)
    assert isinstance(item, RejectedLine)
    assert item.reason == "'2026-02-29T10:00:00Z': no such day (February 2026 has 28 days)"


def test_a_text_stamp_on_a_day_its_month_lacks_says_so():
    [item] = read("2026-02-29T10:00:00Z socket hang up", at=AT)
    assert isinstance(item, RejectedLine)
    assert item.reason == "'2026-02-29T10:00:00Z': no such day (February 2026 has 28 days)"


# -- tracebacks as journald and rsyslog write them ---------------------------------------

JOURNALD_TRACEBACK = (  # journalctl, one entry of several lines: the rest indented under it
    "Apr 14 11:45:01 host prog[123]: Traceback (most recent call last):",
    '                                  File "/app/client.py", line 3, in fetch',
    "                                    client.get(url, timeout=5)",
    "                                RuntimeError: boom",
)
RSYSLOG_TRACEBACK = (  # a line each, each with its own stamp
    "Apr 14 11:45:01 host prog[123]: Traceback (most recent call last):",
    'Apr 14 11:45:01 host prog[123]:   File "/app/client.py", line 3, in fetch',
    "Apr 14 11:45:01 host prog[123]:     client.get(url, timeout=5)",
    "Apr 14 11:45:02 host prog[123]: RuntimeError: boom",
)


@pytest.mark.parametrize(
    "lines", [JOURNALD_TRACEBACK, RSYSLOG_TRACEBACK], ids=["journald", "rsyslog"]
)
def test_a_syslog_traceback_is_one_failure_never_classified_by_its_source_lines(lines):
    items = read(*lines, "Apr 14 11:46:00 host prog[123]: socket hang up")
    assert [(i.line, type(i).__name__) for i in items] == [(1, "ObservedLine"), (5, "ObservedLine")]
    first = items[0]
    assert isinstance(first, ObservedLine)
    assert first.error == "host prog[123]: Traceback (most recent call last): RuntimeError: boom"
    assert first.failure_class == "unclassified"  # not "timeout", from "timeout=5"


def test_a_journald_traceback_under_a_message_joins_it_and_leaves_its_frames_out():
    item = observed(
        "Apr 14 11:45:01 host prog[123]: ERROR refresh failed",
        "                                Traceback (most recent call last):",
        '                                  File "/app/client.py", line 3, in fetch',
        "                                    client.get(url, timeout=5)",
        "                                httpx.ConnectError: [Errno 111] Connection refused",
    )
    assert item.error == (
        "host prog[123]: ERROR refresh failed httpx.ConnectError: [Errno 111] Connection refused"
    )
    assert item.failure_class == "connect_refused"


@pytest.mark.parametrize(
    "other",
    [
        'Apr 14 11:45:01 host other[123]:   File "/app/x.py", line 1',  # another program
        'Apr 14 11:45:01 host prog[124]:   File "/app/x.py", line 1',  # another process
        'Apr 14 11:45:01 box prog[123]:   File "/app/x.py", line 1',  # another host
        'Apr 14 11:45:03 host prog[123]:   File "/app/x.py", line 1',  # two seconds on
        "Apr 14 11:45:01 host prog[123]: socket hang up",  # a message of its own
    ],
)
def test_a_stamped_line_continues_only_its_writers_entry_in_the_same_moment(other):
    items = read("Apr 14 11:45:01 host prog[123]: Traceback (most recent call last):", other)
    assert [i.line for i in items] == [1, 2]


# A stamped line is a failure of its own unless it is visibly a piece of an open
# traceback its writer is writing: one program's next failure in the same second,
# a 401 above all, is never merged into the failure before it.


def test_a_writers_auth_failure_in_the_same_second_is_a_failure_of_its_own():
    items = read(
        "Apr 14 11:45:01 laptop app[42]: request failed: 503 Service Unavailable",
        "Apr 14 11:45:01 laptop app[42]: anthropic.AuthenticationError: Error code: 401"
        " - invalid x-api-key",
    )
    assert [(i.line, getattr(i, "failure_class", None)) for i in items] == [
        (1, "server_error"),
        (2, "auth_rejected"),
    ]


def test_an_app_logs_level_and_logger_name_are_no_writer():
    items = read(  # %(asctime)s %(levelname)s %(name)s: %(message)s
        "2026-04-14 09:41:07,120 ERROR worker: API error 529 overloaded",
        "2026-04-14 09:41:07,480 ERROR worker: anthropic.AuthenticationError: Error code: 401",
    )
    assert [(i.line, getattr(i, "failure_class", None)) for i in items] == [
        (1, "server_error"),
        (2, "auth_rejected"),
    ]


def test_a_stream_of_one_writers_timeouts_is_a_failure_each():
    stream = [  # 0.6 s apart: each within a second of the one before, 5.4 s in all
        f"Apr 14 11:45:{1 + tenths // 10:02}.{tenths % 10}00000 laptop app[42]: "
        "httpx.ConnectTimeout: timed out"
        for tenths in range(0, 60, 6)
    ]
    items = read(*stream)
    assert [(i.line, getattr(i, "failure_class", None)) for i in items] == [
        (n, "connect_timeout") for n in range(1, 11)
    ]


def test_a_burst_of_timeouts_in_one_second_is_five_failures():
    line = "Apr 14 11:45:01 laptop app[42]: httpx.ConnectTimeout: timed out"
    items = read(*[line] * 5)
    assert [i.line for i in items if isinstance(i, ObservedLine)] == [1, 2, 3, 4, 5]
    assert len({i.fingerprint for i in items if isinstance(i, ObservedLine)}) == 5


def test_an_open_traceback_takes_its_writers_lines_for_a_second_from_its_first_stamp():
    items = read(  # the window does not slide with each line joined
        "Apr 14 11:45:01.000000 host prog[123]: Traceback (most recent call last):",
        'Apr 14 11:45:01.600000 host prog[123]:   File "/app/a.py", line 3, in fetch',
        'Apr 14 11:45:02.200000 host prog[123]:   File "/app/b.py", line 9, in get',
    )
    assert [i.line for i in items] == [1, 3]


def test_a_stamped_traceback_closing_with_a_401_is_auth_rejected():
    item = observed(
        "Apr 14 11:45:01 laptop app[42]: Traceback (most recent call last):",
        'Apr 14 11:45:01 laptop app[42]:   File "/app/client.py", line 3, in fetch',
        "Apr 14 11:45:01 laptop app[42]:     client.messages.create(timeout=5)",
        "Apr 14 11:45:01 laptop app[42]: anthropic.AuthenticationError: Error code: 401",
    )
    assert item.failure_class == "auth_rejected"


def test_a_chained_stamped_traceback_is_one_entry():
    items = read(
        "Apr 14 11:45:01 host prog[123]: Traceback (most recent call last):",
        'Apr 14 11:45:01 host prog[123]:   File "/app/client.py", line 3, in fetch',
        "Apr 14 11:45:01 host prog[123]: httpx.ReadTimeout: timed out",
        "Apr 14 11:45:01 host prog[123]: During handling of the above exception, another"
        " exception occurred:",
        "Apr 14 11:45:01 host prog[123]: Traceback (most recent call last):",
        'Apr 14 11:45:01 host prog[123]:   File "/app/main.py", line 9, in run',
        "Apr 14 11:45:02 host prog[123]: RuntimeError: gave up",
        "Apr 14 11:45:02 host prog[123]: RuntimeError: next failure",
    )
    assert [i.line for i in items] == [1, 8]


def test_a_short_iso_traceback_is_read_as_journalds():
    item = observed(
        "2026-04-14T11:45:01+0200 host prog[123]: Traceback (most recent call last):",
        '2026-04-14T11:45:01+0200 host prog[123]:   File "/app/client.py", line 3, in f',
        "2026-04-14T11:45:01+0200 host prog[123]:     client.get(url, timeout=5)",
        "2026-04-14T11:45:01+0200 host prog[123]: RuntimeError: boom",
    )
    assert item.failure_class == "unclassified"  # not "timeout", from "timeout=5"


def test_an_app_logs_traceback_leaves_its_quoted_source_out():
    item = observed(
        "2026-04-14 09:41:07,120 ERROR worker: Traceback (most recent call last):",
        '  File "/app/client.py", line 3, in fetch',
        "    client.get(url, timeout=5)",
        "RuntimeError: boom",
    )
    assert item.failure_class == "unclassified"  # not "timeout", from "timeout=5"


@pytest.mark.parametrize(
    "cause",
    [
        "  anthropic.AuthenticationError: Error code: 401 - invalid x-api-key",
        "Caused by: HTTP 401 Unauthorized",
        "  token has expired",
    ],
)
def test_a_credential_refusal_under_an_entry_wins_over_its_first_lines_class(cause):
    item = observed("2026-04-14T09:41:07Z ERROR request failed: 503 Service Unavailable", cause)
    assert item.failure_class == ("credentials_expired" if "expired" in cause else "auth_rejected")


def test_an_untimed_entry_keeps_its_own_class_and_the_failure_after_a_traceback():
    items = read(
        "Error: connect ECONNREFUSED 127.0.0.1:443",
        "Traceback (most recent call last):",
        '  File "/app/client.py", line 3, in fetch',
        "Error: 500 Internal Server Error",  # Node's bare Error: no Python exception closes
        at=AT,
    )
    assert [(i.line, i.failure_class) for i in items if isinstance(i, ObservedLine)] == [
        (1, "connect_refused"),
        (4, "server_error"),
    ]


@pytest.mark.parametrize(
    "closing",
    [
        "ValueError: bad",
        "KeyboardInterrupt",
        "SystemExit: 2",
        "Exception: boom",
        "StopIteration",
        "socket.timeout: timed out",
        "requests.exceptions.ConnectionError: refused",
        "UserWarning: careful",
    ],
)
def test_an_exception_named_as_python_names_them_closes_a_traceback(closing):
    items = read("Traceback (most recent call last):", '  File "x.py", line 1', closing, at=AT)
    assert [i.line for i in items] == [1]


@pytest.mark.parametrize("line", ["Error: 500", "Note: retrying", "ERROR: failed", "Fatal: x"])
def test_a_word_and_a_colon_after_a_traceback_is_a_line_of_its_own(line):
    items = read("Traceback (most recent call last):", '  File "x.py", line 1', line, at=AT)
    assert [i.line for i in items] == [1, 3]


def test_the_first_line_names_the_class_before_what_continues_it():
    item = observed(
        "2026-04-14T09:41:07Z ERROR connect ECONNREFUSED 10.0.0.7:443",
        "  retry log: GET /health answered 503 Service Unavailable an hour earlier",
    )
    assert item.failure_class == "connect_refused"  # not the 503 quoted below it
    assert "503 Service Unavailable" in item.error  # still stored with it


# -- date-shaped starts ------------------------------------------------------------------


def test_it_reads_the_go_log_packages_stamp():
    item = observed("2026/04/13 09:00:00 API error: 503", tz=BERLIN, at=AT)
    assert item.at == datetime(2026, 4, 13, 7, 0, tzinfo=UTC)
    assert (item.error, item.failure_class) == ("API error: 503", "server_error")
    micro = observed("2026/04/13 09:00:00.250000 API error: 503")
    assert micro.at == datetime(2026, 4, 13, 9, 0, 0, 250000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("line", "shape"),
    [
        ("14.04.2026 09:00:00 API error: 503", "14.04.2026"),
        ("04/14/2026 9:00 AM API error: 503", "04/14/2026"),
        ("2026-04-14 9:00:00 API error: 503", "2026-04-14"),
        ("14-Apr-2026 09:00:00 API error: 503", "14-Apr-2026"),
        ("09:00:00 API error: 503", "09:00:00"),
    ],
)
def test_a_date_shaped_start_it_cannot_read_is_refused_even_with_a_time_given(line, shape):
    [item] = read(line, at=AT)
    assert isinstance(item, RejectedLine)
    assert item.reason == (
        f"starts with a date or time ({shape!r}) in a shape monitor does not read; expected "
        "e.g. '2026-04-14T09:41:07Z', '2026/04/14 09:41:07' or 'Apr 14 09:41:07'"
    )


@pytest.mark.parametrize("line", ["10.10.10.10 refused", "1.2.3 failed", "00:1a:2b:3c:4d:5e x"])
def test_numbers_that_are_no_date_still_take_the_time_given(line):
    assert observed(line, at=AT).at == AT
