"""When a change of answer is worth a message: a pure state machine, fed every answer.

The principle. What a person needs to hear is *whose fault it is, and which
incident*: the verdict and the declared incidents it rests on. That pair is
the answer's identity (``Answer``). "Upstream, not yet declared" becoming
"upstream: claude declared 'Claude.ai down'" is news (now there is an
incident to follow); the same answer at another confidence is not (a
wobble between medium and high tells nobody anything new). ``healthy`` is
"nothing wrong", and so is a failure answer about failures that are all
over: ``why`` weighs the half hour around the moment, so its verdict still
explains an outage for a while after every check passes again, but the
question a notification answers is what fails *now* (``failing_now``).
Leaving a failure for quiet is news ("Recovered after 47 min", counted from
when the failure was first seen to when nothing failed any more). ``no_data`` is no
answer at all: the monitor saw nothing, which neither confirms nor ends
anything (a gap is not a recovery). And an answer is news only once it has
stood for ``hold``: one that flips back sooner was flapping, and sends
nothing.

The rule, per channel, for each answer worked out (``step``):

1. ``no_data``: nothing changes.
2. The answer the channel was last told again: any pending change is
   dropped (it flipped back within ``hold``).
3. Otherwise the answer is the *candidate* (from the first time it was seen
   in a row). When the candidate has stood for ``hold`` and this answer
   passes the channel's filter (``on``, ``min_confidence``), it is
   announced: ``problem`` after quiet, ``changed`` from one failure to
   another, ``recovered`` back to healthy. A failure the filter leaves out
   breaks a pending candidate (the answer did change) but is never sent
   itself; a recovery is sent only to a channel that was told the failure
   it ends, whatever its ``on`` says.

Failure episodes are counted apart from what a channel was told: the
episode begins at the first failure seen after quiet, and ends once quiet
has held for ``hold``, so a recovery says how long the trouble lasted even
if the channel heard of it late. Nothing here reads a clock or does I/O:
``now`` is handed in, and the state is a value, so every case is a plain
unit test and a restarted service resumes from what it last announced.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from monitor.correlate.verdict import Verdict
from monitor.correlate.windows import UpstreamWindow
from monitor.notify.settings import DEFAULT_HOLD, VERDICT_NAMES

QUIET_VERDICTS = frozenset({"healthy", "no_data"})
CONFIDENCE_RANK = {"low": 0, "medium": 1, "high": 2}

AnnouncementKind = Literal["problem", "changed", "recovered"]


@dataclass(frozen=True, slots=True, order=True)
class Declared:
    """A declared window as it identifies an answer: its page, kind and title.

    Times are left out on purpose: an update stating an earlier start widens
    the window, and that is not a new incident.
    """

    source: str
    kind: str
    title: str

    @classmethod
    def of(cls, window: UpstreamWindow) -> Declared:
        return cls(window.source, window.kind, window.title)


@dataclass(frozen=True, slots=True)
class Answer:
    """The identity of an answer: the verdict and the declared windows it rests on."""

    verdict: str
    declared: tuple[Declared, ...] = ()

    @classmethod
    def of(cls, verdict: Verdict) -> Answer:
        if verdict.verdict in QUIET_VERDICTS or not failing_now(verdict):
            return QUIET
        return cls(verdict.verdict, tuple(sorted({Declared.of(w) for w in verdict.explained_by})))

    @property
    def quiet(self) -> bool:
        return self.verdict in QUIET_VERDICTS

    def key(self) -> str:
        """A stable text form, stored with each notification (``from_key`` reads it back)."""
        return json.dumps(
            [self.verdict, [[d.source, d.kind, d.title] for d in self.declared]],
            ensure_ascii=False,
        )

    @classmethod
    def from_key(cls, key: str) -> Answer:
        """Read ``key()`` back; ValueError when it is not one."""
        try:
            verdict, declared = json.loads(key)
            windows = tuple(Declared(str(s), str(k), str(t)) for s, k, t in declared)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"not an answer key: {key[:80]!r}") from exc
        if verdict not in VERDICT_NAMES:
            raise ValueError(f"not an answer key: unknown verdict {verdict!r}")
        return QUIET if verdict in QUIET_VERDICTS else cls(str(verdict), windows)


QUIET = Answer("healthy")
# How long after its last line an imported burst of failures counts as going on
# (the default ``correlate.lag``: the tools that logged them say nothing of recovering).
IMPORTED_FRESH = timedelta(minutes=15)


def failing_now(verdict: Verdict) -> bool:
    """Whether anything the verdict weighs is failing at its moment.

    A check is failing while its window is open (no passing run after the
    failures yet); imported failures, while their last line is recent.
    """
    return any(
        window.end is None
        or (window.kind == "observed" and window.end >= verdict.at - IMPORTED_FRESH)
        for window in verdict.local
    )


@dataclass(frozen=True, slots=True)
class Rule:
    """A channel's filter and hold (from its ``[[notify]]`` entry)."""

    on: frozenset[str] = frozenset(VERDICT_NAMES)
    min_confidence: str = "low"
    hold: timedelta = DEFAULT_HOLD

    def passes(self, verdict: Verdict) -> bool:
        """Whether this channel wants to hear of ``verdict`` (a failure answer)."""
        return (
            verdict.verdict in self.on
            and CONFIDENCE_RANK[verdict.confidence] >= CONFIDENCE_RANK[self.min_confidence]
        )


@dataclass(frozen=True, slots=True)
class State:
    """What one channel was told, and what is pending.

    ``told`` is the last answer announced (``QUIET`` when none, or after a
    recovery); ``candidate`` the different answer seen since
    ``candidate_since``; ``episode_start`` when the current failure was first
    seen (None in quiet times); ``quiet_since`` when quiet was first seen again.
    """

    told: Answer = QUIET
    candidate: Answer | None = None
    candidate_since: datetime | None = None
    episode_start: datetime | None = None
    quiet_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Announcement:
    """A change to send: what it is, the answer now, and the times a message needs.

    ``previous`` is what the channel was told before (for ``recovered``, the
    failure that is over); ``seen_since`` is when the new answer was first
    seen; ``episode_start`` when the failure began (for ``recovered``, the one
    that ended); ``duration`` the failure's length, for ``recovered``.
    """

    kind: AnnouncementKind
    verdict: Verdict
    answer: Answer
    previous: Answer
    seen_since: datetime
    episode_start: datetime
    duration: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """``step``'s result: the new state, and the announcement to send if any."""

    state: State
    announcement: Announcement | None = field(default=None)


def step(state: State, rule: Rule, verdict: Verdict, now: datetime) -> Step:
    """Feed one answer worked out at ``now``; see the module docstring for the rule."""
    if verdict.verdict == "no_data":
        return Step(state)
    answer = Answer.of(verdict)
    state = _episode(state, answer, rule, now)
    if answer == state.told:
        return Step(replace(state, candidate=None, candidate_since=None))
    if answer != state.candidate or state.candidate_since is None:
        state = replace(state, candidate=answer, candidate_since=now)
    since = state.candidate_since
    assert since is not None
    if now - since < rule.hold:
        return Step(state)
    if answer.quiet:
        return _recover(state, verdict, rule, now)
    if not rule.passes(verdict):
        return Step(state)
    episode_start = state.episode_start or since
    announcement = Announcement(
        kind="problem" if state.told.quiet else "changed",
        verdict=verdict,
        answer=answer,
        previous=state.told,
        seen_since=since,
        episode_start=episode_start,
    )
    told = replace(state, told=answer, candidate=None, candidate_since=None)
    return Step(told, announcement)


def _episode(state: State, answer: Answer, rule: Rule, now: datetime) -> State:
    """Keep the failure episode's start: set on the first failure, cleared when quiet holds."""
    if not answer.quiet:
        return replace(state, episode_start=state.episode_start or now, quiet_since=None)
    quiet_since = state.quiet_since or now
    if state.told.quiet and now - quiet_since >= rule.hold:
        return replace(state, episode_start=None, quiet_since=quiet_since)
    return replace(state, quiet_since=quiet_since)


def _recover(state: State, verdict: Verdict, rule: Rule, now: datetime) -> Step:
    """Quiet has held: a recovery for a channel told of the failure; the episode ends."""
    since = state.quiet_since or now
    episode_start = state.episode_start or since
    ended = State(quiet_since=since)
    if state.told.quiet:  # told nothing: nothing to end
        return Step(ended)
    return Step(
        ended,
        Announcement(
            kind="recovered",
            verdict=verdict,
            answer=QUIET,
            previous=state.told,
            seen_since=since,
            episode_start=episode_start,
            duration=since - episode_start,
        ),
    )


def resume(told: Answer, episode_start: datetime | None) -> State:
    """The state a restarted service starts from: what it last announced, nothing pending."""
    if told.quiet:
        return State()
    return State(told=told, episode_start=episode_start)
