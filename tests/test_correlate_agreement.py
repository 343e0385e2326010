"""Agreement between probes as evidence (monitor.correlate.agreement and the rules that read it).

Pure, from literals: the same ten-minute grid over 11:00-13:00 as
test_correlate_rules, with each series moved onto a named probe. Two probes
on two hosts are two vantage points; two on one host are one.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from monitor.correlate.agreement import peers_of, probe_views
from monitor.correlate.evidence import Evidence, gather
from monitor.correlate.matching import Tolerance
from monitor.correlate.rules import network
from monitor.correlate.verdict import explain
from monitor.correlate.windows import CheckInfo, Coverage, Run, Series, UpstreamWindow
from tests.test_correlate_rules import (
    AT,
    AUTHED,
    CONTROL,
    FAIL,
    HI,
    LO,
    MEND,
    REACH,
    SPAN,
    incident,
    series,
    t,
)

HOSTS = {"laptop": "laptop-host", "ci": "ci-host", "eu": "eu-host"}


def on(probe: str, item: Series) -> Series:
    """``item``'s runs as probe ``probe`` saw them."""
    runs = tuple(replace(run, probe=probe) for run in item.runs)
    return replace(item, probe=probe, runs=runs)


def evidence(
    *items: Series,
    upstream: tuple[UpstreamWindow, ...] = (),
    hosts: dict[str, str] | None = None,
) -> Evidence:
    return gather(
        AT,
        SPAN,
        series=items,
        observations=(),
        upstream=upstream,
        coverage=Coverage(watching=True, runs=sum(len(s.runs) for s in items)),
        tolerance=Tolerance(),
        observed_gap=timedelta(minutes=10),
        hosts=HOSTS if hosts is None else hosts,
    )


def failing(probe: str, failure_class: str = "server_error", status: int | None = 500) -> Series:
    return on(probe, series(AUTHED, FAIL, MEND, failure_class, status))


def passing(probe: str, info: CheckInfo = AUTHED) -> Series:
    return on(probe, series(info))


# -- one machine fails, another makes the same call fine ---------------------


def test_server_errors_on_one_probe_while_another_passes_are_that_machines():
    verdict = explain(
        evidence(
            failing("laptop"), passing("ci"), passing("laptop", CONTROL), passing("ci", CONTROL)
        )
    )
    assert verdict.verdict == "local"
    assert verdict.confidence == "medium"  # a bad answer may still be the vendor's region
    assert "Only probe laptop fails" in verdict.summary
    assert "probe ci makes the same calls" in verdict.summary
    assert any("failed only on probe laptop" in r and "probe ci" in r for r in verdict.reasons)
    assert "Compare probe laptop with probe ci" in verdict.next_step


def test_a_lookup_failing_on_one_probe_only_is_its_path():
    verdict = explain(
        evidence(failing("laptop", "dns_failure", None), passing("ci"), passing("laptop", CONTROL))
    )
    assert (verdict.verdict, verdict.confidence) == ("network", "high")
    assert "path from probe laptop" in verdict.summary
    assert verdict.next_step.startswith("Make api.anthropic.com resolve")


def test_one_failure_beside_a_passing_probe_is_a_blip():
    one = on(
        "laptop",
        Series(AUTHED, "laptop", (Run(AUTHED.name, "laptop", t(12), False, "timeout"),)),
    )
    verdict = explain(evidence(one, passing("ci")))
    assert verdict.confidence == "low"
    assert verdict.verdict != "upstream"


def test_a_probe_passing_on_the_same_host_points_at_the_failing_probes_own_settings():
    """The vendor answers the same call from this very machine: not them, not its network."""
    hosts = {"laptop": "same", "ci": "same"}
    verdict = explain(evidence(failing("laptop", "dns_failure", None), passing("ci"), hosts=hosts))
    assert verdict.verdict == "network"
    assert "probe ci on the same host" in verdict.summary
    assert "probe laptop's own settings" in verdict.summary


def test_only_the_minutes_asked_about_count():
    """Failing alone since 11:00, joined by the other probe from 12:30: alone at 11:30."""
    alone_then_joined = on("laptop", series(AUTHED, t(11), None, "server_error", 500))
    joined = on("ci", series(AUTHED, t(12, 30), None, "server_error", 500))
    at_11_30 = gather(
        t(11, 30),
        timedelta(minutes=20),
        series=(alone_then_joined, joined),
        observations=(),
        upstream=(),
        coverage=Coverage(watching=True, runs=10),
        tolerance=Tolerance(),
        observed_gap=timedelta(minutes=10),
        hosts=HOSTS,
    )
    [window] = [w for w in at_11_30.local if w.probe == "laptop"]
    assert at_11_30.private(window)
    assert explain(at_11_30).verdict == "local"
    at_12_40 = replace(at_11_30, at=t(12, 40), lo=t(12, 20), hi=t(13))
    [window] = [w for w in at_12_40.local if w.probe == "laptop"]
    found = at_12_40.peers(window)
    assert found is not None
    assert found.shared


# -- every machine fails the same call --------------------------------------


def test_server_errors_on_every_probe_point_away_from_any_one_machine():
    verdict = explain(evidence(failing("laptop"), failing("ci")))
    # No control ran, but two machines failing alike stand in for one.
    assert (verdict.verdict, verdict.confidence) == ("upstream", "medium")
    assert any(
        "failed alike on every probe that ran it then (ci, laptop)" in r for r in verdict.reasons
    )
    assert any("the other probes stand in for one" in r for r in verdict.reasons)
    assert "on every probe that made those calls (ci, laptop)" in verdict.summary
    assert "no one machine needs fixing" in verdict.next_step
    assert len([r for r in verdict.reasons if "failed alike" in r]) == 1


def test_two_probes_on_one_host_agreeing_prove_nothing_more_than_one():
    verdict = explain(evidence(failing("laptop"), failing("ci"), hosts={"laptop": "h", "ci": "h"}))
    assert (verdict.verdict, verdict.confidence) == ("upstream", "low")


def test_refused_everywhere_while_every_control_passes_is_the_vendors_front_door():
    verdict = explain(
        evidence(
            failing("laptop", "connect_refused", None),
            failing("ci", "connect_refused", None),
            passing("laptop", CONTROL),
            passing("ci", CONTROL),
        )
    )
    assert verdict.verdict == "upstream"
    # Nothing declared, and two machines may share a network: never more than low.
    assert verdict.confidence == "low"
    assert any("unless the machines share a network" in r for r in verdict.reasons)


def test_refused_from_one_machine_alone_stays_the_path():
    verdict = explain(
        evidence(failing("laptop", "connect_refused", None), passing("laptop", CONTROL))
    )
    assert verdict.verdict == "network"


def test_refused_everywhere_with_every_control_failing_is_the_shared_network():
    control_down = series(CONTROL, FAIL, MEND, "connect_timeout", None)
    verdict = explain(
        evidence(
            failing("laptop", "connect_refused", None),
            failing("ci", "connect_refused", None),
            on("laptop", control_down),
            on("ci", control_down),
        )
    )
    assert (verdict.verdict, verdict.confidence) == ("network", "high")


def test_another_probes_failing_control_is_no_evidence_for_this_one():
    """ci's control lost its path; laptop's calls failing says nothing about ci's path."""
    control_down = on("ci", series(CONTROL, FAIL, MEND, "connect_timeout", None))
    ev = evidence(failing("laptop", "dns_failure", None), control_down, passing("laptop", CONTROL))
    found = network(ev)
    assert found is not None
    assert all(w.probe == "laptop" for w in found.local)
    assert not any("control" in r for r in found.reasons if "ci" in r)


# -- credentials: agreement never makes a rejected key "them" ----------------


def test_a_key_rejected_on_one_probe_while_another_is_accepted_is_this_machines():
    verdict = explain(
        evidence(failing("laptop", "auth_rejected", 401), passing("ci"), passing("laptop", REACH))
    )
    assert (verdict.verdict, verdict.confidence) == ("local", "high")
    assert "the API is up" in verdict.summary
    assert any("on probe ci the same check passed" in r for r in verdict.reasons)


def test_a_key_rejected_on_every_probe_is_the_shared_key_never_them():
    verdict = explain(
        evidence(
            failing("laptop", "auth_rejected", 401),
            failing("ci", "auth_rejected", 401),
            passing("laptop", REACH),
            passing("ci", REACH),
        )
    )
    assert verdict.verdict == "local"
    assert any("the key or account they share is rejected" in r for r in verdict.reasons)


# -- declared trouble still weighs as declared --------------------------------


def test_declared_trouble_on_what_one_probe_failed_still_explains_it():
    verdict = explain(evidence(failing("laptop"), passing("ci"), upstream=(incident(),)))
    assert verdict.verdict == "upstream"
    assert any("failed only on probe laptop" in r for r in verdict.reasons)


def test_declared_trouble_does_not_vouch_high_for_a_key_another_probe_gets_through_with():
    login = incident(title="Elevated authentication errors on the Claude API")
    verdict = explain(
        evidence(failing("laptop", "auth_rejected", 401), passing("ci"), upstream=(login,))
    )
    # Declared sign-in trouble on one side, another machine's key getting through on
    # the other: both ways, never "it is them, don't touch your credentials".
    assert verdict.verdict == "inconclusive"
    assert "First rule out this side" in verdict.next_step
    # The same rejections with no other probe to compare: declared, as today.
    alone = explain(evidence(failing("laptop", "auth_rejected", 401), upstream=(login,)))
    assert alone.verdict == "upstream"


# -- the pieces ---------------------------------------------------------------


def test_peers_are_only_runs_in_the_failing_minutes():
    laptop = failing("laptop")
    # ci ran the check only long after laptop's failures stopped: nothing to compare.
    late = on("ci", Series(AUTHED, "ci", (Run(AUTHED.name, "ci", t(12, 50), True),)))
    [window] = evidence(laptop, late).local
    assert peers_of(window, [laptop, late], HOSTS, (LO, HI)) is None
    soon = on("ci", Series(AUTHED, "ci", (Run(AUTHED.name, "ci", t(11, 51), True),)))
    found = peers_of(window, [laptop, soon], HOSTS, (LO, HI))
    assert found is not None
    assert (found.failing, found.passing, found.passed_runs) == (("laptop",), ("ci",), 1)


def test_probe_views_say_which_probe_saw_what():
    views = probe_views([failing("laptop"), passing("ci"), passing("ci", CONTROL)], HOSTS, LO, HI)
    assert [(v.probe, v.host, v.failed, v.passed) for v in views] == [
        ("ci", "ci-host", (), ("api-authenticated", "control")),
        ("laptop", "laptop-host", ("api-authenticated",), ()),
    ]
    assert views[1].runs == len(failing("laptop").runs)


def test_texts_name_probes_only_when_several_are_in_view():
    several = explain(evidence(failing("laptop"), passing("ci")))
    assert {w.label for w in several.local} == {"api-authenticated on laptop"}
    assert [v.probe for v in several.probes] == ["ci", "laptop"]
    one = explain(evidence(failing("laptop")))
    assert {w.label for w in one.local} == {"api-authenticated"}
    assert one.probes == ()
    assert not any(" on laptop" in r for r in one.reasons)


# -- "the same way": what counts as another probe failing ---------------------


def with_run(item: Series, at_minute: tuple[int, int], failure_class: str) -> Series:
    """``item`` with its run at ``at_minute`` failing ``failure_class`` instead."""
    when = t(*at_minute)
    runs = tuple(
        replace(r, ok=False, failure_class=failure_class, http_status=None)
        if r.started_at == when
        else r
        for r in item.runs
    )
    return replace(item, runs=runs)


def test_one_stray_timeout_on_a_healthy_probe_does_not_make_a_broken_resolver_shared():
    ci = with_run(passing("ci"), (11, 50), "timeout")
    verdict = explain(
        evidence(
            failing("laptop", "dns_failure", None),
            ci,
            passing("laptop", CONTROL),
            passing("ci", CONTROL),
        )
    )
    assert verdict.verdict == "network"
    assert "Only probe laptop fails" in verdict.summary
    assert not any("failed alike" in r for r in verdict.reasons)


def test_a_run_that_could_not_start_says_nothing_of_the_call():
    ci = with_run(passing("ci"), (11, 50), "misconfigured")
    verdict = explain(evidence(failing("laptop", "dns_failure", None), ci))
    assert verdict.verdict == "network"
    assert "Only probe laptop fails" in verdict.summary


def test_a_rejected_key_beside_another_probes_server_errors_is_not_a_shared_key():
    verdict = explain(evidence(failing("laptop", "auth_rejected", 401), failing("ci")))
    assert verdict.verdict != "upstream" or verdict.confidence == "low"
    assert not any("the key or account they share" in r for r in verdict.reasons)


def test_two_of_three_probes_failing_is_no_one_machines_trouble():
    verdict = explain(evidence(failing("laptop"), failing("ci"), passing("eu")))
    assert "Only" not in verdict.summary
    assert "not a vendor outage" not in verdict.summary
    assert verdict.verdict in ("upstream", "inconclusive")


def test_one_probes_control_does_not_vouch_for_another_probes_path():
    """A shared lookup failure where only ci has a control: laptop's path is unknown."""
    verdict = explain(
        evidence(
            failing("laptop", "dns_failure", None),
            failing("ci", "dns_failure", None),
            passing("ci", CONTROL),
        )
    )
    assert "while the control target is fine" not in verdict.summary
    assert verdict.confidence == "low"
