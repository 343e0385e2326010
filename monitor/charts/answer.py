"""The top of ``index.html``: the answer right now, and whether each status page could be read.

A newcomer opens the page to learn "is it me or is it them?" before any
chart: so it starts with the verdict ``monitor why`` gives for the moment
the page was made (weighed by the same code, ``views.why.verdict_at``), its
next step, and each status page's last poll as ``monitor sources`` reads it
(``store.queries.source_overview``): a page that could not be read says so,
with the reason, because an upstream outage it would have declared cannot
show anywhere below.

``read_answer`` is the I/O edge; ``reach`` and ``answer_section`` are pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.charts.markup import escape, time_text
from monitor.views.sources import backing_off_until, health
from monitor.views.text import ago

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.store import Store
    from monitor.store.queries import SourceOverview


@dataclass(frozen=True, slots=True)
class Reach:
    """One status page as the page shows it: its last poll and what came of it."""

    source: str
    last_poll: datetime | None  # None: never polled
    ok: bool  # the last poll read the page
    outcome: str  # "read", or why not: the poll's error, "never polled"
    health: str  # as ``monitor sources`` words it


@dataclass(frozen=True, slots=True)
class Answer:
    """``monitor why`` at ``at``, and every configured status page's reachability."""

    at: datetime
    verdict: str
    confidence: str
    summary: str
    next_step: str
    pages: tuple[Reach, ...]


def read_answer(store: Store, config: Config, at: datetime) -> Answer:
    """The verdict at ``at`` and each configured status page's last poll, from the store."""
    from monitor.store.queries import source_overview
    from monitor.views.why import WhyQuestion, verdict_at

    with store.reading() as reader:
        verdict = verdict_at(reader, config, WhyQuestion(at=at))
    with store.read() as session:
        overviews = source_overview(session, [source.name for source in config.sources])
    return Answer(
        at=at,
        verdict=verdict.verdict,
        confidence=verdict.confidence,
        summary=verdict.summary,
        next_step=verdict.next_step,
        pages=tuple(reach(overview, at) for overview in overviews),
    )


def reach(overview: SourceOverview, now: datetime) -> Reach:
    """Whether the page could be read at its last poll, and if not, why not."""
    poll = overview.last_poll
    if poll is None:
        return Reach(overview.name, None, False, "never polled", health(overview, now))
    if poll.outcome == "error":
        reason = poll.error or "no reason recorded"
        waiting = backing_off_until(overview, now)
        outcome = f"could not be read: {reason}" + (f" ({waiting})" if waiting else "")
        return Reach(overview.name, poll.started_at, False, outcome, health(overview, now))
    outcome = "read" + (f" ({poll.note})" if poll.note else "")
    return Reach(overview.name, poll.started_at, True, outcome, health(overview, now))


def answer_section(answer: Answer) -> str:
    """The answer and the status pages, as HTML; every outside string escaped."""
    return "\n".join(
        [
            '<section id="answer">',
            f'<h2>Right now: <span class="verdict" data-verdict="{escape(answer.verdict)}">'
            f"{escape(answer.verdict)}</span> ({escape(answer.confidence)} confidence)</h2>",
            f'<p class="summary">{escape(answer.summary)}</p>',
            f'<p class="next"><strong>Next step:</strong> {escape(answer.next_step)}</p>',
            f'<p class="meta">As <code>monitor why</code> answers it for '
            f"{time_text(answer.at)} UTC.</p>",
            _pages(answer.pages, answer.at),
            "</section>",
        ]
    )


def _pages(pages: Sequence[Reach], now: datetime) -> str:
    if not pages:
        return (
            '<p class="meta" id="pages-none">No status page is configured, so an outage the '
            "vendor declares cannot show here. Add a <code>[[source]]</code> to the config.</p>"
        )
    items = "".join(_page(page, now) for page in pages)
    unread = sum(1 for page in pages if not page.ok)
    note = (
        f'<p class="meta" id="pages-unread">{unread} of {len(pages)} status '
        f"page{'s' if len(pages) != 1 else ''} not read (never polled, or the last poll "
        f"failed): what {'they' if unread != 1 else 'it'} declared is unknown, so the charts "
        "below cannot show it.</p>"
        if unread
        else ""
    )
    return f'<h3>Status pages</h3><ul id="pages">{items}</ul>{note}'


def _page(page: Reach, now: datetime) -> str:
    name = escape(page.source)
    if page.last_poll is None:
        return (
            f'<li data-page="{name}" data-state="never"><strong>{name}</strong>: never polled '
            "(<code>monitor run</code> polls it, <code>monitor poll</code> once)</li>"
        )
    return (
        f'<li data-page="{name}" data-state="{"ok" if page.ok else "unread"}">'
        f"<strong>{name}</strong>: last poll {time_text(page.last_poll)} UTC "
        f"({ago(page.last_poll, now)}), {escape(page.outcome)}; {escape(page.health)}</li>"
    )
