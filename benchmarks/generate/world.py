"""The checks and status pages of the generated database, and what their runs say.

The first eight checks are config.toml's, ordered so that small databases
keep the interesting cases (three checks: an upstream dependency, the
stale-token check and the control). A run is worded as monitor/checks words
it (detail, phases, facts, request id) and becomes a row through
``monitor.store.runcodes.encode``, so the bytes per row are the app's.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitor.times import format_duration

PROBE, HOST, API, AI = "laptop", "dev-laptop", "Claude API (api.anthropic.com)", "claude.ai"
PHASES = ("connect", "tls", "ttfb")
SERVER_DATE = "@date@"  # where a clock run's facts take the server's Date, set per row
Run = dict[str, Any]  # runcodes.encode's keyword arguments, less the row's key and the usual


@dataclass(frozen=True, slots=True)
class CheckDef:
    name: str
    kind: str  # the config's
    target: str
    status: int = 200  # the expected answer
    ms: tuple[float, ...] = (12, 25, 60)  # median connect, tls, ttfb (http), else its one phase
    source: str | None = None
    components: tuple[str, ...] = ()
    role: str = "vendor"

    @property
    def host(self) -> str:
        return self.target.split("/")[2] if "://" in self.target else self.target.split(":")[0]


CHECKS = (
    CheckDef("api-reachable", "http", "POST https://api.anthropic.com/v1/messages", 401,
             (15, 30, 110), "claude", (API,)),
    CheckDef("api-authenticated", "http", "GET https://api.anthropic.com/v1/models", 200,
             (15, 30, 240), "claude", (API,)),
    CheckDef("control", "http", "GET https://www.google.com/generate_204", 204, (9, 22, 28),
             role="control"),
    CheckDef("api-dns", "dns", "api.anthropic.com", ms=(3,)),
    CheckDef("oauth-endpoint", "oauth_token_endpoint",
             "POST https://console.anthropic.com/v1/oauth/token", 400, (185,), "claude", (AI,)),
    CheckDef("claude-credentials", "credentials_file", "/home/dev/.claude/.credentials.json",
             ms=(1.6,)),
    CheckDef("callback-port", "local_port", "127.0.0.1:54545", ms=(0.6,)),
    CheckDef("clock", "clock", "GET https://api.anthropic.com/", ms=(250,)),
    CheckDef("claude-ai", "http", "GET https://claude.ai/login", 200, (15, 30, 260), "claude",
             (AI, "Claude Code")),
    CheckDef("github-api", "http", "GET https://api.github.com/zen", 200, (20, 35, 85),
             "github", ("API Requests",)),
    CheckDef("github-git", "tcp", "github.com:22", ms=(24,), source="github",
             components=("Git Operations",)),
    CheckDef("cloudflare-dns", "dns", "one.one.one.one", ms=(4,), source="cloudflare"),
)  # fmt: skip


def checks(count: int) -> list[CheckDef]:
    """The first ``count`` checks; past the twelve, more control-style http checks."""
    extra = range(len(CHECKS), count)
    url = "GET https://extra-{}.example.net/health"
    return [*CHECKS[:count], *(CheckDef(f"extra-{n}", "http", url.format(n)) for n in extra)]


@dataclass(frozen=True, slots=True)
class SourceDef:
    name: str
    kind: str
    url: str
    interval_s: int  # config.toml's
    components: tuple[str, ...]
    share: float  # of all incidents
    titles: tuple[str, ...]
    page_name: str


SOURCES = tuple(
    SourceDef(name, kind, url, every, tuple(parts.split("; ")), share,
              tuple(titles.split("; ")), page)
    for name, kind, url, every, parts, share, titles, page in (
        ("claude", "statuspage", "https://status.claude.com", 120,
         f"{AI}; platform.claude.com (formerly console.anthropic.com); {API}; Claude Code; "
         "Claude for Government", 0.45,
         "Elevated errors on Claude Opus 4.8; Elevated errors on Claude Sonnet 4.5; Elevated "
         "error rates on the Claude API; Increased latency for API requests; Claude Code login "
         "failures; claude.ai unavailable for some users; Degraded performance on claude.ai",
         "Claude"),
        ("github", "statuspage", "https://www.githubstatus.com", 300,
         "Git Operations; Webhooks; API Requests; Issues; Pull Requests; Actions; Packages; "
         "Pages; Copilot; Codespaces", 0.35,
         "Incident with Actions; Incident with Git Operations; Disruption with some GitHub "
         "services; Incident with API Requests; Copilot is experiencing degraded performance",
         "GitHub"),
        ("cloudflare", "feed", "https://www.cloudflarestatus.com/history.atom", 600,
         "Cloudflare Sites and Services; Dashboard; API; DNS; Workers", 0.2,
         "Cloudflare Dashboard and API issues; Network performance issues in Frankfurt, Germany;"
         " Increased errors for Workers; DNS resolution delays", "Cloudflare Status"),
    )
)  # fmt: skip

# Failure classes by kind, weighted: what an upstream outage does, and the odd
# failure on a healthy day; what a network outage does (None: nothing).
UPSTREAM = {"dns": {"dns_failure": 1}, "tcp": {"connect_timeout": 1}, "clock": {"timeout": 1}}
SPORADIC = {**UPSTREAM, "local_port": {"port_unavailable": 1}, "credentials_file": {}}
HTTP_UPSTREAM = {"server_error": 6, "timeout": 2, "connection_reset": 1}
HTTP_SPORADIC = {"timeout": 3, "connection_reset": 2, "server_error": 2, "connect_timeout": 1}
NETWORK = {"dns": "dns_failure", "local_port": None, "credentials_file": None}
ANSWERS = {  # class: (status, error type, message)...
    "server_error": ((529, "overloaded_error", "Overloaded"),
                     (500, "api_error", "Internal server error")),
    "auth_rejected": ((401, "authentication_error", "invalid x-api-key"),),
}  # fmt: skip
TRANSPORT = {
    "timeout": "timed out after 10s waiting for the response",
    "connect_timeout": "connect timed out after 10s",
    "connection_reset": "connection reset by peer",
    "network_unreachable": "network unreachable: [Errno 101] Network is unreachable",
}


def upstream_classes(check: CheckDef) -> dict[str, int]:
    return UPSTREAM.get(check.kind, HTTP_UPSTREAM)


def sporadic_classes(check: CheckDef) -> dict[str, int]:
    return SPORADIC.get(check.kind, HTTP_SPORADIC)


def network_class(check: CheckDef) -> str | None:
    return NETWORK.get(check.kind, "network_unreachable")


def ms(rng: random.Random, median: float, sigma: float = 0.35) -> float:
    """A lognormal latency: most runs near the median, one in a hundred on a slow path."""
    value = rng.lognormvariate(math.log(median), sigma)
    return round(value * (rng.uniform(3, 10) if rng.random() < 0.01 else 1), 2)


def _text(ms: float) -> str:
    return f"{ms:.0f} ms" if ms >= 10 else f"{ms:.1f} ms"


def _span(seconds: int) -> str:  # hours and minutes, or minutes and seconds
    return format_duration(timedelta(seconds=seconds - seconds % 60 * (seconds >= 3600)))


# The credentials file's tokens: renewed every few hours in life, which a run
# sees as two fingerprints changing; a constant pair keeps generation simple.
TOKEN_FP = ("cd09e4f0e99f", "f33e2eccc35b")


def request_id(check: CheckDef, rng: random.Random) -> str | None:
    """What an answer carries: Anthropic's request-id, Cloudflare's cf-ray (claude.ai)."""
    if check.host.endswith("anthropic.com"):
        return "req_011C" + "".join(rng.choices("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefgh", k=20))
    return f"{rng.getrandbits(64):016x}-FRA" if check.host == "claude.ai" else None


def passed(check: CheckDef, rng: random.Random, scale: float = 1.0) -> Run:
    """A passing run, its latencies drawn around the check's medians times ``scale``."""
    kind, host, took = check.kind, check.host, ms(rng, check.ms[0] * scale, 0.6)
    run: Run = {"duration_ms": took, "ok": True}
    if kind == "http":
        phases = dict(zip(PHASES, (ms(rng, m * scale) for m in check.ms), strict=True))
        took = round(sum(phases.values()) + ms(rng, 2.5), 2)
        meaning = " (the API is up and its auth layer answers)" if check.status == 401 else ""
        return run | {"duration_ms": took, "http_status": check.status,
                      "phases_ms": phases, "request_id": request_id(check, rng),
                      "detail": f"HTTP {check.status} as expected{meaning}"}  # fmt: skip
    if kind == "dns":
        shown = ["160.79.104.10"] if "anthropic" in host else ["1.0.0.1", "1.1.1.1"]
        return run | {"phases_ms": {"dns": took}, "facts": {"host": host, "addresses": shown},
                      "detail": f"{host} resolved to {', '.join(shown)} in "
                      f"{_text(took)}"}  # fmt: skip
    if kind == "tcp":
        dns, address = ms(rng, 2.0), "140.82.121.4:22"
        target = {"target": check.target, "address": address}
        return run | {"duration_ms": round(took + dns + 0.2, 2), "phases_ms": {"dns": dns,
                      "connect": took}, "detail": f"connected to {check.target} ({address}) in "
                      f"{_text(took)}", "facts": target}  # fmt: skip
    if kind == "oauth_token_endpoint":
        detail = "token endpoint up: answered invalid_grant as expected"
        return run | {"http_status": 400, "request_id": request_id(check, rng), "detail": detail}
    if kind == "clock":  # the server's Date has whole seconds: a skew under 0.5 s is none
        skew, limit = round(rng.gauss(0.2, 0.3), 3), "max skew 30s"
        way = f"is {round(abs(skew))}s {'behind' if skew > 0 else 'ahead of'} {host}"
        detail = f"this machine {way}, within the {limit}" if round(abs(skew)) else \
            f"clock agrees with {host} to the second ({limit})"  # fmt: skip
        return run | {"http_status": 200, "detail": detail, "facts": {"url": f"https://{host}/",
                      "http_status": 200, "round_trip_ms": took, "skew_s": skew,
                      "server_date": SERVER_DATE, "max_skew_s": 30.0}}  # fmt: skip
    if kind == "local_port":
        facts = {"ports": "54545", "free": True}
        return run | {"detail": "port 54545 is free on 127.0.0.1", "facts": facts}
    age, left = rng.randrange(60, 8 * 3600), rng.randrange(600, 8 * 3600)  # credentials file
    return run | {"detail": f"access token valid for {_span(left)}; file mode 0600, updated "
                  f"{_span(age)} ago", "facts": {"path": check.target, "mode": "0600",
                  "age_s": age, "scopes": ["user:inference", "user:profile"],
                  "subscriptionType": "max", "access_token_fp": TOKEN_FP[0],
                  "has_refresh_token": True, "refresh_token_fp": TOKEN_FP[1],
                  "expires_at": "2026-06-01T12:00:00Z", "expired": False,
                  "seconds_to_expiry": left}}  # fmt: skip


def failed(check: CheckDef, failure: str, rng: random.Random, at: datetime) -> Run:
    """A run of ``check`` at ``at`` that failed with ``failure`` (or was skipped), as the
    app words it: a failure the server answered has its status, request id and Date."""
    run: Run = {"duration_ms": ms(rng, check.ms[0]), "ok": False, "failure_class": failure}
    if failure == "skipped":
        return {"duration_ms": 0.02, "ok": True, "skipped": True,
                "detail": "ANTHROPIC_API_KEY is not set"}  # fmt: skip
    if failure == "port_unavailable":
        return run | {"detail": "port 54545 is in use on 127.0.0.1 (first free: 54546)",
                      "facts": {"ports": "54545", "free": False, "first_free": 54546,
                                "occupied": [54545]}}  # fmt: skip
    if failure in ANSWERS:
        status, error, message = rng.choice(ANSWERS[failure])
        body = f'{{"type":"error","error":{{"type":"{error}","message":"{message}"}}}}'
        run |= {"http_status": status, "request_id": request_id(check, rng),
                "server_date": at.replace(microsecond=0)}  # fmt: skip
        if check.kind != "http":
            return run | {"detail": f"OAuth error {status}: {body}"}
        phases = dict(zip(PHASES, (ms(rng, m) for m in check.ms), strict=True))
        return run | {"duration_ms": round(sum(phases.values()) + 0.4, 2), "phases_ms": phases,
                      "detail": f"HTTP {status}, expected {check.status}: {body}"}  # fmt: skip
    reason = TRANSPORT.get(failure, f"DNS lookup failed for {check.host}: Temporary failure in "
                           "name resolution")  # fmt: skip
    if "timeout" in failure:
        run["duration_ms"] = 10_000 + ms(rng, 15.0)
    if failure == "timeout" and check.kind == "http":
        run["phases_ms"] = {"connect": ms(rng, check.ms[0]), "tls": ms(rng, check.ms[1])}
    if check.kind == "tcp":
        if failure == "network_unreachable":
            reason = "cannot connect: network is unreachable (check the network)"
        return run | {"detail": f"{check.target}: {reason}", "facts": {"target": check.target}}
    facts = {"dns": {"host": check.host}, "clock": {"url": f"https://{check.host}/"}}
    return run | {"detail": reason, "facts": facts.get(check.kind, {})}
