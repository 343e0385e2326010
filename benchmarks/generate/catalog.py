"""The checks and sources of the generated database: the shipped config.toml, plus extras.

The first eight checks are config.toml's, in an order that keeps the
interesting cases in small databases (``--checks 3`` still has an upstream
dependency, the stale-token check and the control). Component names are the
vendors' own (tests/fixtures).
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.generate.rows import Shape

PROBE = "laptop"
HOST = "dev-laptop"
CLAUDE_API = "Claude API (api.anthropic.com)"
CLAUDE_AI = "claude.ai"
CLAUDE_CODE = "Claude Code"
PLATFORM = "platform.claude.com (formerly console.anthropic.com)"
_UP401 = "HTTP 401 as expected (the API is up and its auth layer answers)"


@dataclass(frozen=True, slots=True)
class CheckDef:
    """One check row and how its runs look."""

    name: str
    kind: str  # the config's kind, stored in check.kind
    target: str
    shape: Shape
    role: str = "vendor"
    source: str | None = None
    components: tuple[str, ...] = ()


def _http(
    host: str, status: int, *, connect: float = 15.0, tls: float = 30.0, ttfb: float = 120.0
) -> Shape:
    meaning = _UP401 if status == 401 else f"HTTP {status} as expected"
    ids = host.endswith("anthropic.com")  # Anthropic answers carry a request-id header
    return Shape("http", host, status, meaning, connect, tls, ttfb, request_ids=ids)


CHECKS: tuple[CheckDef, ...] = (
    CheckDef(
        "api-reachable",
        "http",
        "POST https://api.anthropic.com/v1/messages",
        _http("api.anthropic.com", 401, ttfb=110.0),
        source="claude",
        components=(CLAUDE_API,),
    ),
    CheckDef(
        "api-authenticated",
        "http",
        "GET https://api.anthropic.com/v1/models",
        _http("api.anthropic.com", 200, ttfb=240.0),
        source="claude",
        components=(CLAUDE_API,),
    ),
    CheckDef(
        "control",
        "http",
        "GET https://www.google.com/generate_204",
        _http("www.google.com", 204, connect=9.0, tls=22.0, ttfb=28.0),
        role="control",
    ),
    CheckDef("api-dns", "dns", "api.anthropic.com", Shape("dns", "api.anthropic.com", connect=3.0)),
    CheckDef(
        "oauth-endpoint",
        "oauth_token_endpoint",
        "POST https://console.anthropic.com/v1/oauth/token",
        Shape(
            "oauth",
            "console.anthropic.com",
            400,
            "token endpoint up: answered invalid_grant as expected",
            ttfb=140.0,
        ),
        source="claude",
        components=(CLAUDE_AI,),
    ),
    CheckDef(
        "claude-credentials",
        "credentials_file",
        "/home/dev/.claude/.credentials.json",
        Shape("credentials", "/home/dev/.claude/.credentials.json"),
    ),
    CheckDef("callback-port", "local_port", "127.0.0.1:54545", Shape("port", port=54545)),
    CheckDef(
        "clock",
        "clock",
        "GET https://api.anthropic.com/",
        Shape(
            "clock",
            "api.anthropic.com",
            200,
            "clock agrees with api.anthropic.com to the second (max skew 30s)",
            ttfb=90.0,
        ),
    ),
    CheckDef(
        "claude-ai",
        "http",
        "GET https://claude.ai/login",
        _http("claude.ai", 200, ttfb=260.0),
        source="claude",
        components=(CLAUDE_AI, CLAUDE_CODE),
    ),
    CheckDef(
        "github-api",
        "http",
        "GET https://api.github.com/zen",
        _http("api.github.com", 200, connect=20.0, tls=35.0, ttfb=85.0),
        source="github",
        components=("API Requests",),
    ),
    CheckDef(
        "github-git",
        "tcp",
        "github.com:22",
        Shape("tcp", "github.com", connect=24.0, port=22),
        source="github",
        components=("Git Operations",),
    ),
    CheckDef(
        "cloudflare-dns",
        "dns",
        "one.one.one.one",
        Shape("dns", "one.one.one.one", connect=4.0),
        source="cloudflare",
    ),
)


def checks(count: int) -> list[CheckDef]:
    """The first ``count`` checks; past the twelve, more control-style http checks."""
    chosen = list(CHECKS[:count])
    for n in range(len(CHECKS), count):
        host = f"extra-{n}.example.net"
        shape = _http(host, 200, connect=12.0, tls=25.0, ttfb=60.0)
        chosen.append(CheckDef(f"extra-{n}", "http", f"GET https://{host}/health", shape))
    return chosen


@dataclass(frozen=True, slots=True)
class SourceDef:
    """A status page: how it is polled and what its incidents look like."""

    name: str
    kind: str
    url: str
    interval_s: int
    page_name: str
    components: tuple[str, ...]
    share: float  # of all incidents
    titles: tuple[str, ...]


SOURCES: tuple[SourceDef, ...] = (
    SourceDef(
        "claude",
        "statuspage",
        "https://status.claude.com",
        120,
        "Claude",
        (CLAUDE_AI, PLATFORM, CLAUDE_API, CLAUDE_CODE, "Claude for Government"),
        0.45,
        (
            "Elevated errors on Claude Opus 4.8",
            "Elevated errors on Claude Sonnet 4.5",
            "Elevated error rates on the Claude API",
            "Increased latency for API requests",
            "Claude Code login failures",
            "claude.ai unavailable for some users",
            "Degraded performance on claude.ai",
            "Errors when uploading files",
        ),
    ),
    SourceDef(
        "github",
        "statuspage",
        "https://www.githubstatus.com",
        300,
        "GitHub",
        (
            "Git Operations",
            "Webhooks",
            "API Requests",
            "Issues",
            "Pull Requests",
            "Actions",
            "Packages",
            "Pages",
            "Copilot",
            "Codespaces",
        ),
        0.35,
        (
            "Incident with Actions",
            "Incident with Git Operations",
            "Disruption with some GitHub services",
            "Incident with API Requests",
            "Incident with Pull Requests",
            "Copilot is experiencing degraded performance",
        ),
    ),
    SourceDef(
        "cloudflare",
        "feed",
        "https://www.cloudflarestatus.com/history.atom",
        600,
        "Cloudflare Status",
        ("Cloudflare Sites and Services", "Dashboard", "API", "DNS", "Workers", "Access"),
        0.20,
        (
            "Cloudflare Dashboard and API issues",
            "Network performance issues in Frankfurt, Germany",
            "Increased errors for Workers",
            "DNS resolution delays",
            "Access login failures",
        ),
    ),
)
