"""Tests for monitor.correlate.relevance: component x time x class, from literals.

Each case is one line of the principle in the module docstring: what a kind
of trouble can explain, on which component, at which moment.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from monitor.correlate.components import used_components
from monitor.correlate.matching import Tolerance
from monitor.correlate.pages import Page
from monitor.correlate.relevance import explains, need
from monitor.correlate.subject import sign_in_components
from monitor.correlate.windows import (
    ComponentHit,
    LocalWindow,
    UpdateStatus,
    UpstreamWindow,
    incident_hits,
)
from monitor.failures import Failure

TOLERANCE = Tolerance()  # lead 30 min, lag 15 min
API = "API Requests"
WEBHOOKS = "Webhooks"
LOGIN = "claude.ai"


def t(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 7, 16, hour, minute, tzinfo=UTC)


FAIL, MEND = t(12, 10), t(12, 40)
NOON, ONE = t(12), t(13)


def failing(
    failure_class: str,
    start: datetime = FAIL,
    end: datetime | None = MEND,
    *,
    target: str = "https://api.github.com/user",
    components: tuple[str, ...] = (),
    kind: str = "observed",
) -> LocalWindow:
    return LocalWindow(
        kind=kind,  # type: ignore[arg-type]
        name=target,
        start=start,
        end=end,
        failure_classes=(failure_class,),
        runs=5,
        failures=5,
        target=target,
        source="github",
        components=components,
    )


def trouble(
    title: str,
    components: tuple[str, ...] = (API,),
    start: datetime = NOON,
    end: datetime | None = ONE,
    *,
    hits: tuple[ComponentHit, ...] = (),
    about: str = "",
    source: str = "github",
) -> UpstreamWindow:
    return UpstreamWindow(
        source=source,
        kind="incident",
        title=title,
        start=start,
        end=end,
        components=components,
        hits=hits,
        about=about,
    )


GITHUB = Page("github", (API, WEBHOOKS, "Git Operations"), names=("github", "githubstatus"))


def how(local: LocalWindow, upstream: UpstreamWindow) -> tuple[str, str] | None:
    found = explains(local, upstream, TOLERANCE, GITHUB)
    return None if found is None else (found.scope, found.strength)


@pytest.mark.parametrize(
    ("failure_class", "expected"),
    [
        (Failure.AUTH_REJECTED, "credential"),
        (Failure.FORBIDDEN, "credential"),
        (Failure.INVALID_GRANT, "credential"),
        (Failure.CALLBACK_FAILED, "callback"),
        (Failure.SERVER_ERROR, "component"),
        (Failure.TIMEOUT, "component"),
        (Failure.DNS_FAILURE, "dns"),
        ("unclassified", "component"),
        (Failure.PORT_UNAVAILABLE, "never"),
        (Failure.CLOCK_SKEW, "never"),
        (Failure.CREDENTIALS_INSECURE, "never"),
        (Failure.MISCONFIGURED, "never"),
    ],
)
def test_it_says_which_trouble_can_explain_each_class(failure_class, expected):
    assert need(failure_class) == expected


# -- credential rejections ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "upstream",
    [
        pytest.param(trouble("Incident with Webhooks", (WEBHOOKS,)), id="another component"),
        pytest.param(trouble("Delays in billing", ()), id="page-wide, not about sign-in or API"),
        pytest.param(
            trouble("Support portal issues", (), about="Tickets cannot be opened."),
            id="feed entry about the support portal",
        ),
        pytest.param(trouble("claude.ai unavailable", (LOGIN,)), id="a web UI outage"),
        pytest.param(
            trouble("Block Storage API Issues Across Multiple Regions", ()),
            id="page-wide, about one product's API, not about keys",
        ),
    ],
)
def test_it_does_not_excuse_a_rejected_key_with_unrelated_trouble(upstream):
    assert how(failing(Failure.AUTH_REJECTED), upstream) is None


@pytest.mark.parametrize(
    ("upstream", "expected"),
    [
        pytest.param(
            trouble("Authentication issues related to API requests", (API, "Issues")),
            ("component", "high"),
            id="sign-in trouble on the component used",
        ),
        pytest.param(
            trouble("Elevated errors on login", (WEBHOOKS,)),
            ("sign_in", "medium"),
            id="sign-in trouble elsewhere on the page",
        ),
        pytest.param(
            trouble("Degraded REST API Availability", (API,)),
            ("component", "medium"),
            id="API trouble on the component used, not about sign-in",
        ),
        pytest.param(
            trouble("Disruption with some GitHub services", (), about="Users may fail to log in"),
            ("page", "medium"),
            id="page-wide, its updates about signing in",
        ),
    ],
)
def test_it_lets_sign_in_or_api_trouble_explain_a_rejected_credential(upstream, expected):
    assert how(failing(Failure.AUTH_REJECTED), upstream) == expected


def test_it_never_excuses_a_rejection_that_outlived_the_trouble():
    """401s still coming after the vendor recovered: a broken key or a stale token on disk."""
    login = trouble("Elevated errors on login", (API,), t(12), t(12, 30))
    assert how(failing(Failure.AUTH_REJECTED, t(12, 10), None), login) is None
    assert how(failing(Failure.AUTH_REJECTED, t(12, 10), t(14)), login) is None
    lasted = replace(failing(Failure.AUTH_REJECTED, t(12, 10), None), last_failure=t(13, 30))
    assert how(lasted, login) is None


def test_it_never_excuses_a_rejection_that_began_before_the_trouble():
    """A key broken since 11:00; a login incident from 12:00 (widened 11:30) is not why."""
    login = trouble("Elevated errors on login", (API,), t(12), t(13))
    assert how(failing(Failure.AUTH_REJECTED, t(11), t(12, 30)), login) is None
    assert how(failing(Failure.AUTH_REJECTED, t(11, 40), t(12, 30)), login) == ("component", "high")


def test_it_judges_a_check_by_its_last_failure_not_the_run_that_ended_it():
    """The refresh failed 12:10-12:40 inside the trouble; the laptop slept, and the next
    run passed the next morning: not 'outlived'."""
    login = trouble("Login failures", (API,), t(12), t(13))
    slept = replace(
        failing(Failure.INVALID_GRANT, t(12, 10), datetime(2026, 7, 17, 9, tzinfo=UTC)),
        last_failure=t(12, 40),
    )
    assert how(slept, login) == ("component", "high")
    still = replace(failing(Failure.INVALID_GRANT, t(12, 10), None), last_failure=t(12, 50))
    assert how(still, login) == ("component", "high")


def test_it_counts_only_the_sign_in_components_hits_for_a_rejection():
    """Authentication hit 10:00-10:20, Webhooks until 13:00: 401s at 12:10 are not it."""
    incident = trouble(
        "Incident with several services",
        ("Authentication", WEBHOOKS),
        t(10),
        t(13),
        hits=(
            ComponentHit("Authentication", t(10), t(10, 20)),
            ComponentHit(WEBHOOKS, t(10), t(13)),
        ),
    )
    assert how(failing(Failure.AUTH_REJECTED), incident) is None


def test_it_does_not_let_a_login_outage_excuse_a_rejected_api_key():
    key = replace(failing(Failure.AUTH_REJECTED), detail="invalid x-api-key")
    login = trouble("Elevated login errors on claude.ai", ("claude.ai",))
    assert how(key, login) is None
    assert how(replace(key, detail="OAuth token has expired"), login) == ("sign_in", "medium")
    keys = trouble("Authentication issues related to API requests", ("Issues",))
    assert how(key, keys) == ("sign_in", "medium")


def test_it_matches_nothing_for_a_call_to_another_vendors_host():
    """Every imported line carries the one --source: 503s from Stripe are not GitHub's."""
    stripe = failing(Failure.SERVER_ERROR, target="https://api.stripe.com/v1/charges")
    assert how(stripe, trouble("Degraded REST API Availability")) is None
    copilot = failing(Failure.SERVER_ERROR, target="https://api.githubcopilot.com/chat")
    assert how(copilot, trouble("Disruption", ())) == ("page", "medium")
    address = failing(Failure.SERVER_ERROR, target="140.82.112.6:443")
    assert how(address, trouble("Disruption", ())) == ("page", "medium")


def test_it_lets_only_sign_in_trouble_explain_a_callback_that_never_arrived():
    callback = failing(Failure.CALLBACK_FAILED, target="localhost")
    assert how(callback, trouble("Elevated errors on login", (LOGIN,))) == ("sign_in", "medium")
    assert how(callback, trouble("Incident with Webhooks", (WEBHOOKS,))) is None


@pytest.mark.parametrize(
    "failure_class", [Failure.PORT_UNAVAILABLE, Failure.CLOCK_SKEW, Failure.CREDENTIALS_INSECURE]
)
def test_it_never_lets_the_vendor_explain_this_machines_set_up(failure_class):
    login = trouble("Login and authentication failures", (API, LOGIN))
    assert how(failing(failure_class), login) is None


# -- server errors and timeouts: the component called ---------------------------------------


@pytest.mark.parametrize(
    ("upstream", "expected"),
    [
        pytest.param(trouble("Degraded REST API Availability"), ("component", "high"), id="same"),
        pytest.param(trouble("Incident with Webhooks", (WEBHOOKS,)), None, id="other component"),
        pytest.param(trouble("Disruption with some services", ()), ("page", "medium"), id="page"),
        pytest.param(
            trouble("Degraded REST API Availability", source="claude"), None, id="other source"
        ),
    ],
)
def test_it_lets_trouble_on_the_component_called_explain_a_server_error(upstream, expected):
    assert how(failing(Failure.SERVER_ERROR), upstream) == expected


def test_it_matches_an_unknown_component_only_to_a_window_naming_none():
    """A window naming components says what it hit; one naming none is the whole page."""
    unknown = failing(Failure.SERVER_ERROR, target="https://uploads.github.com/x")
    assert how(unknown, trouble("Incident with Webhooks", (WEBHOOKS,))) is None
    assert how(unknown, trouble("Disruption with some GitHub services", ())) == ("page", "medium")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("DNS resolution failures for api.github.com", ("component", "high")),
        ("Degraded REST API Availability", None),  # it answered 500s: its name resolved
        ("Incident resolved: elevated errors", None),  # "resolved" is no DNS trouble
    ],
)
def test_it_lets_only_trouble_with_names_explain_a_name_that_does_not_resolve(title, expected):
    assert how(failing(Failure.DNS_FAILURE), trouble(title)) == expected


@pytest.mark.parametrize(
    ("target", "detail", "names", "expected"),
    [
        ("https://api.githubcopilot.com/chat", "", ("API Requests", "Copilot", "Copilot AI"), ("Copilot", "Copilot AI")),
        ("registry-1.docker.io", "", ("Docker Hub Registry", "Docker Hub Registry / AWS", "Docker Hub Web"), ("Docker Hub Registry", "Docker Hub Registry / AWS")),
        ("hub.docker.com", "", ("Docker Hub Registry", "Docker Hub Web"), ()),
        ("", "API Error: 529 overloaded_error", ("claude.ai", "Claude API (api.anthropic.com)", "Claude Code"), ("Claude API (api.anthropic.com)",)),
        ("", "OAuth error: Request failed with status code 500", ("claude.ai", "Claude Code"), ()),
        ("https://github.com/o/r.git/info/refs", "RPC failed; HTTP 500 git-receive-pack", ("Git Operations", "API Requests"), ("Git Operations",)),
    ],
)  # fmt: skip
def test_it_tells_a_component_by_a_domain_word_a_label_or_the_errors_words(
    target, detail, names, expected
):
    window = replace(failing(Failure.SERVER_ERROR, target=target), detail=detail)
    assert used_components(window, names) == expected


# -- time: a component the vendor set back stops counting ----------------------------------------


def test_it_stops_counting_a_component_once_an_update_marks_it_operational():
    incident = trouble(
        "Degraded performance on admin API endpoints",
        (API, WEBHOOKS),
        t(9, 24),
        t(18),
        hits=(ComponentHit(API, t(9, 24), t(15, 20)), ComponentHit(WEBHOOKS, t(9, 24), t(18))),
    )
    assert how(failing(Failure.SERVER_ERROR, t(10), t(10, 30)), incident) == ("component", "high")
    assert how(failing(Failure.SERVER_ERROR, t(15, 30), t(15, 34)), incident) == (
        "component",
        "high",
    )
    assert how(failing(Failure.SERVER_ERROR, t(16, 40), t(16, 50)), incident) is None


# -- the component a failure used ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "configured", "expected"),
    [
        ("https://api.github.com/user", (), (API,)),
        ("api.github.com:443", (), (API,)),
        ("https://github.com/o/r.git", (), ()),
        ("https://uploads.github.com/x", (), ()),
        ("https://api.github.com/user", ("Git Operations",), ("Git Operations",)),
    ],
)
def test_it_tells_the_component_from_the_configuration_else_the_host(target, configured, expected):
    window = failing(Failure.SERVER_ERROR, target=target, components=configured)
    assert used_components(window, (API, WEBHOOKS, "Git Operations")) == expected


@pytest.mark.parametrize(
    ("title", "components", "about", "expected"),
    [
        ("Elevated errors on login", (LOGIN,), "", True),
        ("Authentication issues related to API requests", (API,), "", True),
        ("Incident with Webhooks", (WEBHOOKS,), "fields relied on for authentication", False),
        ("Incident With Webhooks", (), "the installation field for authentication", False),
        (
            "Registry Issues",
            ("Docker Hub Registry",),
            "This may affect docker pull and login",
            True,
        ),
        ("Disruption with some GitHub services", (), "Some users cannot sign in.", True),
        ("Disruption with some GitHub services", (), "Users saw login failures.", True),
        ("Some SSH connections are failing", (), "deploy keys are failing to authenticate", True),
        (
            "Issues with Kubernetes configuration files.",
            ("Kubernetes",),
            "configuration files were expiring prematurely",
            True,
        ),
        ("Latency", (API,), "Authentication requests saw increased latency", False),
        ("Copilot errors", ("Copilot",), "obtaining the authentication tokens it needs", False),
        ("Payment authorization failures for Copilot billing", ("Copilot",), "", False),
        ("Codespaces failing to fetch registry credentials", ("Codespaces",), "", False),
        ("Incident with Webhooks", (WEBHOOKS,), "This does not affect authentication.", False),
        (
            "Git pushes failing",
            ("Git Operations",),
            "Git pushes over SSH are failing. Authentication is working normally.",
            False,
        ),
        (
            "2020-April-27 Service Incident",
            (),
            "Our dashboard and REST API are not responding and failing to login.",
            True,
        ),
        ("Disruption", (), "Users are not able to log in to the dashboard.", True),
        ("Copilot model experiencing elevated errors", ("Copilot",), "", False),
        ("Actions run failures and delays", ("Actions",), "", False),
    ],
)
def test_it_reads_whether_trouble_is_about_signing_in(title, components, about, expected):
    """A title or component says it in a word; prose must say that signing in fails."""
    assert (sign_in_components(trouble(title, components, about=about)) is not None) is expected


# -- incident_hits: the updates, component by component ------------------------------------------


def update(minute: int, component: str, old: str | None, new: str | None) -> UpdateStatus:
    return UpdateStatus(t(12, minute), component, old, new)


def test_it_reads_each_components_hit_from_the_updates():
    hits = incident_hits(
        [
            update(2, API, "operational", "partial_outage"),
            update(20, WEBHOOKS, "operational", "degraded_performance"),
            update(30, API, "partial_outage", "operational"),
            update(40, API, "operational", "major_outage"),
            update(55, WEBHOOKS, "degraded_performance", "operational"),
        ],
        (t(12), None),
        (t(12), None),
    )
    assert hits == (
        ComponentHit(API, t(12), t(12, 30)),  # named in the first update: hit from the start
        ComponentHit(WEBHOOKS, t(12, 20), t(12, 55)),
        ComponentHit(API, t(12, 40), None),  # degraded again, still open
    )


def test_it_widens_hits_that_begin_and_end_with_the_declaration_to_a_stated_span():
    hits = incident_hits(
        [
            update(10, "Login", "operational", "partial_outage"),
            update(40, "Login", "partial_outage", "operational"),
            update(25, API, "operational", "degraded_performance"),
            update(35, API, "degraded_performance", "operational"),
        ],
        (t(11, 31), t(12, 50)),  # stated 11:31-12:50 widens the declared 12:10-12:40
        (t(12, 10), t(12, 40)),
    )
    assert hits == (
        ComponentHit("Login", t(11, 31), t(12, 50)),
        ComponentHit(API, t(12, 25), t(12, 35)),  # hit later and shorter: stays as said
    )


def test_it_takes_a_first_update_that_says_recovered_as_hit_from_the_start():
    hits = incident_hits(
        [update(30, API, "major_outage", "operational")], (t(12), t(12, 30)), (t(12), t(12, 30))
    )
    assert hits == (ComponentHit(API, t(12), t(12, 30)),)


def test_it_ignores_statuses_that_say_nothing():
    hits = incident_hits(
        [update(5, API, None, None), update(10, API, "operational", "operational")],
        (t(12), t(13)),
        (t(12), t(13)),
    )
    assert hits == ()


def test_it_gives_every_hit_the_incidents_end_when_it_resolves_with_it_open():
    hits = incident_hits(
        [update(5, API, "operational", "major_outage")], (t(12), t(13)), (t(12), t(13))
    )
    assert hits == (ComponentHit(API, t(12), t(13)),)
    assert trouble("x", (API,), t(12), t(13), hits=hits).spans([API.upper()]) == [(t(12), t(13))]


def test_it_spans_the_whole_window_for_a_component_when_no_update_said_when():
    window = trouble("x", (API, WEBHOOKS), t(12), t(13))
    assert window.spans([API]) == [(t(12), t(13))]


def test_it_counts_a_long_burst_mostly_inside_the_trouble_as_inside():
    """503s from 11:25 to 13:10 against trouble 12:00-13:00 (widened 11:30-13:15)."""
    burst = failing(Failure.SERVER_ERROR, t(11, 25), t(13, 10))
    assert how(burst, trouble("Degraded REST API Availability")) == ("component", "high")
    early = failing(Failure.SERVER_ERROR, t(10), t(12))
    assert how(early, trouble("Degraded REST API Availability")) == ("component", "low")


def test_it_lets_only_trouble_reaching_the_vendor_explain_a_refused_connection():
    refused = failing(Failure.CONNECT_REFUSED)
    assert how(refused, trouble("Degraded REST API Availability")) is None
    assert how(refused, trouble("API Requests unavailable: connections refused")) == (
        "component",
        "high",
    )


@pytest.mark.parametrize(
    ("target", "detail"),
    [
        ("140.82.113.6", "HTTP 502 Bad Gateway (https://api.github.com/repos/o/r)"),
        ("/graphql", "gh: HTTP 502: Bad Gateway (https://api.github.com/graphql)"),
    ],
)
def test_it_takes_the_host_from_the_error_when_the_target_is_an_address_or_a_path(target, detail):
    window = replace(failing(Failure.SERVER_ERROR, target=target), detail=detail)
    assert used_components(window, (API, WEBHOOKS)) == (API,)
