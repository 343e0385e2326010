"""Who the API answers, and what it never serves: tokens, Host names, paths, methods, parameters.

A real service's server on a free 127.0.0.1 port, over an empty SQLite database.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest

from monitor import __version__
from monitor.config import load_config
from monitor.digest import database_digest
from monitor.errors import ConfigError
from monitor.listen import Listen, parse_listen
from monitor.service.api import routes
from monitor.service.api.state import ApiState
from monitor.service.runtime import Loaded
from monitor.service.scheduler import Service
from tests.api_client import request, serving

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TOKEN = "s3cret-token-for-the-tests-0123456789"
CONFIG_TEXT = '[monitor]\nprobe = "api"\n\n[dashboards]\nout = "."\n\n[http]\n'


def write(folder: Path, http: str = 'listen = "127.0.0.1:0"\n') -> Path:
    path = folder / "config.toml"
    path.write_text(CONFIG_TEXT + http, encoding="utf-8")
    return path


@pytest.fixture
def open_api(tmp_path: Path) -> Iterator[Service]:
    """No token: loopback names only. The dashboards folder is the config's own folder."""
    with serving(write(tmp_path), clock=lambda: NOW) as service:
        yield service


@pytest.fixture
def guarded_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    monkeypatch.setenv("MONITOR_API_TOKEN", TOKEN)
    config = write(tmp_path, 'listen = "127.0.0.1:0"\ntoken = "${MONITOR_API_TOKEN}"\n')
    with serving(config, clock=lambda: NOW) as service:
        yield service


def url(service: Service) -> str:
    assert service.api_url is not None
    return service.api_url


# -- the token -----------------------------------------------------------------


def test_without_the_token_every_endpoint_but_healthz_is_refused(guarded_api):
    for path in ("/api/why", "/api/status", "/api/timeline", "/metrics", "/", "/nothing"):
        answer = request(url(guarded_api), path)
        assert answer.status == 401, path
        assert answer.headers["www-authenticate"] == 'Bearer realm="monitor"'
        assert "Authorization: Bearer" in answer.json()["error"]
    assert request(url(guarded_api), "/healthz").status == 200


@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", "Bearer", TOKEN],
)
def test_a_wrong_token_is_refused(guarded_api, authorization):
    answer = request(url(guarded_api), "/api/status", headers={"Authorization": authorization})

    assert answer.status == 401
    assert answer.headers["www-authenticate"] == 'Bearer realm="monitor", error="invalid_token"'
    assert TOKEN not in answer.text


def test_the_right_token_is_answered_even_under_another_host_name(guarded_api):
    headers = {"Authorization": f"Bearer {TOKEN}", "Host": "monitor.internal.example"}

    assert request(url(guarded_api), "/api/status", headers=headers).status == 200
    assert request(url(guarded_api), "/metrics", headers=headers).status == 200


# -- DNS rebinding ----------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "evil.example:9470", "127.0.0.1.evil.example"])
def test_without_a_token_a_foreign_host_name_is_refused(open_api, host):
    answer = request(url(open_api), "/api/status", headers={"Host": host})

    assert answer.status == 421
    assert "loopback" in answer.json()["error"]


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST:9470", "127.0.0.1:1", "127.1.2.3", "[::1]:9470"]
)
def test_the_names_of_this_machine_are_answered(open_api, host):
    assert request(url(open_api), "/healthz", headers={"Host": host}).status == 200


# -- files --------------------------------------------------------------------


@pytest.fixture
def drawn(open_api: Service, tmp_path: Path) -> Path:
    """A drawn dashboards folder (the config's folder), with things that must not be served."""
    (tmp_path / "index.html").write_text("<html>dashboards</html>", encoding="utf-8")
    (tmp_path / "uptime.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    (tmp_path / "uptime.svg").write_text("<svg/>", encoding="utf-8")
    (tmp_path / ".uptime.png.tmp123.png").write_bytes(b"half")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.png").write_bytes(b"png")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.png"
    outside.write_bytes(b"outside")
    (tmp_path / "link.png").symlink_to(outside)
    return tmp_path


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/", "text/html; charset=utf-8", b"<html>dashboards</html>"),
        ("/index.html", "text/html; charset=utf-8", b"<html>dashboards</html>"),
        ("/uptime.png", "image/png", b"\x89PNG\r\n\x1a\nfake"),
        ("/uptime.svg", "image/svg+xml", b"<svg/>"),
    ],
)
def test_the_dashboards_are_served_with_their_types(drawn, open_api, path, content_type, body):
    answer = request(url(open_api), path)

    assert answer.status == 200
    assert answer.headers["content-type"] == content_type
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.body == body


@pytest.mark.parametrize(
    "path",
    [
        "/../config.toml",
        "/%2e%2e/config.toml",
        "/%2e%2e%2fconfig.toml",
        "/sub/..%2f..%2fconfig.toml",
        "/config.toml",
        "/monitor.db",
        "/sub/",
        "/sub",
        "/sub/x.png",
        "/.uptime.png.tmp123.png",
        "/link.png",
        "//etc/passwd",
        "/%00index.html",
        "/index.html%00.png",
    ],
)
def test_nothing_outside_the_drawn_files_is_served(drawn, open_api, path):
    answer = request(url(open_api), path)

    assert answer.status == 404
    assert b"probe" not in answer.body
    assert b"outside" not in answer.body
    assert answer.headers["content-type"] == "application/json"


def test_before_the_first_drawing_the_page_says_how_to_get_one(open_api):
    answer = request(url(open_api), "/")

    assert answer.status == 404
    assert "monitor chart" in answer.json()["error"]


# -- methods, paths, parameters ------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_only_get_is_answered(open_api, method):
    answer = request(url(open_api), "/api/why", method=method, body=b'{"at": "now"}')

    assert answer.status == 405
    assert answer.headers["allow"] == "GET"
    assert answer.headers["connection"] == "close"  # the body was never read


def test_an_unknown_path_is_a_404_naming_the_endpoints(open_api):
    answer = request(url(open_api), "/api/whyy")

    assert answer.status == 404
    assert "/api/why" in answer.json()["error"]


def test_unknown_parameters_are_named(open_api):
    answer = request(url(open_api), "/api/why?at=now&json=1&since=x")

    assert answer.status == 400
    assert answer.json() == {
        "error": "unknown parameters 'json', 'since' for /api/why "
        "(expected: at, window, tz, probe, format)"
    }


def test_a_parameter_given_twice_is_refused(open_api):
    answer = request(url(open_api), "/api/why?at=now&at=1h%20ago")

    assert answer.status == 400
    assert answer.json() == {"error": "parameter 'at' given more than once"}


def test_an_unknown_format_is_refused(open_api):
    answer = request(url(open_api), "/api/status?format=xml")

    assert answer.status == 400
    assert answer.json()["error"] == (
        "Invalid value for 'format': expected 'json' or 'text', got 'xml'"
    )


def test_the_parameters_default_as_the_command_lines_options_do():
    from monitor.cli.why import timeline, why

    defaults = {p.name: p.default for p in [*why.params, *timeline.params]}
    assert {"at": defaults["at_text"], "window": defaults["window_text"]} == routes.WHY_DEFAULTS
    assert {"since": defaults["since"], "until": defaults["until"]} == routes.TIMELINE_DEFAULTS
    assert all(isinstance(c, click.Command) for c in (why, timeline))


# -- headers every answer carries ------------------------------------------------


def test_every_answer_says_no_store_and_which_config_and_a_reload_renews_it(open_api, tmp_path):
    config = tmp_path / "config.toml"
    before = hashlib.sha256(config.read_bytes()).hexdigest()
    for path in ("/healthz", "/api/status", "/metrics", "/missing", "/api/why?at=x"):
        answer = request(url(open_api), path)
        assert answer.headers["cache-control"] == "no-store", path
        assert answer.headers["monitor-config-digest"] == before, path
    assert request(url(open_api), "/healthz").json()["config_digest"] == before

    config.write_text(config.read_text() + "\n# edited\n", encoding="utf-8")
    open_api._reload()
    after = hashlib.sha256(config.read_bytes()).hexdigest()

    assert after != before
    assert request(url(open_api), "/healthz").headers["monitor-config-digest"] == after


def identity(answer_headers: dict[str, str]) -> tuple[str, str, str]:
    return (
        answer_headers["monitor-config-digest"],
        answer_headers["monitor-database"],
        answer_headers["monitor-version"],
    )


def test_every_answer_names_the_database_and_probe_and_the_version(open_api):
    config = open_api.config
    expected = (
        open_api.runtime.loaded.digest,
        database_digest(config.database_url, config.probe),
        __version__,
    )
    answers = [
        request(url(open_api), path)
        for path in ("/healthz", "/api/status", "/api/why", "/metrics", "/missing", "/api/why?at=x")
    ]
    answers.append(request(url(open_api), "/api/status", method="POST"))
    answers.append(request(url(open_api), "/api/status", headers={"Host": "evil.example"}))
    for answer in answers:
        assert identity(answer.headers) == expected, answer.status

    health = request(url(open_api), "/healthz").json()
    assert (health["config_digest"], health["database_digest"], health["version"]) == expected


def test_a_malformed_request_is_answered_with_the_same_headers(open_api):
    import socket

    host, port = url(open_api).removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        headers = b"".join(b"X-%d: 1\r\n" % n for n in range(101))  # the stdlib's cap: 100
        connection.sendall(b"GET / HTTP/1.1\r\n" + headers + b"\r\n")
        head = read_all(connection).partition(b"\r\n\r\n")[0].decode()

    assert head.startswith("HTTP/1.1 431")
    assert f"Monitor-Database: {open_api.runtime.loaded.database}" in head.splitlines()
    assert f"Monitor-Version: {__version__}" in head.splitlines()


def read_all(connection: socket.socket) -> bytes:
    chunks = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_a_reload_while_a_request_is_answered_does_not_mix_the_configs(open_api, tmp_path):
    """The headers name the config that computed the body, even when a reload lands between."""
    config = tmp_path / "config.toml"
    before = hashlib.sha256(config.read_bytes()).hexdigest()
    assert open_api.api is not None
    assert open_api.api.http is not None

    def reloading(state: ApiState, loaded: Loaded, params: dict[str, str]) -> routes.Response:
        config.write_text(config.read_text() + "\n# edited meanwhile\n", encoding="utf-8")
        open_api._reload()
        assert open_api.runtime.loaded.digest != before  # the reload did land
        return routes.json_response(200, {"digest": loaded.digest})

    open_api.api.http.routes["/reloading"] = (reloading, ())
    answer = request(url(open_api), "/reloading")

    assert answer.status == 200
    assert answer.json()["digest"] == before == answer.headers["monitor-config-digest"]


def test_a_failed_reload_keeps_the_digest_of_the_config_in_force(open_api, tmp_path):
    config = tmp_path / "config.toml"
    before = hashlib.sha256(config.read_bytes()).hexdigest()
    config.write_text(config.read_text() + "\nnot toml [\n", encoding="utf-8")
    open_api._reload()

    assert request(url(open_api), "/healthz").headers["monitor-config-digest"] == before


# -- the config --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "listen"),
    [
        ("127.0.0.1:9470", Listen("127.0.0.1", 9470)),
        ("localhost:9470", Listen("127.0.0.1", 9470)),
        ("[::1]:9470", Listen("::1", 9470)),
        ("0.0.0.0:0", Listen("0.0.0.0", 0)),  # noqa: S104 - parsed, not bound
        ("[::]:80", Listen("::", 80)),
    ],
)
def test_listen_reads_an_address_and_a_port(text, listen):
    assert parse_listen(text) == listen


@pytest.mark.parametrize(
    ("listen", "url"),
    [
        (Listen("127.0.0.1", 9470), "http://127.0.0.1:9470"),
        (Listen("::1", 9470), "http://[::1]:9470"),
        (Listen("0.0.0.0", 9470), "http://127.0.0.1:9470"),  # noqa: S104 - parsed, not bound
        (Listen("::", 9470), "http://[::1]:9470"),
    ],
)
def test_the_advertised_url_is_one_this_machine_connects_to(listen, url):
    assert listen.url() == url


def problems(tmp_path: Path, http: str) -> str:
    path = write(tmp_path, http)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value).removeprefix(f"{path}: 1 problem in config\n  ")


@pytest.mark.parametrize(
    ("http", "problem"),
    [
        (
            'listen = "0.0.0.0:9470"\n',
            "http.listen: '0.0.0.0:9470' is reachable from other machines, so the API needs a "
            'token: set [http] token = "${MONITOR_API_TOKEN}" and export it, or listen on '
            "127.0.0.1",
        ),
        (
            'listen = ":9470"\n',
            "http.listen: expected an address and port such as '127.0.0.1:9470' (this machine "
            "only), '[::1]:9470' or '0.0.0.0:9470' (every interface; needs a token), got ':9470'",
        ),
        (
            'listen = "monitor.example:9470"\n',
            "http.listen: expected an IP address or localhost before the port, got "
            "'monitor.example' (a host name could resolve elsewhere later); an address and port "
            "such as '127.0.0.1:9470' (this machine only), '[::1]:9470' or '0.0.0.0:9470' "
            "(every interface; needs a token)",
        ),
        (
            'listen = "127.0.0.1:65536"\n',
            "http.listen: port 65536 is out of range (0-65535; 0 picks any free port)",
        ),
        (
            'listen = "[127.0.0.1]:80"\n',
            "http.listen: only an IPv6 address goes in brackets, got '[127.0.0.1]:80'",
        ),
    ],
)
def test_a_listen_mistake_names_the_key_and_the_fix(tmp_path, http, problem):
    assert problems(tmp_path, http) == problem


@pytest.mark.parametrize("token", [f'"{TOKEN}"', '"Bearer ${MONITOR_API_TOKEN}"', "12345"])
def test_a_token_written_in_the_file_is_refused_and_never_repeated(tmp_path, token):
    problem = problems(tmp_path, f'listen = "127.0.0.1:0"\ntoken = {token}\n')

    assert problem == (
        "http.token: write the name of the environment variable holding the token, not a "
        'token: set [http] token = "${MONITOR_API_TOKEN}" and export it (secrets never go in '
        "this file)"
    )
    assert TOKEN not in problem
    assert "12345" not in problem


def run_refused(config: Path) -> ConfigError:
    service = Service(str(config), grace=timedelta(seconds=1), clock=lambda: NOW)
    try:
        with pytest.raises(ConfigError) as caught:
            service.run_forever()
        assert service.heartbeat.heartbeat_id is None  # nothing claimed
        assert service.heartbeat.started_at is None
        assert not service.scheduler.running
        return caught.value
    finally:
        service.runtime.http.close()
        service.runtime.store.close()


def test_a_token_variable_that_is_not_set_stops_the_start_before_anything_is_claimed(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("MONITOR_API_TOKEN", raising=False)
    config = write(tmp_path, 'listen = "0.0.0.0:0"\ntoken = "${MONITOR_API_TOKEN}"\n')

    assert str(run_refused(config)) == (
        f"{config.resolve()}: 1 problem in config\n"
        "  http.token: ${MONITOR_API_TOKEN} is not set in the environment; "
        "export it before `monitor run` (or remove [http] token and listen on 127.0.0.1)"
    )


def test_a_short_token_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("MONITOR_API_TOKEN", "tiny-7q")
    config = write(tmp_path, 'listen = "127.0.0.1:0"\ntoken = "${MONITOR_API_TOKEN}"\n')

    message = str(run_refused(config))
    assert "shorter than 16 characters" in message
    assert "tiny-7q" not in message


# -- limits ------------------------------------------------------------------------


def test_connections_past_the_cap_are_told_to_retry_and_the_slots_come_back(open_api):
    import socket

    from monitor.service.api.server import MAX_CONNECTIONS
    from tests.loopback import wait_until

    host, port = url(open_api).removeprefix("http://").rsplit(":", 1)
    idle = [socket.create_connection((host, int(port)), timeout=10) for _ in range(MAX_CONNECTIONS)]
    try:
        with socket.create_connection((host, int(port)), timeout=10) as extra:
            refused = extra.recv(4096)
    finally:
        for connection in idle:
            connection.close()

    assert refused.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    assert b"Retry-After: 1\r\n" in refused
    assert f"Monitor-Database: {open_api.runtime.loaded.database}\r\n".encode() in refused
    assert f"Monitor-Version: {__version__}\r\n".encode() in refused
    assert wait_until(lambda: request(url(open_api), "/healthz").status == 200, timeout=10)


def raw_exchange(service: Service, data: bytes) -> bytes:
    host, port = url(service).removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(data)
        return read_all(connection)


@pytest.mark.parametrize(
    "head",
    [
        # many short headers, each well within the standard library's own limits
        b"GET /healthz HTTP/1.1\r\n"
        + b"".join(b"X-%d: %s\r\n" % (n, b"a" * 500) for n in range(40)),
        b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * 20_000 + b"\r\n",
        b"GET /healthz?" + b"a" * 20_000 + b" HTTP/1.1\r\n",
    ],
    ids=["many-headers", "one-long-header", "long-request-line"],
)
def test_a_request_head_past_16_kib_is_refused_and_the_server_answers_on(open_api, head):
    answer = raw_exchange(open_api, head + b"\r\n")

    assert answer.startswith(b"HTTP/1.1 431 ")
    assert b"16 KiB" in answer
    assert request(url(open_api), "/healthz").status == 200


def test_a_head_just_under_the_cap_is_answered(open_api):
    head = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Pad: "
    head += b"a" * (16 * 1024 - len(head) - 4) + b"\r\n\r\n"

    assert raw_exchange(open_api, head).startswith(b"HTTP/1.1 200 ")


def test_every_answer_closes_its_connection(open_api):
    assert request(url(open_api), "/healthz").headers["connection"] == "close"


def test_a_head_sent_slowly_loses_its_connection_at_the_deadline(open_api):
    """A byte every 50 ms is within every read's timeout, but not within the head's deadline."""
    import time

    assert open_api.api is not None
    assert open_api.api.http is not None
    open_api.api.http.head_deadline_s = 0.2
    host, port = url(open_api).removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\n")
        start = time.monotonic()
        closed = False
        while not closed and time.monotonic() - start < 5:
            try:
                connection.sendall(b"X")
            except OSError:
                closed = True
            time.sleep(0.05)
            connection.setblocking(False)
            try:
                closed = closed or connection.recv(1) == b""
            except BlockingIOError:
                pass
            except OSError:
                closed = True
            connection.setblocking(True)
        elapsed = time.monotonic() - start

    assert closed
    assert elapsed < 2
    assert request(url(open_api), "/healthz").status == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Host": "localhost:9470", "Origin": "http://127.0.0.1:9470"},
    ],
)
def test_a_request_from_another_sites_page_is_refused(open_api, headers):
    answer = request(url(open_api), "/api/status", headers=headers)

    assert answer.status == 403
    assert "another site" in answer.json()["error"]


def test_the_services_own_pages_and_tools_are_answered(open_api):
    host = url(open_api).removeprefix("http://")
    for headers in [
        {},
        {"Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},
        {"Origin": f"http://{host}", "Sec-Fetch-Site": "same-origin"},
    ]:
        assert request(url(open_api), "/api/status", headers=headers).status == 200, headers
