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
    failing_now,
    resume,
    step,
)
from tests.notify_verdicts import failing, incident, minutes, verdict

HOLD = Rule(hold=timedelta(minutes=2))
WOBBLE: list[Confidence] = ["medium", "high", "low"]


def feed(
    samples: Sequence[tuple[float, Verdict]], rule: Rule = HOLD, state: State | None = None
) -> list[tuple[float, Announcement]]:
    """Feed (minute, verdict) pairs in order; the announcements, with the minute of each."""
    current = state or State()
    said = []
    for minute, answer in samples:
        done = step(current, rule, answer, minutes(minute))
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
    assert changed.answer == Answer("upstream", (Declared("claude", "incident", "Claude.ai down"),))
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

    assert not failing_now(over(minutes(81)))
    assert [(m, a.kind, a.duration) for m, a in said] == [
        (35, "problem", None),
        (82, "recovered", timedelta(minutes=47)),
    ]


def test_imported_failures_count_as_going_on_while_recent() -> None:
    imported = replace(failing(minutes(30), end=minutes(40)), kind="observed")

    assert failing_now(verdict("upstream", minutes(50), local=(imported,)))
    assert not failing_now(verdict("upstream", minutes(56), local=(imported,)))


def test_no_data_neither_confirms_nor_ends_anything() -> None:
    def gap(at: datetime) -> Verdict:
        return verdict("no_data", at)

    # Failing, a gap of 20 minutes (the laptop slept), failing again: announced
    # once, and the gap is not a recovery.
    said = feed(every(33, 40, undeclared) + every(40, 60, gap) + every(60, 70, undeclared))
    assert [(m, a.kind) for m, a in said] == [(35, "problem")]

    # Healthy after the gap recovers, counted from the first failure.
    said = feed(every(33, 40, undeclared) + every(40, 60, gap) + every(60, 65, healthy))
    assert [(m, a.kind, a.duration) for m, a in said] == [
        (35, "problem", None),
        (62, "recovered", timedelta(minutes=27)),
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


def test_a_channel_told_of_a_failure_hears_its_recovery_even_through_a_filtered_answer() -> None:
    def local(at: datetime) -> Verdict:
        return verdict("local", at)

    rule = Rule(on=frozenset({"upstream"}))
    said = feed(every(33, 40, undeclared) + every(40, 50, local) + every(50, 60, healthy), rule)

    assert [(m, a.kind) for m, a in said] == [(35, "problem"), (52, "recovered")]
    assert said[1][1].duration == timedelta(minutes=17)


def test_min_confidence_waits_for_the_answer_to_be_strong_enough() -> None:
    rule = Rule(min_confidence="high")
    samples = every(33, 45, undeclared) + every(
        45, 50, lambda at: verdict("upstream", at, confidence="high")
    )

    said = feed(samples, rule)

    # The same answer since 15:33, strong enough from 15:45: told then, not 2 minutes later.
    assert [(m, a.kind, a.seen_since) for m, a in said] == [(45, "problem", minutes(33))]


def test_a_filtered_answer_of_another_kind_breaks_a_pending_one() -> None:
    rule = Rule(on=frozenset({"upstream"}))
    samples = every(33, 34, undeclared) + every(34, 35, lambda at: verdict("network", at))
    samples += every(35, 36.5, undeclared)

    assert feed(samples, rule) == []


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


def test_an_answer_key_reads_back() -> None:
    answer = Answer("upstream", (Declared("claude", "incident", 'Down "again" ✓'),))

    assert Answer.from_key(answer.key()) == answer
    assert Answer.from_key(QUIET.key()) == QUIET
    with pytest.raises(ValueError, match="not an answer key"):
        Answer.from_key("upstream")
    with pytest.raises(ValueError, match="unknown verdict"):
        Answer.from_key('["sideways", []]')


def test_identity_ignores_when_an_update_widened_the_window() -> None:
    early = incident(start=minutes(40))
    widened = incident(start=minutes(31))

    first = verdict("upstream", minutes(45), explained_by=(early,))
    second = verdict("upstream", minutes(46), explained_by=(widened,))

    assert Answer.of(first) == Answer.of(second)
