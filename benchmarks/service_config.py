"""Configs for ``monitor run`` children, as TOML: http checks on one loopback route, and the
shipped config.toml pointed at the loopback server at compressed intervals."""

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

from benchmarks.measure import expect
from benchmarks.server import ROOT, RouteSpec, fixture, free_port, statuspage_routes
from monitor.config import parse_config

SHIPPED = ROOT / "config.toml"
MAX_COMPRESSED_S = 5  # a shipped minute becomes a second, at most this many
ANSWERS: dict[int, bytes] = {  # what the loopback server answers a shipped check, by status
    401: b'{"type": "error", "error": {"type": "authentication_error"}}',
    400: b'{"error": "invalid_grant", "error_description": "refresh token not found"}',
    204: b"",
}


def write_toml(path: Path, raw: Mapping[str, Any]) -> Path:
    """``raw`` as TOML, a line per top-level key (tables inline, arrays of tables as arrays)."""
    path.write_text("".join(f"{_toml(k)} = {_toml(v)}\n" for k, v in raw.items()), "utf-8")
    return path


def _toml(value: object) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_toml(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    expect(isinstance(value, bool | int | float | str), f"no TOML for {value!r}")
    return json.dumps(value)  # JSON's escapes are TOML's basic-string escapes


def service_config(folder: Path, database: str, probe: str = "bench", **sections: Any) -> Path:
    """``folder/config.toml``: the probe's name, its database URL and ``sections``."""
    folder.mkdir(parents=True, exist_ok=True)
    raw = {**sections, "monitor": {"probe": probe}, "database": {"url": database}}
    return write_toml(folder / "config.toml", raw)


def http_checks(count: int, url: str, interval_s: int) -> list[dict[str, str]]:
    """``count`` http checks on ``url``, every ``interval_s`` seconds."""
    check = {"kind": "http", "url": url, "interval": f"{interval_s}s", "timeout": "10s"}
    return [{"name": f"check{i:02}", **check} for i in range(count)]


def shipped() -> tuple[dict[str, Any], Any]:
    """The shipped config.toml, raw (to rewrite) and parsed (for its intervals and defaults)."""
    raw = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    return raw, parse_config(raw, SHIPPED)


def shipped_runs_per_ten_minutes() -> int:
    """Job runs ten minutes at the shipped intervals make: each job at start, then per interval."""
    jobs = [j for j in [*shipped()[1].sources, *shipped()[1].checks] if j.enabled]
    return sum(math.ceil(timedelta(minutes=10) / j.interval) for j in jobs)


def shipped_shape() -> str:
    """``3 sources (2 statuspage, 1 feed) and 8 checks (3 http, ...)``, enabled ones only."""
    shapes = []
    for what, jobs in (("sources", shipped()[1].sources), ("checks", shipped()[1].checks)):
        kinds: list[str] = [j.kind for j in jobs if j.enabled]
        tally = ", ".join(f"{kinds.count(k)} {k}" for k in dict.fromkeys(kinds))
        shapes.append(f"{len(kinds)} {what} ({tally})")
    return " and ".join(shapes)


@dataclass(frozen=True, slots=True)
class Shipped:
    """The shipped config on loopback: its file, the routes it needs, what it runs."""

    config: Path
    routes: dict[str, RouteSpec]
    sources: int
    checks: int


def shipped_service(folder: Path, base: str) -> Shipped:
    """The shipped config's sources and checks, every URL under ``base`` (``https://host/path``
    at ``base/host/path``), intervals compressed (a minute becomes a second, 1 to 5 s)."""
    raw, parsed = shipped()
    routes: dict[str, RouteSpec] = {}

    def local(url: str, spec: RouteSpec | None = None) -> str:
        path = f"/{urlsplit(url).hostname}{urlsplit(url).path}"
        routes.update({path: spec} if spec is not None else statuspage_routes(path))
        return base + path

    def compressed(job: Any) -> str:
        return f"{min(max(round(job.interval.total_seconds() / 60), 1), MAX_COMPRESSED_S)}s"

    atom = {
        "body": fixture("saucelabs/us-west-1-history.atom"),
        "content_type": "application/atom+xml",
    }
    sources = [
        {
            **entry,
            "url": local(s.url, atom if s.kind == "feed" else None),
            "interval": compressed(s),
        }
        for entry, s in zip(raw["source"], parsed.sources, strict=True)
    ]
    expect({s.kind for s in parsed.sources} <= {"statuspage", "feed"}, "a source kind not served")
    checks = []
    for entry, check in zip(raw["check"], parsed.checks, strict=True):
        rewritten = {**entry, "interval": compressed(check)}
        if check.kind in ("http", "clock"):  # the clock check reads the Date of a plain GET
            status = entry.get("expect_status", [200])[0]
            answer = {
                "body": ANSWERS.get(status, b"{}"),
                "status": status,
                "etag": check.kind == "http",
            }
            rewritten["url"] = local(entry["url"], answer)
        elif check.kind == "oauth_token_endpoint":
            rewritten["token_url"] = local(
                entry["token_url"], {"body": ANSWERS[400], "status": 400}
            )
        elif check.kind == "credentials_file":
            rewritten["path"] = str(_credentials(folder / "credentials.json"))
        else:
            answers = {"local_port": ("ports", str(free_port())), "dns": ("host", "localhost")}
            expect(check.kind in answers, f"no loopback rewrite for a {check.kind} check")
            key, value = answers[check.kind]
            rewritten[key] = value
        checks.append(rewritten)
    # The local API stays on, as shipped, on a free port rather than the shipped one.
    http = {**raw.get("http", {}), "listen": "127.0.0.1:0"}
    sections = {k: v for k, v in raw.items() if k not in ("monitor", "database")}
    sections |= {"http": http, "source": sources, "check": checks}
    config = service_config(folder, f"sqlite:///{folder / 'monitor.db'}", **sections)
    enabled = [sum(j.enabled for j in jobs) for jobs in (parsed.sources, parsed.checks)]
    return Shipped(config, routes, *enabled)


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
