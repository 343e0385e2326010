"""monitor.cli.remote against real HTTP servers on 127.0.0.1: when to take an answer, when not.

The lock file is held here as ``monitor run`` holds it (an flock, two
lines), pointing at a loopback server that answers as told: the service's
own answers are tested end to end in tests/test_cli_service.py.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from monitor import __version__
from monitor.cli import remote
from monitor.cli.remote import ServiceUsageError, ask_service, parse_response
from monitor.configfile import glance
from monitor.digest import (
    DATABASE_HEADER,
    DIGEST_HEADER,
    VERSION_HEADER,
    config_digest,
    database_digest,
)
from monitor.discovery import advert_line
from tests.loopback import LoopbackServer

WHY = "/api/why"
TOKEN_CONFIG = '[monitor]\nprobe = "laptop"\n[http]\ntoken = "${REMOTE_TEST_TOKEN}"\n'
QUESTION = {"at": "2026-04-14T10:00:00Z", "format": "text", "probe": None}


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    path = tmp_path / "config.toml"
    path.write_text('[monitor]\nprobe = "laptop"\n', encoding="utf-8")
    return path


@pytest.fixture
def lock(config: Path) -> Iterator[int]:
    """This config's lock, held; write the api line with ``advertise``."""
    seen = glance(config)
    assert seen is not None
    fd = os.open(seen.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.pwrite(fd, b"pid 1 on test\n", 0)
    yield fd
    os.close(fd)


def advertise(fd: int, url: str) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid 1 on test\n{advert_line(url)}\n".encode(), 0)


def service_headers(config: Path) -> dict[str, str]:
    """What a service running ``config`` in this environment says it answers with."""
    seen = glance(config)
    assert seen is not None
    return {
        DIGEST_HEADER: config_digest(config),
        DATABASE_HEADER: database_digest(seen.database_url, seen.probe),
        VERSION_HEADER: __version__,
    }


def answer(
    server: LoopbackServer,
    config: Path,
    body: bytes,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> None:
    """Answer ``WHY`` with ``body``, as a service running this config would."""
    own = service_headers(config)
    server.route(WHY, body, status=status, etag=False, headers={**own, **(headers or {})})


def test_it_takes_the_services_answer_when_its_config_is_this_one(server, config, lock):
    advertise(lock, server.url)
    answer(server, config, "verdict: upstream ✓\n".encode(), headers={"Monitor-Failing": "false"})

    reply = ask_service(str(config), WHY, QUESTION)

    assert reply is not None
    assert reply.text == "verdict: upstream ✓"  # the final newline is the printer's
    assert reply.headers["monitor-failing"] == "false"
    path, headers = server.requests[-1]
    assert path == WHY
    assert "Authorization" not in headers  # no token configured, none sent


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (500, b'{"error": "internal error"}\n', {}),
        (503, b"{}\n", {}),
        (401, b'{"error": "this API needs Authorization: Bearer <token>"}\n', {}),
        (404, b'{"error": "not found"}\n', {}),
        (400, b"not json\n", {}),  # a 400 without the command's words: ask the database
        # A service that refuses something it does not know, without naming an option.
        (400, b'{"error": "unknown parameter \'format\' for /api/why"}\n', {}),
        (400, b'{"error": "x", "option": "--at"}\n', {}),
        (400, b'{"error": "x", "option": "--at", "message": 7}\n', {}),
        (400, b'["--at", "bad"]\n', {}),
        (200, b"\xff\xfe not utf-8\n", {}),
    ],
    ids=[
        "500",
        "503",
        "401",
        "404",
        "400-unreadable",
        "400-error-only",
        "400-no-message",
        "400-message-not-text",
        "400-not-an-object",
        "200-not-utf8",
    ],
)
def test_it_answers_here_when_the_service_does_not_answer_plainly(
    server, config, lock, status, body, headers
):
    advertise(lock, server.url)
    answer(server, config, body, status=status, headers=headers)
    assert ask_service(str(config), WHY, QUESTION) is None


def test_it_answers_here_when_the_service_runs_another_config(server, config, lock):
    advertise(lock, server.url)
    server.route(WHY, b"answer\n", etag=False, headers={DIGEST_HEADER: "0" * 64})
    assert ask_service(str(config), WHY, QUESTION) is None
    server.route(WHY, b"answer\n", etag=False)  # no digest at all
    assert ask_service(str(config), WHY, QUESTION) is None


DATABASE_CONFIG = '[monitor]\nprobe = "laptop"\n[database]\nurl = "${REMOTE_TEST_DATABASE}"\n'


def test_it_answers_here_when_the_service_reads_another_database_from_the_same_config(
    tmp_path, server, config, monkeypatch
):
    """The same bytes, another ``${DATABASE_URL}``: the service's answer is another database's."""
    config.write_text(DATABASE_CONFIG, encoding="utf-8")
    # The service's shell: its database, and what it sends with each answer.
    monkeypatch.setenv("REMOTE_TEST_DATABASE", f"sqlite:///{tmp_path / 'service.db'}")
    theirs = service_headers(config)
    # This shell means another database, and (as with PostgreSQL, whose lock
    # is in the state folder whatever the URL) finds that service's lock.
    monkeypatch.setenv("REMOTE_TEST_DATABASE", f"sqlite:///{tmp_path / 'mine.db'}")
    seen = glance(config)
    assert seen is not None
    fd = os.open(seen.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        advertise(fd, server.url)
        server.route(WHY, b"their database's answer\n", etag=False, headers=theirs)
        assert ask_service(str(config), WHY, QUESTION) is None
        assert server.requests  # it asked, and did not take the answer

        server.route(WHY, b"my database's answer\n", etag=False, headers=service_headers(config))
        reply = ask_service(str(config), WHY, QUESTION)
        assert reply is not None
        assert reply.text == "my database's answer"
    finally:
        os.close(fd)


@pytest.mark.parametrize("header", [DATABASE_HEADER, VERSION_HEADER])
def test_it_answers_here_when_the_service_sends_another_database_or_version(
    server, config, lock, header
):
    advertise(lock, server.url)
    answer(server, config, b"answer\n", headers={header: "0.0.0-other"})
    assert ask_service(str(config), WHY, QUESTION) is None
    headers = service_headers(config)
    del headers[header]  # an older service, which does not say
    server.route(WHY, b"answer\n", etag=False, headers=headers)
    assert ask_service(str(config), WHY, QUESTION) is None


def test_it_shows_a_refused_parameter_as_the_commands_usage_error(server, config, lock):
    advertise(lock, server.url)
    words = "no probe 'x' in this database (probes here: laptop)"
    message = f"Invalid value for '--probe': {words}"
    body = {"error": message, "option": "--probe", "message": words}
    answer(server, config, json.dumps(body).encode() + b"\n", status=400)

    with pytest.raises(ServiceUsageError) as refused:
        ask_service(str(config), WHY, QUESTION)

    assert refused.value.format_message() == message
    assert refused.value.exit_code == 2


def test_it_sends_the_token_the_environment_holds(server, config, lock, monkeypatch):
    config.write_text(TOKEN_CONFIG, encoding="utf-8")
    monkeypatch.setenv("REMOTE_TEST_TOKEN", "s3cret-token")
    advertise(lock, server.url)
    answer(server, config, b"ok\n")

    assert ask_service(str(config), WHY, QUESTION) is not None
    assert server.requests[-1][1]["Authorization"] == "Bearer s3cret-token"


def test_it_never_sends_the_token_through_a_lock_file_others_may_write(
    server, config, lock, monkeypatch
):
    config.write_text(TOKEN_CONFIG, encoding="utf-8")
    monkeypatch.setenv("REMOTE_TEST_TOKEN", "s3cret-token")
    advertise(lock, server.url)
    answer(server, config, b"ok\n")
    seen = glance(config)
    assert seen is not None
    os.chmod(seen.lock_path, 0o666)  # noqa: S103 - anyone could have written that address

    assert ask_service(str(config), WHY, QUESTION) is None
    assert server.requests == []


def test_it_never_sends_a_token_that_would_forge_a_header(server, config, lock, monkeypatch):
    config.write_text(TOKEN_CONFIG, encoding="utf-8")
    monkeypatch.setenv("REMOTE_TEST_TOKEN", "s3cret\r\nX-Forged: yes")
    advertise(lock, server.url)
    answer(server, config, b"ok\n")

    assert ask_service(str(config), WHY, QUESTION) is None
    assert server.requests == []


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_it_answers_here_when_nothing_listens_where_the_lock_says(config, lock):
    advertise(lock, f"http://127.0.0.1:{closed_port()}")
    assert ask_service(str(config), WHY, QUESTION) is None


def test_it_answers_here_when_the_service_is_too_slow(server, config, lock):
    advertise(lock, server.url)
    server.route(WHY, b"late\n", etag=False, delay=2.0)  # ended early when the server stops
    assert ask_service(str(config), WHY, QUESTION, timeout=0.2) is None


class RawPeer:
    """A loopback peer that answers one connection with ``head + body``, then as told.

    ``then`` is ``"hold"`` (keep the connection open until the client
    closes it) or ``"flood"`` (send bytes until the client stops reading).
    ``sent`` counts the bytes that went out.
    """

    def __init__(self, answer: bytes, then: str) -> None:
        self.answer, self.then, self.sent = answer, then, 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        connection, _ = self.listener.accept()
        with connection:
            request = b""
            while b"\r\n\r\n" not in request:
                request += connection.recv(4096)
            try:
                connection.sendall(self.answer)
                self.sent += len(self.answer)
                if self.then == "flood":
                    chunk = b"x" * 65536
                    while self.sent < 256 * 1024 * 1024:
                        self.sent += connection.send(chunk)
                connection.recv(1)  # until the client closes
            except OSError:  # the client closed: it stopped reading
                pass

    def close(self) -> None:
        self.thread.join(timeout=10)
        self.listener.close()


@pytest.fixture
def raw_peer(config: Path) -> Iterator[Callable[..., RawPeer]]:
    peers: list[RawPeer] = []

    def start(body: bytes, then: str, length: int | None = None) -> RawPeer:
        fields = "".join(f"{name}: {value}\r\n" for name, value in service_headers(config).items())
        size = len(body) if length is None else length
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n{fields}\r\n".encode()
        peers.append(RawPeer(head + body, then))
        return peers[-1]

    yield start
    for peer in peers:
        peer.close()


def test_it_stops_reading_at_the_length_even_when_the_peer_keeps_the_connection(
    config, lock, raw_peer
):
    peer = raw_peer(b"whole answer\n", "hold")
    advertise(lock, peer.url)
    # Were it to wait for the peer to close, it would time out and answer here.
    reply = ask_service(str(config), WHY, QUESTION, timeout=5.0)
    assert reply is not None
    assert reply.text == "whole answer"


def test_it_refuses_an_answer_longer_than_it_reads_without_reading_it(config, lock, raw_peer):
    peer = raw_peer(b"", "flood", length=remote.MAX_ANSWER_BYTES + 1)
    advertise(lock, peer.url)
    assert ask_service(str(config), WHY, QUESTION, timeout=5.0) is None
    peer.close()
    # Closed after the head: what went out is what the socket buffers took.
    assert peer.sent < 16 * 1024 * 1024


@pytest.mark.parametrize(
    "line", ["", "ftp://127.0.0.1:21", "http://", "http://127.0.0.1:notaport", "http://[::1"]
)
def test_it_answers_here_when_the_lock_names_no_usable_address(config, lock, line):
    os.ftruncate(lock, 0)
    os.pwrite(lock, f"pid 1 on test\napi {line}\n".encode(), 0)
    assert ask_service(str(config), WHY, QUESTION) is None


def test_it_answers_here_without_a_running_service(server, config):
    seen = glance(config)
    assert seen is not None
    seen.lock_path.write_text(f"pid 1 on test\n{advert_line(server.url)}\n")  # a stale lock
    answer(server, config, b"stale\n")
    assert ask_service(str(config), WHY, QUESTION) is None
    assert server.requests == []


def test_it_answers_here_when_the_config_cannot_be_read(tmp_path):
    assert ask_service(str(tmp_path / "missing.toml"), WHY, QUESTION) is None


HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (HEAD + b"Content-Length: 3\r\n\r\nabc", (200, b"abc")),
        (b"HTTP/1.0 400 Bad\r\nContent-Length: 0\r\n\r\n", (400, b"")),
        (HEAD + b"Content-Length: 5\r\n\r\nabc", None),  # cut short
        (HEAD + b"\r\nabc", None),  # no length: cannot tell it is whole
        (HEAD + b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc", None),
        (HEAD + b"Content-Length: 3\r\n folded\r\n\r\nabc", None),
        (HEAD + b"Content-Length: 99999999999999999999\r\n\r\nabc", None),  # past the cap
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", None),
        (b"HTTP/1.1 2xx OK\r\nContent-Length: 0\r\n\r\n", None),
        (b"", None),
    ],
)
def test_it_reads_only_a_whole_plain_http_answer(data, expected):
    parsed = parse_response(data)
    assert (None if parsed is None else (parsed.status, parsed.body)) == expected
