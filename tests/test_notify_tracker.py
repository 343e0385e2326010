"""The answer tracker: when a change of answer is announced, from literal verdicts and times."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from monitor.correlate.rules import Confidence
from monitor.correlate.verdict import VERDICTS, Verdict
from monitor.notify.settings import VERDICT_NAMES
from monitor.notify.tracker import (
    QUIET,
    Announcement,
    Answer,
    Declared,
    Rule,
    State,
    failing_here,
    resume,
    step,
)
from tests.notify_verdicts import failing, incident, minutes, verdict

HOLD = Rule(hold=timedelta(minutes=2))
PROBE = "laptop"
WOBBLE: list[Confidence] = ["medium", "high", "low"]


def feed(
    samples: Sequence[tuple[float, Verdict]], rule: Rule = HOLD, state: State | None = None
) -> list[tuple[float, Announcement]]:
    """Feed (minute, verdict) pairs in order; the announcements, with the minute of each."""
    current = state or State()
    said = []
    for minute, answer in samples:
        done = step(current, rule, answer, minutes(minute), PROBE)
        current = done.state
        if done.announcement is not None:
            said.append((minute, done.announcement))
    return said


def every(start: float, stop: float, make: object, by: float = 0.25) -> list[tuple[float, Verdict]]:
    """One answer every 15 s (the service's pace) from ``start`` up to ``stop`` minutes."""
    count = round((stop - start) / by)
    return [(start + i * by, make(minutes(start + i * by))) for i in range(count)]  # type: ignore[operator]


def healthy(at: datetime) -> Verdict:
    return verdict("healthy", at)


def undeclared(at: datetime) -> Verdict:
    return verdict("upstream", at, confidence="medium")


def declared(at: datetime) -> Verdict:
    return verdict("upstream", at, explained_by=(incident(),))


def test_the_tracker_knows_every_verdict() -> None:
    assert VERDICT_NAMES == VERDICTS


def test_it_announces_a_failure_once_it_has_held() -> None:
    said = feed(every(0, 33, healthy) + every(33, 45, undeclared))

    [(minute, first)] = said
    assert minute == 35  # first seen at 33, held 2 minutes
    assert (first.kind, first.answer, first.previous) == ("problem", Answer("upstream"), QUIET)
    assert (first.seen_since, first.episode_start) == (minutes(33), minutes(33))


def test_it_says_nothing_while_the_answer_flaps() -> None:
    samples = []
    for start in range(0, 20, 2):  # a minute failing, a minute healthy, ten times
        samples += every(start, start + 1, undeclared) + every(start + 1, start + 2, healthy)

    assert feed(samples) == []


def test_a_failure_that_flips_back_within_hold_sends_nothing() -> None:
    said = feed(every(0, 1.75, undeclared) + every(1.75, 10, healthy))

    assert said == []


def test_a_declaration_after_the_undeclared_outage_is_news() -> None:
    said = feed(every(33, 40, undeclared) + every(40, 50, declared))

    assert [(m, a.kind) for m, a in said] == [(35, "problem"), (42, "changed")]
    changed = said[1][1]
    lead = Declared("claude", "incident", "https://stspg.io/claude-down", False, "Claude.ai down")
    assert changed.answer == Answer("upstream", (lead,))
    assert changed.previous == Answer("upstream")
    assert changed.episode_start == minutes(33)  # the same trouble, seen since 15:33


def test_a_confidence_wobble_alone_is_not_news() -> None:
    samples = [
        (33 + i * 0.25, verdict("upstream", minutes(33 + i * 0.25), confidence=c))
        for i, c in enumerate(WOBBLE * 20)
    ]

    assert [a.kind for _, a in feed(samples)] == ["problem"]


def test_a_recovery_says_how_long_the_failure_lasted() -> None:
    said = feed(every(33, 80, undeclared) + every(80, 90, healthy))

    [_, (minute, recovered)] = said
    assert (minute, recovered.kind) == (82, "recovered")
    assert recovered.duration == timedelta(minutes=47)
    assert recovered.previous == Answer("upstream")
    assert recovered.answer == QUIET


def test_a_failure_whose_checks_all_pass_again_is_over_though_why_still_weighs_it() -> None:
    """``why`` explains the last half hour; the question here is what fails now."""

    def over(at: datetime) -> Verdict:
        return verdict("upstream", at, local=(failing(minutes(33), end=minutes(80)),))

    said = feed(every(33, 80, undeclared) + every(80, 95, over))

    assert not failing_here(over(minutes(81)), PROBE)
    assert [(m, a.kind, a.duration) for m, a in said] == [
        (35, "problem", None),
        (82, "recovered", timedelta(minutes=47)),
    ]


def test_what_fails_now_is_the_verdicts_own_judgement_not_re_derived() -> None:
    """``Verdict.ongoing`` says what goes on (imported bursts after the lag, checks that
    cannot run: see tests/test_correlate_rules.py); the tracker reads it as it is."""
    imported = replace(failing(minutes(30), end=minutes(40)), kind="observed")
    still = verdict("upstream", minutes(50), local=(imported,), ongoing=(imported,))
    over = verdict("upstream", minutes(50), local=(imported,), ongoing=())

    assert failing_here(still, PROBE) == (imported,)
    assert failing_here(over, PROBE) == ()
    assert Answer.of(over, PROBE) == QUIET


def test_a_check_that_cannot_run_does_not_hold_up_the_recovery() -> None:
    broken = replace(failing(minutes(0)), name="typo-check", failure_classes=("misconfigured",))

    def answer(at: datetime) -> Verdict:
        if at < minutes(80):  # api-reachable fails 15:33-15:80; typo-check never runs
            live = failing(minutes(33))
            return verdict("local", at, local=(live, broken), ongoing=(live,))
        ended = failing(minutes(33), end=minutes(80))
        return verdict("local", at, local=(ended, broken), ongoing=())

    said = feed(every(33, 100, answer))

    assert [(m, a.kind, a.duration) for m, a in said] == [
        (35, "problem", None),
        (82, "recovered", timedelta(minutes=47)),
    ]


def test_another_probes_failure_alone_is_not_announced_here() -> None:
    other = replace(failing(minutes(33)), probe="ci-runner")
    mine = replace(failing(minutes(40)), probe=PROBE)

    def elsewhere(at: datetime) -> Verdict:
        return verdict("local", at, local=(other,), summary="Your key is rejected.")

    def both(at: datetime) -> Verdict:
        return verdict("local", at, local=(other, mine))

    assert feed(every(33, 40, elsewhere)) == []
    said = feed(every(33, 40, elsewhere) + every(40, 45, both))
    [(minute, problem)] = said
    # Announced once this probe fails too, and dated from its own failure.
    assert (minute, problem.kind, problem.episode_start) == (42, "problem", minutes(40))


def test_no_data_neither_confirms_nor_ends_anything() -> None:
    def gap(at: datetime) -> Verdict:
        return verdict("no_data", at)

    # Failing, a gap of 20 minutes (the laptop slept), failing again: announced
    # once, and the gap is not a recovery.
    said = feed(every(33, 40, undeclared) + every(40, 60, gap) + every(60, 70, undeclared))
    assert [(m, a.kind) for m, a in said] == [(35, "problem")]

    # Healthy after the gap recovers, counted from the first failure to the first
    # passing run, which the verdict shows as the end of the failing window.
    def passed(at: datetime) -> Verdict:
        return verdict("healthy", at, local=(failing(minutes(33), end=minutes(60)),))

    said = feed(every(33, 40, undeclared) + every(40, 60, gap) + every(60, 65, passed))
    assert [(m, a.kind, a.duration) for m, a in said] == [
        (35, "problem", None),
        (62, "recovered", timedelta(minutes=27)),
    ]

    # Without that evidence, the end lies somewhere in the gap: not timed.
    said = feed(every(33, 40, undeclared) + every(40, 60, gap) + every(60, 65, healthy))
    assert [(m, a.kind, a.duration, a.recovered_at) for m, a in said] == [
        (35, "problem", None, None),
        (62, "recovered", None, None),
    ]


def test_no_data_alone_is_never_announced() -> None:
    assert feed(every(0, 60, lambda at: verdict("no_data", at))) == []


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (("upstream", "local"), [(35, "problem"), (55, "recovered")]),
        (("local",), []),
        (("network",), []),
    ],
)
def test_on_chooses_the_verdicts_a_channel_hears_and_recoveries_follow_them(
    on: tuple[str, ...], expected: list[tuple[float, str]]
) -> None:
    said = feed(every(33, 53, undeclared) + every(53, 60, healthy), Rule(on=frozenset(on)))

    assert [(m, a.kind) for m, a in said] == expected


def test_a_channel_told_of_a_failure_hears_every_change_away_from_it_whatever_its_filter() -> None:
    def local(at: datetime) -> Verdict:
        return verdict("local", at)

    rule = Rule(on=frozenset({"upstream"}))
    said = feed(every(33, 40, undeclared) + every(40, 50, local) + every(50, 60, healthy), rule)

    assert [(m, a.kind) for m, a in said] == [(35, "problem"), (42, "changed"), (52, "recovered")]
    assert (said[1][1].previous, said[1][1].answer) == (Answer("upstream"), Answer("local"))
    assert said[2][1].duration == timedelta(minutes=17)


def test_it_is_them_is_retracted_when_the_answer_weakens_to_inconclusive() -> None:
    """The shipped example's channel: told "it is them, wait", then the evidence
    points this side too at low confidence, below its ``min_confidence``."""
    rule = Rule(on=frozenset({"upstream", "local", "network"}), min_confidence="medium")

    def both(at: datetime) -> Verdict:
        return verdict("inconclusive", at, confidence="low", explained_by=(incident(),))

    said = feed(every(33, 45, declared) + every(45, 120, both), rule)

    assert [(m, a.kind, a.answer.verdict) for m, a in said] == [
        (35, "problem", "upstream"),
        (47, "changed", "inconclusive"),
    ]


def test_a_failure_wobbling_between_two_answers_is_still_announced() -> None:
    def wobble(at: datetime) -> Verdict:
        kind = (
            "upstream" if int((at - minutes(0)).total_seconds() // 90) % 2 == 0 else "inconclusive"
        )
        return verdict(kind, at, confidence="low")

    said = feed(every(0, 120, wobble))

    # Failing since 15:00: announced at 15:02 as whatever the answer then is, and
    # not again while it only wobbles.
    [(minute, problem)] = said
    assert (minute, problem.kind, problem.seen_since) == (2, "problem", minutes(0))
    assert problem.answer.verdict == "inconclusive"


def test_min_confidence_waits_for_the_answer_to_be_strong_enough() -> None:
    rule = Rule(min_confidence="high")
    samples = every(33, 45, undeclared) + every(
        45, 50, lambda at: verdict("upstream", at, confidence="high")
    )

    said = feed(samples, rule)

    # The same answer since 15:33, strong enough from 15:45: told then, not 2 minutes later.
    assert [(m, a.kind, a.seen_since) for m, a in said] == [(45, "problem", minutes(33))]


def test_a_filtered_answer_in_between_does_not_hide_the_failure() -> None:
    rule = Rule(on=frozenset({"upstream"}))
    samples = every(33, 34, undeclared) + every(34, 35, lambda at: verdict("network", at))
    samples += every(35, 36.5, undeclared)

    # Failing since 15:33 whatever the answer: told at 15:35, when the answer is one it wants.
    assert [(m, a.kind, a.seen_since) for m, a in feed(samples, rule)] == [
        (35, "problem", minutes(33))
    ]
    # A filtered answer alone is never the first thing a channel hears.
    assert feed(every(33, 40, lambda at: verdict("network", at)), rule) == []


@pytest.mark.parametrize("hold", [timedelta(seconds=15), timedelta(minutes=5)])
def test_hold_is_the_channels_own(hold: timedelta) -> None:
    said = feed(every(33, 45, undeclared), Rule(hold=hold))

    [(minute, _)] = said
    assert minutes(minute) == minutes(33) + hold


def test_a_restart_in_the_middle_of_an_outage_resumes_silently() -> None:
    before = feed(every(33, 40, declared))
    [(_, told)] = before

    resumed = resume(told.answer, told.episode_start)
    after = feed(every(50, 60, declared) + every(60, 65, healthy), state=resumed)

    assert [(m, a.kind, a.duration) for m, a in after] == [(62, "recovered", timedelta(minutes=27))]


def test_a_restart_after_the_outage_ended_unseen_does_not_time_it_by_the_restart() -> None:
    """Down from 15:40 to 20:00; the outage ended meanwhile. 20:00 - 15:33 is not its length."""
    resumed = resume(Answer("upstream"), minutes(33))

    ended_unseen = feed(every(300, 310, healthy), state=resumed)
    assert [(m, a.kind, a.duration) for m, a in ended_unseen] == [(302, "recovered", None)]

    # A failing window still in view dates it: the first passing run, at 16:10.
    def passed(at: datetime) -> Verdict:
        return verdict("healthy", at, local=(failing(minutes(33), end=minutes(70)),))

    dated = feed(every(90, 100, passed), state=resumed)
    assert [(m, a.duration, a.recovered_at) for m, a in dated] == [
        (92, timedelta(minutes=37), minutes(70))
    ]


def test_a_check_that_stopped_running_is_not_called_a_pass() -> None:
    stopped = replace(failing(minutes(33), end=minutes(50)), stopped=True)

    def gone(at: datetime) -> Verdict:
        return verdict("local", at, local=(stopped,))

    said = feed(every(33, 50, undeclared) + every(50, 60, gone))

    assert [(m, a.kind, a.stopped) for m, a in said] == [
        (35, "problem", ()),
        (52, "recovered", ("api-reachable",)),
    ]


def test_an_answer_key_reads_back() -> None:
    answer = Answer(
        "upstream", (Declared("claude", "incident", "https://x/1", True, 'Down "again" ✓'),)
    )

    back = Answer.from_key(answer.key())
    assert back == answer
    assert back.declared[0].title == 'Down "again" ✓'
    assert Answer.from_key(QUIET.key()) == QUIET
    with pytest.raises(ValueError, match="not an answer key"):
        Answer.from_key("upstream")
    with pytest.raises(ValueError, match="unknown verdict"):
        Answer.from_key('["sideways", []]')


def test_identity_ignores_when_an_update_widened_the_window() -> None:
    early = incident(start=minutes(40))
    widened = replace(incident(start=minutes(40)), start=minutes(31))

    first = verdict("upstream", minutes(45), explained_by=(early,))
    second = verdict("upstream", minutes(46), explained_by=(widened,))

    assert Answer.of(first, PROBE) == Answer.of(second, PROBE)


def test_a_renamed_incident_is_not_news() -> None:
    def named(title: str) -> object:
        return lambda at: verdict("upstream", at, explained_by=(incident(title),))

    said = feed(every(33, 45, named("Elevated errors")) + every(45, 60, named("Errors on the API")))

    assert [a.kind for _, a in said] == ["problem"]


def test_the_vendor_resolving_its_incident_while_checks_still_fail_is_news() -> None:
    def resolved(at: datetime) -> Verdict:
        done = replace(incident(), end=minutes(50), declared_end=minutes(50))
        return verdict("upstream", at, explained_by=(done,))

    said = feed(every(33, 50, declared) + every(50, 60, resolved))

    assert [(m, a.kind) for m, a in said] == [(35, "problem"), (52, "changed")]
    assert [d.resolved for d in said[1][1].answer.declared] == [True]
    assert [d.resolved for d in said[1][1].previous.declared] == [False]


def test_an_incident_without_its_own_page_is_known_by_its_declared_start() -> None:
    plain = replace(incident(), url=None)
    renamed = replace(plain, title="Renamed")
    later = replace(plain, declared_start=minutes(44), start=minutes(44))
    at = minutes(45)

    def of(window: object) -> Answer:
        return Answer.of(verdict("upstream", at, explained_by=(window,)), PROBE)  # type: ignore[arg-type]

    assert of(plain) == of(renamed)
    assert of(plain) != of(later)
