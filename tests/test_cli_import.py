"""monitor import end to end: files the user's tools wrote, into a real SQLite database."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from freezegun import freeze_time

from monitor.cli import main
from monitor.store import open_store
from monitor.store.observed import list_observations
from tests.conftest import WriteConfig

KEY = "sk-ant-api03-Zx9aQw7ErTy5UiOp3AsDf1GhJkL"
BEARER = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtZSJ9.c2lnbmF0dXJl"
SOURCES = [
    {"name": "github", "kind": "statuspage", "url": "https://www.githubstatus.com"},
    {"name": "claude", "kind": "statuspage", "url": "https://status.claude.com"},
]
VENDOR_CHECK = """
[[check]]
name = "api-reachable"
kind = "tcp"
host = "api.anthropic.com"
port = 443
depends_on = { source = "claude" }
"""
LINES = [
    {
        "at": "2026-04-14T09:41:07Z",
        "error": 'API Error: 401 {"type":"error","error":{"type":"authentication_error",'
        '"message":"Invalid authentication credentials"}}',
        "target": "api.anthropic.com",
    },
    {"at": "2026-04-14T09:42:00Z", "error": "OAuth error: Request failed with status code 500"},
    {"at": "2026-04-14T09:43:00Z", "error": "connect ETIMEDOUT 160.79.104.10:443"},
    {"at": "2026-04-14T09:43:00Z", "error": "connect ETIMEDOUT 160.79.104.10:443"},
]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def write_jsonl(path: Path, *lines: object) -> Path:
    path.write_text(
        "".join(line if isinstance(line, str) else json.dumps(line) + "\n" for line in lines),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def config(write_config: WriteConfig) -> Path:
    return write_config(sources=SOURCES, extra=VENDOR_CHECK)


def stored(config: Path, source: str | None = None):
    store = open_store(f"sqlite:///{config.parent / 'monitor.db'}")
    try:
        lo, hi = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
        with store.reading() as reader:
            return list_observations(reader, lo, hi, source=source)
    finally:
        store.close()


def test_it_imports_a_jsonl_file_and_says_what_it_found(config, tmp_path, capsys):
    path = write_jsonl(tmp_path / "claude.jsonl", *LINES)

    status, out, err = run(capsys, "--config", str(config), "import", str(path))

    assert status == 0, err
    assert out.splitlines()[0] == (
        f"imported 4 new failures (0 already known) from {path}, 0 lines unreadable"
    )
    assert "connect_timeout  2" in out
    assert "auth_rejected    1" in out
    assert err == ""
    rows = stored(config)
    assert [(o.at, o.failure_class, o.source, o.target) for o in rows] == [
        (
            datetime(2026, 4, 14, 9, 41, 7, tzinfo=UTC),
            "auth_rejected",
            "claude",
            "api.anthropic.com",
        ),
        (datetime(2026, 4, 14, 9, 42, tzinfo=UTC), "server_error", "claude", None),
        (datetime(2026, 4, 14, 9, 43, tzinfo=UTC), "connect_timeout", "claude", None),
        (datetime(2026, 4, 14, 9, 43, tzinfo=UTC), "connect_timeout", "claude", None),
    ]


def test_it_adds_nothing_when_the_same_file_is_imported_again(config, tmp_path, capsys):
    path = write_jsonl(tmp_path / "claude.jsonl", *LINES)
    run(capsys, "--config", str(config), "import", str(path))

    status, out, _ = run(capsys, "--config", str(config), "import", str(path))

    assert status == 0
    assert out.startswith(f"imported 0 new failures (4 already known) from {path}")
    assert len(stored(config)) == 4


def test_it_adds_only_the_new_lines_of_a_grown_log(config, tmp_path, capsys):
    path = write_jsonl(tmp_path / "claude.jsonl", *LINES[:2])
    run(capsys, "--config", str(config), "import", str(path))
    write_jsonl(path, *LINES)

    _, out, _ = run(capsys, "--config", str(config), "import", str(path))

    assert out.startswith(f"imported 2 new failures (2 already known) from {path}")


def test_it_imports_a_text_log_in_the_zone_given(config, tmp_path, capsys):
    path = tmp_path / "tool.log"
    path.write_text(
        "# Claude Code debug log\n"
        '2026-04-14T09:41:07.123Z ERROR API Error: 401 {"type":"error"}\n'
        "\n"
        "[2026-04-14 11:45:00] Error: getaddrinfo ENOTFOUND api.anthropic.com\n",
        encoding="utf-8",
    )

    status, out, _ = run(
        capsys, "--config", str(config), "import", str(path), "--tz", "Europe/Berlin"
    )

    assert status == 0
    assert out.startswith("imported 2 new failures (0 already known)")
    assert [(o.at, o.failure_class) for o in stored(config)] == [
        (datetime(2026, 4, 14, 9, 41, 7, 123000, tzinfo=UTC), "auth_rejected"),
        (datetime(2026, 4, 14, 9, 45, tzinfo=UTC), "dns_failure"),
    ]


def test_it_reads_a_file_as_the_format_forced(config, tmp_path, capsys):
    path = write_jsonl(tmp_path / "claude.jsonl", *LINES[:1])

    _, out, err = run(capsys, "--config", str(config), "import", str(path), "--format", "text")

    assert "0 new failures" in out
    assert "1 line unreadable" in out
    assert err.startswith("line 1: no timestamp at the start; expected e.g.")


def test_it_counts_and_reports_unreadable_lines_on_stderr(config, tmp_path, capsys):
    bad = [f"garbage {n}\n" for n in range(7)]
    path = write_jsonl(tmp_path / "claude.jsonl", LINES[0], *bad, '{"error": "x"}\n')

    status, out, err = run(capsys, "--config", str(config), "import", str(path))

    assert status == 0
    assert out.startswith(
        f"imported 1 new failure (0 already known) from {path}, 8 lines unreadable"
    )
    assert err.splitlines() == [
        "line 2: not valid JSON (Expecting value); expected one object a line",
        "line 3: not valid JSON (Expecting value); expected one object a line",
        "line 4: not valid JSON (Expecting value); expected one object a line",
        "line 5: not valid JSON (Expecting value); expected one object a line",
        "line 6: not valid JSON (Expecting value); expected one object a line",
        "... and 3 more unreadable lines",
    ]


def test_it_prints_one_json_object_with_json(config, tmp_path, capsys):
    path = write_jsonl(tmp_path / "claude.jsonl", *LINES, "nonsense\n")

    status, out, err = run(capsys, "--config", str(config), "import", str(path), "--json")

    assert status == 0
    assert err == ""
    assert json.loads(out) == {
        "file": str(path),
        "source": "claude",
        "new": 4,
        "duplicates": 0,
        "unreadable": 1,
        "unreadable_lines": [
            {"line": 5, "reason": "not valid JSON (Expecting value); expected one object a line"}
        ],
        "stopped": None,
        "classes": {"connect_timeout": 2, "auth_rejected": 1, "server_error": 1},
        "first": "2026-04-14T09:41:07Z",
        "last": "2026-04-14T09:43:00Z",
    }


def test_it_never_stores_or_prints_a_secret_from_a_line(config, tmp_path, capsys):
    path = write_jsonl(
        tmp_path / "claude.jsonl",
        {"at": "2026-04-14T09:41:07Z", "error": f"API Error: 401 invalid x-api-key {KEY}"},
        {"at": "2026-04-14T09:42:07Z", "error": f"Authorization: Bearer {BEARER} rejected 401"},
        {"at": KEY, "error": "x"},
    )

    _, out, err = run(capsys, "--config", str(config), "import", str(path))
    _, json_out, _ = run(capsys, "--config", str(config), "import", str(path), "--json")

    database = b"".join(p.read_bytes() for p in config.parent.glob("monitor.db*"))
    for secret in (KEY, BEARER):
        assert secret.encode() not in database
        assert secret not in out + err + json_out
    assert b"sk-REDACTED" in database
    assert all(o.failure_class == "auth_rejected" for o in stored(config))


def test_it_files_the_failures_under_the_source_given(config, tmp_path, capsys):
    path = write_jsonl(tmp_path / "claude.jsonl", *LINES)

    run(capsys, "--config", str(config), "import", str(path), "--source", "github")

    assert len(stored(config, source="github")) == 4
    assert stored(config, source="claude") == []


def test_it_defaults_to_the_first_source_when_no_vendor_check_names_one(
    write_config, tmp_path, capsys
):
    config = write_config(sources=SOURCES)
    path = write_jsonl(tmp_path / "claude.jsonl", *LINES[:1])

    _, out, _ = run(capsys, "--config", str(config), "import", str(path), "--json")

    assert json.loads(out)["source"] == "github"


def test_it_exits_2_on_an_unknown_source_naming_the_configured_ones(config, tmp_path, capsys):
    path = write_jsonl(tmp_path / "claude.jsonl", *LINES)

    status, out, err = run(
        capsys, "--config", str(config), "import", str(path), "--source", "nosuch"
    )

    assert status == 2
    assert out == ""
    assert err.rstrip("\n").splitlines()[-1] == (
        f"Error: Invalid value for '--source': no source named 'nosuch' in {config} "
        "(configured: github, claude)"
    )
    assert not (config.parent / "monitor.db").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tz", "Nowhere/City"], "Error: Invalid value for '--tz': unknown time zone"),
        (["--format", "csv"], "Error: Invalid value for '--format'"),
    ],
)
def test_it_exits_2_on_a_bad_option(config, tmp_path, capsys, args, message):
    path = write_jsonl(tmp_path / "claude.jsonl", *LINES)

    status, _, err = run(capsys, "--config", str(config), "import", str(path), *args)

    assert status == 2
    assert err.rstrip("\n").splitlines()[-1].startswith(message)


@pytest.mark.parametrize("name", ["missing.jsonl", "."])
def test_it_exits_1_when_the_file_cannot_be_read(config, tmp_path, capsys, name):
    status, out, err = run(capsys, "--config", str(config), "import", str(tmp_path / name))

    assert status == 1
    assert out == ""
    assert err.startswith(f"error: cannot read {tmp_path / name}: ")


def test_it_reads_stdin_given_a_dash(config):
    lines = "".join(json.dumps(line) + "\n" for line in LINES)

    result = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "import", "-"],
        input=lines,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("imported 4 new failures (0 already known) from stdin")
    assert result.stderr == ""
    assert len(stored(config)) == 4


def test_it_shows_no_progress_bar_when_stderr_is_not_a_terminal(
    config, tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr("monitor.cli.importer.PROGRESS_BYTES", 0)
    path = write_jsonl(tmp_path / "claude.jsonl", *LINES)

    status, _, err = run(capsys, "--config", str(config), "import", str(path))

    assert status == 0
    assert err == ""


def test_it_imports_an_empty_file_as_nothing(config, tmp_path, capsys):
    path = tmp_path / "empty.log"
    path.write_bytes(b"")

    status, out, _ = run(capsys, "--config", str(config), "import", str(path))

    assert status == 0
    assert out == f"imported 0 new failures (0 already known) from {path}, 0 lines unreadable\n"


def test_it_reads_a_file_with_a_byte_order_mark_and_stray_bytes(config, tmp_path, capsys):
    path = tmp_path / "tool.log"
    path.write_bytes(
        b"\xef\xbb\xbf2026-04-14T09:41:07Z socket hang up\n2026-04-14T09:42:07Z bad \xff byte\n"
    )

    _, out, _ = run(capsys, "--config", str(config), "import", str(path))

    assert out.startswith("imported 2 new failures (0 already known)")


# Each error quotes a secret in a shape a real tool's log has; the secret is what follows the
# known prefix, so a kept "ghp_" or "sk_live_" in front of REDACTED is no leak.
SHAPED_SECRETS = [
    ("API Error: 401 x-api-key: ghp_{}", "GhubXk9Secret0123456789abcd"),
    ("X-Api-Key: {} rejected", "XApiKey7Secret0123"),
    ("Authorization: Basic {} 401", "dXNlcjpCYXNpY1NlY3JldDk5"),
    ("Authorization: Bearer {} 401", "Q7zX9k"),  # shorter than 8 characters
    ("Authorization: Token {} 401", "TokSchemeSecret42"),
    ("401 token={}&page=2", "PlainTokenSecret99"),
    ('401 {{"apiKey": "{}"}}', "CamelSecret777xyz"),
    ('401 {{"headers":{{"x-api-key":"sk_live_{}"}}}}', "StripeSecret55abc"),
    ("401 {{'access_token': '{}', 'expires_in': 3600}}", "AccessTokenSecret31"),
    ('400 {{"error":"invalid_grant","refresh_token":"{}"}}', "RefreshTokenSecret8"),
    ("client_secret={} rejected 401", "ClientSecretValue2"),
    ("401 cookie: sessionKey=sk-ant-sid01-{}; lang=en", "CookieSessionSecret6"),
    ("request to https://user:{}@api.example.com/v1 failed: ECONNREFUSED", "UrlPassword4secret"),
    ("401 from key {}", "AKIAIOSFODNN7EXAMPLE"),
    ("401 slack xoxb-{}", "1234-5678-SlackSecret0"),
    ("401 github_pat_{}", "11AAGithubPatSecret0_x"),
    ("401 jwt {}", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzd2VlcCJ9.JwtSignatureSecret5"),
    ("invalid x-api-key sk-ant-api03-{}", "AnthropicKeySecret0123"),
]
TARGET_SECRETS = ("TargetUserPassword1", "TargetQueryToken22")


def test_it_keeps_every_secret_shape_out_of_the_database_and_every_output(
    config, tmp_path, capsys, caplog
):
    caplog.set_level("DEBUG")
    jsonl_lines = [
        {
            "at": f"2026-04-14T09:{n:02d}:00Z",
            "error": shape.format(secret),
            "target": f"tool-{n}",  # one window each, so each line is some window's detail
        }
        for n, (shape, secret) in enumerate(SHAPED_SECRETS)
    ]
    jsonl_lines.append(
        {
            "at": "2026-04-14T09:59:00Z",
            "error": 'API Error: 401 {"type":"error","error":{"type":"authentication_error",'
            '"message":"Invalid authentication credentials"}}',
            "target": "https://bob:{}@api.example.com/v1?api_key={}".format(*TARGET_SECRETS),
        }
    )
    jsonl = write_jsonl(tmp_path / "tool.jsonl", *jsonl_lines)
    text = tmp_path / "tool.log"
    text.write_text(
        "".join(
            f"2026-04-14T11:{n:02d}:00Z {shape.format(secret)}\n"
            for n, (shape, secret) in enumerate(SHAPED_SECRETS)
        ),
        encoding="utf-8",
    )
    secrets = [secret for _, secret in SHAPED_SECRETS] + list(TARGET_SECRETS)
    span = ["--since", "2026-04-14T09:00:00Z", "--until", "2026-04-14T12:00:00Z"]

    printed = []
    for args in (
        ["import", str(jsonl)],
        ["import", str(jsonl), "--json"],
        ["import", str(text), "--format", "text"],
        ["why", "--json", "--at", "2026-04-14T09:30:00Z", "--window", "45m"],
        ["why", "--at", "2026-04-14T09:30:00Z", "--window", "45m", "--tz", "UTC"],
        ["timeline", "--json", *span],
        ["timeline", *span],
    ):
        status, out, err = run(capsys, "--log-level", "debug", "--config", str(config), *args)
        assert status == 0, err
        printed += [out, err]

    assert printed[0].startswith(f"imported {len(jsonl_lines)} new failures")
    assert printed[4].startswith(f"imported {len(SHAPED_SECRETS)} new failures")
    # The imported failures really are in why's and timeline's output, redacted.
    local = json.loads(printed[6])["local"]
    assert len(local) == len(jsonl_lines)
    unredacted = [w["detail"] for w in local if "REDACTED" not in w["detail"]]
    assert unredacted == [jsonl_lines[-1]["error"]]  # no secret: readable as it was
    assert "REDACTED@api.example.com" in printed[6]  # the last window's target
    events = json.loads(printed[10])["events"]
    # Every JSONL target is a window; the text log's failures add at least one more
    # (one per host they name and kind of failure).
    assert len(events) >= len(jsonl_lines) + 1
    assert {e["side"] for e in events} == {"local"}
    database = config.parent / "monitor.db"
    stored_bytes = b"".join(
        Path(f"{database}{suffix}").read_bytes()
        for suffix in ("", "-wal")
        if Path(f"{database}{suffix}").exists()
    )
    assert b"Invalid authentication credentials" in stored_bytes
    everything = "\n".join(printed) + "\n".join(r.getMessage() for r in caplog.records)
    for secret in secrets:
        assert secret.encode() not in stored_bytes, f"the database holds {secret[:6]}…"
        assert secret not in everything, f"the output holds {secret[:6]}…"
    assert {o.failure_class for o in stored(config)} >= {"auth_rejected", "invalid_grant"}


def test_it_skips_a_line_longer_than_the_cap_and_keeps_the_lines_after_it(config, tmp_path, capsys):
    from monitor.cli.importer import LINE_CAP

    long_line = json.dumps({"at": "2026-04-14T09:44:00Z", "error": "x" * (LINE_CAP + 10)})
    path = write_jsonl(tmp_path / "claude.jsonl", LINES[0], long_line + "\n", LINES[1])

    status, out, err = run(capsys, "--config", str(config), "import", str(path))

    assert status == 0
    assert out.startswith("imported 2 new failures (0 already known)")
    assert f"line 2: longer than {LINE_CAP // 1024} KiB" in err
    assert len(stored(config)) == 2


def test_it_stops_endless_input_without_line_breaks_keeping_what_came_before(config):
    # What came before, then bytes that never end a line: a binary piped in by mistake.
    head = "".join(json.dumps(line) + "\n" for line in LINES[:2]).encode()
    with subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "import", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as child:
        assert child.stdin is not None
        child.stdin.write(head)
        try:
            while child.poll() is None:
                child.stdin.write(b"\0" * (1 << 20))  # as long as it keeps reading
        except BrokenPipeError:
            pass  # it stopped reading: what it must do
        out, err = child.communicate(timeout=60)

    assert child.returncode == 1
    assert out.decode().startswith("imported 2 new failures")
    assert "line 3 runs past 16 MiB without a line break" in err.decode()
    assert len(stored(config)) == 2


@pytest.mark.parametrize("ending", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_a_line_of_exactly_the_cap_is_read_whatever_its_line_break(
    config, tmp_path, capsys, ending
):
    from monitor.cli.importer import LINE_CAP

    head = '{"at": "2026-04-14T09:44:00Z", "error": "API Error: 500 '
    line = head + "x" * (LINE_CAP - len(head) - 2) + '"}'
    assert len(line.encode()) == LINE_CAP
    path = tmp_path / "exact.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + (line + ending).encode())  # a BOM is not the line

    status, out, _ = run(capsys, "--config", str(config), "import", str(path))

    assert status == 0
    assert out.startswith("imported 1 new failure (0 already known) from ")
    assert ", 0 lines unreadable" in out.splitlines()[0]


def test_json_says_why_an_import_stopped(config, tmp_path, capsys):
    path = tmp_path / "binary.bin"
    path.write_bytes(json.dumps(LINES[0]).encode() + b"\n" + b"\0" * (17 << 20))

    status, out, _ = run(capsys, "--config", str(config), "import", str(path), "--json")

    assert status == 1
    report = json.loads(out)
    assert report["new"] == 1
    assert report["stopped"].startswith("line 2 runs past 16 MiB without a line break")


# -- syslog, stack traces, --at --------------------------------------------------------

IMPORT_NOW = "2026-04-20T12:00:00Z"
SYSLOG = (
    "Apr 14 11:45:01 laptop claude[4121]: API Error: 401 Invalid authentication credentials\n"
    "Apr 14 11:46:30 laptop claude[4121]: OAuth error: Request failed with status code 500\n"
    "Apr 14 11:47:59 laptop claude[4121]: Error: connect ETIMEDOUT 160.79.104.10:443\n"
    "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)\n"
    "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n"
)


def test_it_imports_a_syslog_file_dated_this_year_and_prints_times_as_other_output_does(
    config, tmp_path, capsys
):
    path = tmp_path / "syslog"
    path.write_text(SYSLOG, encoding="utf-8")

    with freeze_time(IMPORT_NOW):
        status, out, err = run(
            capsys, "--config", str(config), "import", str(path), "--tz", "Europe/Berlin"
        )

    assert (status, err) == (0, "")
    assert out == (
        f"imported 3 new failures (0 already known) from {path}, 0 lines unreadable\n"
        "  3 failures read, 2026-04-14 09:45Z to 2026-04-14 09:47Z, source claude\n"
        "  auth_rejected    1\n"
        "  server_error     1\n"
        "  connect_timeout  1\n"
    )
    assert [(o.at, o.error) for o in stored(config)][2] == (
        datetime(2026, 4, 14, 9, 47, 59, tzinfo=UTC),
        "laptop claude[4121]: Error: connect ETIMEDOUT 160.79.104.10:443",
    )


def test_it_prints_whole_minutes_for_times_read_with_fractions(config, tmp_path, capsys):
    path = tmp_path / "tool.log"
    path.write_text(
        "2026-04-14T09:41:07.123456Z socket hang up\n2026-04-14T09:43:59.999Z socket hang up\n",
        encoding="utf-8",
    )

    _, out, _ = run(capsys, "--config", str(config), "import", str(path))

    assert out.splitlines()[1] == (
        "  2 failures read, 2026-04-14 09:41Z to 2026-04-14 09:43Z, source claude"
    )


def test_it_reads_a_stack_trace_as_part_of_its_entry_not_as_unreadable_lines(
    config, tmp_path, capsys
):
    path = tmp_path / "tool.log"
    path.write_text(
        "2026-04-14 09:41:07,250 ERROR c.e.Client - Request to api.example.com failed\n"
        "java.io.UncheckedIOException: request failed\n"
        "\tat com.example.Client.send(Client.java:42)\n"
        "Caused by: java.net.SocketTimeoutException: Connect timed out\n"
        "\t... 5 more\n"
        "2026-04-14 09:42:00,000 ERROR token refresh failed\n"
        "Traceback (most recent call last):\n"
        '  File "/app/auth.py", line 12, in refresh\n'
        "    response = client.post(url, timeout=5)\n"
        "httpx.HTTPStatusError: Client error '401 Unauthorized' for url 'https://x.example/t'\n",
        encoding="utf-8",
    )

    status, out, err = run(capsys, "--config", str(config), "import", str(path), "--tz", "UTC")

    assert (status, err) == (0, "")
    assert out == (
        f"imported 2 new failures (0 already known) from {path}, 0 lines unreadable\n"
        "  2 failures read, 2026-04-14 09:41Z to 2026-04-14 09:42Z, source claude\n"
        "  connect_timeout  1\n"
        "  auth_rejected    1\n"
    )
    assert [(o.failure_class, o.target) for o in stored(config)] == [
        ("connect_timeout", None),
        ("auth_rejected", "x.example"),
    ]


def test_it_gives_untimed_terminal_output_the_time_given_with_at(config, tmp_path, capsys):
    path = tmp_path / "pasted.txt"
    path.write_text(
        "API Error: 401 Invalid authentication credentials\n"
        "    at f (cli.js:1:1)\n"
        "OAuth error: Request failed with status code 500\n",
        encoding="utf-8",
    )
    args = ("--config", str(config), "import", str(path), "--tz", "UTC")

    with freeze_time(IMPORT_NOW):
        status, out, err = run(capsys, *args, "--at", "yesterday 15:30")
        again = run(capsys, *args, "--at", "yesterday 15:30")

    assert (status, err) == (0, "")
    assert out == (
        f"imported 2 new failures (0 already known) from {path}, 0 lines unreadable\n"
        "  2 failures read, 2026-04-19 15:30Z to 2026-04-19 15:30Z, source claude\n"
        "  auth_rejected  1\n"
        "  server_error   1\n"
    )
    assert again[1].startswith(f"imported 0 new failures (2 already known) from {path}")


def test_it_reads_a_bare_at_ahead_of_the_clock_as_yesterdays(config, tmp_path, capsys):
    # Asked at 14:44, "15:40" has not come yet today: the output is from yesterday's.
    path = tmp_path / "pasted.txt"
    path.write_text("socket hang up\n", encoding="utf-8")

    with freeze_time("2026-04-20 14:44:00"):
        status, _, err = run(
            capsys, "--config", str(config), "import", str(path), "--tz", "UTC", "--at", "15:40"
        )

    assert (status, err) == (0, "")
    assert [o.at for o in stored(config)] == [datetime(2026, 4, 19, 15, 40, tzinfo=UTC)]


def test_it_says_which_lines_lack_a_time_when_no_at_is_given(config, tmp_path, capsys):
    path = tmp_path / "pasted.txt"
    path.write_text("API Error: 401\n    at f (cli.js:1:1)\nsocket hang up\n", encoding="utf-8")

    _, out, err = run(capsys, "--config", str(config), "import", str(path))

    assert "0 new failures" in out
    assert "2 lines unreadable" in out
    assert [line.split(";")[0] for line in err.splitlines()] == [
        "line 1: no timestamp at the start",
        "line 3: no timestamp at the start",
    ]
    assert "or give lines without one a time with --at" in err


@pytest.mark.parametrize(
    ("at", "message"),
    [
        (
            "whenever",
            "Error: Invalid value for '--at': cannot read 'whenever' as a time; use "
            "'2026-04-14 10:00' or '14 Apr 2026 9:45' (local time), '10:00', "
            "'yesterday 15:30', '2026-04-14', 'now', '2h ago' or '2026-04-14T10:00:00Z'",
        ),
        (
            "today 23:00",
            "Error: Invalid value for '--at': 'today 23:00' is 2026-04-20 23:00Z, still to "
            "come: the output was written before now",
        ),
    ],
)
def test_it_exits_2_on_an_at_it_cannot_use(config, tmp_path, capsys, at, message):
    path = tmp_path / "pasted.txt"
    path.write_text("socket hang up\n", encoding="utf-8")

    with freeze_time(IMPORT_NOW):
        status, out, err = run(
            capsys, "--config", str(config), "import", str(path), "--tz", "UTC", "--at", at
        )

    assert (status, out) == (2, "")
    assert err.splitlines()[-1] == message
    assert stored(config) == []


def test_it_redacts_and_escapes_what_continuation_lines_carry_in_every_output(
    config, tmp_path, capsys
):
    trace = "".join(
        f"2026-04-14T11:{n:02d}:00Z ERROR request to tool-{n} failed\n"
        f"    at send (client.js:{n}:1) {secret}\n"  # a frame: never stored at all
        f"  Caused by: {shape.format(secret)}\n"
        "  \x1b[2J\x1b]0;owned\x07\u202eCaused by: ECONNRESET\n"
        for n, (shape, secret) in enumerate(SHAPED_SECRETS)
    )
    path = tmp_path / "trace.log"
    path.write_text(trace, encoding="utf-8")
    span = ["--since", "2026-04-14T11:00:00Z", "--until", "2026-04-14T12:00:00Z", "--tz", "UTC"]

    printed = []
    for args in (
        ["import", str(path)],
        ["import", str(path), "--json"],
        ["timeline", *span],
        ["timeline", "--json", *span],
        ["why", "--at", "2026-04-14T11:05:00Z", "--window", "30m", "--tz", "UTC"],
    ):
        status, out, err = run(capsys, "--config", str(config), *args)
        assert status == 0, err
        printed += [out, err]

    assert printed[0].startswith(f"imported {len(SHAPED_SECRETS)} new failures")
    assert "0 lines unreadable" in printed[0]
    rows = stored(config)
    assert len(rows) == len(SHAPED_SECRETS)
    assert all("Caused by:" in row.error for row in rows)
    assert "\x1b[2J" in rows[0].error  # the database keeps the exact (redacted) text
    everything = "".join(printed)
    assert "Caused by" in everything
    for secret in [secret for _, secret in SHAPED_SECRETS]:
        assert all(secret not in row.error for row in rows), secret[:6]
        assert secret not in everything, secret[:6]
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in everything
