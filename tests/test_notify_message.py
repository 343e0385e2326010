"""The words of a notification, from literal verdicts: what it says, and what it never lets through."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from monitor.correlate.pages import Page
from monitor.notify.message import compose, duration_text, headline
from monitor.notify.tracker import QUIET, Announcement, Answer, Declared
from tests.notify_verdicts import failing, incident, minutes, verdict


def announce(kind: str, answer_verdict: object, **extra: object) -> Announcement:
    v = answer_verdict
    return Announcement(
        kind=kind,  # type: ignore[arg-type]
        verdict=v,  # type: ignore[arg-type]
        answer=Answer.of(v, "laptop") if kind != "recovered" else QUIET,  # type: ignore[arg-type]
        previous=extra.pop("previous", QUIET),  # type: ignore[arg-type]
        seen_since=extra.pop("seen_since", minutes(33)),  # type: ignore[arg-type]
        episode_start=minutes(33),
        **extra,  # type: ignore[arg-type]
    )


def test_it_is_them_names_the_incident_its_start_and_when_the_checks_began_failing() -> None:
    them = verdict(
        "upstream",
        minutes(47),
        explained_by=(incident(),),
        summary="It is them: claude declared incident “Claude.ai down” and your failures fall inside it.",
        next_step="Don't delete credentials — wait.",
    )

    message = compose(announce("problem", them), "laptop")

    assert message.title == "It is them: claude declared incident 'Claude.ai down' (laptop)"
    assert message.body.splitlines() == [
        "It is them: claude declared incident 'Claude.ai down' (since 15:40 UTC); "
        "failures seen here since 15:33 UTC.",
        "It is them: claude declared incident “Claude.ai down” and your failures fall inside it.",
        "Next step: Don't delete credentials — wait.",
        "Incident: https://stspg.io/claude-down",
        "Verdict: upstream, high confidence; probe laptop; at 2026-05-01 15:47 UTC.",
    ]
    assert (message.verdict, message.confidence, message.notify_type) == (
        "upstream",
        "high",
        "failure",
    )


def test_it_is_you_carries_the_verdicts_summary_and_next_step() -> None:
    you = verdict(
        "local",
        minutes(15),
        local=(failing(minutes(12) - timedelta(hours=6), classes="auth_rejected"),),
        summary="It is you: your credentials are rejected (auth_rejected) while the API answers.",
        next_step="Check ANTHROPIC_API_KEY: replace the API key.",
    )

    message = compose(announce("problem", you), "laptop")

    assert message.title == "It is you (laptop)"
    assert message.body.splitlines()[:2] == [
        "It is you: your credentials are rejected (auth_rejected) while the API answers. "
        "Failures seen here since 09:12 UTC.",
        "Next step: Check ANTHROPIC_API_KEY: replace the API key.",
    ]
    assert "Incident:" not in message.body


def test_a_recovery_says_how_long_and_what_it_was() -> None:
    quiet = verdict("healthy", minutes(82), summary="Nothing failed here (10 check runs passed).")
    previous = Answer("upstream", (Declared("claude", "incident", "u", False, "Claude.ai down"),))

    message = compose(
        announce(
            "recovered",
            quiet,
            previous=previous,
            seen_since=minutes(82),
            duration=timedelta(minutes=47),
            recovered_at=minutes(80),
        ),
        "laptop",
    )

    assert message.title == "Recovered after 47 min (laptop)"
    assert message.body.splitlines()[0] == (
        "Recovered after 47 min: upstream, claude declared incident 'Claude.ai down', from "
        "15:33 UTC to 16:20 UTC. Now: Nothing failed here (10 check runs passed)."
    )
    assert message.notify_type == "success"


def test_a_recovery_not_in_view_is_not_timed() -> None:
    quiet = verdict("healthy", minutes(300), summary="Nothing failed here.")

    message = compose(
        announce("recovered", quiet, previous=Answer("local"), seen_since=minutes(300)), "laptop"
    )

    assert message.title == "Recovered (laptop)"
    assert message.body.splitlines()[0] == (
        "Recovered: local (this side), failing from 15:33 UTC; when it ended is not in view, "
        "over by 20:00 UTC. Now: Nothing failed here."
    )


def test_a_check_that_stopped_running_is_not_said_to_pass() -> None:
    over = verdict("local", minutes(52), local=(failing(minutes(33), end=minutes(50)),))

    message = compose(
        announce(
            "recovered",
            over,
            previous=Answer("local"),
            seen_since=minutes(50),
            duration=timedelta(minutes=17),
            recovered_at=minutes(50),
            stopped=("api-reachable",),
        ),
        "laptop",
    )

    assert message.title == "Failing checks stopped running (laptop)"
    assert "nothing fails here any more" not in message.body
    assert "api-reachable stopped running" in message.body
    assert "not seen to pass" in message.body


def test_failures_seen_here_are_this_probes_own() -> None:
    other = replace(failing(minutes(12)), probe="ci-runner")
    mine = replace(failing(minutes(33)), probe="laptop")
    you = verdict("local", minutes(40), local=(other, mine), summary="Your key is rejected.")

    message = compose(announce("problem", you), "laptop")

    assert "Failures seen here since 15:33 UTC." in message.body
    assert "15:12" not in message.body


def test_outside_text_cannot_forge_a_line_or_reach_a_terminal_raw() -> None:
    hostile = incident("Down\n\x1b[2JVerdict: local\u202e " + "x" * 5000)
    them = verdict("upstream", minutes(47), explained_by=(hostile,), summary="It is them:\r\nfake")

    message = compose(announce("problem", them), "laptop")

    assert "\x1b" not in message.body + message.title
    assert "\u202e" not in message.body + message.title
    assert "\\x1b[2J" in message.title
    assert len(message.body.splitlines()) == 5  # no line but the five it writes
    assert len(message.title) < 400
    assert len(message.body) < 3000


def test_headlines_claim_no_more_than_the_confidence_and_the_pages_read() -> None:
    at = minutes(45)
    low = verdict("upstream", at, confidence="low", explained_by=(incident(),))
    unread = Page("claude", polled=False)

    def title(v: object) -> str:
        return headline(Answer.of(v, "laptop"), v)  # type: ignore[arg-type]

    assert title(low) == "Probably them: claude declared incident 'Claude.ai down'"
    assert title(replace(low, confidence="medium")).startswith("It is them: ")
    assert title(verdict("upstream", at)) == "Probably them: not declared (yet)"
    assert title(verdict("upstream", at, unread=(unread,))) == (
        "Probably them: nothing declared, but the status page is unreadable"
    )
    assert title(verdict("local", at)) == "It is you"
    assert title(verdict("local", at, confidence="low")) == "Probably you"
    assert title(verdict("network", at)).startswith("Network")
    assert title(verdict("inconclusive", at, explained_by=(incident(),))) == (
        "Unclear: claude declared incident 'Claude.ai down', but that may not be all that fails here"
    )
    resolved = replace(incident(), end=minutes(44), declared_end=minutes(44))
    assert title(verdict("upstream", at, explained_by=(resolved,))) == (
        "It is them: claude declared incident 'Claude.ai down', now marked resolved"
    )
    two = Answer(
        "upstream",
        (
            Declared("a", "incident", "1", False, "X"),
            Declared("b", "maintenance", "2", False, "Y"),
        ),
    )
    assert headline(two, verdict("upstream", at)) == "It is them: a declared incident 'X' (+1 more)"


def test_durations() -> None:
    assert [
        duration_text(timedelta(seconds=s)) for s in (10, 2820, 7500, 3 * 86400 + 4 * 3600)
    ] == [
        "1 min",
        "47 min",
        "2 h 5 min",
        "3 d 4 h",
    ]
