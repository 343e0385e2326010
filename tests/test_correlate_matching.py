"""Tests for monitor.correlate.matching (lead/lag tolerance, fit) and the component side of
monitor.correlate.relevance (scope, host to component, match order).

Pure: windows are built from literals with explicit aware-UTC times.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.correlate.matching import Tolerance, fit, host_of
from monitor.correlate.relevance import explains, matches
from monitor.correlate.windows import LocalWindow, UpstreamWindow


def scope(mine: LocalWindow, theirs: UpstreamWindow) -> tuple[str, tuple[str, ...]] | None:
    """On what ``mine`` meets ``theirs`` (they meet in time in these tests), or None."""
    found = explains(mine, theirs, TOLERANCE)
    return None if found is None else (found.scope, found.components)


API = "Claude API (api.anthropic.com)"
TOLERANCE = Tolerance()  # lead 30 min, lag 15 min
S = timedelta(seconds=1)


def t(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 6, 6, hour, minute, second, tzinfo=UTC)


def local(
    start: datetime,
    end: datetime | None,
    *,
    source: str | None = "claude",
    components: tuple[str, ...] = (API,),
    name: str = "api-authenticated",
    target: str = "GET https://api.anthropic.com/v1/models",
) -> LocalWindow:
    return LocalWindow(
        kind="check",
        name=name,
        start=start,
        end=end,
        failure_classes=("server_error",),
        runs=3,
        failures=3,
        check_kind="http",
        target=target,
        source=source,
        components=components,
    )


NOON, ONE = t(12), t(13)


def upstream(
    start: datetime = NOON,
    end: datetime | None = ONE,
    *,
    source: str = "claude",
    components: tuple[str, ...] = (API,),
    title: str = "Elevated errors",
    kind: str = "incident",
) -> UpstreamWindow:
    return UpstreamWindow(source, kind, title, start, end, components=components)  # type: ignore[arg-type]


# Declared 12:00-13:00: widened it runs 11:30-13:15.
LO, HI = t(11, 30), t(13, 15)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param(t(12, 10), t(12, 40), "inside", id="within the declared window"),
        pytest.param(LO, t(12, 40), "inside", id="starts exactly lead before"),
        pytest.param(LO - S, t(12, 40), "overlap", id="starts a second before the lead"),
        pytest.param(t(12, 10), HI, "inside", id="ends exactly lag after"),
        pytest.param(t(12, 10), HI + S, "overlap", id="ends a second after the lag"),
        pytest.param(LO, HI, "inside", id="the whole widened window"),
        pytest.param(t(11), t(14), "overlap", id="spans it on both sides"),
        pytest.param(t(12, 10), None, "overlap", id="still failing after it was resolved"),
        pytest.param(HI, t(14), "overlap", id="starts exactly at the lag edge"),
        pytest.param(HI, HI, "inside", id="a point at the lag edge"),
        pytest.param(HI + S, t(14), None, id="starts a second after the lag"),
        pytest.param(t(11), LO, "overlap", id="ends exactly at the lead edge"),
        pytest.param(LO, LO, "inside", id="a point at the lead edge"),
        pytest.param(t(11), LO - S, None, id="ends a second before the lead"),
        pytest.param(t(9), t(10), None, id="hours before"),
        pytest.param(t(14), None, None, id="open, begun after"),
    ],
)
def test_it_fits_a_failure_to_a_resolved_incident_widened_by_lead_and_lag(start, end, expected):
    up = upstream()
    assert fit(local(start, end), up.start, up.end, TOLERANCE) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param(t(12, 10), None, "inside", id="open failure in an open incident"),
        pytest.param(t(12, 10), t(12, 20), "inside", id="closed failure in an open incident"),
        pytest.param(t(23), None, "inside", id="long after the start, still open"),
        pytest.param(LO, None, "inside", id="exactly lead before an open incident"),
        pytest.param(LO - S, None, "overlap", id="a second before the lead"),
        pytest.param(t(10), LO, "overlap", id="ended exactly at the lead edge"),
        pytest.param(t(10), LO - S, None, id="ended before the lead"),
    ],
)
def test_it_fits_a_failure_to_an_open_incident(start, end, expected):
    assert fit(local(start, end), NOON, None, TOLERANCE) == expected


def test_it_uses_the_configured_lead_and_lag():
    narrow = Tolerance(lead=timedelta(0), lag=timedelta(0))
    assert fit(local(t(11, 50), t(12, 30)), NOON, ONE, narrow) == "overlap"
    assert fit(local(t(12, 30), t(13, 5)), NOON, ONE, narrow) == "overlap"
    assert fit(local(t(13, 5), t(13, 10)), NOON, ONE, narrow) is None
    assert fit(local(t(12), t(13)), NOON, ONE, narrow) == "inside"
    wide = Tolerance(lead=timedelta(hours=2), lag=timedelta(hours=1))
    assert fit(local(t(10), t(14)), NOON, ONE, wide) == "inside"


@pytest.mark.parametrize(
    ("local_source", "local_components", "up_source", "up_components", "expected"),
    [
        pytest.param("claude", (API,), "claude", (API,), ("component", (API,)), id="same"),
        pytest.param(
            "claude", (API,), "claude", (API.upper(),), ("component", (API,)), id="case differs"
        ),
        pytest.param(
            "claude",
            ("claude.ai", API),
            "claude",
            ("Claude Code", "claude.ai", API.lower()),
            ("component", ("claude.ai", API)),
            id="several shared, in the check's order",
        ),
        pytest.param("claude", (API,), "claude", ("claude.ai",), None, id="other components"),
        pytest.param("claude", (API,), "claude", (), ("page", ()), id="page names none"),
        pytest.param(
            "claude", (), "claude", (API,), ("component", (API,)), id="check names none, host named"
        ),
        pytest.param("claude", (), "claude", (), ("page", ()), id="neither names any"),
        pytest.param(
            "claude",
            ("claude.ai",),
            "claude",
            (API,),
            None,
            id="declared components win over the host",
        ),
        pytest.param("claude", (API,), "github", (API,), None, id="other source"),
        pytest.param("claude", (), "github", (), None, id="other source page-wide"),
        pytest.param(None, (), "claude", (), None, id="depends on no source"),
        pytest.param("Claude", (), "claude", (), None, id="source names are exact"),
    ],
)
def test_it_scopes_a_match_to_shared_components_the_page_or_nothing(
    local_source, local_components, up_source, up_components, expected
):
    mine = local(t(12), t(12, 30), source=local_source, components=local_components)
    theirs = upstream(source=up_source, components=up_components)
    assert scope(mine, theirs) == expected


def test_it_lists_matches_best_first():
    mine = local(t(12, 10), t(12, 40))
    page_overlap = upstream(t(12, 20), t(12, 22), components=(), title="page overlap")
    component_overlap = upstream(t(12, 45), t(13), title="component overlap")
    page_inside = upstream(t(12, 5), t(13), components=(), title="page inside")
    late_component_inside = upstream(t(12, 15), t(13), title="late component inside")
    early_component_inside = upstream(t(12), t(13), title="early component inside")
    found = matches(
        mine,
        [
            page_overlap,
            component_overlap,
            page_inside,
            late_component_inside,
            early_component_inside,
        ],
        TOLERANCE,
    )
    # Three quarters or more of the failure inside a widened window counts as inside.
    assert [(m.upstream.title, m.fit, m.scope) for m in found] == [
        ("early component inside", "inside", "component"),
        ("late component inside", "inside", "component"),
        ("component overlap", "inside", "component"),  # 12:15-12:40 of 12:10-12:40
        ("page inside", "inside", "page"),
        ("page overlap", "inside", "page"),  # 12:10-12:37 of 12:10-12:40
    ]
    assert all(m.local is mine for m in found)
    assert found[0].components == (API,)
    assert found[3].components == ()


def test_it_skips_windows_on_other_sources_components_or_times():
    mine = local(t(12, 10), t(12, 40))
    others = [
        upstream(source="github"),
        upstream(components=("claude.ai",)),
        upstream(t(15), t(16)),
        upstream(t(8), t(9)),
    ]
    assert matches(mine, others, TOLERANCE) == []


def test_it_matches_a_maintenance_window_like_an_incident():
    mine = local(t(2, 10), t(2, 50))
    (found,) = matches(mine, [upstream(t(2), t(3), kind="maintenance")], TOLERANCE)
    assert (found.fit, found.scope, found.upstream.kind) == ("inside", "component", "maintenance")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        pytest.param("GET https://api.anthropic.com/v1/models", ("component", (API,)), id="url"),
        pytest.param("api.anthropic.com", ("component", (API,)), id="bare host"),
        pytest.param("API.Anthropic.com:443", ("component", (API,)), id="host and port, any case"),
        # A component the window names cannot be matched by a failure whose own is unknown.
        pytest.param(
            "POST https://console.anthropic.com/v1/oauth/token", None, id="host not named"
        ),
        pytest.param("", None, id="no target"),
    ],
)
def test_it_matches_a_component_whose_name_holds_the_failing_hosts_name(target, expected):
    mine = local(t(12), t(12, 30), components=(), target=target)
    assert scope(mine, upstream(components=("claude.ai", API))) == expected


@pytest.mark.parametrize("target", ["anthropic.com", "www.anthropic.com"])
def test_it_matches_a_host_in_a_component_name_only_as_a_whole_host(target):
    mine = local(t(12), t(12, 30), components=(), target=target)
    assert scope(mine, upstream(components=("claude.ai", API))) is None


@pytest.mark.parametrize(
    ("target", "components", "expected"),
    [
        pytest.param(
            "https://api.github.com/user",
            ("API Requests", "Webhooks"),
            ("API Requests",),
            id="label",
        ),
        pytest.param("api", ("claude.ai", API), (API,), id="a bare word"),
        pytest.param(
            "https://uploads.github.com/x", ("API Requests", "Webhooks"), (), id="unnamed"
        ),
    ],
)
def test_it_maps_a_host_to_the_component_its_subdomain_names(target, components, expected):
    mine = local(t(12), t(12, 30), components=(), target=target)
    found = scope(mine, upstream(components=components))
    assert found == (("component", expected) if expected else None)


@pytest.mark.parametrize(
    ("target", "host"),
    [
        ("POST https://console.anthropic.com/v1/oauth/token", "console.anthropic.com"),
        ("https://api.anthropic.com", "api.anthropic.com"),
        ("api.anthropic.com:443", "api.anthropic.com"),
        ("api.anthropic.com", "api.anthropic.com"),
        ("127.0.0.1:54545", "127.0.0.1"),
    ],
)
def test_it_reads_the_host_of_a_target(target, host):
    assert host_of(target) == host
