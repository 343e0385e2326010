"""Where the config file is and what a few of its keys mean, read without the full loader.

``monitor.config`` validates the whole file with pydantic and checks the
database URL with SQLAlchemy; that costs a tenth of a second before anything
can happen. Finding a running service (``monitor.discovery``) needs
only the config's path and bytes, the probe name, the database URL and the
lock file's place, so those rules live here, light, and ``monitor.config``
uses the same functions: the two can never disagree about which database or
lock a config means.
"""

from __future__ import annotations

import os
import re
import socket
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote, unquote

from monitor.digest import config_digest
from monitor.envvars import MissingVariable, expand

CONFIG_ENV = "MONITOR_CONFIG"
DEFAULT_CONFIG_NAME = "config.toml"
DEFAULT_DATABASE_NAME = "monitor.db"
STATE_DIR_NAME = ".monitor-state"

# The shape SQLAlchemy's make_url reads (sqlalchemy/engine/url.py), down to
# the database part: scheme, optional user-info, optional host and port.
_URL = re.compile(
    r"""
    (?P<name>[\w+]+)://
    (?:[^:/]*(?::[^@]*)?@)?
    (?:(?:\[[^/?]+\]|[^/:?]+)?(?::[^/?]*)?)?
    (?:/(?P<database>[^?]*))?
    """,
    re.X,
)


def find_config(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--config PATH``, else ``$MONITOR_CONFIG``, else ``./config.toml``."""
    if explicit:
        return Path(explicit)
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env)
    return Path(DEFAULT_CONFIG_NAME)


def probe_from_host(hostname: str) -> str:
    """A probe name from the hostname, squeezed into the allowed characters."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "-", hostname.split(".")[0])[:64].strip("-")
    return cleaned or "probe"


def default_probe() -> str:
    """``[monitor] probe`` when the file names none: this machine's short host name."""
    return probe_from_host(socket.gethostname())


def expand_database_url(url: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """Fill ``${NAME}`` in the URL from the environment: the password stays out of the file.

    A value in the user-info part (``user:${PASSWORD}@host``) is URL-quoted, so
    a password with ``@``, ``/`` or ``:`` stays the password whatever it
    contains; anywhere else (a whole URL from ``${DATABASE_URL}``, a path from
    ``${HOME}``) the value goes in as it is. MissingVariable when a name is unset.
    """
    if url is None:
        return None
    values = os.environ if env is None else env
    scheme, separator, rest = url.partition("://")
    end = rest.find("/")
    at = rest.rfind("@", 0, end if end >= 0 else len(rest))
    if not separator or at < 0:
        return expand(url, values)
    quoted = {name: quote(value, safe="") for name, value in values.items()}
    return (
        expand(scheme, values) + separator + expand(rest[:at], quoted) + expand(rest[at:], values)
    )


def resolve_database_url(url: str | None, config_path: Path) -> str:
    """Default to ``monitor.db`` beside the config; relative SQLite paths are from there too.

    Anchoring at the config file, not the working directory, means a service
    started from ``/`` and a shell in the project write the same database.
    """
    base = config_path.resolve().parent
    if url is None:
        return f"sqlite:///{base / DEFAULT_DATABASE_NAME}"
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        rest = url[len(prefix) :]
        if rest and rest != ":memory:" and not rest.startswith("file:"):
            return f"{prefix}{base / rest}"
    return url


def sqlite_database(url: str) -> str | None:
    """The database part of a SQLite URL, as ``make_url(url).database`` reads it.

    None for any other kind of database, for a URL SQLAlchemy could not read
    either, and for ``sqlite://`` (no database part at all).
    """
    match = _URL.match(url)
    if match is None or match["name"].split("+")[0] != "sqlite":
        return None
    database = match["database"]
    return None if database is None else unquote(database)


def default_state_dir(config_path: str | os.PathLike[str]) -> Path:
    """``<config dir>/.monitor-state``: monitor's own files live beside the config.

    Anchored at the config file, like the default database, so a service
    started from ``/`` and a shell in the project use the same token files.
    """
    return Path(config_path).expanduser().resolve().parent / STATE_DIR_NAME


def lock_path_for(database_url: str, probe: str, config_path: Path) -> Path:
    """The service's lock file: beside a SQLite file; in the state folder for a server database."""
    database = sqlite_database(database_url)
    if database and database != ":memory:":
        path = Path(database)
        return path.with_name(f"{path.name}.{probe}.lock")
    return default_state_dir(config_path) / f"run.{probe}.lock"


class ConfigGlance(NamedTuple):
    """The few settings a glance at the file gives: enough to find this config's service.

    (A NamedTuple, not a dataclass: making a dataclass costs a millisecond or
    two at import, and this module is imported before every answer.)
    """

    path: Path  # resolved
    digest: str  # monitor.digest.config_digest: which config a service answers with
    probe: str
    database_url: str
    token: str | None  # ``[http] token``, ``${NAME}`` filled in; None when unset

    @property
    def lock_path(self) -> Path:
        return lock_path_for(self.database_url, self.probe, self.path)


def glance(explicit: str | os.PathLike[str] | None = None) -> ConfigGlance | None:
    """Read the config file with ``tomllib`` only; None when anything is off.

    None means "ask the full loader": it names the file, the key and the fix
    for whatever is wrong, so nothing is reported here.
    """
    path = find_config(explicit).expanduser()
    try:
        raw = tomllib.loads(path.read_bytes().decode("utf-8"))
        probe = _table(raw, "monitor").get("probe", None)
        url = _table(raw, "database").get("url", None)
        token = _table(raw, "http").get("token", None)
        if not isinstance(probe, str | None) or not isinstance(url, str | None):
            return None
        database_url = resolve_database_url(expand_database_url(url), path)
        return ConfigGlance(
            path=path.resolve(),
            digest=config_digest(path),
            probe=default_probe() if probe is None else probe,
            database_url=database_url,
            token=_expanded(token),
        )
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, MissingVariable, ValueError):
        return None


def _table(raw: dict[str, Any], name: str) -> dict[str, Any]:
    value = raw.get(name)
    if isinstance(value, dict):
        return value
    if value is None:
        return {}
    raise ValueError(f"[{name}] is not a table")


def _expanded(token: object) -> str | None:
    if not isinstance(token, str) or not token:
        return None
    try:
        return expand(token, os.environ)
    except MissingVariable:
        return None
