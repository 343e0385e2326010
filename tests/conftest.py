"""Shared fixtures: real payloads, a loopback status server, a config on disk."""

from __future__ import annotations

import ssl
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from monitor.config import Config, load_config
from monitor.redact import forget_environment
from monitor.store import Store, open_store
from tests.loopback import LoopbackServer
from tests.postgres import PostgresServer, postgres_server
from tests.scenarios.scoreboard import (  # the score table's hooks, on every run
    pytest_sessionfinish,  # noqa: F401
    pytest_terminal_summary,  # noqa: F401
    pytest_testnodedown,  # noqa: F401
)

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_bytes(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


@pytest.fixture(autouse=True)
def environment_read_afresh() -> Iterator[None]:
    """Redaction reads the environment's secrets once a process; each test is a run of its own.

    Otherwise whichever test redacted first would decide, for every later one,
    which environment values count as secrets.
    """
    forget_environment()
    yield
    forget_environment()


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as running:
        yield running


@pytest.fixture(scope="session")
def tls_authority():
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


def tls_files(authority, directory: Path, *hosts: str) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context with a certificate for ``hosts``, and the CA file that trusts it."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(*(hosts or ("localhost", "127.0.0.1"))).configure_cert(context)
    ca_file = directory / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    return context, ca_file


@pytest.fixture
def tls_server(tls_authority, tmp_path: Path) -> Iterator[tuple[LoopbackServer, Path]]:
    context, ca_file = tls_files(tls_authority, tmp_path)
    with LoopbackServer(ssl_context=context) as running:
        yield running, ca_file


WriteConfig = Callable[..., Path]


@pytest.fixture
def write_config(tmp_path: Path) -> WriteConfig:
    """Write a config.toml into tmp_path: ``write_config(sources=[...], http=...)``."""

    def write(sources: Sequence[dict[str, object]] = (), http: str = "", extra: str = "") -> Path:
        blocks = [
            '[monitor]\nprobe = "test-probe"\n',
            "[http]\n" + textwrap.dedent(http or 'timeout = "2s"\nconnect_timeout = "1s"\n'),
        ]
        for source in sources:
            lines = ["[[source]]"]
            for key, value in source.items():
                rendered = (
                    "[" + ", ".join(f'"{v}"' for v in value) + "]"
                    if isinstance(value, list)
                    else f'"{value}"'
                )
                lines.append(f"{key} = {rendered}")
            blocks.append("\n".join(lines) + "\n")
        blocks.append(extra)
        path = tmp_path / "config.toml"
        path.write_text("\n".join(blocks), encoding="utf-8")
        return path

    return write


@pytest.fixture
def store_for() -> Iterator[Callable[[Config], Store]]:
    opened: list[Store] = []

    def open_for(config: Config) -> Store:
        store = open_store(config.database_url)
        opened.append(store)
        return store

    yield open_for
    for store in opened:
        store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 'monitor.db'}")
    yield store
    store.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session (see tests/postgres.py for where it comes from)."""
    yield from postgres_server()


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test alone."""
    with postgres.fresh_database() as url:
        yield url


ENGINES = [pytest.param("sqlite", id="sqlite"), pytest.param("postgresql", id="postgresql")]


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database on each engine: the test runs once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'monitor.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """An open, migrated store on each engine (see ``database_url``)."""
    opened = open_store(database_url)
    yield opened
    opened.close()


def run_monitor(config: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m monitor --config CONFIG ARGS...`` as a real process, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def load(path: Path) -> Config:
    return load_config(path)
