"""Notifications on record: each message about a change of answer, delivered or not.

The service writes one row per message once its delivery is over (sent, or
failed after its attempts); ``monitor notify test`` writes its tests too.
On start, the service reads back the last answer it announced to each
channel (``last_announced``), so a restart in the middle of an outage does
not announce it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select

from monitor.store import Store
from monitor.store.models import Notification

TEST_KIND = "test"


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    """One message and how its delivery went (``sent_at`` None: not delivered)."""

    probe: str
    channel: str
    kind: str
    verdict: str
    confidence: str
    answer: str
    episode_start: datetime | None
    decided_at: datetime
    sent_at: datetime | None
    attempts: int
    error: str | None
    title: str
    body: str

    @property
    def delivered(self) -> bool:
        return self.sent_at is not None


def record_notification(store: Store, record: NotificationRecord) -> int:
    """Keep one message and its outcome; returns the row's id."""
    with store.write() as session, session.begin():
        row_id: int = session.execute(
            insert(Notification).returning(Notification.id),
            [
                {
                    "probe": record.probe,
                    "channel": record.channel,
                    "kind": record.kind,
                    "verdict": record.verdict,
                    "confidence": record.confidence,
                    "answer": record.answer,
                    "episode_start": record.episode_start,
                    "decided_at": record.decided_at,
                    "sent_at": record.sent_at,
                    "attempts": record.attempts,
                    "error": record.error,
                    "title": record.title,
                    "body": record.body,
                }
            ],
        ).scalar_one()
    return row_id


def last_announced(store: Store, probe: str) -> dict[str, NotificationRecord]:
    """Per channel, the newest change of answer delivered for ``probe`` (tests left out).

    Only what reached the channel counts as told: a message that failed, or
    was never sent (the service stopped first, the queue was full), leaves
    the channel believing the answer before it, so a restart compares the
    answer now with that one and says again what it never heard.
    """
    with store.read() as session:
        newest = (
            select(Notification.channel, func.max(Notification.id).label("id"))
            .where(
                Notification.probe == probe,
                Notification.kind != TEST_KIND,
                Notification.sent_at.is_not(None),
            )
            .group_by(Notification.channel)
            .subquery()
        )
        rows = session.scalars(select(Notification).join(newest, Notification.id == newest.c.id))
        return {row.channel: _record(row) for row in rows}


def recent_notifications(
    store: Store, *, probe: str | None = None, channel: str | None = None, limit: int = 50
) -> list[NotificationRecord]:
    """The newest messages first, of one probe and channel if given."""
    with store.read() as session:
        query = select(Notification).order_by(Notification.id.desc()).limit(limit)
        if probe is not None:
            query = query.where(Notification.probe == probe)
        if channel is not None:
            query = query.where(Notification.channel == channel)
        return [_record(row) for row in session.scalars(query)]


def notification_counts(store: Store, probe: str | None = None) -> dict[tuple[str, bool], int]:
    """How many messages per channel were delivered (True) or not (False), tests included."""
    delivered = Notification.sent_at.is_not(None)
    query = select(Notification.channel, delivered, func.count()).group_by(
        Notification.channel, delivered
    )
    if probe is not None:
        query = query.where(Notification.probe == probe)
    with store.read() as session:
        rows = session.execute(query).all()
    return {(channel, bool(sent)): int(count) for channel, sent, count in rows}


def _record(row: Notification) -> NotificationRecord:
    return NotificationRecord(
        probe=row.probe,
        channel=row.channel,
        kind=row.kind,
        verdict=row.verdict,
        confidence=row.confidence,
        answer=row.answer,
        episode_start=row.episode_start,
        decided_at=row.decided_at,
        sent_at=row.sent_at,
        attempts=row.attempts,
        error=row.error,
        title=row.title,
        body=row.body,
    )
