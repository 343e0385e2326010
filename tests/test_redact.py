"""redact_url: secrets in a URL never reach what monitor stores, logs or prints."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from monitor.cli import main
from monitor.redact import REDACTED, redact_url
from tests.conftest import fixture_bytes
from tests.loopback import LoopbackServer

TABLE = [
    pytest.param(
        "https://status.example.com/api?api_key=abc123&page=2",
        "https://status.example.com/api?api_key=REDACTED&page=2",
        id="api-key",
    ),
    pytest.param(
        "https://status.example.com/feed.atom?token=abc123",
        "https://status.example.com/feed.atom?token=REDACTED",
        id="token",
    ),
    pytest.param(
        "https://status.example.com/feed?access_token=abc123",
        "https://status.example.com/feed?access_token=REDACTED",
        id="access-token",
    ),
    pytest.param(
        "https://status.example.com/feed?user=bob&password=hunter2",
        "https://status.example.com/feed?user=bob&password=REDACTED",
        id="password",
    ),
    pytest.param(
        "https://bucket.example.com/s.json?X-Amz-Date=20260731T000000Z&X-Amz-Signature=f00d",
        "https://bucket.example.com/s.json?X-Amz-Date=20260731T000000Z&X-Amz-Signature=REDACTED",
        id="signature",
    ),
    pytest.param(
        "https://status.example.com/?sig=abc&client_secret=def&session=ghi",
        "https://status.example.com/?sig=REDACTED&client_secret=REDACTED&session=REDACTED",
        id="sig-secret-session",
    ),
    pytest.param(
        "https://status.example.com/?API_KEY=abc&Token=def",
        "https://status.example.com/?API_KEY=REDACTED&Token=REDACTED",
        id="any-case",
    ),
    pytest.param(
        "https://status.example.com/?page=2&per_page=100&token=abc&sort=asc",
        "https://status.example.com/?page=2&per_page=100&token=REDACTED&sort=asc",
        id="others-kept-in-order",
    ),
    pytest.param(
        "https://status.example.com/?token=abc&token=def",
        "https://status.example.com/?token=REDACTED&token=REDACTED",
        id="repeated-key",
    ),
    pytest.param(
        "https://user:pass@status.example.com/history.atom",
        "https://REDACTED@status.example.com/history.atom",
        id="user-and-password",
    ),
    pytest.param(
        "https://user@status.example.com/history.atom",
        "https://REDACTED@status.example.com/history.atom",
        id="user-only",
    ),
    pytest.param(
        "https://user:p%40ss@status.example.com:8443/x?token=abc&page=1",
        "https://REDACTED@status.example.com:8443/x?token=REDACTED&page=1",
        id="user-info-port-and-query",
    ),
    pytest.param(
        "https://www.githubstatus.com/api/v2/summary.json",
        "https://www.githubstatus.com/api/v2/summary.json",
        id="no-query",
    ),
    pytest.param(
        "http://127.0.0.1:8080/status#components",
        "http://127.0.0.1:8080/status#components",
        id="no-query-with-fragment",
    ),
    pytest.param(
        "https://status.example.com/?page=2&tab=history",
        "https://status.example.com/?page=2&tab=history",
        id="no-secret-in-query",
    ),
    pytest.param(
        "https://status.example.com/?token=&page=",
        "https://status.example.com/?token=REDACTED&page=",
        id="blank-values",
    ),
    pytest.param(
        "https://status.example.com/?page=&tab=",
        "https://status.example.com/?page=&tab=",
        id="blank-values-no-secret",
    ),
    pytest.param("not a url", "not a url", id="not-a-url"),
    pytest.param("", "", id="empty"),
]


@pytest.mark.parametrize(("url", "expected"), TABLE)
def test_it_redacts_secrets_in_a_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize(("url", "expected"), TABLE)
def test_it_leaves_a_redacted_url_as_it_is(url: str, expected: str) -> None:
    assert redact_url(expected) == expected


def test_it_keeps_the_other_values_when_the_query_is_re_encoded() -> None:
    url = "https://status.example.com/search?q=a%20b&ids=1,2&token=abc&when=2026-07-31T10:00"

    redacted = redact_url(url)

    assert "abc" not in redacted
    assert parse_qsl(urlsplit(redacted).query) == [
        ("q", "a b"),
        ("ids", "1,2"),
        ("token", REDACTED),
        ("when", "2026-07-31T10:00"),
    ]


# --- end to end: a token in a source's URL --------------------------------------------------


TOKEN = "tok3n-s3cr3t"


def poll_a_feed_with_a_token(
    server: LoopbackServer, write_config, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, str]:
    server.route(
        "/history.atom",
        fixture_bytes("saucelabs/us-west-1-history.atom"),
        content_type="application/atom+xml",
    )
    config = write_config(
        sources=[
            {"name": "sauce", "kind": "feed", "url": f"{server.url}/history.atom?token={TOKEN}"}
        ]
    )
    printed = ""
    for args in (["poll"], ["poll"], ["sources", "--json"], ["sources"]):
        with pytest.raises(SystemExit) as exited:
            main(["--config", str(config), *args])
        out, err = capsys.readouterr()
        assert exited.value.code in (0, None), err
        printed += out + err
    return config, printed


def test_it_stores_and_prints_a_source_url_with_its_token_redacted(
    server: LoopbackServer, write_config, capsys
) -> None:
    config, printed = poll_a_feed_with_a_token(server, write_config, capsys)

    # The real URL still reaches the server (the second poll was conditional).
    assert [path for path, _ in server.requests] == ["/history.atom", "/history.atom"]
    assert server.not_modified == 1
    assert TOKEN not in printed
    with pytest.raises(SystemExit):
        main(["--config", str(config), "sources", "--json"])
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["url"] == f"{server.url}/history.atom?token=REDACTED"


def test_it_writes_no_token_anywhere_in_the_database(
    server: LoopbackServer, write_config, capsys
) -> None:
    config, _ = poll_a_feed_with_a_token(server, write_config, capsys)

    leaks = []
    with contextlib.closing(sqlite3.connect(config.parent / "monitor.db")) as connection:
        tables = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        for table in tables:
            for row in connection.execute(f'SELECT * FROM "{table}"'):  # noqa: S608
                if TOKEN in repr(row):
                    leaks.append((table, row))
    assert leaks == []


def test_it_redacts_credentials_in_a_proxy_setting_without_a_scheme() -> None:
    from monitor.redact import redact_url

    assert redact_url("user:pass@proxy.corp:8080") == "REDACTED@proxy.corp:8080"
    assert redact_url("proxy.corp:8080") == "proxy.corp:8080"
