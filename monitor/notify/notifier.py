"""The service's notifications: each answer it works out goes through every channel's tracker.

The answer job calls ``observe`` with the verdict for now and the channels
in force (a reload may add, change or drop some). A channel new to this
run starts from the last answer announced to it for this probe, as the
database has it, so a restart during an outage stays silent about what was
already said. What the trackers announce is composed into a message and
handed to the delivery worker; nothing here waits for the network.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.correlate.verdict import Verdict
from monitor.notify.deliver import DeliveryWorker, Outgoing
from monitor.notify.message import compose
from monitor.notify.settings import NotifySettings
from monitor.notify.tracker import QUIET, Answer, Rule, State, resume, step
from monitor.store import Store
from monitor.store.notifications import NotificationRecord, last_announced

log = logging.getLogger("monitor.notify")


def rule_of(channel: NotifySettings) -> Rule:
    return Rule(on=frozenset(channel.on), min_confidence=channel.min_confidence, hold=channel.hold)


def resumed(record: NotificationRecord | None) -> State:
    """The tracker state after ``record``, the last message announced to a channel."""
    if record is None or record.kind == "recovered":
        return resume(QUIET, None)
    try:
        told = Answer.from_key(record.answer)
    except ValueError:
        return resume(QUIET, None)
    return resume(told, record.episode_start)


@dataclass
class Notifier:
    """The trackers of this service run, one per channel, and where their messages go."""

    store: Store
    probe: str
    worker: DeliveryWorker

    def __post_init__(self) -> None:
        self.states: dict[str, State] = {}

    def observe(self, verdict: Verdict, channels: Sequence[NotifySettings]) -> list[Outgoing]:
        """Feed the answer for now to each channel's tracker; queue and return what is announced."""
        # A channel new to this run (the start, or a reload added it) resumes from
        # the record; one a reload dropped is forgotten.
        new = any(c.name not in self.states for c in channels)
        announced = last_announced(self.store, self.probe) if new else {}
        self.states = {
            c.name: self.states[c.name] if c.name in self.states else resumed(announced.get(c.name))
            for c in channels
        }
        sent = []
        for channel in channels:
            done = step(
                self.states[channel.name], rule_of(channel), verdict, verdict.at, self.probe
            )
            self.states[channel.name] = done.state
            announcement = done.announcement
            if announcement is None:
                continue
            item = Outgoing(
                channel=channel,
                message=compose(announcement, self.probe),
                probe=self.probe,
                answer=announcement.answer.key(),
                episode_start=announcement.episode_start,
                decided_at=verdict.at,
            )
            log.info(
                "[notify.observe] %s to channel %s: %s",
                announcement.kind,
                channel.name,
                item.message.title,
            )
            self.worker.submit(item)
            sent.append(item)
        return sent
