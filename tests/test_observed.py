"""Tests for monitor.observed: classifying what the user's tools logged, and reading their logs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from monitor.failures import Failure
from monitor.observed import (
    MAX_ERROR,
    RULES,
    ObservedLine,
    RejectedLine,
    classify,
    detect_format,
    fingerprint,
    parse_jsonl,
    parse_text,
)

NOW = datetime(2026, 4, 20, 12, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
KEY = "sk-ant-api03-Zx9aQw7ErTy5UiOp3AsDf1GhJkL"
BEARER = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtZSJ9.c2lnbmF0dXJl"


def utc(hour: int, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2026, 4, 14, hour, minute, second, micro, tzinfo=UTC)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        # Claude Code and the Anthropic API
        (
            'API Error: 401 {"type":"error","error":{"type":"authentication_error",'
            '"message":"Invalid authentication credentials"}}',
            "auth_rejected",
        ),
        ("Invalid API key · Please run /login", "auth_rejected"),
        ("HTTP 401 Unauthorized", "auth_rejected"),
        ('{"type":"authentication_error","message":"invalid x-api-key"}', "auth_rejected"),
        ("API Error: 403 permission_error: not allowed", "forbidden"),
        ("403 Forbidden", "forbidden"),
        ('API Error: 429 {"type":"rate_limit_error"}', "rate_limited"),
        ("Too Many Requests", "rate_limited"),
        ("You have hit your rate limit", "rate_limited"),
        ("OAuth error: Request failed with status code 500", "server_error"),
        ("OAuth error 500", "server_error"),
        ("502 Bad Gateway", "server_error"),
        ("Service Unavailable", "server_error"),
        ("Internal Server Error", "server_error"),
        ('API Error: 529 {"type":"error","error":{"type":"overloaded_error"}}', "server_error"),
        ("Overloaded", "server_error"),
        (
            "503 upstream connect error or disconnect/reset before headers. "
            "reset reason: connection timeout",
            "server_error",
        ),
        (
            '{"error": "invalid_grant", "error_description": "refresh token revoked"}',
            "invalid_grant",
        ),
        ("400 invalid_grant", "invalid_grant"),
        ("Refresh token has expired, please log in again", "invalid_grant"),
        (
            'API Error: 401 {"type":"error","error":{"type":"authentication_error",'
            '"message":"OAuth token has expired. Please obtain a new token."}}',
            "credentials_expired",
        ),
        ("credentials expired", "credentials_expired"),
        # Node and Python network errors
        ("connect ETIMEDOUT 160.79.104.10:443", "connect_timeout"),
        ("ConnectTimeoutError: Connect Timeout Error (UND_ERR_CONNECT_TIMEOUT)", "connect_timeout"),
        ("httpx.ConnectTimeout: connect timeout", "connect_timeout"),
        ("curl: (28) Connection timed out after 5001 milliseconds", "connect_timeout"),
        ("ETIMEDOUT", "timeout"),
        ("Request timed out.", "timeout"),
        ("timeout of 30000ms exceeded", "timeout"),
        ("ReadTimeout: The read operation timed out", "timeout"),
        ("connect ECONNREFUSED 127.0.0.1:8080", "connect_refused"),
        ("[Errno 111] Connection refused", "connect_refused"),
        ("read ECONNRESET", "connection_reset"),
        ("socket hang up", "connection_reset"),
        ("Error: port 54545 in use by another process", "port_unavailable"),
        (
            "upstream connect error or disconnect/reset before headers. reset reason: "
            "connection termination",
            "server_error",
        ),
        ("Connection reset by peer", "connection_reset"),
        ("Error: getaddrinfo ENOTFOUND api.anthropic.com", "dns_failure"),
        ("getaddrinfo EAI_AGAIN api.anthropic.com", "dns_failure"),
        ("[Errno -2] Name or service not known", "dns_failure"),
        ("[Errno -3] Temporary failure in name resolution", "dns_failure"),
        ("connect ENETUNREACH 2607:6bc0::10:443", "network_unreachable"),
        ("connect EHOSTUNREACH 160.79.104.10:443", "network_unreachable"),
        ("[Errno 101] Network is unreachable", "network_unreachable"),
        ("unable to verify the first certificate", "tls_error"),
        ("UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "tls_error"),
        ("self-signed certificate in certificate chain", "tls_error"),
        ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", "tls_error"),
        ("Client network socket disconnected before secure TLS connection", "tls_error"),
        ("ERR_TLS_CERT_ALTNAME_INVALID", "tls_error"),
        # Login
        ("OAuth callback not received", "callback_failed"),
        ("Timed out waiting for the OAuth callback... callback timed out", "callback_failed"),
        ("the redirect to http://localhost:54545/callback never arrived", "callback_failed"),
        ("listen EADDRINUSE: address already in use 127.0.0.1:54545", "port_unavailable"),
        # Protocol and other statuses
        ("Unexpected token < in JSON at position 0", "protocol_error"),
        ("SyntaxError: Unexpected end of JSON input", "protocol_error"),
        ("API Error: 404 not_found_error", "unexpected_status"),
        ("Request failed with status code 400", "unexpected_status"),
        ("something odd happened", Failure.UNCLASSIFIED),
        ("", Failure.UNCLASSIFIED),
    ],
)
def test_it_classifies_real_world_error_text(error, expected):
    assert classify(error) == expected


@pytest.mark.parametrize(
    "error",
    [
        "retry at 15:01 on port 5001",
        "failed at 09:41:07.500",
        "upstream 10.0.0.1:500 said hello",
        "issue #500 is still open",
        "took 500ms then gave up",
        "read 503 bytes then gave up",
        "request req_011CUa401xyz failed oddly",
        "server 1500 is odd",
    ],
)
def test_it_reads_a_status_only_as_a_number_on_its_own(error):
    assert classify(error) == Failure.UNCLASSIFIED


@pytest.mark.parametrize(
    ("error", "status", "expected"),
    [
        ("boom", 401, "auth_rejected"),
        ("boom", 503, "server_error"),
        ("boom", 404, "unexpected_status"),
        ("OAuth token has expired", 401, "credentials_expired"),
        ("invalid_grant", 400, "invalid_grant"),
    ],
)
def test_it_uses_a_separate_status_as_a_hint_a_specific_text_still_beats(error, status, expected):
    assert classify(error, status) == expected


def test_it_names_only_classes_the_correlator_knows():
    assert all(isinstance(cls, Failure) for _, cls in RULES)
    assert Failure.UNCLASSIFIED not in {cls for _, cls in RULES}


def test_it_keeps_a_fingerprint_stable_and_sensitive_to_every_field():
    base = fingerprint(utc(9), "api", "socket hang up", 0)
    assert base == fingerprint(utc(9).astimezone(BERLIN), "api", "socket hang up", 0)
    assert len(base) == 64
    assert int(base, 16) >= 0
    others = {
        fingerprint(utc(9, 0, 1), "api", "socket hang up", 0),
        fingerprint(utc(9), "oauth", "socket hang up", 0),
        fingerprint(utc(9), None, "socket hang up", 0),
        fingerprint(utc(9), "api", "socket hang up!", 0),
        fingerprint(utc(9), "api", "socket hang up", 1),
    }
    assert base not in others
    assert len(others) == 5


def jsonl(*objects: object) -> list[str]:
    return [o if isinstance(o, str) else json.dumps(o) + "\n" for o in objects]


def read_jsonl(*objects: object, tz=UTC) -> list[ObservedLine | RejectedLine]:
    return list(parse_jsonl(jsonl(*objects), tz=tz, now=NOW))


def observed(items: list[ObservedLine | RejectedLine]) -> list[ObservedLine]:
    """``items``, which must all have been read (none rejected)."""
    lines = [i for i in items if isinstance(i, ObservedLine)]
    assert len(lines) == len(items), items
    return lines


def test_it_reads_jsonl_objects_with_at_error_and_target():
    [item] = read_jsonl(
        {"at": "2026-04-14T09:41:07Z", "error": "socket hang up", "target": "api.anthropic.com"}
    )
    assert isinstance(item, ObservedLine)
    assert (item.line, item.at, item.error) == (1, utc(9, 41, 7), "socket hang up")
    assert (item.target, item.failure_class) == ("api.anthropic.com", "connection_reset")
    assert item.fingerprint == fingerprint(utc(9, 41, 7), "api.anthropic.com", "socket hang up", 0)


def test_it_accepts_time_timestamp_and_message_as_synonyms():
    items = observed(
        read_jsonl(
            {"time": "2026-04-14T09:00:00Z", "message": "ECONNREFUSED"},
            {"timestamp": "2026-04-14T10:00:00+02:00", "message": "ETIMEDOUT"},
        )
    )
    assert [(i.at, i.failure_class, i.target) for i in items] == [
        (utc(9), "connect_refused", None),
        (utc(8), "timeout", None),
    ]


def test_it_uses_the_status_field_as_a_classification_hint():
    [item] = read_jsonl({"at": "2026-04-14T09:00:00Z", "error": "request failed", "status": 529})
    assert isinstance(item, ObservedLine)
    assert item.failure_class == "server_error"


def test_it_reads_an_error_object_as_its_json_text():
    [item] = read_jsonl(
        {"at": "2026-04-14T09:00:00Z", "error": {"type": "authentication_error", "message": "x"}}
    )
    assert isinstance(item, ObservedLine)
    assert item.failure_class == "auth_rejected"
    assert "authentication_error" in item.error


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (1776157200, utc(9)),
        (1776157200123, utc(9, 0, 0, 123000)),
        ("2026-04-14 11:00:00", utc(9)),  # Berlin, CEST
        ("2026-04-14T11:00:00+02:00", utc(9)),
        ("2026-04-14T09:00:00Z", utc(9)),
    ],
)
def test_it_reads_jsonl_times_as_unix_time_or_iso_in_the_zone_given(at, expected):
    [item] = read_jsonl({"at": at, "error": "ETIMEDOUT"}, tz=BERLIN)
    assert isinstance(item, ObservedLine)
    assert item.at == expected


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("not json\n", "not valid JSON (Expecting value); expected one object a line"),
        ("[1, 2]\n", "expected a JSON object, got list"),
        ('{"error": "x"}\n', 'no "at" (or "time", "timestamp") field'),
        ('{"at": "2026-04-14T09:00:00Z"}\n', 'no "error" (or "message") field'),
        ('{"at": "2026-04-14T09:00:00Z", "error": ""}\n', 'no "error" (or "message") field'),
        ('{"at": true, "error": "x"}\n', "expected a time as text or Unix seconds, got bool"),
        (
            '{"at": "yesterday-ish", "error": "x"}\n',
            "cannot read 'yesterday-ish' as a time; a log's times must be absolute",
        ),
        ('{"at": "2027-01-01T00:00:00Z", "error": "x"}\n', "is in the future"),
        # Found by fuzzing (tests/test_fuzz_import.py): each raised and ended the import.
        ('{"at": 1' + "0" * 400 + ', "error": "x"}\n', "as a Unix time"),  # OverflowError
        ('{"at": "2026-04-14T09:00:00Z", "error": " \\t "}\n', "no error text"),  # stored ""
    ],
)
def test_it_rejects_an_unreadable_jsonl_line_with_its_number_and_a_reason(line, reason):
    items = read_jsonl("# exported by a script\n", "\n", line)
    assert len(items) == 1
    assert isinstance(items[0], RejectedLine)
    assert items[0].line == 3
    assert reason in items[0].reason


def test_it_skips_blank_lines_and_comments_without_rejecting_them():
    items = read_jsonl("\n", "   \n", "# comment\n", {"at": "2026-04-14T09:00:00Z", "error": "x"})
    assert [type(i) for i in items] == [ObservedLine]
    assert items[0].line == 4


def read_text(*lines: str, tz=UTC) -> list[ObservedLine | RejectedLine]:
    return list(parse_text([f"{line}\n" for line in lines], tz=tz, now=NOW))


@pytest.mark.parametrize(
    ("line", "at", "error"),
    [
        (
            '2026-04-14T09:41:07.123Z ERROR API Error: 401 {"type":"error"}',
            utc(9, 41, 7, 123000),
            'ERROR API Error: 401 {"type":"error"}',
        ),
        ("[2026-04-14 11:41:07] socket hang up", utc(9, 41, 7), "socket hang up"),  # Berlin
        ("[2026-04-14T09:41:07Z] socket hang up", utc(9, 41, 7), "socket hang up"),
        ("2026-04-14 11:41:07 socket hang up", utc(9, 41, 7), "socket hang up"),  # Berlin
        (
            "2026-04-14 11:41:07,250 ERROR socket hang up",
            utc(9, 41, 7, 250000),
            "ERROR socket hang up",
        ),
        ("2026-04-14T09:41:07+0000 - socket hang up", utc(9, 41, 7), "socket hang up"),
        ("2026-04-14 04:41:07 -0500 socket hang up", utc(9, 41, 7), "socket hang up"),
        ("2026-04-14 09:41:07 UTC: socket hang up", utc(9, 41, 7), "socket hang up"),
        ("2026-04-14T09:41:07.123456789Z socket hang up", utc(9, 41, 7, 123456), "socket hang up"),
        ("  2026-04-14 11:41 socket hang up", utc(9, 41), "socket hang up"),
    ],
)
def test_it_reads_a_leading_timestamp_and_takes_the_rest_as_the_error(line, at, error):
    [item] = read_text(line, tz=BERLIN)
    assert isinstance(item, ObservedLine)
    assert (item.at, item.error, item.target) == (at, error, None)


def test_it_reads_times_without_a_zone_as_local_time_when_no_tz_is_given():
    [item] = read_text("2026-04-14 09:41:07 socket hang up", tz=None)
    assert isinstance(item, ObservedLine)
    local = datetime(2026, 4, 14, 9, 41, 7).astimezone()
    assert item.at == local.astimezone(UTC)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("ERROR 2026-04-14 09:41:07 socket hang up", "no timestamp at the start; expected e.g."),
        ("09:41:07 socket hang up", "starts with a date or time ('09:41:07') in a shape"),
        ("[2026-04-14 09:41:07 socket hang up", "starts with a date or time ('2026-04-14')"),
        ("2026-13-14 09:41:07 socket hang up", "cannot read '2026-13-14T09:41:07' as a time"),
        ("2026-04-14 09:41:07", "no error text after the timestamp"),
    ],
)
def test_it_rejects_a_text_line_without_a_readable_timestamp_with_a_reason(line, reason):
    [item] = read_text(line)
    assert isinstance(item, RejectedLine)
    assert item.line == 1
    assert reason in item.reason


def test_it_skips_blank_and_comment_lines_in_text_and_numbers_lines_as_in_the_file():
    items = read_text("# header", "", "2026-04-14 09:41:07 socket hang up", "garbage")
    assert [(type(i).__name__, i.line) for i in items] == [("ObservedLine", 3), ("RejectedLine", 4)]


def test_it_gives_identical_lines_distinct_fingerprints_that_repeat_on_a_second_read():
    lines = ["2026-04-14T09:41:07Z socket hang up"] * 3 + ["2026-04-14T09:41:08Z socket hang up"]
    first = [i.fingerprint for i in observed(read_text(*lines))]
    second = [i.fingerprint for i in observed(read_text(*lines))]
    assert first == second
    assert len(set(first)) == 4
    assert first[0] == fingerprint(utc(9, 41, 7), None, "socket hang up", 0)
    assert first[2] == fingerprint(utc(9, 41, 7), None, "socket hang up", 2)


@pytest.mark.parametrize(
    "error",
    [
        f"API Error: 401 invalid x-api-key {KEY}",
        f"request with Authorization: Bearer {BEARER} failed: 401",
        f'refresh failed: {{"refresh_token": "{BEARER}", "error": "invalid_grant"}}',
    ],
)
def test_it_redacts_secrets_before_storing_or_fingerprinting(error):
    [text_item] = read_text(f"2026-04-14T09:41:07Z {error}")
    [json_item] = read_jsonl({"at": "2026-04-14T09:41:07Z", "error": error, "target": KEY})
    for item in (text_item, json_item):
        assert isinstance(item, ObservedLine)
        assert KEY not in item.error
        assert BEARER not in item.error
        assert "REDACTED" in item.error
        assert item.fingerprint == fingerprint(item.at, item.target, item.error, 0)
    assert isinstance(json_item, ObservedLine)
    assert KEY not in (json_item.target or "")


def test_it_redacts_a_secret_in_the_target_url_query():
    [item] = read_jsonl(
        {"at": "2026-04-14T09:00:00Z", "error": "x", "target": "https://h/p?api_key=abcdef123"}
    )
    assert isinstance(item, ObservedLine)
    assert item.target == "https://h/p?api_key=REDACTED"


def test_it_never_quotes_a_secret_in_a_rejection_reason():
    [item] = read_jsonl({"at": KEY, "error": "x"})
    assert isinstance(item, RejectedLine)
    assert KEY not in item.reason


def test_it_caps_the_error_text():
    [item] = read_text("2026-04-14T09:41:07Z " + "x" * 5000 + " 503")
    assert isinstance(item, ObservedLine)
    assert len(item.error) == MAX_ERROR
    assert item.error.endswith("…")


def test_it_classifies_a_status_beyond_the_stored_excerpt():
    [item] = read_text("2026-04-14T09:41:07Z " + "detail " * 100 + "status code 503")
    assert isinstance(item, ObservedLine)
    assert item.failure_class == "server_error"


@pytest.mark.parametrize(
    ("first", "expected"),
    [('{"at": 1}', "jsonl"), ('  {"at": 1}', "jsonl"), ("2026-04-14 x", "text"), ("", "text")],
)
def test_it_detects_the_format_from_the_first_line(first, expected):
    assert detect_format(first) == expected


def test_it_reads_a_unix_time_as_utc_whatever_the_zone():
    [item] = read_jsonl({"at": 0, "error": "x"}, tz=timezone(timedelta(hours=5)))
    assert isinstance(item, ObservedLine)
    assert item.at == datetime(1970, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}\n", "JSON nested too deeply to read"),
        (
            '{"at": "2026-04-14T09:00:00Z", "error": ' + "[" * 5_000 + "]" * 5_000 + "}\n",
            "JSON nested too deeply to read",
        ),
    ],
    ids=["deep-object", "deep-error"],
)
def test_it_rejects_a_line_nested_too_deeply_and_reads_the_lines_after_it(line, reason):
    items = read_jsonl(
        {"at": "2026-04-14T09:00:00Z", "error": "socket hang up"},
        line,
        {"at": "2026-04-14T09:00:01Z", "error": "socket hang up"},
    )
    assert [(type(i).__name__, i.line) for i in items] == [
        ("ObservedLine", 1),
        ("RejectedLine", 2),
        ("ObservedLine", 3),
    ]
    assert isinstance(items[1], RejectedLine)
    assert items[1].reason.startswith(reason)


@pytest.mark.parametrize(
    ("error", "secret", "expected"),
    [
        ("API Error: 401 x-api-key: ghp_SECRETGITHUB1234567890", "SECRETGITHUB", "auth_rejected"),
        ("Authorization: Basic dXNlcjpTRUNSRVRQQVNT 401", "dXNlcjpTRUNSRVRQQVNT", "auth_rejected"),
        ("401 token=PLAINTOKENSECRET99", "PLAINTOKENSECRET99", "auth_rejected"),
        ('401 "apiKey": "CAMELSECRET777"', "CAMELSECRET777", "auth_rejected"),
        ('401 {"x-api-key":"sk_live_STRIPESECRET55"}', "STRIPESECRET55", "auth_rejected"),
        ("Authorization: Bearer q7 → 401 Unauthorized", "q7", "auth_rejected"),
        (
            "https://user:PASSWORDINURL@api.example.com/x connect ECONNREFUSED 10.0.0.1:443",
            "PASSWORDINURL",
            "connect_refused",
        ),
        (
            '400 {"error":"invalid_grant","refresh_token":"rt-SECRET-0123456789"}',
            "rt-SECRET-0123456789",
            "invalid_grant",
        ),
        ("Failed to refresh token: invalid_grant", None, "invalid_grant"),
        ("Error refreshing token: socket hang up", None, "connection_reset"),
        ("OAuth token has expired (token=SECRETEXPIRED1)", "SECRETEXPIRED1", "credentials_expired"),
        (
            'API Error: 401 {"type":"error","error":{"type":"authentication_error",'
            '"message":"Invalid authentication credentials"}}',
            None,
            "auth_rejected",
        ),
    ],
)
def test_it_still_classifies_error_text_once_its_secrets_are_redacted(error, secret, expected):
    [text_item] = read_text(f"2026-04-14T09:41:07Z {error}")
    [json_item] = read_jsonl({"at": "2026-04-14T09:41:07Z", "error": error})
    for item in (text_item, json_item):
        assert isinstance(item, ObservedLine)
        assert item.failure_class == expected
        if secret is None:
            assert item.error == error
        else:
            assert secret not in item.error
            assert "REDACTED" in item.error


def test_it_keeps_the_error_type_and_message_of_a_json_body_readable():
    [item] = read_jsonl(
        {
            "at": "2026-04-14T09:00:00Z",
            "error": {
                "type": "authentication_error",
                "message": "Invalid authentication credentials",
                "request": {"headers": {"x-api-key": KEY, "authorization": f"Bearer {BEARER}"}},
            },
        }
    )
    assert isinstance(item, ObservedLine)
    assert item.failure_class == "auth_rejected"
    assert '"type": "authentication_error"' in item.error
    assert '"message": "Invalid authentication credentials"' in item.error
    assert KEY not in item.error
    assert BEARER not in item.error


# --- Lines found by fuzzing (tests/test_fuzz_import.py) ---------------------------------


@pytest.mark.parametrize("status", ["²", "1" * 5000])
def test_it_ignores_a_status_of_digits_int_cannot_read(status):
    # str.isdigit() passes both; int() raised ValueError and ended the import.
    [item] = read_jsonl({"at": "2026-04-14T09:00:00Z", "error": "request failed", "status": status})
    assert isinstance(item, ObservedLine)
    assert item.failure_class == "unclassified"


def test_it_reads_an_unpaired_surrogate_escape_as_a_replacement_character():
    # json decodes "\ud800" to a lone surrogate: the fingerprint's hash raised
    # UnicodeEncodeError, and SQLite would refuse the text.
    line = '{"at": "2026-04-14T09:00:00Z", "error": "EOF \\ud800", "target": "h\\udc00"}\n'
    [item] = read_jsonl(line)
    assert isinstance(item, ObservedLine)
    assert (item.error, item.target) == ("EOF \ufffd", "h\ufffd")


def test_it_redacts_a_target_that_only_looks_like_a_url():
    # urlsplit() raised ValueError on the unclosed IPv6 bracket.
    [item] = read_jsonl(
        {"at": "2026-04-14T09:00:00Z", "error": "EOF", "target": "http://[::1/?token=abc123"}
    )
    assert isinstance(item, ObservedLine)
    assert item.target is not None
    assert "abc123" not in item.target
