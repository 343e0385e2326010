"""Failed runs, per kind and failure class, worded as monitor/checks and monitor/transport do."""

from __future__ import annotations

import json
import random

from benchmarks.generate.rows import RID, SDATE, Shape, Variant, credentials_tail, ms, phases_json

# What a network outage (VPN down, Wi-Fi gone) does to each kind; None: unaffected.
NETWORK_CLASS = {
    "http": "network_unreachable",
    "oauth": "network_unreachable",
    "clock": "network_unreachable",
    "tcp": "network_unreachable",
    "dns": "dns_failure",
    "port": None,
    "credentials": None,
}
# What an upstream outage does to each kind's runs, with weights.
UPSTREAM_CLASSES = {
    "http": (("server_error", 6), ("timeout", 2), ("connection_reset", 1)),
    "oauth": (("server_error", 5), ("timeout", 2)),
    "clock": (("timeout", 1),),
    "tcp": (("connect_timeout", 1),),
    "dns": (("dns_failure", 1),),
}
# The odd single failure on a healthy day.
SPORADIC_CLASSES = {
    "http": (("timeout", 3), ("connection_reset", 2), ("server_error", 2), ("connect_timeout", 1)),
    "oauth": (("timeout", 2), ("server_error", 1)),
    "clock": (("timeout", 1),),
    "tcp": (("connect_timeout", 1),),
    "dns": (("dns_failure", 1),),
    "port": (("port_unavailable", 1),),
    "credentials": (),
}
_SERVER_ERRORS = (
    (529, "overloaded_error", "Overloaded"),
    (500, "api_error", "Internal server error"),
    (503, "api_error", "Service unavailable"),
)
_TIMEOUT_S = 10


def pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    names = [name for name, _ in weighted]
    return rng.choices(names, weights=[w for _, w in weighted])[0]


def failed_variant(shape: Shape, failure_class: str, rng: random.Random) -> Variant:
    """One failed run of ``shape`` with ``failure_class``."""
    kind, host = shape.kind, shape.host
    if failure_class == "credentials_expired":
        return credentials_tail(shape, rng, expired_s=rng.randrange(60, 6 * 3600)), 0
    if failure_class == "port_unavailable":
        facts = json.dumps({"ports": str(shape.port), "free": False, "occupied": [shape.port]})
        detail = f"port {shape.port} is in use on 127.0.0.1 (first free: {shape.port + 1})"
        return (ms(rng, 0.8), 0, 0, failure_class, None, None, None, None, detail, facts), 0
    if failure_class in ("server_error", "auth_rejected", "rate_limited"):
        return _answered(shape, failure_class, rng)
    facts = "{}"
    connect = tls = None
    if failure_class == "timeout":
        duration = _TIMEOUT_S * 1000 + ms(rng, 15.0)
        detail = f"timed out after {_TIMEOUT_S}s waiting for the response"
        if kind == "http":
            connect, tls = ms(rng, shape.connect), ms(rng, shape.tls)
            facts = phases_json(connect, tls, None)
    elif failure_class == "connect_timeout":
        duration = _TIMEOUT_S * 1000 + ms(rng, 5.0)
        detail = f"connect timed out after {_TIMEOUT_S}s"
    elif failure_class == "network_unreachable":
        duration = ms(rng, 2.0)
        detail = "network unreachable: [Errno 101] Network is unreachable"
    elif failure_class == "dns_failure":
        duration = ms(rng, 40.0, 0.8)
        detail = f"DNS lookup failed for {host}: [Errno -3] Temporary failure in name resolution"
    elif failure_class == "connection_reset":
        duration = ms(rng, shape.connect + shape.tls + 20.0)
        detail = "connection reset by peer"
        if kind == "http":
            connect, tls = ms(rng, shape.connect), ms(rng, shape.tls)
            facts = phases_json(connect, tls, None)
    else:
        raise ValueError(f"no failed rows for class {failure_class!r}")
    if kind == "tcp":
        detail = f"{host}:{shape.port}: {detail}"
        facts = json.dumps({"target": f"{host}:{shape.port}"})
    elif kind == "dns":
        facts = json.dumps({"host": host})
    elif kind == "clock":
        facts = json.dumps({"url": f"https://{host}/"})
    tail = (duration, 0, 0, failure_class, None, connect, tls, None, detail, facts)
    return tail, 0


def _answered(shape: Shape, failure_class: str, rng: random.Random) -> Variant:
    """The server answered, with the wrong status: request id, Date and phases are all there."""
    if failure_class == "auth_rejected":
        status, error, message = 401, "authentication_error", "invalid x-api-key"
    elif failure_class == "rate_limited":
        status, error, message = (
            429,
            "rate_limit_error",
            "Number of requests has exceeded your rate limit",
        )
    else:
        status, error, message = rng.choice(_SERVER_ERRORS)
    body = json.dumps({"type": "error", "error": {"type": error, "message": message}})
    if shape.kind == "oauth":
        detail = f"OAuth error {status}: {body[:120]}"
        duration = ms(rng, shape.connect + shape.tls + shape.ttfb * 2)
        return (duration, 0, 0, failure_class, status, None, None, None, detail, "{}"), SDATE | RID
    connect, tls, ttfb = ms(rng, shape.connect), ms(rng, shape.tls), ms(rng, shape.ttfb * 1.5)
    total = round(connect + tls + ttfb + ms(rng, 2.5), 2)
    detail = f"HTTP {status}, expected {shape.status}: {body}"
    tail = (round(total + 0.07, 2), 0, 0, failure_class, status, connect, tls, ttfb, detail)
    flags = SDATE | (RID if shape.request_ids else 0)
    return (*tail, phases_json(connect, tls, ttfb, total=total)), flags
