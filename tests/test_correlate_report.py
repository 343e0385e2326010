"""The report's arithmetic from literals: a page that declared first, one still failing,
a failure only imported, and what an unwatched day leaves out."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from monitor.charts.declared_page import declared_section
from monitor.cli.report import report_json, report_lines
from monitor.correlate.evidence import Readings
from monitor.correlate.matching import Tolerance
from monitor.correlate.pages import Page
from monitor.correlate.report import Report, SourceReport, build_report
from monitor.correlate.windows import Observation, Run, Series
from tests.test_correlate_rules import AUTHED, CONTROL, incident, series, t

TOLERANCE = Tolerance()
GAP = timedelta(minutes=10)
LO, HI = t(11), t(13)


# The page as a poll at the range's end read it: what it declared in the range is known.
READ = Page("claude", last_read=HI)


def report(readings: Readings) -> Report:
    """The report of ``readings``, the page read unless they say how it was."""
    readings = readings if readings.pages else replace(readings, pages=(READ,))
    return build_report(readings, LO, HI, sources=["claude"], tolerance=TOLERANCE, observed_gap=GAP)


def test_a_page_not_read_in_the_range_has_no_declared_figure_and_no_undeclared_outage():
    # 5xx the control does not share: on a page that was read, an undeclared outage.
    failing = Readings(
        series=(series(AUTHED, t(11, 40), t(12, 10)), series(CONTROL)),
        alive=((LO, HI),),
    )
    never = Page("claude", polled=False)
    long_ago = Page("claude", last_read=LO - timedelta(days=3))
    failed_since = Page("claude", last_read=LO - timedelta(days=3), failing_since=LO)

    read = report(failing).sources[0]
    unread = [report(replace(failing, pages=(page,))).sources[0] for page in (never, long_ago)]
    unread.append(report(replace(failing, pages=(failed_since,))).sources[0])
    missing = report(replace(failing, pages=(Page("github"),))).sources[0]  # no row for it

    assert (read.read, read.declared_share, len(read.undeclared)) == (True, 0.0, 1)
    assert read.uptime_declared == 1.0
    for source in [*unread, missing]:
        assert (source.read, source.declared_share, source.undeclared) == (False, None, ())
        assert source.uptime_declared is None
        assert source.uptime_measured is not None  # what the checks saw is still known


# 503s 11:40-12:10 the control does not share: a vendor outage, for a page read then.
OUTAGE = Readings(
    series=(series(AUTHED, t(11, 40), t(12, 10), status=503), series(CONTROL)),
    alive=((LO, HI),),
)
MINUTE = timedelta(minutes=1)


def judged(page: Page, readings: Readings = OUTAGE) -> SourceReport:
    return report(replace(readings, pages=(page,))).sources[0]


def test_a_page_read_early_then_failing_does_not_call_a_later_outage_undeclared():
    # Read at 11:01, every poll failing from 11:02: the 11:40 outage is unknown.
    source = judged(Page("claude", last_read=LO + MINUTE, failing_since=LO + 2 * MINUTE))

    assert source.read
    assert source.known == ((LO, LO + 2 * MINUTE),)
    assert (source.undeclared, source.declared_outages, source.seen_outages) == ((), 0, 0)
    assert [(o.start, o.end, o.checks) for o in source.unknown] == [
        (t(11, 40), t(12, 10), ("api-authenticated",))
    ]
    assert source.declared_share is None  # no outage seen while the page was read
    # Declared uptime is over the two minutes the page was known, not the two hours.
    assert (source.known_watched_minutes, source.watched_minutes) == (2.0, 120.0)
    assert source.uptime_declared == 1.0
    assert source.uptime_measured == 0.75  # what the checks saw is still known


def test_an_outage_a_declared_incident_explains_is_unknown_too_when_the_page_was_not_read():
    # The incident was read at 11:01 open; whether it still was at 11:40 is unknown.
    early = replace(OUTAGE, upstream=(incident(t(11), None),))
    source = judged(Page("claude", last_read=LO + MINUTE, failing_since=LO + 2 * MINUTE), early)

    assert (source.declared_outages, source.undeclared, len(source.unknown)) == (0, (), 1)
    assert source.declared_share is None


def test_a_page_read_through_the_range_keeps_its_figures():
    source = judged(READ)

    assert source.known == ((LO, HI),)
    assert source.unknown == ()
    assert (source.declared_share, len(source.undeclared), source.seen_outages) == (0.0, 1, 1)
    assert source.known_watched_minutes == source.watched_minutes == 120.0
    assert source.uptime_declared == 1.0


def test_a_page_unreadable_from_the_start_has_no_figure_and_its_outages_are_unknown():
    source = judged(Page("claude", failing_since=LO - timedelta(days=1), reason="503"))

    assert (source.read, source.known, source.declared_share) == (False, (), None)
    assert (source.undeclared, source.uptime_declared) == ((), None)
    assert [o.start for o in source.unknown] == [t(11, 40)]


def test_a_page_read_only_after_the_outage_ended_judges_it():
    # First read at 12:30, failing from 12:31: a read lists the incidents before it, so
    # what it declared at 11:40 is known, and nothing declared explains the outage.
    source = judged(Page("claude", last_read=t(12, 30), failing_since=t(12, 31)))

    assert source.known == ((LO, t(12, 31)),)
    assert (len(source.undeclared), source.unknown, source.declared_share) == (1, (), 0.0)


def test_a_read_shortly_before_an_outage_judges_it_unless_a_poll_failed_since():
    # Read at 11:10, no poll since: known for READ_STALE (an hour) after, so at 11:40.
    stale = judged(Page("claude", last_read=t(11, 10)))
    # Read at 11:10, a poll failed at 11:20: not known at 11:40.
    failed = judged(Page("claude", last_read=t(11, 10), failing_since=t(11, 20)))

    assert stale.known == ((LO, t(12, 10)),)
    assert (len(stale.undeclared), stale.unknown) == (1, ())
    assert failed.known == ((LO, t(11, 20)),)
    assert (failed.undeclared, len(failed.unknown)) == ((), 1)


def test_the_report_and_the_dashboard_say_the_unknown_outage_alike():
    built = report(
        replace(
            OUTAGE, pages=(Page("claude", last_read=LO + MINUTE, failing_since=LO + 2 * MINUTE),)
        )
    )

    lines = report_lines(built, None)
    shown = report_json(built)["sources"][0]
    html = declared_section(built)

    assert lines[-6:] == [
        "claude: not read after 2026-04-14 11:02 UTC: what it declared then is unknown",
        "  declared: 0 incidents; seen by your checks 0, not seen 0, not watched 0",
        "  median declaration lag: none (nothing declared was seen)",
        "  outages seen 1, declared n/a (none seen while the page was read); "
        "1 not read then: what it declared is unknown",
        "  uptime over watched time: declared 100.000 % (over the 2 min the page was read), "
        "measured 75.000 %",
        "  - unknown: api-authenticated failed (server_error) 2026-04-14 11:40 UTC \u2013 "
        "2026-04-14 12:10 UTC, 30 min (the page was not read then: what it declared is unknown)",
    ]
    assert (shown["read"], shown["seen_outages"], shown["unknown_outages"]) == (True, 0, 1)
    assert (shown["undeclared"], shown["declared_share"]) == ([], None)
    assert shown["unknown"][0]["start"] == "2026-04-14T11:40:00Z"
    assert shown["known"] == [{"start": "2026-04-14T11:00:00Z", "end": "2026-04-14T11:02:00Z"}]
    assert "Not read after 2026-04-14 11:02 UTC: what it declared then is unknown." in html
    assert "Outages seen while the page was not read" in html
    assert "— (the checks saw no outage while the page was read); 1 more not read then" in html
    assert "100.00 % declared (over the 2m the page was read)" in html
    assert "never declared" not in " ".join(lines)


def test_a_page_that_declared_before_the_checks_saw_it_has_a_negative_lag():
    # Declared 11:30; the checks fail 11:40-12:10 (runs every ten minutes).
    built = report(
        Readings(
            series=(series(AUTHED, t(11, 40), t(12, 10)), series(CONTROL)),
            upstream=(incident(),),
            alive=((LO, HI),),
        )
    )
    [source] = built.sources
    [seen] = source.incidents
    assert (seen.first_seen, seen.lag_minutes) == (t(11, 40), -10.0)
    assert (seen.recovered, seen.resolved_after_minutes) == (t(12, 10), 35.0)  # resolved 12:45
    assert source.undeclared == ()
    assert source.declared_share == 1.0


def test_still_failing_at_the_end_has_no_recovery_and_an_open_outage():
    built = report(Readings(series=(series(AUTHED, t(12, 30)), series(CONTROL)), alive=((LO, HI),)))
    [source] = built.sources
    [outage] = source.undeclared
    assert (outage.start, outage.end, outage.minutes) == (t(12, 30), None, 30.0)
    assert source.measured_down_minutes == 30.0
    assert source.uptime_measured == 0.75


def test_imported_failures_see_an_incident_too():
    lines = tuple(
        Observation(t(11, 50) + timedelta(minutes=m), "server_error", "claude", "api.anthropic.com")
        for m in (0, 3, 6)
    )
    built = report(Readings(observations=lines, upstream=(incident(),)))
    [seen] = built.sources[0].incidents
    assert seen.seen_by == ("api.anthropic.com",)
    assert seen.first_seen == t(11, 50)
    # Imported lines alone are no watch: no ratio can be told, and no control ran.
    assert built.watched_minutes == 0
    assert built.sources[0].uptime_measured is None
    assert built.control_ran is False


def test_without_a_control_no_outage_is_called_undeclared():
    built = report(Readings(series=(series(AUTHED, t(12, 30)),), alive=((LO, HI),)))
    assert built.control_ran is False
    assert built.sources[0].undeclared == ()


def test_unwatched_time_is_left_out_of_every_ratio():
    # Watched 11:00-12:00 only (no run after: the service and the checks were off);
    # the incident 12:20-12:50 lies after it.
    runs = tuple(r for r in series(AUTHED).runs if r.started_at <= t(12))
    built = report(
        Readings(
            series=(Series(AUTHED, "local", runs), series(CONTROL)),
            upstream=(incident(start=t(12, 20), end=t(12, 50)),),
            alive=((LO, t(12)),),
        )
    )
    [source] = built.sources
    [late] = source.incidents
    assert late.watched is False
    assert source.seen_outages == 0
    assert source.declared_share is None
    assert source.watched_minutes == 60.0
    # The incident's half hour was not watched: nothing of it is "declared down".
    assert source.declared_down_minutes == 0
    assert source.uptime_declared == 1.0


def test_an_incident_still_open_is_watched_while_the_service_is_up():
    built = report(
        Readings(
            series=(series(AUTHED), series(CONTROL)),
            upstream=(incident(start=t(11, 5), end=None),),
            alive=((t(11, 30), HI),),
        )
    )
    [open_one] = built.sources[0].incidents
    assert (open_one.watched, open_one.seen) == (True, False)


def test_two_incidents_open_over_one_failure_make_one_outage_seen_by_the_best():
    api = incident()  # on the API component, 11:30-12:45
    page_wide = incident(components=(), title="Something is wrong", start=t(11, 20))
    built = report(
        Readings(
            series=(series(AUTHED, t(11, 40), t(12, 10)), series(CONTROL)),
            upstream=(api, page_wide),
            alive=((LO, HI),),
        )
    )
    [source] = built.sources
    seen = {i.title: i.seen for i in source.incidents}
    assert seen == {"Elevated errors on the Claude API": True, "Something is wrong": False}
    assert (source.seen_outages, source.declared_share) == (1, 1.0)


def test_an_incident_declared_before_the_range_is_not_the_ranges():
    built = report(
        Readings(
            series=(series(AUTHED, t(11, 40), t(12, 10)), series(CONTROL)),
            upstream=(incident(start=t(10, 30), end=t(12, 45)),),
            alive=((LO, HI),),
        )
    )
    [source] = built.sources
    assert source.incidents == ()
    assert source.declared_outages == 1  # the failures it explains were declared all the same


def test_a_control_on_another_probe_does_not_clear_this_one():
    ci_control = Series(CONTROL, "ci", tuple(replace(r, probe="ci") for r in series(CONTROL).runs))
    built = report(Readings(series=(series(AUTHED, t(12, 30)), ci_control), alive=((LO, HI),)))
    assert built.control_ran is True
    assert built.sources[0].undeclared == ()


def test_checks_run_from_cron_without_a_service_watch_their_minutes():
    times = tuple(t(11) + timedelta(minutes=30 * n) for n in range(5))  # 11:00-13:00
    built = report(Readings(series=(series(AUTHED, t(12, 30)),), run_times=times))
    # Runs 30 min apart (within the hour cron may leave) cover the whole two hours.
    assert built.watched_minutes == 120.0


def test_a_failure_across_a_monitoring_gap_counts_only_its_watched_part():
    """Failing at 11:10, the service off 11:20-12:40, the next run (12:40) passes."""
    runs = (
        Run(AUTHED.name, "local", t(11), True, http_status=200),
        Run(AUTHED.name, "local", t(11, 10), False, "server_error", 500),
        Run(AUTHED.name, "local", t(12, 40), True, http_status=200),
    )
    built = report(
        Readings(
            series=(Series(AUTHED, "local", runs), series(CONTROL)),
            alive=((LO, t(11, 20)), (t(12, 40), HI)),
        )
    )
    [source] = built.sources
    assert built.watched_minutes == 40.0  # 11:00-11:20 and 12:40-13:00
    [outage] = source.undeclared
    assert (outage.start, outage.end, outage.minutes) == (t(11, 10), t(12, 40), 10.0)
    assert source.measured_down_minutes == 10.0
