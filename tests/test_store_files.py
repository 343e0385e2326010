"""The database and the files beside it are private (0600, folders 0700), whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.errors import ConfigError
from monitor.service.lock import InstanceLock
from monitor.store import open_store
from monitor.store.checkruns import CheckSpec, sync_checks
from monitor.store.files import make_private, open_private
from monitor.store.migrate import exclusive_lock_file

T0 = datetime(2026, 4, 13, 15, 0, tzinfo=UTC)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The loosest umask a careless shell might have: nothing masked."""
    before = os.umask(0)
    yield
    os.umask(before)


def test_a_new_database_and_its_wal_and_shm_are_0600(tmp_path: Path, open_umask: None) -> None:
    database = tmp_path / "monitor.db"
    store = open_store(f"sqlite:///{database}")
    try:
        with store.write() as session, session.begin():
            sync_checks(session, [CheckSpec("api", "http", "vendor", "GET https://x")], T0)
        files = [
            database,
            database.with_name("monitor.db-wal"),
            database.with_name("monitor.db-shm"),
        ]
        assert all(f.exists() for f in files)
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
        assert not database.with_name("monitor.db.migrate.lock").exists()  # removed after use
    finally:
        store.close()


def test_a_database_an_older_version_left_0644_is_made_private(tmp_path: Path) -> None:
    database = tmp_path / "monitor.db"
    open_store(f"sqlite:///{database}").close()
    database.chmod(0o644)

    open_store(f"sqlite:///{database}").close()

    assert mode(database) == 0o600


def test_the_service_lock_is_0600_and_its_state_folder_0700(
    tmp_path: Path, open_umask: None
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[database]\nurl = "postgresql+psycopg://db.invalid/monitor"\n')
    lock = InstanceLock.acquire(load_config(path))
    try:
        assert mode(lock.path) == 0o600
        assert mode(lock.path.parent) == 0o700
    finally:
        lock.release()


def test_a_database_in_a_missing_folder_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[database]\nurl = "sqlite:///data/monitor.db"\n')

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    message = str(caught.value)
    assert str(path) in message
    assert "database.url: the folder" in message
    assert f"mkdir -p {tmp_path / 'data'}" in message
    assert not (tmp_path / "data").exists()


def test_tightening_a_database_never_adds_a_permission(tmp_path: Path) -> None:
    database = tmp_path / "monitor.db"
    open_store(f"sqlite:///{database}").close()
    database.chmod(0o444)  # deliberately read-only

    make_private(database)

    assert mode(database) == 0o400


def test_a_lock_file_that_is_a_link_is_refused_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "someone-elses-file"
    target.write_text("theirs")
    target.chmod(0o644)
    (tmp_path / "monitor.db.migrate.lock").symlink_to(target)

    with pytest.raises(OSError, match="Too many levels of symbolic links"):
        open_private(tmp_path / "monitor.db.migrate.lock")

    assert mode(target) == 0o644


def test_the_migration_lock_is_private_while_it_is_held(tmp_path: Path, open_umask: None) -> None:
    lock = tmp_path / "monitor.db.migrate.lock"
    with exclusive_lock_file(lock):
        assert mode(lock) == 0o600
    assert not lock.exists()
