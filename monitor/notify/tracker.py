"""When a change of answer is worth a message: a pure state machine, fed every answer.

The principle. A channel must never be left holding an answer the evidence
no longer gives: "it is them, don't touch your credentials" is the worst
thing this tool can leave someone believing once it is no longer true.
What a person needs to hear is *whose fault it is, and which incident*:
the verdict and the declared incidents it rests on. That is the answer's
identity (``Answer``); an incident is known by its page and its own
address (not its title: a rename is not news) and by whether it is still
open (the vendor resolving it while checks still fail changes the advice
from "wait" to "renew the credentials if the rejections go on"). The same
answer at another confidence is not news. ``healthy`` is "nothing wrong",
and so is a failure answer about failures that are over, or that another
probe sees: the question a notification answers is what fails *here, now*
(``failing_here``: this probe's check windows and imported failures the
verdict itself judges still going on, ``Verdict.ongoing``; a check that
cannot run at all is not a failure). ``no_data`` is no answer at all: the
monitor saw nothing, which neither confirms nor ends anything.

The rule, per channel, for each answer worked out (``step``):

1. ``no_data``: nothing changes (but a recovery seen after it cannot be
   timed by the answers alone).
2. The answer the channel was last told again: any pending change is
   dropped (it flipped back within ``hold``).
3. Told nothing (quiet), now failing: once "something is failing" has
   stood for ``hold``, whichever failure answers it went through, the
   current answer is announced (``problem``) if it passes the channel's
   filter (``on``, ``min_confidence``). A verdict wobbling between two
   failure answers delays nothing.
4. Told a failure, now another failure answer: once that answer has stood
   for ``hold`` it is announced (``changed``) whatever the filter says:
   the filter chooses what starts a conversation, never what retracts one.
5. Told a failure, now quiet for ``hold``: ``recovered``, whatever the
   filter says.

Failure episodes are counted apart from what a channel was told: the
episode begins at the first failure seen here, and ends once quiet has held
for ``hold``. A recovery's duration runs from that first failure to the
evidence of recovery (the end of the last failing window here, or the first
quiet answer straight after a failing one), never to whenever the service
happened to look: when neither is in view (the outage ended while the
service was down) the duration is unknown and said so. A failure window
closed by a skipped run ends because the check stopped running, not
because it passed; the recovery names those checks. Nothing here reads a
clock or does I/O: ``now`` is handed in, and the state is a value, so every
case is a plain unit test and a restarted service resumes from what it last
announced.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from monitor.correlate.verdict import Verdict
from monitor.correlate.windows import LocalWindow, UpstreamWindow
from monitor.notify.settings import DEFAULT_HOLD, VERDICT_NAMES

QUIET_VERDICTS = frozenset({"healthy", "no_data"})
CONFIDENCE_RANK = {"low": 0, "medium": 1, "high": 2}

AnnouncementKind = Literal["problem", "changed", "recovered"]


@dataclass(frozen=True, slots=True, order=True)
class Declared:
    """A declared window as it identifies an answer: its page, kind, own address, and
    whether it was resolved at the verdict's moment.

    ``ref`` is the incident's own page (its URL), or, without one, what else
    stays the same while it lasts (a component's name, the declared start).
    The title is kept to be shown, not compared: a vendor renaming its
    incident is not news. Times are left out too: an update stating an
    earlier start widens the window, and that is not a new incident.
    """

    source: str
    kind: str
    ref: str
    resolved: bool
    title: str = field(compare=False)

    @classmethod
    def of(cls, window: UpstreamWindow, at: datetime) -> Declared:
        ended = window.declared_end if window.declared_end is not None else window.end
        return cls(
            source=window.source,
            kind=window.kind,
            ref=window.url or _ref(window),
            resolved=ended is not None and ended <= at,
            title=window.title,
        )


def _ref(window: UpstreamWindow) -> str:
    """A window without a URL of its own: its kind, components and declared start."""
    began = window.declared_start or window.start
    return f"{window.kind}:{'|'.join(window.components)}@{began.isoformat()}"


@dataclass(frozen=True, slots=True)
class Answer:
    """The identity of an answer: the verdict and the declared windows it rests on."""

    verdict: str
    declared: tuple[Declared, ...] = ()

    @classmethod
    def of(cls, verdict: Verdict, probe: str) -> Answer:
        """The answer ``verdict`` gives on ``probe``: quiet unless something fails here now."""
        if verdict.verdict in QUIET_VERDICTS or not failing_here(verdict, probe):
            return QUIET
        windows = {Declared.of(w, verdict.at) for w in verdict.explained_by}
        return cls(verdict.verdict, tuple(sorted(windows)))

    @property
    def quiet(self) -> bool:
        return self.verdict in QUIET_VERDICTS

    def key(self) -> str:
        """A stable text form, stored with each notification (``from_key`` reads it back)."""
        return json.dumps(
            [self.verdict, [[d.source, d.kind, d.ref, d.resolved, d.title] for d in self.declared]],
            ensure_ascii=False,
        )

    @classmethod
    def from_key(cls, key: str) -> Answer:
        """Read ``key()`` back; ValueError when it is not one."""
        try:
            verdict, declared = json.loads(key)
            windows = tuple(
                Declared(str(s), str(k), str(r), bool(done), str(t))
                for s, k, r, done, t in declared
            )
        except (TypeError, ValueError) as exc:
            raise ValueError(f"not an answer key: {key[:80]!r}") from exc
        if verdict not in VERDICT_NAMES:
            raise ValueError(f"not an answer key: unknown verdict {verdict!r}")
        return QUIET if verdict in QUIET_VERDICTS else cls(str(verdict), windows)


QUIET = Answer("healthy")


def here(window: LocalWindow, probe: str) -> bool:
    """Whether a failure window is this probe's to announce: its own checks, imported
    failures (the user's own tools), and checks with no probe recorded."""
    return window.kind == "observed" or window.probe is None or window.probe == probe


def failing_here(verdict: Verdict, probe: str) -> tuple[LocalWindow, ...]:
    """The failures going on at the verdict's moment that ``probe`` sees.

    Which failures go on is the verdict's own judgement (``Verdict.ongoing``:
    checks that cannot run at all left out, imported bursts over after the
    lag); another probe's failure alone is evidence for the verdict, not
    trouble seen here.
    """
    return tuple(w for w in verdict.ongoing if here(w, probe))


@dataclass(frozen=True, slots=True)
class Rule:
    """A channel's filter and hold (from its ``[[notify]]`` entry)."""

    on: frozenset[str] = frozenset(VERDICT_NAMES)
    min_confidence: str = "low"
    hold: timedelta = DEFAULT_HOLD

    def passes(self, verdict: Verdict) -> bool:
        """Whether this channel wants to be told of ``verdict`` (a failure answer)."""
        return (
            verdict.verdict in self.on
            and CONFIDENCE_RANK[verdict.confidence] >= CONFIDENCE_RANK[self.min_confidence]
        )


@dataclass(frozen=True, slots=True)
class State:
    """What one channel was told, and what is pending.

    ``told`` is the last answer announced (``QUIET`` when none, or after a
    recovery); ``candidate`` the different answer seen since
    ``candidate_since``; ``failing_since`` when failure answers began, in a
    row (any quiet answer resets it); ``episode_start`` when the current
    failure began here (None in quiet times); ``last_failing`` the last
    failure answer, when no gap (``no_data``) came since; ``quiet_since``
    when quiet was first seen again, ``recovered_at`` the evidence of the
    recovery then (None: not in view) and ``stopped`` the checks whose
    failures ended because they stopped running.
    """

    told: Answer = QUIET
    candidate: Answer | None = None
    candidate_since: datetime | None = None
    failing_since: datetime | None = None
    episode_start: datetime | None = None
    last_failing: datetime | None = None
    quiet_since: datetime | None = None
    recovered_at: datetime | None = None
    stopped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Announcement:
    """A change to send: what it is, the answer now, and the times a message needs.

    ``previous`` is what the channel was told before (for ``recovered``, the
    failure that is over); ``seen_since`` is when the new answer was first
    seen (for ``problem``, when failing began); ``episode_start`` when the
    failure began (for ``recovered``, the one that ended). For
    ``recovered``: ``recovered_at`` the evidence of recovery and
    ``duration`` the failure's length (None when not in view), ``stopped``
    the checks that stopped running instead of passing.
    """

    kind: AnnouncementKind
    verdict: Verdict
    answer: Answer
    previous: Answer
    seen_since: datetime
    episode_start: datetime
    duration: timedelta | None = None
    recovered_at: datetime | None = None
    stopped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Step:
    """``step``'s result: the new state, and the announcement to send if any."""

    state: State
    announcement: Announcement | None = field(default=None)


def step(state: State, rule: Rule, verdict: Verdict, now: datetime, probe: str) -> Step:
    """Feed one answer worked out at ``now`` on ``probe``; see the module docstring."""
    if verdict.verdict == "no_data":
        return Step(replace(state, last_failing=None))
    answer = Answer.of(verdict, probe)
    state = _episode(state, answer, verdict, rule, now, probe)
    if answer == state.told:
        return Step(replace(state, candidate=None, candidate_since=None))
    if answer != state.candidate or state.candidate_since is None:
        state = replace(state, candidate=answer, candidate_since=now)
    since = state.candidate_since
    assert since is not None
    if answer.quiet:
        return _recover(state, verdict) if now - since >= rule.hold else Step(state)
    if state.told.quiet:
        failing = state.failing_since
        assert failing is not None
        if now - failing < rule.hold or not rule.passes(verdict):
            return Step(state)
        kind: AnnouncementKind = "problem"
        since = failing
    elif now - since < rule.hold:
        return Step(state)
    else:
        kind = "changed"
    announcement = Announcement(
        kind=kind,
        verdict=verdict,
        answer=answer,
        previous=state.told,
        seen_since=since,
        episode_start=state.episode_start or since,
    )
    told = replace(state, told=answer, candidate=None, candidate_since=None)
    return Step(told, announcement)


def _episode(
    state: State, answer: Answer, verdict: Verdict, rule: Rule, now: datetime, probe: str
) -> State:
    """Keep the failure episode: its start, whether failing goes on in a row, and, when
    quiet is first seen, the evidence of recovery; cleared when quiet holds."""
    if not answer.quiet:
        began = min((w.start for w in failing_here(verdict, probe)), default=now)
        return replace(
            state,
            episode_start=state.episode_start or began,
            failing_since=state.failing_since or now,
            last_failing=now,
            quiet_since=None,
            recovered_at=None,
            stopped=(),
        )
    if state.quiet_since is None:
        state = _quiet_seen(state, verdict, now, probe)
    state = replace(state, failing_since=None)
    quiet_since = state.quiet_since
    assert quiet_since is not None
    if state.told.quiet and now - quiet_since >= rule.hold:
        return replace(state, episode_start=None, last_failing=None, recovered_at=None, stopped=())
    return state


def _quiet_seen(state: State, verdict: Verdict, now: datetime, probe: str) -> State:
    """Quiet again: when did the failure end, as the evidence says?

    The end of the last failing window here (the first run that did not
    fail), or, with none in view, this answer itself when the one before was
    a failure. Neither (a gap, a restart) leaves it unknown.
    """
    begun = state.episode_start
    ended = [
        w
        for w in verdict.local
        if here(w, probe)
        and w.end is not None
        and w.end <= now
        and (begun is None or w.end > begun)
    ]
    if ended:
        last = max(w.end for w in ended if w.end is not None)
        stopped = tuple(dict.fromkeys(w.label for w in ended if w.stopped))
        return replace(state, quiet_since=now, recovered_at=last, stopped=stopped)
    evident = now if state.last_failing is not None else None
    return replace(state, quiet_since=now, recovered_at=evident, stopped=())


def _recover(state: State, verdict: Verdict) -> Step:
    """Quiet has held: a recovery for a channel told of the failure; the episode ends."""
    since = state.quiet_since or verdict.at
    ended = State(quiet_since=since)
    if state.told.quiet:  # told nothing: nothing to end
        return Step(ended)
    episode_start = state.episode_start or since
    recovered_at = state.recovered_at
    return Step(
        ended,
        Announcement(
            kind="recovered",
            verdict=verdict,
            answer=QUIET,
            previous=state.told,
            seen_since=since,
            episode_start=episode_start,
            duration=None if recovered_at is None else recovered_at - episode_start,
            recovered_at=recovered_at,
            stopped=state.stopped,
        ),
    )


def resume(told: Answer, episode_start: datetime | None) -> State:
    """The state a restarted service starts from: what it last announced, nothing pending.

    What happened while it was down is not known: a recovery found at once
    has no duration unless the evidence in view dates it.
    """
    if told.quiet:
        return State()
    return State(told=told, episode_start=episode_start)
