"""Load ``config.toml`` into validated, typed settings.

The mistakes are reported together, each naming the file, the key as a path
(``source[2].interval``) and what would be accepted, so a user fixes the file
in one go. Nothing in the program starts until the whole file is valid.
"""

from __future__ import annotations

import os
import re
import socket
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from monitor.checks.settings import CHECK_MODELS, CheckSettings
from monitor.configtypes import Duration, HttpUrl, Name, Section, Size
from monitor.errors import ConfigError
from monitor.retention import RetentionSettings

CONFIG_ENV = "MONITOR_CONFIG"
DEFAULT_CONFIG_NAME = "config.toml"
DEFAULT_DATABASE_NAME = "monitor.db"


class MonitorSettings(Section):
    """``[monitor]``: who this probe is (tags every row it writes, later)."""

    probe: Name = Field(default_factory=lambda: _name_from_host(socket.gethostname()))


class DatabaseSettings(Section):
    """``[database]``: where the data lives; SQLite next to the config by default."""

    url: str | None = None


class HttpSettings(Section):
    """``[http]``: limits for every request monitor makes to a vendor."""

    timeout: Duration = timedelta(seconds=10)
    connect_timeout: Duration = timedelta(seconds=5)
    max_bytes: Size = 5_000_000
    max_redirects: Annotated[int, Field(ge=0, le=20)] = 5
    ca_file: str | None = None


class SourceSettings(Section):
    """One ``[[source]]``: an upstream status page to poll."""

    name: Name
    kind: Literal["statuspage", "feed", "statusio"]
    url: HttpUrl
    interval: Duration = timedelta(minutes=5)
    components: list[str] | None = None
    enabled: bool = True


class _Document(Section):
    monitor: MonitorSettings = Field(default_factory=MonitorSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    source: list[SourceSettings] = Field(default_factory=list)
    check: list[CheckSettings] = Field(default_factory=list)


class Config(BaseModel):
    """The validated configuration, plus where it came from."""

    model_config = ConfigDict(frozen=True)

    path: Path
    probe: str
    database_url: str
    http: HttpSettings
    retention: RetentionSettings
    ca_file: Path | None
    sources: tuple[SourceSettings, ...]
    checks: tuple[CheckSettings, ...]

    def check(self, name: str) -> CheckSettings:
        """Return the check called ``name``; KeyError lists the configured names."""
        for check in self.checks:
            if check.name == name:
                return check
        known = ", ".join(c.name for c in self.checks) or "none"
        raise KeyError(f"no check named {name!r} in {self.path} (configured: {known})")

    def source(self, name: str) -> SourceSettings:
        """Return the source called ``name``; KeyError lists the configured names."""
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise KeyError(f"no source named {name!r} in {self.path} (configured: {known})")


def find_config(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--config PATH``, else ``$MONITOR_CONFIG``, else ``./config.toml``."""
    if explicit:
        return Path(explicit)
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env)
    return Path(DEFAULT_CONFIG_NAME)


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read, validate and resolve a config file; ConfigError lists every problem."""
    config_path = find_config(path).expanduser()
    try:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if path is not None:
            how = "check the path given to --config (or in MONITOR_CONFIG)"
        elif os.environ.get(CONFIG_ENV):
            how = f"{CONFIG_ENV} points here; fix the variable or pass --config PATH"
        else:
            how = f"create one, pass --config PATH or set {CONFIG_ENV}"
        raise ConfigError(f"{config_path}: config file not found ({how})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{config_path}: cannot read config file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_path}: not valid TOML: {exc}") from None
    return parse_config(raw, config_path)


def parse_config(raw: dict[str, Any], config_path: Path) -> Config:
    """Validate an already-decoded TOML document (split out so tests need no file)."""
    problems = []
    try:
        document = _Document.model_validate(raw)
    except ValidationError as exc:
        problems = [_describe(err, raw) for err in exc.errors()]
    # Cross-field checks read the raw document so they report alongside
    # schema mistakes instead of after the user fixed those.
    problems += _cross_checks(raw, config_path)
    if problems:
        raise _config_error(config_path, problems)
    return Config(
        path=config_path.resolve(),
        probe=document.monitor.probe,
        database_url=resolve_database_url(document.database.url, config_path),
        http=document.http,
        retention=document.retention,
        ca_file=_relative_to(config_path, document.http.ca_file),
        sources=tuple(document.source),
        checks=tuple(document.check),
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


def _cross_checks(raw: dict[str, Any], config_path: Path) -> list[str]:
    problems = [*_duplicate_names(raw, "source"), *_duplicate_names(raw, "check")]
    source_names = {e.get("name") for e in _entries(raw, "source")}
    for index, check in enumerate(_entries(raw, "check")):
        depends = check.get("depends_on")
        wanted = depends.get("source") if isinstance(depends, dict) else None
        if isinstance(wanted, str) and wanted not in source_names:
            known = ", ".join(sorted(str(n) for n in source_names if isinstance(n, str))) or "none"
            problems.append(
                f"check[{index}].depends_on.source: no [[source]] named {wanted!r} "
                f"(configured: {known})"
            )
    http = raw.get("http")
    ca_file = http.get("ca_file") if isinstance(http, dict) else None
    if isinstance(ca_file, str):
        resolved = _relative_to(config_path, ca_file)
        if resolved is None or not resolved.is_file():
            problems.append(
                f"http.ca_file: no such file {ca_file!r} (looked for {resolved}; "
                "relative paths are read from the config file's folder)"
            )
    database = raw.get("database")
    url = database.get("url") if isinstance(database, dict) else None
    if isinstance(url, str):
        problem = _database_url_problem(url)
        if problem:
            problems.append(f"database.url: {problem}")
    return problems


def _database_url_problem(url: str) -> str | None:
    """Why ``url`` cannot name a database, or None; never echoes a password."""
    expected = (
        "expected a SQLAlchemy URL such as 'sqlite:///monitor.db' or 'postgresql+psycopg://host/db'"
    )
    # Whatever is wrong with it, a password in it is never printed.
    shown = re.sub(r"[^:/@]+:[^@]*@", "REDACTED@", url)
    if "://" not in url:
        return f"{expected}, got {shown!r}"
    try:
        make_url(url).get_dialect()
    except NoSuchModuleError:  # an ArgumentError too: it must come first
        return f"unknown database kind {url.split('://', 1)[0]!r}; {expected}"
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return f"{expected}, got {shown!r}"
    return None


def _entries(raw: dict[str, Any], table: str) -> list[dict[str, Any]]:
    entries = raw.get(table)
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def _duplicate_names(raw: dict[str, Any], table: str) -> list[str]:
    problems, seen = [], set()
    entries = raw.get(table)
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        name = entry.get("name") if isinstance(entry, dict) else None
        if isinstance(name, str) and name in seen:
            problems.append(
                f"{table}[{index}].name: duplicate {table} name {name!r}; "
                f"each [[{table}]] needs its own name"
            )
        if isinstance(name, str):
            seen.add(name)
    return problems


def _relative_to(config_path: Path, path: str | None) -> Path | None:
    """Resolve a path from the config: ``~`` expanded, relative to the config's folder."""
    if not path:
        return None
    expanded = Path(path).expanduser()
    return expanded if expanded.is_absolute() else config_path.resolve().parent / expanded


def _config_error(config_path: Path, problems: list[str]) -> ConfigError:
    noun = "problem" if len(problems) == 1 else "problems"
    lines = [f"{config_path}: {len(problems)} {noun} in config"]
    lines += [f"  {p}" for p in problems]
    return ConfigError("\n".join(lines))


def _describe(error: Any, raw: dict[str, Any]) -> str:
    """Turn one pydantic error into ``key.path: expected ..., got ...``."""
    loc = tuple(error["loc"])
    key = _key_path(loc, raw)
    kind = error["type"]
    value = error.get("input")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        kinds = " or ".join(", ".join(repr(k) for k in CHECK_MODELS).rsplit(", ", 1))
        got = f", got {error['ctx']['tag']!r}" if kind == "union_tag_invalid" else ""
        return f"{key}.kind: expected one of {kinds}{got}"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return f"{key}: unknown key (expected one of: {', '.join(allowed)})"
    if kind == "list_type" and loc and loc[-1] in ("source", "check") and isinstance(value, dict):
        return f"{key}: expected [[{key}]] tables (write [[{key}]], not [{key}])"
    if kind == "missing":
        return f"{key}: required key is missing"
    if kind == "literal_error":
        expected = error["ctx"]["expected"]
        return f"{key}: expected one of {expected}, got {value!r}"
    if kind in ("greater_than_equal", "less_than_equal"):
        bound = "at least" if kind == "greater_than_equal" else "at most"
        limit = error["ctx"].get("ge", error["ctx"].get("le"))
        return f"{key}: expected {bound} {limit}, got {value!r}"
    if kind == "value_error":
        return f"{key}: {error['ctx']['error']}"
    expected = _EXPECTED.get(kind)
    if expected:
        return f"{key}: expected {expected}, got {_toml_type(value)} {value!r}"
    return f"{key}: {error['msg'][0].lower()}{error['msg'][1:]}"


_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "bool_type": "true or false",
    "list_type": "an array",
    "model_type": "a table",
    "dict_type": "a table",
}


def _toml_type(value: object) -> str:
    names = {
        bool: "boolean",
        int: "integer",
        float: "float",
        str: "string",
        dict: "table",
        list: "array",
    }
    return names.get(type(value), type(value).__name__)


def _key_path(loc: tuple[Any, ...], raw: dict[str, Any]) -> str:
    """``source[2].interval``, plus the entry's name when it has one: ``source[2] ("github")``.

    The tag pydantic adds for a ``[[check]]`` (its kind) is not a key the
    user wrote, so it is left out.
    """
    path = ""
    node: Any = raw
    for part in _written(loc, raw):
        if isinstance(part, int):
            path += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            name = node.get("name") if isinstance(node, dict) else None
            if isinstance(name, str):
                path += f' ("{name}")'
        else:
            path += f".{part}" if path else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return path or "(top level)"


def _written(loc: tuple[Any, ...], raw: dict[str, Any]) -> list[Any]:
    """``loc`` without the union tags pydantic inserts after a ``check[i]``."""
    return [part for index, part in enumerate(loc) if not _is_tag(loc, index)]


def _is_tag(loc: tuple[Any, ...], index: int) -> bool:
    """Is ``loc[index]`` the kind tag pydantic puts after a ``check[i]``?"""
    return (
        index >= 2
        and loc[index - 2] == "check"
        and isinstance(loc[index - 1], int)
        and loc[index] in CHECK_MODELS
    )


def _tagged(loc: tuple[Any, ...]) -> list[Any]:
    """``loc`` with each ``check[i]`` and its union tag replaced by the kind's model."""
    parts: list[Any] = []
    for index, part in enumerate(loc):
        if _is_tag(loc, index):
            parts[-2:] = [CHECK_MODELS[part]]
        else:
            parts.append(part)
    return parts


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    section: type[BaseModel] = _Document
    for part in _tagged(loc):
        if isinstance(part, int):
            continue
        if isinstance(part, type):  # a [[check]]: its kind's model
            section = part
            continue
        annotation = section.model_fields[str(part)].annotation
        inner = getattr(annotation, "__args__", (annotation,))[0]
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            section = inner
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            section = annotation
    fields = list(section.model_fields)
    # Checks inherit shared keys; show the two every entry needs first.
    first = [f for f in ("name", "kind") if f in fields]
    return first + [f for f in fields if f not in first]


def _name_from_host(hostname: str) -> str:
    """A probe name from the hostname, squeezed into the allowed characters."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "-", hostname.split(".")[0])[:64].strip("-")
    return cleaned or "probe"
