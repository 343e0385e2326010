"""Tests for monitor.correlate.windows: runs, observations and status rows into windows.

Pure: every case is built from literals with explicit aware-UTC times.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.correlate.windows import (
    CheckInfo,
    ComponentTransition,
    LocalWindow,
    Observation,
    Run,
    Series,
    StreakHead,
    UpstreamWindow,
    check_windows,
    component_windows,
    observed_windows,
)

API = "Claude API (api.anthropic.com)"
GAP = timedelta(minutes=10)


def t(hour: int, minute: int = 0, second: int = 0, day: int = 6) -> datetime:
    """A time on 2026-06-<day>, UTC."""
    return datetime(2026, 6, day, hour, minute, second, tzinfo=UTC)


def check(
    name: str = "api-authenticated",
    kind: str = "http",
    role: str = "vendor",
    source: str | None = "claude",
    components: tuple[str, ...] = (API,),
    target: str = "GET https://api.anthropic.com/v1/models",
) -> CheckInfo:
    return CheckInfo(name, kind, role, target, source, components)


def run(
    at: datetime,
    ok: bool = False,
    failure_class: str | None = "server_error",
    *,
    status: int | None = None,
    skipped: bool = False,
    detail: str = "",
    name: str = "api-authenticated",
) -> Run:
    if ok:
        failure_class = None
    return Run(name, "local", at, ok, failure_class, status, skipped, detail)


def passed(at: datetime) -> Run:
    return run(at, ok=True, status=200)


def skipped(at: datetime) -> Run:
    return run(at, ok=True, skipped=True)


def series(
    *runs: Run,
    head: StreakHead | None = None,
    recovered_at: datetime | None = None,
    info: CheckInfo | None = None,
) -> Series:
    return Series(info or check(), "local", tuple(runs), head, recovered_at)


def spans(
    windows: list[LocalWindow] | list[UpstreamWindow],
) -> list[tuple[datetime, datetime | None]]:
    return [(w.start, w.end) for w in windows]


def seen(
    at: datetime,
    failure_class: str = "auth_rejected",
    target: str | None = "api.anthropic.com",
    source: str | None = "claude",
    error: str = "",
) -> Observation:
    return Observation(at, failure_class, source, target, error)


def moved(
    at: datetime, status: str, component: str = API, source: str = "claude"
) -> ComponentTransition:
    return ComponentTransition(source, component, status, at)


# -- check_windows ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("runs", "expected"),
    [
        pytest.param([], [], id="no runs"),
        pytest.param([passed(t(10)), passed(t(10, 1))], [], id="all passing"),
        pytest.param(
            [passed(t(10)), run(t(10, 1)), run(t(10, 2)), passed(t(10, 3))],
            [(t(10, 1), t(10, 3))],
            id="one streak ends at the first pass after it",
        ),
        pytest.param(
            [run(t(10)), passed(t(10, 1)), run(t(10, 2)), passed(t(10, 3)), passed(t(10, 4))],
            [(t(10), t(10, 1)), (t(10, 2), t(10, 3))],
            id="two streaks two windows",
        ),
        pytest.param(
            [passed(t(10)), run(t(10, 1)), run(t(10, 2))],
            [(t(10, 1), None)],
            id="still failing is open",
        ),
        pytest.param(
            [run(t(10)), skipped(t(10, 1)), run(t(10, 2)), passed(t(10, 3))],
            [(t(10), t(10, 1)), (t(10, 2), t(10, 3))],
            id="a skipped run ends a streak; the next failure starts another",
        ),
        pytest.param(
            [passed(t(10)), skipped(t(10, 1)), passed(t(10, 2))],
            [],
            id="a skipped run alone is no failure",
        ),
        pytest.param(
            [skipped(t(10)), run(t(10, 1)), passed(t(10, 2))],
            [(t(10, 1), t(10, 2))],
            id="a skipped run does not start a streak",
        ),
        pytest.param(
            [run(t(10)), skipped(t(10, 1))],
            [(t(10), t(10, 1))],
            id="a skipped run after a failure ends it: not still failing",
        ),
    ],
)
def test_it_merges_consecutive_failing_runs_into_windows(runs, expected):
    assert spans(check_windows(series(*runs))) == expected


def test_it_counts_runs_and_failures_and_ranks_classes_by_frequency():
    (window,) = check_windows(
        series(
            run(t(10), failure_class="timeout", detail="read timed out"),
            run(t(10, 1), failure_class="server_error", status=503, detail="503 one"),
            run(t(10, 3), failure_class="server_error", status=500, detail="500 two"),
            run(t(10, 4), failure_class=None, detail="no class"),
            run(t(10, 5), failure_class="server_error", status=503),
            passed(t(10, 6)),
        )
    )
    assert window.runs == 5
    assert window.failures == 5
    assert window.failure_classes == ("server_error", "timeout", "unknown")
    assert window.http_statuses == (500, 503)
    assert window.detail == ""  # the last failing run's detail, even when empty


def test_it_keeps_the_last_failing_detail_not_a_skipped_runs():
    (window,) = check_windows(
        series(run(t(10), detail="HTTP 500"), run(t(10, 1), ok=True, skipped=True, detail="skip"))
    )
    assert window.detail == "HTTP 500"


def test_it_marks_a_window_a_skipped_run_ended_as_stopped_not_passed():
    stopped, mended = check_windows(
        series(run(t(10)), skipped(t(10, 1)), run(t(10, 2)), passed(t(10, 3)))
    )
    assert (stopped.end, stopped.stopped) == (t(10, 1), True)
    assert (mended.end, mended.stopped) == (t(10, 3), False)


def test_it_breaks_class_frequency_ties_alphabetically():
    (window,) = check_windows(
        series(run(t(10), failure_class="timeout"), run(t(10, 1), failure_class="server_error"))
    )
    assert window.failure_classes == ("server_error", "timeout")


def test_it_copies_what_the_check_probes_onto_the_window():
    info = check(
        "oauth-endpoint",
        kind="oauth_token_endpoint",
        components=("claude.ai",),
        target="POST https://console.anthropic.com/v1/oauth/token",
    )
    (window,) = check_windows(series(run(t(10)), info=info))
    assert window.kind == "check"
    assert window.name == "oauth-endpoint"
    assert window.check_kind == "oauth_token_endpoint"
    assert window.role == "vendor"
    assert window.target == "POST https://console.anthropic.com/v1/oauth/token"
    assert window.probe == "local"
    assert window.source == "claude"
    assert window.components == ("claude.ai",)


def test_it_continues_a_streak_begun_before_the_runs_handed_over():
    head = StreakHead(start=t(8), runs=120, failures=118, failure_classes={"timeout": 118})
    (window,) = check_windows(
        series(run(t(10)), run(t(10, 1)), passed(t(10, 2)), run(t(10, 3)), head=head)
    )[:1]
    assert (window.start, window.end) == (t(8), t(10, 2))
    assert (window.runs, window.failures) == (122, 120)
    assert window.failure_classes == ("timeout", "server_error")


def test_it_closes_a_streak_head_at_the_first_run_when_that_passes():
    head = StreakHead(start=t(8), runs=3, failures=3, failure_classes={"dns_failure": 3})
    windows = check_windows(series(passed(t(10)), head=head))
    assert spans(windows) == [(t(8), t(10))]
    assert windows[0].failure_classes == ("dns_failure",)


def test_it_makes_a_window_of_a_streak_head_alone():
    head = StreakHead(start=t(8), runs=2, failures=2, failure_classes={"timeout": 2})
    assert spans(check_windows(series(head=head))) == [(t(8), None)]
    assert spans(check_windows(series(head=head, recovered_at=t(11)))) == [(t(8), t(11))]


def test_it_ends_a_window_still_failing_at_the_end_at_the_recovery_after_the_span():
    windows = check_windows(series(passed(t(10)), run(t(10, 1)), recovered_at=t(12)))
    assert spans(windows) == [(t(10, 1), t(12))]


def test_it_ignores_a_recovery_after_the_span_when_the_last_run_passed():
    windows = check_windows(series(run(t(10)), passed(t(10, 1)), recovered_at=t(12)))
    assert spans(windows) == [(t(10), t(10, 1))]


# -- observed_windows ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        pytest.param([], [], id="nothing"),
        pytest.param([t(10)], [(t(10), t(10))], id="one observation is a point"),
        pytest.param([t(10), t(10, 5), t(10, 15)], [(t(10), t(10, 15))], id="within the gap joins"),
        pytest.param([t(10), t(10, 10)], [(t(10), t(10, 10))], id="exactly the gap joins"),
        pytest.param(
            [t(10), t(10, 10, 1)],
            [(t(10), t(10)), (t(10, 10, 1), t(10, 10, 1))],
            id="longer than the gap splits",
        ),
        pytest.param(
            [t(10, 30), t(10), t(10, 5), t(10, 31)],
            [(t(10), t(10, 5)), (t(10, 30), t(10, 31))],
            id="unsorted input",
        ),
    ],
)
def test_it_groups_observed_failures_by_quiet_gaps(times, expected):
    assert spans(observed_windows([seen(at) for at in times], GAP)) == expected


def test_it_groups_observed_failures_per_target_and_sorts_windows_by_start():
    windows = observed_windows(
        [
            seen(t(10, 2), target="console.anthropic.com"),
            seen(t(10), target="api.anthropic.com"),
            seen(t(10, 4), target="api.anthropic.com"),
            seen(t(10, 1), target="api.anthropic.com", source="other"),
        ],
        GAP,
    )
    assert [(w.start, w.end, w.source, w.target) for w in windows] == [
        (t(10), t(10, 4), "claude", "api.anthropic.com"),
        (t(10, 1), t(10, 1), "other", "api.anthropic.com"),
        (t(10, 2), t(10, 2), "claude", "console.anthropic.com"),
    ]


def test_it_describes_an_observed_window():
    (window,) = observed_windows(
        [
            seen(t(10), "auth_rejected", error="401 first"),
            seen(t(10, 1), "server_error", error="500"),
            seen(t(10, 2), "auth_rejected", error="401 last"),
        ],
        GAP,
    )
    assert window.kind == "observed"
    assert window.name == "api.anthropic.com"
    assert (window.runs, window.failures) == (3, 3)
    assert window.failure_classes == ("auth_rejected", "server_error")
    assert window.detail == "401 last"
    assert window.role == "vendor"
    assert window.check_kind is None
    assert window.components == ()


@pytest.mark.parametrize(
    ("source", "target", "name", "window_target"),
    [
        ("claude", "api.anthropic.com", "api.anthropic.com", "api.anthropic.com"),
        ("claude", None, "claude", ""),
        (None, None, "observed", ""),
    ],
)
def test_it_names_an_observed_window_by_target_else_source(source, target, name, window_target):
    (window,) = observed_windows([seen(t(10), source=source, target=target)], GAP)
    assert (window.name, window.target, window.source) == (name, window_target, source)


# -- component_windows --------------------------------------------------------------------------


def test_it_turns_a_degradation_into_a_window_up_to_the_recovery():
    (window,) = component_windows(
        [
            moved(t(9), "operational"),
            moved(t(10), "degraded_performance"),
            moved(t(11), "operational"),
        ]
    )
    assert (window.start, window.end) == (t(10), t(11))
    assert (window.declared_start, window.declared_end) == (t(10), t(11))
    assert window.kind == "component"
    assert window.source == "claude"
    assert window.components == (API,)
    assert window.title == f"{API}: degraded performance"
    assert window.impact == window.status == "degraded_performance"
    assert window.component_level is True
    assert window.stated_in_update is False


@pytest.mark.parametrize(
    ("statuses", "worst"),
    [
        (["degraded_performance", "major_outage", "partial_outage"], "major_outage"),
        (["partial_outage", "degraded_performance"], "partial_outage"),
        (["degraded_performance", "degraded_performance"], "degraded_performance"),
        (["under_maintenance", "degraded_performance"], "degraded_performance"),
        (["major_outage", "under_maintenance"], "major_outage"),
    ],
)
def test_it_labels_a_component_window_with_the_worst_status_in_it(statuses, worst):
    transitions = [moved(t(10, i), status) for i, status in enumerate(statuses)]
    (window,) = component_windows([*transitions, moved(t(12), "operational")])
    assert window.status == worst
    assert window.kind == "component"
    assert (window.start, window.end) == (t(10), t(12))


def test_it_labels_a_window_under_maintenance_only_as_maintenance():
    (window,) = component_windows([moved(t(2), "under_maintenance"), moved(t(4), "operational")])
    assert window.kind == "maintenance"
    assert window.title == f"{API}: under maintenance"


def test_it_leaves_a_degradation_still_running_open():
    (window,) = component_windows([moved(t(9), "operational"), moved(t(10), "partial_outage")])
    assert (window.start, window.end, window.declared_end) == (t(10), None, None)


def test_it_makes_no_window_of_operational_transitions():
    assert component_windows([moved(t(9), "operational"), moved(t(10), "operational")]) == []


def test_it_separates_components_and_sources_and_sorts_unsorted_input():
    windows = component_windows(
        [
            moved(t(13), "operational", component="claude.ai"),
            moved(t(11), "major_outage", component="claude.ai"),
            moved(t(10), "partial_outage"),
            moved(t(10, 30), "operational"),
            moved(t(12), "degraded_performance"),
            moved(t(10), "major_outage", source="github", component="API Requests"),
            moved(t(10, 5), "operational", source="github", component="API Requests"),
        ]
    )
    assert [(w.source, w.components, w.start, w.end) for w in windows] == [
        ("claude", (API,), t(10), t(10, 30)),
        ("github", ("API Requests",), t(10), t(10, 5)),
        ("claude", ("claude.ai",), t(11), t(13)),
        ("claude", (API,), t(12), None),
    ]


def test_it_does_not_take_an_unknown_status_for_a_recovery():
    windows = component_windows(
        [moved(t(10), "major_outage"), moved(t(10, 30), "unknown"), moved(t(11), "operational")]
    )
    assert spans(windows) == [(t(10), t(11))]


def test_it_starts_the_worst_status_afresh_in_each_window():
    first, second = component_windows(
        [
            moved(t(10), "major_outage"),
            moved(t(11), "operational"),
            moved(t(12), "degraded_performance"),
            moved(t(13), "operational"),
        ]
    )
    assert (first.status, second.status) == ("major_outage", "degraded_performance")


# -- overlaps -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (t(9), t(10), True),  # touches lo
        (t(12), t(13), True),  # touches hi
        (t(9), t(9, 59), False),
        (t(12, 1), t(13), False),
        (t(8), None, True),  # open, begun before
        (t(12, 1), None, False),  # open, begun after
        (t(10, 30), t(11), True),
    ],
)
def test_it_says_whether_a_window_meets_a_closed_span(start, end, expected):
    local = LocalWindow("check", "x", start, end, ("timeout",), 1, 1)
    upstream = UpstreamWindow("claude", "incident", "x", start, end)
    assert local.overlaps(t(10), t(12)) is expected
    assert upstream.overlaps(t(10), t(12)) is expected
