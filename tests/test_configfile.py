"""monitor.configfile: the light reading of a config agrees with the full loader, and with SQLAlchemy."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from monitor.config import load_config
from monitor.configfile import (
    glance,
    lock_path_for,
    probe_from_host,
    sqlite_database,
)
from monitor.digest import config_digest
from monitor.service.lock import lock_path


@pytest.fixture(autouse=True)
def no_config_from_environment(monkeypatch):
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)


URLS = [
    "sqlite:///monitor.db",
    "sqlite:////var/lib/monitor/monitor.db",
    "sqlite://",
    "sqlite:///",
    "sqlite:///:memory:",
    "sqlite+pysqlite:///data/monitor.db",
    "sqlite+aiosqlite:////abs/x.db",
    "sqlite:///file:monitor.db?mode=ro&uri=true",
    "sqlite:///a%20b.db",
    "sqlite:///a%2Fb.db",
    "sqlite:///%C3%BCml.db",
    "sqlite:///ümlaut/monitor.db",
    "sqlite:///with?query=1",
    "sqlite:///x.db?check_same_thread=false&timeout=5",
    "sqlite:///dir/x.db#fragment",
    "sqlite://host/db.sqlite",
    "sqlite://user:pw@host:1/db.sqlite",
    "sqlite://[::1]/db.sqlite",
    "sqlite:///C:\\path\\monitor.db",
    "sqlite:////tmp/a@b.db",
    "sqlite:////tmp/a:b.db",
    "SQLITE:///upper.db",
    "sqlitex:///not-sqlite.db",
    "postgresql://user:pass@db.example.com/monitor",
    "postgresql+psycopg://db.example.com:5432/monitor",
    "postgresql+psycopg:///monitor?host=/run/postgresql",
    "mysql://h/db",
]


def make_url_database(url: str) -> str | None:
    parsed = make_url(url)
    return parsed.database if parsed.get_backend_name() == "sqlite" else None


@pytest.mark.parametrize("url", URLS)
def test_it_reads_the_database_part_of_a_url_as_sqlalchemy_does(url):
    assert sqlite_database(url) == make_url_database(url)


@given(
    scheme=st.sampled_from(["sqlite", "sqlite+pysqlite", "SQLite", "postgresql", "sqlite3"]),
    rest=st.text(alphabet=st.sampled_from(list("/:@?&=#%[]+ abé.-_1\\")), max_size=30),
)
def test_it_agrees_with_sqlalchemy_on_any_url_sqlalchemy_can_read(scheme, rest):
    url = f"{scheme}://{rest}"
    try:
        expected = make_url_database(url)
    except (ArgumentError, ValueError):  # a port that is not a number
        return
    assert sqlite_database(url) == expected


def test_it_reads_no_database_from_text_that_is_not_a_url():
    assert sqlite_database("monitor.db") is None
    assert sqlite_database("") is None


def test_it_puts_the_lock_beside_a_sqlite_file_and_in_the_state_folder_otherwise(tmp_path):
    config_path = tmp_path / "config.toml"
    assert lock_path_for(f"sqlite:///{tmp_path}/data/m.db", "laptop", config_path) == (
        tmp_path / "data" / "m.db.laptop.lock"
    )
    for url in ("postgresql://h/db", "sqlite://", "sqlite:///:memory:"):
        assert lock_path_for(url, "laptop", config_path) == (
            tmp_path / ".monitor-state" / "run.laptop.lock"
        )


def test_it_keeps_the_services_lock_path_where_the_full_config_puts_it(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[monitor]\nprobe = "p1"\n[database]\nurl = "sqlite:///sub/x.db"\n')
    (tmp_path / "sub").mkdir()
    config = load_config(path)
    seen = glance(path)
    assert seen is not None
    assert lock_path(config) == seen.lock_path == tmp_path / "sub" / "x.db.p1.lock"


CONFIGS = {
    "empty": "",
    "probe and relative database": '[monitor]\nprobe = "box"\n[database]\nurl = "sqlite:///m.db"\n',
    "database from the environment": '[database]\nurl = "${GLANCE_DATABASE_URL}"\n',
    "password from the environment": (
        '[database]\nurl = "postgresql+psycopg://monitor:${GLANCE_PASSWORD}@db.example.com/m"\n'
    ),
    "other sections": (
        '[http]\ntimeout = "3s"\n[[source]]\nname = "a"\nkind = "feed"\n'
        'url = "https://status.example.com"\n'
    ),
}


@pytest.mark.parametrize("text", CONFIGS.values(), ids=CONFIGS.keys())
def test_it_glances_the_same_probe_and_database_as_the_full_loader(text, tmp_path, monkeypatch):
    monkeypatch.setenv("GLANCE_DATABASE_URL", "sqlite:///from-env.db")
    monkeypatch.setenv("GLANCE_PASSWORD", "p@ss/w:rd")
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    config = load_config()  # ./config.toml, as the glance finds it too
    seen = glance()
    assert seen is not None
    assert (seen.path, seen.probe, seen.database_url) == (
        config.path,
        config.probe,
        config.database_url,
    )
    assert seen.lock_path == lock_path(config)
    assert seen.digest == hashlib.sha256(text.encode()).hexdigest() == config_digest(path)


def test_it_names_the_probe_after_the_host_by_default(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("")
    seen = glance(path)
    assert seen is not None
    assert seen.probe == probe_from_host(socket.gethostname())
    assert probe_from_host("Büro Laptop.example.com") == "B-ro-Laptop"
    assert probe_from_host("...") == "probe"


def test_it_expands_the_token_from_the_environment_and_drops_an_unset_one(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text('[http]\ntoken = "${GLANCE_TOKEN}"\n')
    monkeypatch.delenv("GLANCE_TOKEN", raising=False)
    assert glance(path).token is None  # type: ignore[union-attr]
    monkeypatch.setenv("GLANCE_TOKEN", "s3cret")
    assert glance(path).token == "s3cret"  # type: ignore[union-attr]


BROKEN = {
    "missing file": None,
    "not TOML": "[monitor\n",
    "not UTF-8": b"\xff\xfe",
    "monitor not a table": "monitor = 3\n",
    "probe not a string": "[monitor]\nprobe = 3\n",
    "url not a string": "[database]\nurl = 3\n",
    "url variable unset": '[database]\nurl = "${GLANCE_UNSET_VARIABLE}"\n',
}


@pytest.mark.parametrize("content", BROKEN.values(), ids=BROKEN.keys())
def test_it_leaves_a_config_it_cannot_read_to_the_full_loader(content, tmp_path, monkeypatch):
    monkeypatch.delenv("GLANCE_UNSET_VARIABLE", raising=False)
    path = tmp_path / "config.toml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    assert glance(path) is None


def test_it_finds_the_config_given_then_the_environment_then_the_working_directory(
    tmp_path, monkeypatch
):
    given_path, env_path = tmp_path / "given.toml", tmp_path / "env.toml"
    given_path.write_text('[monitor]\nprobe = "given"\n')
    env_path.write_text('[monitor]\nprobe = "env"\n')
    monkeypatch.setenv("MONITOR_CONFIG", str(env_path))
    assert glance(given_path).probe == "given"  # type: ignore[union-attr]
    assert glance().probe == "env"  # type: ignore[union-attr]


def test_it_reads_no_heavy_module(tmp_path):
    """The point of the module: no SQLAlchemy, no pydantic, no full config."""
    import subprocess
    import sys

    code = (
        "import sys; from monitor.configfile import glance; "
        f"glance({str(tmp_path / 'c.toml')!r}); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'pydantic') "
        "or m == 'monitor.config'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_it_resolves_the_config_path_it_glances(tmp_path, monkeypatch):
    (tmp_path / "config.toml").write_text("")
    monkeypatch.chdir(tmp_path)
    seen = glance(Path("config.toml"))
    assert seen is not None
    assert seen.path == tmp_path / "config.toml"
