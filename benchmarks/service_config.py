"""Configs for ``monitor run`` children, written as TOML: http checks on one loopback route,
and the shipped config.toml pointed at the loopback server at compressed intervals.
"""

from __future__ import annotations

import json
import math
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks.measure import BenchmarkError
from benchmarks.server import ROOT, RouteSpec, fixture, free_port, statuspage_routes
from monitor.config import Config, parse_config

SHIPPED = ROOT / "config.toml"
MAX_COMPRESSED_S = 5  # a shipped minute becomes a second, at most this many
HTTP_BODIES = {401: b'{"type": "error", "error": {"type": "authentication_error"}}', 204: b""}
INVALID_GRANT = b'{"error": "invalid_grant", "error_description": "refresh token not found"}'


def write_toml(path: Path, raw: Mapping[str, Any]) -> Path:
    """The subset of TOML a monitor config uses: tables, arrays of tables, inline values."""
    lines = [f"{_key(k)} = {_value(v)}" for k, v in raw.items() if not _is_table(v)]
    for key, value in raw.items():
        for entry in [value] if isinstance(value, Mapping) else value if _is_table(value) else []:
            lines += ["", f"[{_key(key)}]" if entry is value else f"[[{_key(key)}]]"]
            lines += [f"{_key(k)} = {_value(v)}" for k, v in entry.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _is_table(value: object) -> bool:
    if isinstance(value, Mapping):
        return True
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _key(key: str) -> str:
    return json.dumps(key)  # a quoted key is always valid


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return json.dumps(value)  # JSON's escapes are TOML's basic-string escapes
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def service_config(folder: Path, database: str, probe: str = "bench", **sections: Any) -> Path:
    """``folder/config.toml``: the probe's name, its database URL and ``sections``."""
    folder.mkdir(parents=True, exist_ok=True)
    raw = {**sections, "monitor": {"probe": probe}, "database": {"url": database}}
    return write_toml(folder / "config.toml", raw)


def http_checks(count: int, url: str, interval_s: int) -> list[dict[str, str]]:
    """``count`` http checks on ``url``, every ``interval_s`` seconds."""
    interval, timeout = f"{interval_s}s", "10s"
    return [
        {
            "name": f"check{i:02}",
            "kind": "http",
            "url": url,
            "interval": interval,
            "timeout": timeout,
        }
        for i in range(count)
    ]


def shipped() -> tuple[dict[str, Any], Config]:
    """The shipped config.toml, raw (to rewrite) and parsed (for its intervals and defaults)."""
    with SHIPPED.open("rb") as file:
        raw = tomllib.load(file)
    return raw, parse_config(raw, SHIPPED)


def shipped_runs_per_ten_minutes() -> int:
    """Job runs ten minutes at the shipped intervals make: each job at start, then per interval."""
    config = shipped()[1]
    jobs = [*config.sources, *config.checks]
    return sum(math.ceil(timedelta(minutes=10) / j.interval) for j in jobs if j.enabled)


def shipped_shape() -> str:
    """``3 sources (2 statuspage, 1 feed) and 8 checks (3 http, ...)``, enabled ones only."""
    config = shipped()[1]
    shapes = []
    for what, jobs in (("sources", config.sources), ("checks", config.checks)):
        kinds: list[str] = [j.kind for j in jobs if j.enabled]
        tally = ", ".join(f"{kinds.count(k)} {k}" for k in dict.fromkeys(kinds))
        shapes.append(f"{len(kinds)} {what} ({tally})")
    return " and ".join(shapes)


def compressed(interval: timedelta) -> str:
    """A shipped minute becomes a second (1 s at least, MAX_COMPRESSED_S at most)."""
    return f"{min(max(round(interval.total_seconds() / 60), 1), MAX_COMPRESSED_S)}s"


@dataclass(frozen=True, slots=True)
class Shipped:
    """The shipped config on loopback: its file, the routes it needs, what it runs."""

    config: Path
    routes: dict[str, RouteSpec]
    sources: int
    checks: int


def shipped_service(folder: Path, base: str) -> Shipped:
    """The shipped config's sources and checks, every URL under ``base``, intervals compressed.

    ``https://api.anthropic.com/v1/messages`` is served at ``/api.anthropic.com/v1/messages``.
    """
    raw, parsed = shipped()
    routes: dict[str, RouteSpec] = {}

    def local(url: str, spec: RouteSpec | None = None) -> str:
        path = f"/{urlsplit(url).hostname}{urlsplit(url).path}"
        if spec is not None:
            routes[path] = spec
        return base + path

    sources = []
    for entry, source in zip(raw.get("source", []), parsed.sources, strict=True):
        if source.kind == "statuspage":
            routes.update(statuspage_routes(local(source.url).removeprefix(base)))
        elif source.kind == "feed":
            atom = fixture("saucelabs/us-west-1-history.atom")
            local(source.url, {"body": atom, "content_type": "application/atom+xml"})
        else:
            raise BenchmarkError(f"no loopback payload for a {source.kind} source ({source.name})")
        sources.append({**entry, "url": local(source.url), "interval": compressed(source.interval)})
    checks = []
    for entry, check in zip(raw.get("check", []), parsed.checks, strict=True):
        rewritten = {**entry, "interval": compressed(check.interval)}
        if check.kind == "http":
            status = entry.get("expect_status", [200])[0]
            body = HTTP_BODIES.get(status, b"{}")
            rewritten["url"] = local(entry["url"], {"body": body, "status": status})
        elif check.kind == "oauth_token_endpoint":
            rewritten["token_url"] = local(
                entry["token_url"], {"body": INVALID_GRANT, "status": 400}
            )
        elif check.kind == "clock":
            rewritten["url"] = local(entry["url"], {"body": b"", "etag": False})
        elif check.kind == "credentials_file":
            rewritten["path"] = str(_credentials(folder / "credentials.json"))
        elif check.kind == "local_port":
            rewritten["ports"] = str(free_port())
        elif check.kind == "dns":
            rewritten["host"] = "localhost"
        else:
            raise BenchmarkError(f"no loopback rewrite for a {check.kind} check ({check.name})")
        checks.append(rewritten)
    config = service_config(
        folder,
        f"sqlite:///{folder / 'monitor.db'}",
        **{k: v for k, v in raw.items() if k not in ("monitor", "database")}
        | {
            # The local API stays on, as shipped, on a free port rather than the shipped one.
            "http": {**raw.get("http", {}), "listen": "127.0.0.1:0"},
            "source": sources,
            "check": checks,
        },
    )
    enabled = sum(c.enabled for c in parsed.checks), sum(s.enabled for s in parsed.sources)
    return Shipped(config, routes, enabled[1], enabled[0])


def _credentials(path: Path) -> Path:
    """A Claude Code-shaped credentials file (placeholders, not tokens), mode 0600, valid a day."""
    oauth = {
        "accessToken": "bench-placeholder-access",
        "refreshToken": "bench-placeholder-refresh",
        "expiresAt": int((time.time() + 86400) * 1000),
        "scopes": ["user:inference"],
    }
    path.write_text(json.dumps({"claudeAiOauth": oauth}), encoding="utf-8")
    path.chmod(0o600)
    return path
