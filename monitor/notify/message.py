"""The words of a notification: a title and a short body, from the verdict's own fields.

Nothing is concluded here: the summary, the next step and the incidents
are the verdict's, exactly what ``monitor why`` says; this module only picks
the headline and lays them out. The texts come from the store, where
secrets were redacted before anything was recorded; scrubbing them again
here would garble the advice (``check ANTHROPIC_API_KEY: replace the key``
reads as a key and its value). Outside text (incident titles, anything a
summary quotes from a check's detail) is made safe as ``why`` makes it:
control characters and terminal escapes shown as escapes, and each piece
cut to a bounded length, so a status page can neither forge a line nor
flood a phone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.correlate.verdict import Verdict
from monitor.escape import for_terminal
from monitor.notify.tracker import Announcement, Answer

TITLE_LIMIT = 200
TEXT_LIMIT = 600
NAME_LIMIT = 120
URL_LIMIT = 300
MAX_LINKS = 3

# Apprise's notification types: how a client colours or badges the message.
KIND_TYPES = {"problem": "failure", "changed": "warning", "recovered": "success", "test": "info"}


@dataclass(frozen=True, slots=True)
class Message:
    """A message to send: title, body, and what it says (stored with the delivery)."""

    kind: str  # problem | changed | recovered | test
    title: str
    body: str
    verdict: str
    confidence: str

    @property
    def notify_type(self) -> str:
        return KIND_TYPES.get(self.kind, "info")


def safe(text: str, limit: int = TEXT_LIMIT) -> str:
    """Outside text made fit for a message: one line, no control character, at most ``limit``."""
    return for_terminal(text, limit=limit)


def compose(announcement: Announcement, probe: str) -> Message:
    """The message for an announced change of answer, seen by ``probe``."""
    verdict = announcement.verdict
    if announcement.kind == "recovered":
        return _recovered(announcement, probe)
    headline = headline_of(announcement.answer)
    failing = _failing_since(verdict)
    since = f"failures seen here since {_clock(failing)}" if failing else ""
    if announcement.answer.declared and verdict.explained_by:
        # "It is them: claude declared incident 'X' (since 15:40 UTC); failures seen here
        # since 15:33 UTC."
        lead = verdict.explained_by[0]
        declared = f"{headline} (since {_clock(lead.declared_start or lead.start)})"
        lines = [f"{declared}; {since}." if since else f"{declared}.", safe(verdict.summary)]
    else:
        summary = safe(verdict.summary)
        lines = [f"{summary} {since[:1].upper()}{since[1:]}." if since else summary]
    lines.append(f"Next step: {safe(verdict.next_step)}")
    lines += [f"Incident: {link}" for link in _links(verdict)]
    lines.append(_footer(verdict, probe))
    return Message(
        kind=announcement.kind,
        title=_title(headline, probe),
        body="\n".join(lines),
        verdict=verdict.verdict,
        confidence=verdict.confidence,
    )


def headline_of(answer: Answer) -> str:
    """The answer in a few words: "It is them: claude declared 'Claude.ai down'", "It is you"."""
    if answer.verdict == "upstream":
        if not answer.declared:
            return "Probably them: not declared (yet)"
        lead = answer.declared[0]
        what = "maintenance" if lead.kind == "maintenance" else lead.kind
        more = f" (+{len(answer.declared) - 1} more)" if len(answer.declared) > 1 else ""
        return (
            f"It is them: {safe(lead.source, NAME_LIMIT)} declared {what} "
            f"'{safe(lead.title, NAME_LIMIT)}'{more}"
        )
    return {
        "local": "It is you",
        "network": "Network: the path from here is failing",
        "inconclusive": "Unclear: the evidence points both ways or nowhere",
    }.get(answer.verdict, "Nothing wrong")


def notify_test_message(channel: str, probe: str, now: datetime) -> Message:
    """What ``monitor notify test`` sends: says where it came from, asks for nothing."""
    return Message(
        kind="test",
        title=_title("Test message", probe),
        body=(
            f"A test from monitor on probe {safe(probe, NAME_LIMIT)} to channel "
            f"{safe(channel, NAME_LIMIT)} at {now:%Y-%m-%d %H:%M} UTC: when the answer to "
            "'is it me or is it them?' changes, it is said here."
        ),
        verdict="test",
        confidence="",
    )


def duration_text(value: timedelta) -> str:
    """``47 min``, ``2 h 5 min``, ``3 d 4 h``: how long, as people say it (at least ``1 min``)."""
    minutes = max(1, round(value.total_seconds() / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def _recovered(announcement: Announcement, probe: str) -> Message:
    verdict = announcement.verdict
    took = duration_text(announcement.duration or timedelta(0))
    was = headline_of(announcement.previous)
    now = safe(verdict.summary) if verdict.verdict == "healthy" else "nothing fails here any more."
    lines = [
        f"Recovered after {took}: {was}, from {_clock(announcement.episode_start)} to "
        f"{_clock(announcement.seen_since)}. Now: {now}",
        "Next step: none; retry what failed if your tools have not yet.",
        _footer(verdict, probe, over=verdict.verdict != "healthy"),
    ]
    return Message(
        kind="recovered",
        title=_title(f"Recovered after {took}", probe),
        body="\n".join(lines),
        verdict=verdict.verdict,
        confidence=verdict.confidence,
    )


def _title(headline: str, probe: str) -> str:
    return f"{headline} ({safe(probe, NAME_LIMIT)})"[: TITLE_LIMIT + 64]


def _footer(verdict: Verdict, probe: str, *, over: bool = False) -> str:
    # ``over``: the verdict still explains the last half hour, but nothing fails now.
    about = ", about failures now over" if over else ""
    return (
        f"Verdict: {verdict.verdict}, {verdict.confidence} confidence{about}; probe "
        f"{safe(probe, NAME_LIMIT)}; at {verdict.at:%Y-%m-%d %H:%M} UTC."
    )


def _failing_since(verdict: Verdict) -> datetime | None:
    """When the failures still going on began (all failures, if none goes on)."""
    going_on = [w.start for w in verdict.local if w.end is None]
    starts = going_on or [w.start for w in verdict.local]
    return min(starts, default=None)


def _links(verdict: Verdict) -> list[str]:
    """The explaining incidents' own pages (http and https only), at most ``MAX_LINKS``."""
    links = []
    for window in verdict.explained_by:
        url = window.url or ""
        if url.startswith(("https://", "http://")) and url not in links:
            links.append(url)
    return [safe(url, URL_LIMIT) for url in links[:MAX_LINKS]]


def _clock(at: datetime) -> str:
    return f"{at:%H:%M} UTC"
