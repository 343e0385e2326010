"""Pure window rules, from literals: an incident's window, and whether the monitor was watching."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.correlate.incidents import ABOUT_LIMIT, DeclaredIncident, incident_window
from monitor.correlate.windows import Run, UpdateStatus, coverage_of


def t(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 4, 13, hour, minute, tzinfo=UTC)


def declared(**fields: object) -> DeclaredIncident:
    base: dict[str, object] = {
        "source": "anthropic",
        "title": "Elevated errors on Claude API",
        "started_at": t(16, 10),
        "created_at": t(16, 10),
        "resolved_at": t(17),
    }
    return DeclaredIncident(**{**base, **fields})  # type: ignore[arg-type]


def test_a_stated_span_moves_a_late_declaration_back() -> None:
    window = incident_window(
        declared(
            updates=((t(16, 30), "Users saw errors between 15:31 and 16:19 UTC."),),
        )
    )

    assert (window.start, window.end) == (t(15, 31), t(17))
    assert (window.declared_start, window.declared_end) == (t(16, 10), t(17))
    assert window.stated == (t(15, 31), t(16, 19))
    assert window.stated_in_update


def test_a_narrower_stated_span_never_shrinks_the_declared_window() -> None:
    window = incident_window(
        declared(
            started_at=t(9, 24),
            created_at=t(9, 24),
            resolved_at=t(15, 21),
            updates=((t(15, 0), "Errors spiked again between 14:00 and 14:30 UTC."),),
        )
    )

    assert (window.start, window.end) == (t(9, 24), t(15, 21))


def test_every_stated_span_counts_their_union_is_the_stated_window() -> None:
    window = incident_window(
        declared(
            updates=(
                (t(16, 50), "A second wave hit between 16:30 and 16:40 UTC."),
                (t(16, 20), "Users saw errors between 15:31 and 16:19 UTC."),
            ),
        )
    )

    assert window.stated == (t(15, 31), t(16, 40))


def test_a_backfilled_incident_runs_from_the_earliest_time_it_names() -> None:
    window = incident_window(declared(started_at=t(18), created_at=t(18), resolved_at=t(17)))

    assert (window.start, window.end) == (t(17), t(17))


def test_components_come_from_the_updates_else_from_the_list() -> None:
    hit = incident_window(
        declared(
            statuses=(UpdateStatus(t(16, 10), "Claude API", None, "major_outage"),),
            listed=("Claude API", "claude.ai"),
        )
    )
    listed = incident_window(declared(listed=("Claude API", "claude.ai")))

    assert (hit.components, hit.component_level) == (("Claude API",), True)
    assert (listed.components, listed.component_level) == (("Claude API", "claude.ai"), False)


def test_what_the_updates_say_is_kept_oldest_first_and_bounded() -> None:
    window = incident_window(
        declared(updates=((t(16, 40), "Resolved."), (t(16, 20), "x" * (2 * ABOUT_LIMIT))))
    )

    assert window.about.startswith("xxx")
    assert len(window.about) == ABOUT_LIMIT


def run(at: datetime, *, skipped: bool = False) -> Run:
    return Run(check="api", probe="laptop", started_at=at, ok=True, skipped=skipped)


def test_a_heartbeat_span_covers_a_moment_give_or_take_a_minute() -> None:
    alive = ((t(10), t(11)),)

    assert coverage_of(alive, (), at=t(11, 1)).watching
    assert not coverage_of(alive, (), at=t(11, 2)).watching


def test_a_run_sees_ten_minutes_either_side_and_runs_from_cron_watch_between() -> None:
    half_hourly = [run(t(10)), run(t(10, 30))]

    assert coverage_of((), [run(t(10))], at=t(10, 10)).watching
    assert not coverage_of((), [run(t(10))], at=t(10, 11)).watching
    assert coverage_of((), half_hourly, at=t(10, 15)).watching
    assert not coverage_of((), [run(t(10)), run(t(11, 30))], at=t(10, 45)).watching


def test_skipped_runs_watch_nothing_and_count_for_nothing() -> None:
    watched = coverage_of((), [run(t(10), skipped=True)], at=t(10))

    assert (watched.watching, watched.runs) == (False, 0)


def test_without_a_moment_anything_recorded_is_watching() -> None:
    assert coverage_of(((t(1), t(2)),), ()).watching
    assert coverage_of((), [run(t(1))]).runs == 1
    assert not coverage_of((), ()).watching
