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
from monitor.notify.tracker import Announcement, Answer, Declared, failing_here

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
    title = headline(announcement.answer, verdict)
    failing = _failing_since(verdict, probe)
    since = f"failures seen here since {_clock(failing)}" if failing else ""
    if announcement.answer.declared and verdict.explained_by:
        # "It is them: claude declared incident 'X' (since 15:40 UTC); failures seen here
        # since 15:33 UTC."
        lead = verdict.explained_by[0]
        declared = f"{title} (since {_clock(lead.declared_start or lead.start)})"
        lines = [f"{declared}; {since}." if since else f"{declared}.", safe(verdict.summary)]
    else:
        summary = safe(verdict.summary)
        lines = [f"{summary} {since[:1].upper()}{since[1:]}." if since else summary]
    lines.append(f"Next step: {safe(verdict.next_step)}")
    lines += [f"Incident: {link}" for link in _links(verdict)]
    lines.append(_footer(verdict, probe))
    return Message(
        kind=announcement.kind,
        title=_title(title, probe),
        body="\n".join(lines),
        verdict=verdict.verdict,
        confidence=verdict.confidence,
    )


def headline(answer: Answer, verdict: Verdict) -> str:
    """The answer in a few words, claiming no more than the verdict's confidence.

    "It is them: claude declared incident 'Claude.ai down'" at medium or high
    confidence, "Probably them: ..." at low; "not declared (yet)" only when
    the status pages were read and declared nothing.
    """
    sure = verdict.confidence != "low"
    lead = answer.declared[0] if answer.declared else None
    if answer.verdict == "upstream":
        them = "It is them" if sure else "Probably them"
        if lead is not None:
            return f"{them}: {_declared(answer, lead)}"
        if verdict.unread:
            return "Probably them: nothing declared, but the status page is unreadable"
        return "Probably them: not declared (yet)"
    if answer.verdict == "inconclusive" and lead is not None:
        return f"Unclear: {_declared(answer, lead)}, but that may not be all that fails here"
    return {
        "local": "It is you" if sure else "Probably you",
        "network": "Network: the path from here is failing"
        if sure
        else "Probably the network: the path from here",
        "inconclusive": "Unclear: the evidence points both ways or nowhere",
    }.get(answer.verdict, "Nothing wrong")


def described(answer: Answer) -> str:
    """What a channel was told, without its confidence (not stored): for a recovery."""
    lead = answer.declared[0] if answer.declared else None
    if lead is None:
        return {
            "upstream": "upstream, not declared",
            "local": "local (this side)",
            "network": "network",
        }.get(answer.verdict, answer.verdict)
    return f"{answer.verdict}, {_declared(answer, lead)}"


def _declared(answer: Answer, lead: Declared) -> str:
    """ "claude declared incident 'X' (+1 more)", and "now resolved" once it is."""
    more = f" (+{len(answer.declared) - 1} more)" if len(answer.declared) > 1 else ""
    resolved = ", now marked resolved" if lead.resolved else ""
    return (
        f"{safe(lead.source, NAME_LIMIT)} declared {lead.kind} "
        f"'{safe(lead.title, NAME_LIMIT)}'{resolved}{more}"
    )


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
    was = described(announcement.previous)
    began = _clock(announcement.episode_start)
    if announcement.duration is not None and announcement.recovered_at is not None:
        took = duration_text(announcement.duration)
        span = f"from {began} to {_clock(announcement.recovered_at)}"
    else:
        took = None
        over_by = _clock(announcement.seen_since)
        span = f"failing from {began}; when it ended is not in view, over by {over_by}"
    if announcement.stopped:
        names = ", ".join(safe(name, NAME_LIMIT) for name in announcement.stopped)
        now = (
            f"{names} stopped running (skipped, e.g. its credentials are gone), so it was not "
            "seen to pass; nothing else fails here."
        )
        heading = "Failing checks stopped running"
        step = "Next step: find out why the check no longer runs; its failure may go on."
    else:
        now = (
            safe(verdict.summary)
            if verdict.verdict == "healthy"
            else "nothing fails here any more."
        )
        heading = f"Recovered after {took}" if took else "Recovered"
        step = "Next step: none; retry what failed if your tools have not yet."
    lines = [
        f"{heading}: {was}, {span}. Now: {now}",
        step,
        _footer(verdict, probe, over=verdict.verdict != "healthy"),
    ]
    return Message(
        kind="recovered",
        title=_title(heading, probe),
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


def _failing_since(verdict: Verdict, probe: str) -> datetime | None:
    """When the failures going on here began."""
    return min((w.start for w in failing_here(verdict, probe)), default=None)


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
