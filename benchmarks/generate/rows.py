"""What one check run's row looks like, per kind: the texts and facts the app writes.

Every builder returns a ``Variant``: the row's tail (the columns after
check_id, probe, started_at, request_id and server_date, in ``TAIL_COLUMNS``
order) and flags saying which per-row values the writer must add. Details
and facts copy what the checks record (see monitor/checks), so the bytes per
row are the app's, not a guess.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from typing import Any

TAIL_COLUMNS = (
    "duration_ms",
    "ok",
    "skipped",
    "failure_class",
    "http_status",
    "connect_ms",
    "tls_ms",
    "ttfb_ms",
    "detail",
    "facts",
)
RID = 1  # the row gets a request id (an API answered)
SDATE = 2  # the row gets server_date (an HTTP Date header)
FACTS_TIME = 4  # facts is a %-template taking the server date as ISO text (clock)

Tail = tuple[Any, ...]
Variant = tuple[Tail, int]


@dataclass(frozen=True, slots=True)
class Shape:
    """How a check behaves on the wire: what it is, and its typical phase times (ms)."""

    kind: str  # http | oauth | credentials | port | clock | dns | tcp
    host: str = ""
    status: int = 200  # the expected answer
    ok_detail: str = ""
    connect: float = 15.0
    tls: float = 30.0
    ttfb: float = 120.0
    request_ids: bool = False
    port: int = 0


def ms(rng: random.Random, median: float, sigma: float = 0.35) -> float:
    """A lognormal latency: most runs near the median, a long slow tail."""
    value = rng.lognormvariate(math.log(median), sigma)
    if rng.random() < 0.01:  # one run in a hundred hits a slow path (retransmit, GC, queue)
        value *= rng.uniform(3, 10)
    return round(value, 2)


def _facts(value: dict[str, Any]) -> str:
    return json.dumps(value)  # SQLAlchemy's JSON type: json.dumps with default separators


def phases_json(connect: float | None, tls: float | None, ttfb: float | None, **more: float) -> str:
    phases = {
        k: v for k, v in (("connect", connect), ("tls", tls), ("ttfb", ttfb)) if v is not None
    }
    return _facts({"phases_ms": {**phases, **more}})


def ok_variant(shape: Shape, rng: random.Random, scale: float) -> Variant:
    """A passing run, its latencies drawn around ``shape``'s medians times ``scale``."""
    kind = shape.kind
    if kind == "http":
        connect, tls = ms(rng, shape.connect * scale), ms(rng, shape.tls * scale)
        ttfb = ms(rng, shape.ttfb * scale)
        total = round(connect + tls + ttfb + ms(rng, 2.5), 2)
        facts = phases_json(connect, tls, ttfb, total=total)
        tail: Tail = (round(total + 0.07, 2), 1, 0, None, shape.status, connect, tls, ttfb)
        return (*tail, shape.ok_detail, facts), SDATE | (RID if shape.request_ids else 0)
    if kind == "oauth":
        duration = ms(rng, (shape.connect + shape.tls + shape.ttfb) * scale)
        tail = (duration, 1, 0, None, 400, None, None, None, shape.ok_detail, "{}")
        return tail, SDATE | RID
    if kind == "clock":
        trip = ms(rng, (shape.connect + shape.tls + shape.ttfb) * scale)
        skew = round(rng.uniform(-0.9, 0.9), 3)
        facts = _facts(
            {
                "url": f"https://{shape.host}/",
                "http_status": 200,
                "round_trip_ms": trip,
                "skew_s": skew,
                "server_date": "%s",
                "max_skew_s": 30.0,
            }
        )
        tail = (round(trip + 1.3, 2), 1, 0, None, 200, None, None, None, shape.ok_detail, facts)
        return tail, SDATE | FACTS_TIME
    if kind == "dns":
        elapsed = ms(rng, shape.connect * scale, 0.8)
        text = f"{elapsed:.0f} ms" if elapsed >= 10 else f"{elapsed:.1f} ms"
        address = "160.79.104.10" if "anthropic" in shape.host else "1.1.1.1"
        facts = _facts(
            {
                "host": shape.host,
                "addresses": [address],
                "elapsed_ms": elapsed,
                "phases_ms": {"dns": elapsed},
            }
        )
        detail = f"{shape.host} resolved to {address} in {text}"
        return (round(elapsed + 0.05, 2), 1, 0, None, None, None, None, None, detail, facts), 0
    if kind == "tcp":
        dns, connect = ms(rng, 2.0), ms(rng, shape.connect * scale)
        target = f"{shape.host}:{shape.port}"
        facts = _facts(
            {
                "target": target,
                "address": f"140.82.121.4:{shape.port}",
                "connect_ms": connect,
                "dns_ms": dns,
                "phases_ms": {"dns": dns, "connect": connect},
            }
        )
        text = f"{connect:.0f} ms" if connect >= 10 else f"{connect:.1f} ms"
        detail = f"connected to {target} in {text}"
        tail = (round(dns + connect + 0.2, 2), 1, 0, None, None, connect, None, None, detail)
        return (*tail, facts), 0
    if kind == "port":
        facts = _facts({"ports": str(shape.port), "free": True})
        detail = f"port {shape.port} is free on 127.0.0.1"
        return (ms(rng, 0.6), 1, 0, None, None, None, None, None, detail, facts), 0
    if kind == "credentials":
        return credentials_tail(shape, rng, expired_s=None), 0
    raise ValueError(f"no ok rows for kind {kind!r}")


def _span(seconds: int) -> str:
    hours, rest = divmod(abs(seconds), 3600)
    return f"{hours}h{rest // 60}m" if hours else f"{rest // 60}m{rest % 60}s"


def credentials_tail(shape: Shape, rng: random.Random, expired_s: int | None) -> Tail:
    """Claude Code's credentials file: fingerprints and expiry only, never a token."""
    age = rng.randrange(60, 8 * 3600)
    remaining = -expired_s if expired_s is not None else rng.randrange(600, 8 * 3600)
    facts = _facts(
        {
            "path": shape.host,
            "mode": "0600",
            "age_s": age,
            "scopes": ["user:inference", "user:profile"],
            "access_token_fp": f"{rng.getrandbits(48):012x}",
            "has_refresh_token": expired_s is None,
            "refresh_token_fp": f"{rng.getrandbits(48):012x}",
            "expires_at": "2026-01-01T00:00:00.000000Z",
            "expired": expired_s is not None,
            "seconds_to_expiry": remaining,
        }
    )
    tail: Tail = (ms(rng, 1.6), 1, 0, None, None, None, None, None)
    if expired_s is None:
        detail = (
            f"access token valid for {_span(remaining)}; file mode 0600, updated {_span(age)} ago"
        )
        return (*tail, detail, facts)
    detail = (
        f"access token expired {_span(expired_s)} ago and there is no refresh token at "
        "claudeAiOauth.refreshToken: log in again (claude /login)"
    )
    return (tail[0], 0, 0, "credentials_expired", *tail[4:], detail, facts)
