"""The shipped config.toml pointed at a loopback server, at compressed intervals.

Every URL is rewritten to ``@LOOPBACK@/<host><path>`` and served by the
loopback server (statuspage sources the github fixtures, the feed the
saucelabs Atom fixture, each check the answer it expects); a shipped minute
becomes a second, at most MAX_COMPRESSED_S.
"""

from __future__ import annotations

import json
import math
import socket
import time
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks import payloads
from benchmarks.measure import BenchmarkError
from benchmarks.server import RouteSpec
from benchmarks.service_process import ROOT
from monitor.config import Config, parse_config

SHIPPED_WINDOW = timedelta(minutes=10)
MAX_COMPRESSED_S = 5  # a shipped minute becomes a second, at most this many
SHIPPED_CONFIG = ROOT / "config.toml"
FEED_FIXTURE = ROOT / "tests" / "fixtures" / "saucelabs" / "us-west-1-history.atom"
HTTP_BODIES = {401: b'{"type": "error", "error": {"type": "authentication_error"}}', 204: b""}
INVALID_GRANT = b'{"error": "invalid_grant", "error_description": "refresh token not found"}'

CPU_CHECKS = 20
CPU_TARGET_INTERVAL_S = 30.0  # the figure's interval; --quick runs faster and scales back


@dataclass(frozen=True, slots=True)
class CpuPlan:
    """The checks' interval and the measuring window (seconds).

    The window opens half an interval after the start-up round is recorded.
    The jitter (a tenth of the interval, added to the previous jittered fire
    time by APScheduler 3) puts round k at k..1.1k intervals: at 30 s,
    [15, 75] holds rounds 1 and 2; at 5 s (--quick), [2.5, 7.5] holds round 1.
    """

    interval_s: int
    window_s: float

    @property
    def offset_s(self) -> float:
        return self.interval_s / 2

    @property
    def rounds(self) -> int:
        """Scheduling rounds after the start-up one inside the window."""
        return int((self.offset_s + self.window_s) // self.interval_s)

    @property
    def scale(self) -> float:
        """From this interval's CPU share to the share at CPU_TARGET_INTERVAL_S."""
        return self.interval_s / CPU_TARGET_INTERVAL_S


CPU_FULL = CpuPlan(30, 60.0)
CPU_QUICK = CpuPlan(5, 5.0)


def shipped_config() -> tuple[dict[str, Any], Config]:
    """The shipped config.toml, raw (to rewrite) and parsed (for its intervals and defaults)."""
    with SHIPPED_CONFIG.open("rb") as file:
        raw = tomllib.load(file)
    return raw, parse_config(raw, SHIPPED_CONFIG)


def runs_in(window: timedelta, config: Config) -> int:
    """Job runs in ``window`` at the config's intervals: each job at start, then per interval."""
    intervals = [s.interval for s in config.sources if s.enabled]
    intervals += [c.interval for c in config.checks if c.enabled]
    return sum(math.ceil(window / interval) for interval in intervals)


def shipped_runs_per_ten_minutes() -> int:
    return runs_in(SHIPPED_WINDOW, shipped_config()[1])


def shipped_shape() -> str:
    """``3 sources (2 statuspage, 1 feed) and 8 checks (http x3, ...)``, enabled ones only."""
    config = shipped_config()[1]
    sources = [s.kind for s in config.sources if s.enabled]
    checks = [c.kind for c in config.checks if c.enabled]
    return f"{len(sources)} sources ({_tally(sources)}) and {len(checks)} checks ({_tally(checks)})"


def _tally(kinds: Sequence[str]) -> str:
    return ", ".join(f"{kinds.count(k)} {k}" for k in dict.fromkeys(kinds))


def compressed(interval: timedelta) -> str:
    """A shipped minute becomes a second (1 s at least, MAX_COMPRESSED_S at most)."""
    seconds = round(interval.total_seconds() / 60)
    return f"{min(max(seconds, 1), MAX_COMPRESSED_S)}s"


def _path_for(url: str) -> str:
    """``https://api.anthropic.com/v1/messages`` is served at ``/api.anthropic.com/v1/messages``."""
    parts = urlsplit(url)
    return f"/{parts.hostname}{parts.path}"


@dataclass(frozen=True, slots=True)
class Plan:
    """The loopback routes for a config, and how to point the config at the server."""

    routes: dict[str, RouteSpec]
    raw: dict[str, Any]
    sources: int
    checks: int

    def config(self, base_url: str) -> dict[str, Any]:
        """The raw config with every ``@LOOPBACK@`` replaced by the server's ``base_url``."""
        config: dict[str, Any] = json.loads(json.dumps(self.raw).replace("@LOOPBACK@", base_url))
        return config


def shipped_plan(tmp: Path) -> Plan:
    """The shipped config's sources and checks, on loopback, at compressed intervals."""
    raw, parsed = shipped_config()
    routes: dict[str, RouteSpec] = {}
    sources: list[dict[str, Any]] = []
    for entry, source in zip(raw.get("source", []), parsed.sources, strict=True):
        path = _path_for(source.url)
        if source.kind == "statuspage":
            routes.update(payloads.statuspage_routes(path))
        elif source.kind == "feed":
            routes[path] = {
                "body": FEED_FIXTURE.read_bytes(),
                "content_type": "application/atom+xml",
            }
        else:
            raise BenchmarkError(f"no loopback payload for a {source.kind} source ({source.name})")
        interval = compressed(source.interval)
        sources.append({**entry, "url": f"@LOOPBACK@{path}", "interval": interval})
    checks = [
        _loopback_check(entry, check.kind, check.interval, routes, tmp)
        for entry, check in zip(raw.get("check", []), parsed.checks, strict=True)
    ]
    rewritten = {
        **raw,
        "monitor": {**raw.get("monitor", {}), "probe": "bench"},
        "database": {"url": f"sqlite:///{tmp / 'monitor.db'}"},
        # The local API stays on, as shipped, on a free port rather than the shipped one.
        "http": {**raw.get("http", {}), "listen": "127.0.0.1:0"},
        "source": sources,
        "check": checks,
    }
    enabled = sum(1 for c in parsed.checks if c.enabled)
    return Plan(routes, rewritten, sum(1 for s in parsed.sources if s.enabled), enabled)


def _loopback_check(
    entry: dict[str, Any],
    kind: str,
    interval: timedelta,
    routes: dict[str, RouteSpec],
    tmp: Path,
) -> dict[str, Any]:
    """One shipped check pointed at loopback (and routes for it); a kind it cannot is an error."""
    check = {**entry, "interval": compressed(interval)}
    if kind == "http":
        path = _path_for(entry["url"])
        status = entry.get("expect_status", [200])[0]
        routes[path] = {"body": HTTP_BODIES.get(status, b"{}"), "status": status}
        check["url"] = f"@LOOPBACK@{path}"
    elif kind == "oauth_token_endpoint":
        path = _path_for(entry["token_url"])
        routes[path] = {"body": INVALID_GRANT, "status": 400}
        check["token_url"] = f"@LOOPBACK@{path}"
    elif kind == "clock":
        path = _path_for(entry["url"])
        routes[path] = {"body": b"", "etag": False}
        check["url"] = f"@LOOPBACK@{path}"
    elif kind == "credentials_file":
        check["path"] = str(_write_credentials(tmp / "credentials.json"))
    elif kind == "local_port":
        check["ports"] = str(free_port())
    elif kind == "dns":
        check["host"] = "localhost"
    else:
        raise BenchmarkError(f"no loopback rewrite for a {kind} check ({entry.get('name')})")
    return check


def _write_credentials(path: Path) -> Path:
    """A Claude Code-shaped credentials file (placeholders, not tokens), mode 0600, valid a day."""
    expires_ms = int((time.time() + 86400) * 1000)
    document = {
        "claudeAiOauth": {
            "accessToken": "bench-placeholder-access",
            "refreshToken": "bench-placeholder-refresh",
            "expiresAt": expires_ms,
            "scopes": ["user:inference"],
        }
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    path.chmod(0o600)
    return path


def free_port() -> int:
    """A port free right now on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def write_toml(path: Path, raw: Mapping[str, Any]) -> Path:
    """The subset of TOML a monitor config uses: tables, arrays of tables, inline values."""
    lines = [f"{_key(k)} = {_value(v)}" for k, v in raw.items() if not _is_table(v)]
    for key, value in raw.items():
        if isinstance(value, Mapping):
            lines += ["", f"[{_key(key)}]"]
            lines += [f"{_key(k)} = {_value(v)}" for k, v in value.items()]
        elif _is_table(value):
            for entry in value:
                lines += ["", f"[[{_key(key)}]]"]
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
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON's escapes are TOML's basic-string escapes
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")
