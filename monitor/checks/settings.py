"""``[[check]]`` entries: one typed model per kind, chosen by ``kind``.

Secrets never live here: header values and credentials reference the
environment (``"${ANTHROPIC_API_KEY}"``), expanded only when a check runs.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field

from monitor.configtypes import Duration, HttpUrl, Name, Section
from monitor.envvars import VARIABLE
from monitor.redact import redact_url


def _port_range(value: str) -> str:
    parts = value.split("-")
    try:
        low, high = int(parts[0]), int(parts[-1])
    except ValueError:
        raise ValueError(f"expected a port or a range such as '9000-9999', got {value!r}") from None
    if len(parts) > 2 or not 1 <= low <= high <= 65535:
        raise ValueError(f"expected a port or a range such as '9000-9999', got {value!r}")
    return value


PortRange = Annotated[str, AfterValidator(_port_range)]


def _references_in_query_only(value: str) -> str:
    """An http check's URL may take ``${NAME}`` in its query values, nowhere else."""
    base = value.partition("?")[0]
    if VARIABLE.search(base) or VARIABLE.search(value.partition("#")[2]):
        raise ValueError(
            "${NAME} is filled in only in the URL's query values (?key=${NAME}); "
            "move it there, or into a header"
        )
    return value


def _no_references(value: str) -> str:
    if VARIABLE.search(value):
        raise ValueError("${NAME} is not filled in here; only an http check's url takes it")
    return value


# The URLs other kinds call: sent as written.
PlainUrl = Annotated[HttpUrl, AfterValidator(_no_references)]


class DependsOn(Section):
    """The upstream status source (and components) a check relies on."""

    source: Name
    components: list[str] = Field(default_factory=list)


class _Check(Section):
    """What every kind shares; each kind adds its fields, its runner and what it probes.

    ``runs_with`` names the function that runs the kind (``module:function``,
    imported on first use: ``monitor results`` never loads the OAuth or DNS
    code, and a kind's import error cannot break the others).
    ``on_this_machine`` marks a kind that inspects this machine (a file, a
    port, the clock) rather than calling the vendor: its failures are local
    set-up whatever the vendor does. The correlator, below the checks, reads
    the same by kind name (``correlate/classes.py: LOCAL_KINDS``), and
    tests/test_check_kinds.py holds the two together.
    """

    runs_with: ClassVar[str]
    on_this_machine: ClassVar[bool] = False

    name: Name
    interval: Duration = timedelta(minutes=1)
    timeout: Duration = timedelta(seconds=10)
    depends_on: DependsOn | None = None
    # "control": a neutral target whose failure means the local network.
    role: Literal["vendor", "control"] = "vendor"
    enabled: bool = True
    # Run only when this environment variable is set (e.g. an API key).
    when_env: str | None = None


class _HttpClientOptions(Section):
    verify_tls: bool = True
    ca_file: str | None = None


class HttpCheck(_Check, _HttpClientOptions):
    """A request whose status says whether the API (and its auth layer) answers."""

    runs_with = "monitor.checks.http:run_http"
    kind: Literal["http"]
    url: Annotated[HttpUrl, AfterValidator(_references_in_query_only)]
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    expect_status: list[int] = Field(default_factory=lambda: [200])

    @property
    def target(self) -> str:
        return f"{self.method} {redact_url(self.url)}"


class _TokenEndpoint(Section):
    """What both OAuth kinds call: a token endpoint, as a client."""

    token_url: PlainUrl
    client_id: str

    @property
    def target(self) -> str:
        return f"POST {redact_url(self.token_url)}"


class OAuthTokenEndpointCheck(_Check, _TokenEndpoint, _HttpClientOptions):
    """A refresh with a deliberately invalid token: ``invalid_grant`` means OAuth is up."""

    runs_with = "monitor.checks.oauth_probe:run_oauth_token_endpoint"
    kind: Literal["oauth_token_endpoint"]


class OAuthRefreshCheck(_Check, _TokenEndpoint, _HttpClientOptions):
    """A real refresh with monitor's own grant, kept in its own 0600 token file."""

    runs_with = "monitor.checks.oauth_refresh:run_oauth_refresh"
    kind: Literal["oauth_refresh"]
    scope: str | None = None
    token_file: str | None = None  # default: <state dir>/tokens/<name>.json
    verify_url: PlainUrl | None = None


class CredentialsFileCheck(_Check):
    """Read-only inspection of a tool's credentials file (Claude Code's by default)."""

    runs_with = "monitor.checks.credentials:run_credentials_file"
    on_this_machine = True
    kind: Literal["credentials_file"]
    path: str = "~/.claude/.credentials.json"
    # JSON paths to the values, not the values.
    access_token_key: str = "claudeAiOauth.accessToken"  # noqa: S105
    refresh_token_key: str = "claudeAiOauth.refreshToken"  # noqa: S105
    expires_at_key: str = "claudeAiOauth.expiresAt"
    expires_at_unit: Literal["ms", "s"] = "ms"
    # A machine without the tool: a note, not a failure.
    skip_if_missing: bool = True

    @property
    def target(self) -> str:
        return self.path


class DnsCheck(_Check):
    runs_with = "monitor.checks.network:run_dns"
    kind: Literal["dns"]
    host: str

    @property
    def target(self) -> str:
        return self.host


class TcpCheck(_Check):
    runs_with = "monitor.checks.network:run_tcp"
    kind: Literal["tcp"]
    host: str
    port: Annotated[int, Field(ge=1, le=65535)]

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"


class LocalPortCheck(_Check):
    """Can the OAuth callback port (or one in a range) be bound on 127.0.0.1?"""

    runs_with = "monitor.checks.ports:run_local_port"
    on_this_machine = True
    kind: Literal["local_port"]
    ports: PortRange

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.ports}"


class ClockCheck(_Check, _HttpClientOptions):
    """Skew between this machine and a server's ``Date`` header."""

    runs_with = "monitor.checks.clock:run_clock"
    on_this_machine = True
    kind: Literal["clock"]
    url: PlainUrl
    max_skew: Duration = timedelta(seconds=30)

    @property
    def target(self) -> str:
        return f"GET {redact_url(self.url)}"


CheckSettings = Annotated[
    HttpCheck
    | OAuthTokenEndpointCheck
    | OAuthRefreshCheck
    | CredentialsFileCheck
    | DnsCheck
    | TcpCheck
    | LocalPortCheck
    | ClockCheck,
    Field(discriminator="kind"),
]
CHECK_MODELS: dict[str, type[_Check]] = {
    "http": HttpCheck,
    "oauth_token_endpoint": OAuthTokenEndpointCheck,
    "oauth_refresh": OAuthRefreshCheck,
    "credentials_file": CredentialsFileCheck,
    "dns": DnsCheck,
    "tcp": TcpCheck,
    "local_port": LocalPortCheck,
    "clock": ClockCheck,
}


def port_span(ports: str) -> range:
    """``"9000-9999"`` -> range(9000, 10000); ``"54545"`` -> that one port."""
    parts = [int(p) for p in ports.split("-")]
    return range(parts[0], parts[-1] + 1)
