"""Tests for monitor.correlate.rules and monitor.correlate.verdict: one rule at a time, then explain().

Pure: series of runs, imported observations, upstream windows and coverage are
literals with explicit aware-UTC times, turned into Evidence by ``gather``.
Every run falls on a ten-minute grid over 11:00-13:00, the window asked about.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from monitor.correlate.evidence import Evidence, gather
from monitor.correlate.matching import Tolerance
from monitor.correlate.pages import Page
from monitor.correlate.rules import (
    credentials,
    local_setup,
    network,
    upstream_declared,
    upstream_undeclared,
)
from monitor.correlate.verdict import Verdict, explain
from monitor.correlate.windows import (
    CheckInfo,
    ComponentHit,
    Coverage,
    Observation,
    Run,
    Series,
    UpstreamKind,
    UpstreamWindow,
)

API = "Claude API (api.anthropic.com)"
LOGIN = "claude.ai"
CREDENTIALS_PATH = "~/.claude/.credentials.json"
EVERY = timedelta(minutes=10)


def t(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 4, 14, hour, minute, tzinfo=UTC)


AT = t(12)
SPAN = timedelta(hours=1)
LO, HI = AT - SPAN, AT + SPAN


def check(
    name: str,
    kind: str = "http",
    role: str = "vendor",
    source: str | None = "claude",
    components: tuple[str, ...] = (API,),
    target: str = "GET https://api.anthropic.com/v1/models",
) -> CheckInfo:
    return CheckInfo(name, kind, role, target, source, components)


REACH = check("api-reachable", target="POST https://api.anthropic.com/v1/messages")
AUTHED = check("api-authenticated")
OAUTH = check(
    "oauth-endpoint",
    kind="oauth_token_endpoint",
    components=(LOGIN,),
    target="POST https://console.anthropic.com/v1/oauth/token",
)
REFRESH = check(
    "token-refresh",
    kind="oauth_refresh",
    target="POST https://console.anthropic.com/v1/oauth/token",
)
DNS = check("api-dns", kind="dns", source=None, components=(), target="api.anthropic.com")
CREDS = check(
    "claude-credentials", "credentials_file", source=None, components=(), target=CREDENTIALS_PATH
)
PORT = check("callback-port", "local_port", source=None, components=(), target="127.0.0.1:54545")
CLOCK = check("clock", "clock", source=None, components=(), target="GET https://api.anthropic.com/")
CONTROL = check(
    "control",
    role="control",
    source=None,
    components=(),
    target="GET https://www.google.com/generate_204",
)

# What a passing run of each check answers.
OK_STATUS = {
    "api-reachable": 401,
    "control": 204,
    "claude-credentials": None,
    "callback-port": None,
}


def series(
    info: CheckInfo,
    failing: datetime | None = None,
    until: datetime | None = None,
    failure_class: str = "server_error",
    status: int | None = None,
) -> Series:
    """Runs every ten minutes over 11:00-13:00, failing from ``failing`` until ``until``.

    The first passing run at or after ``until`` ends the window; without
    ``until`` the check is still failing at 13:00 (an open window).
    """
    runs = []
    at = LO
    while at <= HI:
        bad = failing is not None and failing <= at and (until is None or at < until)
        runs.append(
            Run(
                check=info.name,
                probe="local",
                started_at=at,
                ok=not bad,
                failure_class=failure_class if bad else None,
                http_status=status if bad else OK_STATUS.get(info.name, 200),
                detail=f"{info.name}: {failure_class}" if bad else "ok",
            )
        )
        at += EVERY
    return Series(info, "local", tuple(runs))


def passing(info: CheckInfo) -> Series:
    return series(info)


def seen(
    at: datetime,
    failure_class: str = "auth_rejected",
    target: str | None = "api.anthropic.com",
    source: str | None = "claude",
) -> Observation:
    return Observation(at, failure_class, source, target, f"{failure_class} at {at:%H:%M}")


DECLARED_START, DECLARED_END = t(11, 30), t(12, 45)


def incident(
    start: datetime = DECLARED_START,
    end: datetime | None = DECLARED_END,
    *,
    components: tuple[str, ...] = (API,),
    source: str = "claude",
    title: str = "Elevated errors on the Claude API",
    kind: UpstreamKind = "incident",
    url: str | None = "https://stspg.io/abc",
    declared: tuple[datetime, datetime | None] | None = None,
) -> UpstreamWindow:
    return UpstreamWindow(
        source=source,
        kind=kind,
        title=title,
        start=start,
        end=end,
        impact="major",
        components=components,
        url=url,
        status="resolved" if end else "investigating",
        declared_start=declared[0] if declared else start,
        declared_end=declared[1] if declared else end,
        stated_in_update=declared is not None,
        component_level=bool(components),
        stated=(start, end) if declared is not None and end is not None else None,
    )


def evidence(
    *items: Series,
    observed: tuple[Observation, ...] = (),
    upstream: tuple[UpstreamWindow, ...] = (),
    watching: bool = True,
) -> Evidence:
    runs = sum(len(s.runs) for s in items)
    return gather(
        AT,
        SPAN,
        series=items,
        observations=observed,
        upstream=upstream,
        coverage=Coverage(watching=watching, runs=runs if watching else 0),
        tolerance=Tolerance(),
        observed_gap=timedelta(minutes=10),
    )


def reasons(verdict: Verdict) -> str:
    return "\n".join(verdict.reasons)


# Failures 11:40-12:10: inside the default incident (11:30-12:45, widened 11:00-13:00).
FAIL, MEND = t(11, 40), t(12, 10)


# -- rule 3: network ----------------------------------------------------------------------------


def test_it_blames_the_network_when_the_control_fails_too_naming_what_failed():
    found = network(
        evidence(
            series(AUTHED, FAIL, MEND, "dns_failure"),
            series(CONTROL, FAIL, MEND, "dns_failure"),
        )
    )
    assert found is not None
    assert (found.verdict, found.confidence) == ("network", "high")
    assert "DNS for api.anthropic.com failed" in found.summary
    assert "DNS for control target www.google.com failed" in found.summary
    # The step says what to do, not the summary again: each host once.
    assert found.next_step.startswith("Make api.anthropic.com, www.google.com resolve")
    assert "failed" not in found.next_step
    assert {w.name for w in found.local} == {"api-authenticated", "control"}


def test_it_does_not_blame_the_network_when_the_control_answered():
    """A control answering 5xx proves the path to it works."""
    found = network(
        evidence(
            series(AUTHED, FAIL, MEND, "auth_rejected"),
            series(CONTROL, FAIL, MEND, "server_error"),
        )
    )
    assert found is None


@pytest.mark.parametrize(
    ("vendor_class", "control_class", "confidence"),
    [
        ("dns_failure", "timeout", "high"),  # a network failure on the vendor side
        ("timeout", "connect_timeout", "high"),  # a network failure on the control
        ("tls_error", "tls_error", "high"),
        ("timeout", "timeout", "medium"),  # no network-level class anywhere
    ],
)
def test_it_weighs_a_failing_control_by_the_failure_classes(
    vendor_class, control_class, confidence
):
    found = network(
        evidence(
            series(AUTHED, FAIL, MEND, vendor_class),
            series(CONTROL, FAIL, MEND, control_class),
        )
    )
    assert found is not None
    assert (found.verdict, found.confidence) == ("network", confidence)
    assert "control target www.google.com failed" in found.summary
    assert "www.google.com" in found.next_step


def test_it_blames_the_network_when_network_failures_hit_every_target_without_a_control():
    found = network(
        evidence(
            series(AUTHED, FAIL, MEND, "dns_failure"),
            series(OAUTH, FAIL, MEND, "connect_refused"),
        )
    )
    assert found is not None
    assert (found.verdict, found.confidence) == ("network", "medium")
    assert "DNS for api.anthropic.com failed" in found.summary
    assert "connecting for console.anthropic.com failed" in found.summary
    assert "Make api.anthropic.com resolve" in found.next_step
    assert "refuses connections to console.anthropic.com" in found.next_step


@pytest.mark.parametrize(
    "items",
    [
        pytest.param((series(AUTHED, FAIL, MEND, "dns_failure"),), id="a single target"),
        pytest.param(
            (series(AUTHED, FAIL, MEND, "dns_failure"), passing(OAUTH)), id="another target passes"
        ),
        pytest.param(
            (
                series(AUTHED, FAIL, MEND, "dns_failure"),
                series(CONTROL, FAIL, MEND, "misconfigured"),
            ),
            id="a misconfigured control is no failing control",
        ),
    ],
)
def test_it_leans_to_the_network_only_weakly_without_a_failing_control_or_every_target(items):
    """A name that does not resolve with nothing declared is no vendor outage, but one
    host alone cannot prove the path either: low."""
    found = network(evidence(*items))
    assert found is not None
    assert (found.verdict, found.confidence) == ("network", "low")


@pytest.mark.parametrize(
    "items",
    [
        pytest.param(
            (series(AUTHED, FAIL, MEND, "server_error"), series(OAUTH, FAIL, MEND, "timeout")),
            id="no network-level class",
        ),
        pytest.param((passing(AUTHED), passing(CONTROL)), id="nothing fails"),
    ],
)
def test_it_does_not_blame_the_network_without_network_level_failures(items):
    assert network(evidence(*items)) is None


def test_it_does_not_blame_the_network_for_network_failures_a_declared_incident_explains():
    dns = incident(title="DNS resolution failures for the Claude API")
    found = network(evidence(series(AUTHED, FAIL, MEND, "dns_failure"), upstream=(dns,)))
    assert found is None


def test_it_calls_one_lost_lookup_beside_answers_from_the_same_host_a_blip():
    """api.anthropic.com answered 503s meanwhile: its name resolved."""
    found = network(
        evidence(
            series(AUTHED, FAIL, MEND, "server_error", 503),
            series(DNS, t(11, 50), t(11, 52), "dns_failure"),
        )
    )
    assert found is None


@pytest.mark.parametrize(
    "bystander",
    [
        pytest.param(passing(CREDS), id="a credentials file check is no network target"),
        pytest.param(passing(PORT), id="a callback port check is no network target"),
        pytest.param(
            series(check("broken"), LO, None, "misconfigured"), id="a check that could not run"
        ),
    ],
)
def test_it_counts_only_network_targets_that_could_run_as_every_target(bystander):
    found = network(
        evidence(
            series(AUTHED, FAIL, MEND, "dns_failure"),
            series(OAUTH, FAIL, MEND, "dns_failure"),
            bystander,
        )
    )
    assert found is not None
    assert found.verdict == "network"


def test_it_leans_to_the_path_to_this_vendor_when_the_control_passed():
    found = network(
        evidence(
            series(AUTHED, FAIL, MEND, "dns_failure"),
            series(OAUTH, FAIL, MEND, "dns_failure"),
            passing(CONTROL),
        )
    )
    assert found is not None
    assert (found.verdict, found.confidence) == ("network", "low")
    assert any("the control target passed" in r for r in found.reasons)


def test_it_does_not_blame_the_network_for_a_control_failing_alone():
    assert network(evidence(passing(AUTHED), series(CONTROL, FAIL, MEND, "server_error"))) is None


# -- rule 1: upstream, declared -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("up", "confidence"),
    [
        pytest.param(incident(), "high", id="inside, on the check's component"),
        pytest.param(incident(components=()), "medium", id="inside, page-wide"),
        pytest.param(incident(t(12, 20), t(12, 40)), "low", id="overlapping only"),
        pytest.param(incident(end=None), "high", id="inside an incident still open"),
    ],
)
def test_it_blames_a_declared_window_on_the_failing_checks_source(up, confidence):
    found = upstream_declared(evidence(series(AUTHED, FAIL, MEND), upstream=(up,)))
    assert found is not None
    assert (found.verdict, found.confidence) == ("upstream", confidence)
    assert found.upstream == (up,)
    assert found.summary.startswith("It is them: claude declared incident")
    if up.end is None:  # still open: wait
        assert "Wait for claude to resolve it (follow https://stspg.io/abc)" in found.next_step
    else:  # resolved since the moment asked: it was them, retry now
        assert f"It was them, resolved at {up.end:%Y-%m-%d %H:%M} UTC: retry now" in found.next_step
    assert "do not delete credentials" in found.next_step


@pytest.mark.parametrize(
    "up",
    [
        pytest.param(incident(source="github"), id="another source"),
        pytest.param(incident(components=(LOGIN,)), id="other components"),
        pytest.param(incident(t(9), t(10)), id="long before"),
        pytest.param(incident(t(14), t(15)), id="long after"),
    ],
)
def test_it_does_not_blame_a_window_the_failures_do_not_meet(up):
    assert upstream_declared(evidence(series(AUTHED, FAIL, MEND), upstream=(up,))) is None


def test_it_labels_a_maintenance_window_as_maintenance():
    up = incident(kind="maintenance", title="Scheduled database maintenance", url=None)
    found = upstream_declared(evidence(series(AUTHED, FAIL, MEND), upstream=(up,)))
    assert found is not None
    assert found.confidence == "high"
    assert "declared maintenance \u201cScheduled database maintenance\u201d" in found.summary
    assert "maintenance" in found.reasons[0]
    assert "follow" not in found.next_step


@pytest.mark.parametrize(
    ("target", "confidence", "on"),
    [
        ("api.anthropic.com", "high", f"on {API}"),  # the host is named in the component
        ("console.anthropic.com", None, ""),  # its component unknown: no match
    ],
)
def test_it_blames_a_declared_window_for_observed_failures(target, confidence, on):
    observed = tuple(seen(FAIL + EVERY * i, "server_error", target) for i in range(3))
    found = upstream_declared(evidence(observed=observed, upstream=(incident(),)))
    if confidence is None:
        assert found is None
        return
    assert found is not None
    assert (found.verdict, found.confidence) == ("upstream", confidence)
    assert on in found.reasons[0]


def test_it_says_when_the_impact_window_was_stated_in_an_update():
    up = incident(t(11, 31), t(12, 19), declared=(t(12, 10), t(13, 5)))
    found = upstream_declared(evidence(series(AUTHED, FAIL, MEND), upstream=(up,)))
    assert found is not None
    assert (
        "stated in an update as 2026-04-14 11:31\u201312:19 UTC; "
        "declared 2026-04-14 12:10\u201313:05 UTC"
    ) in found.reasons[0]


def test_it_names_the_best_match_in_the_summary():
    overlapping = incident(t(11, 45), t(11, 50), components=(), title="Page-wide blip")
    inside = incident(t(11, 50), t(12, 45), components=(LOGIN,), title="Login errors")
    found = upstream_declared(
        evidence(
            series(AUTHED, t(11), t(11, 30)),  # begins first, merely overlaps the blip
            series(OAUTH, FAIL, MEND),  # inside the login incident, on its component
            upstream=(overlapping, inside),
        )
    )
    assert found is not None
    assert found.confidence == "high"
    assert "\u201cLogin errors\u201d" in found.summary
    assert "fall inside it" in found.summary


# -- rule 2: credentials ------------------------------------------------------------------------


def test_it_blames_stale_credentials_when_the_api_answers_401_as_expected():
    found = credentials(
        evidence(passing(REACH), series(AUTHED, FAIL, MEND, "auth_rejected", 401), passing(CREDS))
    )
    assert found is not None
    assert (found.verdict, found.confidence) == ("local", "high")
    assert "the API is up" in found.summary
    # An http check sends an API key: the fix is the key, not a re-login.
    assert "Check the API key" in found.next_step
    assert "credentials file" not in found.next_step
    assert any("api-reachable passed" in r for r in found.reasons)


def test_it_points_a_refused_oauth_token_at_a_fresh_login_and_the_stale_file():
    found = credentials(
        evidence(passing(REACH), series(REFRESH, FAIL, MEND, "invalid_grant", 400), passing(CREDS))
    )
    assert found is not None
    assert "Log in again" in found.next_step
    assert (
        f"the credentials file ({CREDENTIALS_PATH}) holds a stale refresh token" in found.next_step
    )
    assert "remove it" in found.next_step


@pytest.mark.parametrize(
    ("items", "observed", "confidence"),
    [
        pytest.param(
            (series(AUTHED, FAIL, MEND, "auth_rejected", 401),),
            (),
            "medium",
            id="no reachability check",
        ),
        pytest.param(
            (
                series(REACH, LO, None, "server_error", 500),
                series(AUTHED, FAIL, MEND, "auth_rejected", 401),
            ),
            (),
            "medium",
            id="reachability failing too",
        ),
        pytest.param(
            (
                series(AUTHED, FAIL, MEND, "auth_rejected", 401),
                series(CREDS, FAIL, MEND, "credentials_expired"),
            ),
            (),
            "high",
            id="the credentials file check reports them expired",
        ),
        pytest.param(
            (
                series(AUTHED, FAIL, MEND, "auth_rejected", 401),
                series(CREDS, FAIL, MEND, "credentials_insecure"),
            ),
            (),
            "high",
            id="the credentials file check reports them insecure",
        ),
        pytest.param((), (seen(FAIL), seen(MEND)), "low", id="observed 401s alone"),
        pytest.param(
            (series(CREDS, FAIL, MEND, "credentials_expired"),),
            (seen(FAIL), seen(MEND)),
            "medium",
            id="observed 401s and an expired credentials file",
        ),
        pytest.param(
            (passing(REACH),),
            (seen(FAIL), seen(t(11, 50)), seen(MEND)),
            "high",
            id="observed 401s, API up",
        ),
        pytest.param(
            (passing(REACH),), (seen(FAIL), seen(MEND)), "medium", id="two observed 401s, API up"
        ),
        pytest.param((passing(REACH),), (seen(FAIL),), "low", id="one observed 401, API up"),
        pytest.param(
            (passing(REACH), series(OAUTH, FAIL, MEND, "invalid_grant", 400)),
            (),
            "high",
            id="the refresh token refused",
        ),
    ],
)
def test_it_weighs_rejected_credentials_by_what_else_is_known(items, observed, confidence):
    found = credentials(evidence(*items, observed=observed))
    assert found is not None
    assert (found.verdict, found.confidence) == ("local", confidence)
    assert "log in again" in found.next_step.lower() or "API key" in found.next_step


def test_it_lists_the_credentials_file_check_and_its_path_among_the_reasons():
    found = credentials(
        evidence(
            series(AUTHED, FAIL, MEND, "auth_rejected", 401),
            series(CREDS, FAIL, MEND, "credentials_expired"),
        )
    )
    assert found is not None
    assert any(r.startswith("claude-credentials failed") for r in found.reasons)
    assert f"({CREDENTIALS_PATH})" in found.next_step
    assert {w.name for w in found.local} == {"api-authenticated", "claude-credentials"}


def test_it_names_no_path_when_no_credentials_file_is_checked():
    found = credentials(evidence(passing(REACH), series(REFRESH, FAIL, MEND, "auth_rejected", 401)))
    assert found is not None
    assert "the credentials file holds a stale refresh token" in found.next_step


def test_it_points_a_forbidden_call_at_the_accounts_permissions_not_a_login():
    found = credentials(evidence(passing(REACH), series(AUTHED, FAIL, MEND, "forbidden", 403)))
    assert found is not None
    assert "organisation, plan or the key's scopes" in found.next_step
    assert "Log in again" not in found.next_step


@pytest.mark.parametrize(
    "items",
    [
        pytest.param((passing(REACH), passing(AUTHED)), id="nothing rejected"),
        pytest.param(
            (passing(REACH), series(AUTHED, FAIL, MEND, "server_error", 500)),
            id="not an auth failure",
        ),
        pytest.param(
            (passing(REACH), series(CREDS, FAIL, MEND, "credentials_expired")),
            id="only the file check fails",
        ),
    ],
)
def test_it_does_not_blame_credentials_nothing_rejected(items):
    assert credentials(evidence(*items)) is None


def test_it_does_not_blame_credentials_rejected_inside_a_declared_incident():
    found = credentials(
        evidence(
            passing(REACH), series(AUTHED, FAIL, MEND, "auth_rejected", 401), upstream=(incident(),)
        )
    )
    assert found is None


@pytest.mark.parametrize(
    "up",
    [
        pytest.param(incident(components=(LOGIN,)), id="on another component"),
        pytest.param(incident(source="github"), id="on another source"),
    ],
)
def test_it_still_blames_credentials_when_the_incident_is_elsewhere(up):
    found = credentials(
        evidence(passing(REACH), series(AUTHED, FAIL, MEND, "auth_rejected", 401), upstream=(up,))
    )
    assert found is not None
    assert found.confidence == "high"


# -- local set-up -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("info", "failure_class", "step"),
    [
        (PORT, "port_unavailable", "Free the OAuth callback port"),
        (CLOCK, "clock_skew", "Synchronise this machine's clock"),
        (CREDS, "credentials_expired", "Log in again to write fresh credentials"),
        (CREDS, "credentials_missing", "Log in again to write fresh credentials"),
        (CREDS, "credentials_insecure", "Make the credentials file private (chmod 600)"),
    ],
)
def test_it_blames_this_machines_set_up_with_a_step_for_what_fails(info, failure_class, step):
    found = local_setup(evidence(series(info, FAIL, MEND, failure_class)))
    assert found is not None
    assert (found.verdict, found.confidence) == ("local", "medium")
    assert found.next_step.startswith(step)


def test_it_joins_the_steps_for_several_set_up_failures():
    found = local_setup(
        evidence(
            series(PORT, FAIL, MEND, "port_unavailable"), series(CLOCK, FAIL, MEND, "clock_skew")
        )
    )
    assert found is not None
    assert "callback port" in found.next_step
    assert "synchronise this machine's clock" in found.next_step


def test_it_counts_an_observed_set_up_failure():
    found = local_setup(evidence(observed=(seen(FAIL, "callback_failed", "localhost"),)))
    assert found is not None
    # No port check failed: the advice is about the redirect, not a port.
    assert "callback port" not in found.next_step
    assert "redirect to localhost" in found.next_step


def test_it_blames_a_callback_that_never_arrived_during_declared_login_trouble():
    """The login-loop case: the vendor's sign-in is down, so the redirect never comes."""
    login = incident(components=(LOGIN,), title="Elevated errors on login")
    verdict = explain(
        evidence(
            observed=(
                seen(FAIL, "callback_failed", "localhost"),
                seen(t(11, 45), "callback_failed", "localhost"),
                seen(t(11, 50), "server_error", "console.anthropic.com"),
            ),
            upstream=(login,),
        )
    )
    assert verdict.verdict == "upstream"
    assert not any(r.startswith("you:") for r in verdict.reasons)
    assert "callback port" not in verdict.next_step


@pytest.mark.parametrize(
    "items",
    [
        pytest.param((passing(CREDS), passing(PORT)), id="all fine"),
        pytest.param(
            (series(CLOCK, FAIL, MEND, "dns_failure"),), id="a set-up check failing otherwise"
        ),
        pytest.param(
            (series(AUTHED, FAIL, MEND, "credentials_missing"),),
            id="a vendor check is no set-up check",
        ),
    ],
)
def test_it_does_not_blame_the_set_up_when_it_is_fine(items):
    assert local_setup(evidence(*items)) is None


# -- rule 4: upstream, not (yet) declared -------------------------------------------------------


@pytest.mark.parametrize(
    ("info", "failure_class", "status"),
    [
        (AUTHED, "server_error", 500),
        (REACH, "server_error", 503),
        (OAUTH, "server_error", 500),
        (OAUTH, "timeout", None),
        (AUTHED, "connection_reset", None),
    ],
)
def test_it_warns_of_an_undeclared_outage_when_the_control_passes(info, failure_class, status):
    found = upstream_undeclared(
        evidence(series(info, FAIL, MEND, failure_class, status), passing(CONTROL))
    )
    assert found is not None
    assert (found.verdict, found.confidence) == ("upstream", "medium")
    assert "not (yet) declared for what these calls use" in found.summary
    assert "while the control target is fine" in found.summary
    assert "the control target passed in the same window" in found.reasons


def test_it_is_less_sure_of_an_undeclared_outage_without_a_control():
    found = upstream_undeclared(evidence(series(AUTHED, FAIL, MEND, "server_error", 500)))
    assert found is not None
    assert found.confidence == "low"
    assert "not (yet) declared" in found.summary
    assert any("no control check ran" in r for r in found.reasons)


@pytest.mark.parametrize(
    "up",
    [
        pytest.param(incident(source="github"), id="on another source"),
        pytest.param(incident(components=(LOGIN,)), id="on other components"),
    ],
)
def test_it_still_warns_of_an_undeclared_outage_when_the_incident_is_elsewhere(up):
    found = upstream_undeclared(
        evidence(series(AUTHED, FAIL, MEND, "server_error", 500), passing(CONTROL), upstream=(up,))
    )
    assert found is not None
    assert found.confidence == "medium"


@pytest.mark.parametrize(
    ("items", "upstream"),
    [
        pytest.param(
            (series(AUTHED, FAIL, MEND, "server_error", 500), passing(CONTROL)),
            (incident(),),
            id="declared inside",
        ),
        pytest.param(
            (series(AUTHED, FAIL, MEND, "server_error", 500), passing(CONTROL)),
            (incident(t(12, 20), t(12, 40)),),
            id="declared, overlapping",
        ),
        pytest.param(
            (series(AUTHED, FAIL, MEND, "auth_rejected", 401), passing(CONTROL)),
            (),
            id="auth failure",
        ),
        pytest.param(
            (series(AUTHED, FAIL, MEND, "rate_limited", 429), passing(CONTROL)),
            (),
            id="rate limited",
        ),
        pytest.param((passing(AUTHED), passing(CONTROL)), (), id="nothing fails"),
    ],
)
def test_it_does_not_warn_of_an_undeclared_outage_when_declared_or_not_server_side(items, upstream):
    assert upstream_undeclared(evidence(*items, upstream=upstream)) is None


# -- explain: the verdict -----------------------------------------------------------------------


def test_it_puts_the_network_before_everything():
    verdict = explain(
        evidence(
            passing(REACH),
            series(AUTHED, FAIL, MEND, "dns_failure"),
            series(OAUTH, FAIL, MEND, "server_error", 500),
            series(CREDS, FAIL, MEND, "credentials_expired"),
            series(CONTROL, FAIL, MEND, "dns_failure"),
            upstream=(incident(),),
        )
    )
    assert (verdict.verdict, verdict.confidence) == ("network", "high")
    assert "DNS for api.anthropic.com failed" in verdict.summary
    assert "control target" in verdict.summary
    assert "api.anthropic.com" in verdict.next_step
    assert any(r.startswith("also considered (upstream") for r in verdict.reasons)
    assert any(r.startswith("also considered (local") for r in verdict.reasons)


def test_it_blames_the_vendor_when_the_declared_window_is_stronger_than_the_local_finding():
    verdict = explain(
        evidence(
            series(AUTHED, FAIL, MEND, "server_error", 500),
            series(PORT, FAIL, MEND, "port_unavailable"),
            passing(CONTROL),
            upstream=(incident(),),
        )
    )
    assert (verdict.verdict, verdict.confidence) == ("upstream", "high")
    assert "also considered (local, medium)" in reasons(verdict)
    assert verdict.upstream == (incident(),)


def lost_match() -> Evidence:
    """Stale credentials (high) beside a token endpoint merely overlapping a login incident (low)."""
    return evidence(
        passing(REACH),
        series(AUTHED, FAIL, MEND, "auth_rejected", 401),
        series(OAUTH, t(11), t(11, 50), "server_error", 500),
        upstream=(incident(t(12), t(12, 30), components=(LOGIN,), title="Console errors"),),
    )


def test_it_blames_the_credentials_when_they_are_stronger_than_a_partial_overlap():
    verdict = explain(lost_match())
    assert (verdict.verdict, verdict.confidence) == ("local", "high")
    assert "also considered (upstream, low)" in reasons(verdict)
    assert "API key" in verdict.next_step  # the check sends a key: the fix is the key


def test_it_does_not_say_a_matching_incident_that_lost_is_elsewhere():
    assert "other source or components" not in reasons(explain(lost_match()))


def test_it_blames_credentials_rejected_before_an_incident_on_them_began():
    """401s from 11:40; the incident, widened by the lead, begins at 11:50: the rejections
    began while nothing relevant was wrong, which is what a broken key looks like."""
    overlapping = incident(t(12, 20), t(12, 40))  # widened 11:50-12:55; 401s from 11:40
    rejected = evidence(
        passing(REACH), series(AUTHED, FAIL, MEND, "auth_rejected", 401), upstream=(overlapping,)
    )
    assert credentials(rejected) is not None
    verdict = explain(rejected)
    assert verdict.verdict == "local"
    assert "the failures began before it, or went on after it ended" in reasons(verdict)


def test_it_is_inconclusive_when_the_evidence_points_both_ways_equally():
    verdict = explain(
        evidence(
            series(OAUTH, FAIL, MEND, "server_error", 500),
            series(PORT, FAIL, MEND, "port_unavailable"),
            passing(CONTROL),
            upstream=(incident(components=()),),  # page-wide: medium
        )
    )
    assert (verdict.verdict, verdict.confidence) == ("inconclusive", "low")
    assert "points both ways" in verdict.summary
    assert any(r.startswith("them: oauth-endpoint failed") for r in verdict.reasons)
    assert any(r.startswith("you: callback-port failed") for r in verdict.reasons)
    assert verdict.next_step.startswith("First rule out this side: Free the OAuth callback port")
    assert "Then: It was them, resolved at" in verdict.next_step


def test_it_merges_local_findings_into_one_with_every_step():
    verdict = explain(
        evidence(
            passing(REACH),
            series(AUTHED, FAIL, MEND, "auth_rejected", 401),
            series(CREDS, FAIL, MEND, "credentials_insecure"),
        )
    )
    assert (verdict.verdict, verdict.confidence) == ("local", "high")
    assert "Log in again with the tool that failed" in verdict.next_step
    assert "chmod 600" in verdict.next_step
    assert len([r for r in verdict.reasons if r.startswith("claude-credentials failed")]) == 1


def test_it_prefers_the_declared_window_to_the_undeclared_warning():
    verdict = explain(
        evidence(
            series(AUTHED, FAIL, MEND, "server_error", 500),
            series(OAUTH, FAIL, MEND, "server_error", 500),
            passing(CONTROL),
            upstream=(incident(),),
        )
    )
    assert (verdict.verdict, verdict.confidence) == ("upstream", "high")
    assert verdict.summary.startswith("It is them: claude declared incident")


def test_it_warns_of_an_undeclared_outage_as_the_verdict():
    verdict = explain(evidence(series(AUTHED, FAIL, MEND, "server_error", 500), passing(CONTROL)))
    assert (verdict.verdict, verdict.confidence) == ("upstream", "medium")
    assert "not (yet) declared for what these calls use" in verdict.summary


def test_it_is_inconclusive_about_failures_no_rule_explains():
    verdict = explain(evidence(series(AUTHED, FAIL, MEND, "rate_limited", 429), passing(CONTROL)))
    assert (verdict.verdict, verdict.confidence) == ("inconclusive", "low")
    assert verdict.summary.startswith("api-authenticated failed")
    assert "monitor results --failed" in verdict.next_step
    assert verdict.reasons[0].startswith("api-authenticated failed 3\u00d7 (rate_limited)")


@pytest.mark.parametrize(
    "up",
    [
        pytest.param(incident(source="github", title="GitHub Actions delays"), id="another source"),
        pytest.param(incident(components=(LOGIN,), title="Login errors"), id="other components"),
    ],
)
def test_it_lists_an_incident_elsewhere_but_says_it_does_not_explain_the_failures(up):
    verdict = explain(
        evidence(series(AUTHED, FAIL, MEND, "server_error", 500), passing(CONTROL), upstream=(up,))
    )
    assert (verdict.verdict, verdict.confidence) == ("upstream", "medium")
    assert "not (yet) declared" in verdict.summary
    assert f"{up.source} had incident \u201c{up.title}\u201d open then" in reasons(verdict)
    assert "does not explain" in reasons(verdict)
    assert up in verdict.upstream


def test_it_calls_a_quiet_time_healthy_and_lists_the_incidents_open_then():
    up = incident(title="Elevated errors on Opus")
    verdict = explain(evidence(passing(REACH), passing(AUTHED), passing(CONTROL), upstream=(up,)))
    assert (verdict.verdict, verdict.confidence) == ("healthy", "high")
    assert "39 check runs passed" in verdict.summary
    assert "claude had incident \u201cElevated errors on Opus\u201d open then" in reasons(verdict)
    assert "does not explain" not in reasons(verdict)
    assert verdict.upstream == (up,)


def test_it_is_less_sure_a_time_was_healthy_without_check_runs():
    quiet = gather(
        AT,
        SPAN,
        series=(),
        observations=(),
        upstream=(),
        coverage=Coverage(watching=True, alive=((t(10), t(14)),)),
        tolerance=Tolerance(),
        observed_gap=timedelta(minutes=10),
    )
    verdict = explain(quiet)
    assert (verdict.verdict, verdict.confidence) == ("healthy", "medium")


def test_it_says_no_data_for_a_time_nobody_watched_but_lists_what_upstream_said():
    up = incident(end=None)
    verdict = explain(evidence(upstream=(up,), watching=False))
    assert verdict.verdict == "no_data"
    assert "not running" in verdict.summary
    assert "claude had incident" in reasons(verdict)
    assert verdict.upstream == (up,)


def test_it_does_not_list_upstream_windows_outside_the_time_asked_about():
    verdict = explain(evidence(passing(AUTHED), upstream=(incident(t(8), t(9)),)))
    assert verdict.verdict == "healthy"
    assert verdict.upstream == ()


def test_it_explains_observed_failures_without_any_check():
    observed = (seen(FAIL, "server_error"), seen(t(11, 45), "server_error"))
    verdict = explain(evidence(observed=observed, upstream=(incident(),), watching=False))
    assert (verdict.verdict, verdict.confidence) == ("upstream", "high")


@pytest.mark.parametrize("failure_class", ["misconfigured", "internal_error"])
def test_it_takes_a_check_that_could_not_run_as_no_evidence(failure_class):
    verdict = explain(
        evidence(passing(REACH), series(AUTHED, FAIL, None, failure_class), passing(CONTROL))
    )
    assert verdict.verdict == "healthy"
    assert f"api-authenticated could not run ({failure_class})" in reasons(verdict)


def test_it_does_not_let_a_misconfigured_control_turn_a_failure_into_the_network():
    verdict = explain(
        evidence(
            series(AUTHED, FAIL, MEND, "dns_failure"), series(CONTROL, FAIL, None, "misconfigured")
        )
    )
    # The unresolved name alone leans to the network, weakly: not through the control.
    assert (verdict.verdict, verdict.confidence) == ("network", "low")
    assert "control target" not in verdict.summary
    assert "control could not run (misconfigured)" in reasons(verdict)


def test_it_keeps_the_time_asked_about_and_the_local_windows_on_the_verdict():
    verdict = explain(evidence(series(AUTHED, FAIL, MEND, "server_error", 500), passing(CONTROL)))
    assert (verdict.at, verdict.lo, verdict.hi) == (AT, LO, HI)
    assert [(w.name, w.start, w.end) for w in verdict.local] == [("api-authenticated", FAIL, MEND)]
    assert verdict.coverage.watching


# -- review cases: one blip must not decide, the headline is about the moment asked ----------


def test_it_does_not_let_one_lost_control_request_outweigh_a_declared_outage():
    verdict = explain(
        evidence(
            series(AUTHED, FAIL, MEND, "server_error", 500),
            series(CONTROL, t(11, 50), t(12), "connect_timeout"),  # one run lost
            upstream=(incident(),),
        )
    )
    assert (verdict.verdict, verdict.confidence) == ("upstream", "high")
    assert "also considered (network" not in reasons(verdict)  # the API answered: a path


def test_it_ignores_a_control_failure_at_another_time_than_the_vendor_failures():
    found = network(
        evidence(
            series(AUTHED, t(12, 30), t(12, 50), "dns_failure"),
            series(CONTROL, t(11), t(11, 30), "connect_timeout"),
        )
    )
    assert found is not None  # the unresolved name alone: low, and the control is not in it
    assert found.confidence == "low"
    assert all(w.role != "control" for w in found.local)


def test_it_names_in_the_summary_the_incident_open_at_the_moment_asked_about():
    earlier = incident(t(10), t(11, 5), title="Earlier errors")
    current = incident(t(11, 50), t(12, 45), title="Current errors")
    verdict = explain(
        evidence(series(AUTHED, t(11), MEND, "server_error", 500), upstream=(earlier, current))
    )
    assert verdict.verdict == "upstream"
    assert "Current errors" in verdict.summary


def test_it_calls_one_rejected_call_a_blip_not_a_stale_token():
    found = credentials(
        evidence(passing(REACH), series(AUTHED, t(11, 50), t(12), "auth_rejected", 401))
    )
    assert found is not None
    assert found.confidence == "low"


def test_it_sums_up_a_flapping_check_in_one_reason():
    flapping = Series(
        AUTHED,
        "local",
        tuple(
            Run(
                AUTHED.name,
                "local",
                LO + EVERY * n,
                ok=n % 2 == 0,
                failure_class=(None if n % 2 == 0 else "server_error"),
                http_status=200 if n % 2 == 0 else 503,
            )
            for n in range(12)
        ),
    )
    verdict = explain(evidence(flapping, passing(CONTROL)))
    spells = [r for r in verdict.reasons if r.startswith("api-authenticated failed")]
    assert spells == [
        "api-authenticated failed 6\u00d7 in 6 spells (server_error) "
        "from 2026-04-14 11:10 UTC, still open"  # its last run failed
    ]
    assert len(verdict.local) == 6  # --json keeps every window


def test_it_trusts_one_round_in_which_every_target_and_the_control_failed():
    """A first run with no network at all: one round, but every target says so."""
    one_round = (t(11, 50), t(12))
    found = network(
        evidence(
            series(AUTHED, *one_round, "dns_failure"),
            series(REACH, *one_round, "dns_failure"),
            series(CONTROL, *one_round, "dns_failure"),
        )
    )
    assert found is not None
    assert found.confidence == "high"
    assert found.summary.count("DNS for api.anthropic.com failed") == 1
    assert "(api-authenticated, api-reachable: dns_failure)" in found.summary
    assert found.next_step.count("api.anthropic.com") == 1


# -- issue 12: verdicts you can act on ----------------------------------------------------------


def with_pages(base: Evidence, *pages: Page) -> Evidence:
    return replace(base, pages=pages)


UNREAD = Page(
    "claude",
    polled=True,
    last_read=t(9),
    failing_since=t(9, 2),
    reason="connection refused",
)


def test_it_never_excuses_a_rejected_key_with_trouble_on_another_component():
    """The stale-token case: 401s while the page has a web-UI incident open."""
    web = incident(components=(LOGIN,), title="claude.ai is unavailable")
    verdict = explain(
        evidence(passing(REACH), series(AUTHED, FAIL, MEND, "auth_rejected", 401), upstream=(web,))
    )
    assert verdict.verdict == "local"
    assert "do not delete credentials" not in verdict.next_step
    assert any(
        "does not explain api-authenticated's failures: it is neither sign-in trouble" in r
        for r in verdict.reasons
    )


def test_it_stops_counting_an_incident_once_it_set_the_component_back():
    recovered = replace(
        incident(t(9), None),
        hits=(ComponentHit(API, t(9), t(10)), ComponentHit(LOGIN, t(9), None)),
        components=(API, LOGIN),
    )
    verdict = explain(
        evidence(series(AUTHED, FAIL, MEND, "server_error", 500), upstream=(recovered,))
    )
    assert verdict.verdict == "upstream"
    assert verdict.confidence != "high"  # not declared on the API then: at most "probably them"
    assert "not (yet) declared" in verdict.summary


def test_it_says_the_status_page_could_not_be_read_instead_of_nothing_declared():
    verdict = explain(with_pages(evidence(series(AUTHED, FAIL, MEND, "server_error", 500)), UNREAD))
    assert verdict.verdict == "upstream"
    assert "could not be read" in verdict.summary
    assert "not (yet) declared" not in verdict.summary
    assert any(
        "claude status page could not be read from 2026-04-14 09:02 UTC (last read 2026-04-14 09:00 UTC: connection refused)"
        in r
        for r in verdict.reasons
    )
    assert verdict.unread == (UNREAD,)


def test_it_keeps_a_rejected_key_low_when_the_page_could_not_be_read():
    verdict = explain(
        with_pages(
            evidence(passing(REACH), series(AUTHED, FAIL, MEND, "auth_rejected", 401)), UNREAD
        )
    )
    assert (verdict.verdict, verdict.confidence) == ("local", "low")
    assert "cannot be ruled out" in reasons(verdict)


def test_it_trusts_a_page_read_after_the_moment():
    read = Page("claude", read_after=t(13))
    verdict = explain(
        with_pages(evidence(passing(REACH), series(AUTHED, FAIL, MEND, "auth_rejected", 401)), read)
    )
    assert (verdict.verdict, verdict.confidence) == ("local", "high")
    assert verdict.unread == ()


def test_it_says_a_page_never_polled_has_never_been_read():
    never = Page("claude", polled=False)
    assert never.unread() == "the claude status page has never been read (run `monitor poll`)"


def test_it_does_not_let_a_problem_fixed_since_drive_the_answer():
    """The credentials file made private at 11:10 says nothing about 500s at 11:40."""
    verdict = explain(
        evidence(
            series(CREDS, t(11), t(11, 10), "credentials_insecure"),
            series(AUTHED, FAIL, MEND, "server_error", 500),
            passing(CONTROL),
        )
    )
    assert (verdict.verdict, verdict.confidence) == ("upstream", "medium")
    assert "chmod" not in verdict.next_step
    assert any(
        "has not failed since 11:10 UTC" in r and "fixed since" in r for r in verdict.reasons
    )


def test_it_keeps_a_fixed_problem_when_it_is_all_there_is():
    verdict = explain(evidence(series(CREDS, t(11), t(11, 10), "credentials_insecure")))
    assert verdict.verdict == "local"
    assert "chmod 600" in verdict.next_step


def test_it_closes_a_failure_skipped_ever_since():
    """Failed once at 11:05, skipped since: not 'still open', so a 500 is not tipped."""
    creds = Series(
        CREDS,
        "local",
        (
            Run(CREDS.name, "local", t(11, 5), False, "credentials_expired"),
            Run(CREDS.name, "local", t(11, 6), True, skipped=True),
            Run(CREDS.name, "local", t(11, 50), True, skipped=True),
        ),
    )
    verdict = explain(
        evidence(creds, series(AUTHED, FAIL, MEND, "server_error", 500), passing(CONTROL))
    )
    assert verdict.verdict == "upstream"
    assert "log in again" not in verdict.next_step.lower()
    [closed] = [w for w in verdict.local if w.name == CREDS.name]
    assert closed.end == t(11, 6)  # the first skipped run ends it
    assert any(
        r.startswith("claude-credentials failed") and "fixed since" in r for r in verdict.reasons
    )


def test_it_tells_a_resolved_incident_retry_now_and_an_open_one_wait():
    resolved = upstream_declared(evidence(series(AUTHED, FAIL, MEND), upstream=(incident(),)))
    still = upstream_declared(evidence(series(AUTHED, FAIL, MEND), upstream=(incident(end=None),)))
    assert resolved is not None
    assert still is not None
    assert resolved.next_step.startswith("It was them, resolved at 2026-04-14 12:45 UTC: retry now")
    assert still.next_step.startswith("Wait for claude to resolve it")
    assert resolved.summary != resolved.next_step


def test_it_does_not_blame_the_vendor_for_imported_dns_failures_with_nothing_declared():
    verdict = explain(
        evidence(observed=tuple(seen(FAIL + EVERY * i, "dns_failure") for i in range(3)))
    )
    assert verdict.verdict == "network"
    assert "report it to the vendor" not in verdict.next_step


def test_it_does_not_take_refused_connections_for_an_undeclared_outage():
    verdict = explain(
        evidence(observed=tuple(seen(FAIL + EVERY * i, "connect_refused") for i in range(3)))
    )
    assert verdict.verdict == "network"


def test_it_keeps_a_stray_rejected_call_apart_from_a_declared_outage():
    observed = (
        *(seen(FAIL + EVERY * i, "server_error") for i in range(3)),
        seen(t(11, 55), "auth_rejected"),
    )
    verdict = explain(evidence(observed=observed, upstream=(incident(),)))
    assert (verdict.verdict, verdict.confidence) == ("upstream", "high")


def test_it_says_a_page_every_poll_of_which_failed_has_never_been_read():
    failed = Page("claude", failing_since=t(9), reason="HTTP 503 Service Unavailable")
    assert failed.unread() == (
        "the claude status page has never been read "
        "(every poll failed since 2026-04-14 09:00 UTC: HTTP 503 Service Unavailable)"
    )
    assert not failed.known


def test_it_names_the_page_wide_window_whose_title_the_failure_shares_words_with():
    """Of several page-wide windows open at once, the one about what failed leads."""
    long = incident(
        t(6), t(18), components=(), title="Delayed processing of load balancer settings"
    )
    droplets = incident(t(11, 30), t(12, 30), components=(), title="Global droplet creation issues")
    observed = tuple(
        Observation(
            FAIL + EVERY * i,
            "server_error",
            "claude",
            "api.digitalocean.com",
            "POST /v2/droplets: 500 droplet create failed",
        )
        for i in range(3)
    )
    found = upstream_declared(evidence(observed=observed, upstream=(long, droplets)))
    assert found is not None
    assert "Global droplet creation issues" in found.summary


def test_it_says_a_callback_failure_is_only_probably_local_when_the_page_was_unread():
    found = local_setup(
        with_pages(
            evidence(
                observed=(
                    seen(FAIL, "callback_failed", "localhost"),
                    seen(t(11, 45), "callback_failed", "localhost"),
                )
            ),
            UNREAD,
        )
    )
    assert found is not None
    assert found.confidence == "low"
    assert "could not be read to rule out sign-in trouble" in found.summary


def test_it_does_not_say_nothing_here_needs_fixing_without_a_control():
    found = upstream_undeclared(evidence(series(AUTHED, FAIL, MEND, "server_error", 500)))
    assert found is not None
    assert "nothing on this machine needs fixing" not in found.next_step
    assert "other sites load" in found.next_step


def test_it_points_a_refused_ssh_key_at_the_key_not_a_login():
    lines = tuple(
        Observation(
            FAIL + EVERY * i,
            "auth_rejected",
            "claude",
            "github.com",
            "git@github.com: Permission denied (publickey).",
        )
        for i in range(3)
    )
    found = credentials(evidence(observed=lines))
    assert found is not None
    assert "ssh-add -l" in found.next_step
    assert "log in" not in found.next_step.lower()


@pytest.mark.parametrize("vendor_class", ["server_error", "auth_rejected"])
def test_it_does_not_blame_the_path_when_the_vendor_answered_meanwhile(vendor_class):
    """A 500 or a 401 came back while the control timed out: the path to the vendor works."""
    found = network(
        evidence(
            series(AUTHED, FAIL, MEND, vendor_class),
            series(CONTROL, FAIL, MEND, "connect_timeout"),
        )
    )
    assert found is None


def test_it_answers_for_what_fails_at_the_moment_not_a_burst_over_before_it():
    """500s at 11:00-11:10 inside an incident since over; 401s going on at 12:00."""
    earlier = incident(t(10, 30), t(11, 15))
    old = tuple(seen(t(11) + EVERY * i / 2, "server_error") for i in range(3))
    now = tuple(seen(t(11, 45) + EVERY * i, "auth_rejected") for i in range(3))
    verdict = explain(evidence(observed=(*old, *now), upstream=(earlier,)))
    assert verdict.verdict == "local"
    assert any("over before the moment asked" in r for r in verdict.reasons)


def test_it_is_not_sure_of_anything_from_one_failed_call():
    found = upstream_declared(
        evidence(observed=(seen(FAIL, "server_error"),), upstream=(incident(),))
    )
    assert found is not None
    assert found.confidence == "medium"


def test_explain_says_which_failures_go_on_at_the_moment_for_the_notifications():
    """``Verdict.ongoing``: the notifications ask it what fails now, not re-derive it."""
    still = series(REACH, FAIL)  # failing from 11:40, still at 12:00
    mended = series(AUTHED, FAIL, MEND)  # passed again at 12:10: failing at 12:00
    fixed = series(OAUTH, t(11, 10), t(11, 30))  # passed again at 11:30
    broken = series(check("broken"), LO, None, "misconfigured")  # never ran at all
    recent = seen(t(11, 50), "server_error")  # within the lag (15 min) of 12:00
    old = seen(t(11, 20), "server_error", target="console.anthropic.com")

    verdict = explain(evidence(still, mended, fixed, broken, observed=(recent, old)))

    going_on = {(w.kind, w.name) for w in verdict.ongoing}
    assert going_on == {
        ("check", "api-reachable"),
        ("check", "api-authenticated"),
        ("observed", "api.anthropic.com"),
    }
    assert verdict.ongoing == tuple(w for w in verdict.local if (w.kind, w.name) in going_on)

    over = explain(evidence(series(REACH, FAIL, t(11, 50)), broken))
    assert over.ongoing == ()
