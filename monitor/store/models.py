"""The schema, as typed SQLAlchemy models. Alembic migrations must match it.

Upstream facts are keyed by the vendor's own ids (``external_id``) within a
source so a repeat poll finds the row it wrote before. Component health is
kept as transitions only: one row each time a component's status changes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql import text

from monitor.store.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012 (SQLAlchemy's API)


class Source(Base):
    """A configured status page, kept after it leaves the config so its history stays."""

    __tablename__ = "source"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(Text)
    page_name: Mapped[str | None] = mapped_column(Text)
    # The page's own overall words ("All Systems Operational"), as last read.
    page_status: Mapped[str | None] = mapped_column(Text)
    # What else in the config shapes what is recorded (the component
    # allow-list); when it changes, stored ETags no longer apply.
    settings: Mapped[str] = mapped_column(Text, default="")
    # Back-off after 429/5xx: no poll before ``backoff_until``.
    consecutive_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    backoff_until: Mapped[datetime | None]
    created_at: Mapped[datetime]


class HttpValidator(Base):
    """The ETag / Last-Modified last seen for one URL, for conditional requests."""

    __tablename__ = "http_validator"

    source_id: Mapped[int] = mapped_column(
        ForeignKey("source.id", ondelete="CASCADE"), primary_key=True
    )
    url: Mapped[str] = mapped_column(Text, primary_key=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)


class Poll(Base):
    """The poll log: one row per poll of a source, failed or not."""

    __tablename__ = "poll"
    __table_args__ = (Index("ix_poll_source_started", "source_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"))
    probe: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    duration_ms: Mapped[int] = mapped_column(Integer)
    # ok | not_modified | error
    outcome: Mapped[str] = mapped_column(String(16))
    http_status: Mapped[int | None]
    bytes: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # What a poll that worked still wants read (the page moved to another host).
    note: Mapped[str | None] = mapped_column(Text, default=None)
    new_incidents: Mapped[int] = mapped_column(Integer, default=0)
    updated_incidents: Mapped[int] = mapped_column(Integer, default=0)
    new_updates: Mapped[int] = mapped_column(Integer, default=0)
    component_changes: Mapped[int] = mapped_column(Integer, default=0)
    maintenance_changes: Mapped[int] = mapped_column(Integer, default=0)


class Incident(Base):
    """One upstream incident, as last described by the vendor."""

    __tablename__ = "incident"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        Index("ix_incident_source_started", "source_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))
    impact: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    url: Mapped[str | None] = mapped_column(Text)
    first_seen_at: Mapped[datetime]
    last_changed_at: Mapped[datetime]

    updates: Mapped[list[IncidentUpdate]] = relationship(
        back_populates="incident",
        cascade="all, delete-orphan",
        order_by="IncidentUpdate.created_at.desc()",
    )
    components: Mapped[list[IncidentComponent]] = relationship(
        cascade="all, delete-orphan", order_by="IncidentComponent.id"
    )


class IncidentUpdate(Base):
    """One update the vendor posted on an incident."""

    __tablename__ = "incident_update"
    __table_args__ = (UniqueConstraint("incident_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]

    incident: Mapped[Incident] = relationship(back_populates="updates")
    affected: Mapped[list[UpdateComponent]] = relationship(
        cascade="all, delete-orphan", order_by="UpdateComponent.id"
    )


class UpdateComponent(Base):
    """A component an update names, with its status before and after: what was really hit."""

    __tablename__ = "update_component"
    __table_args__ = (UniqueConstraint("update_id", "component"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("incident_update.id", ondelete="CASCADE"))
    component: Mapped[str] = mapped_column(Text)
    old_status: Mapped[str | None] = mapped_column(String(32))
    new_status: Mapped[str | None] = mapped_column(String(32))


class IncidentComponent(Base):
    """A component the incident lists as affected."""

    __tablename__ = "incident_component"
    __table_args__ = (UniqueConstraint("incident_id", "component"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    component: Mapped[str] = mapped_column(Text)


class ComponentStatus(Base):
    """A component status transition, written only when the status changes."""

    __tablename__ = "component_status"
    __table_args__ = (
        UniqueConstraint("source_id", "component", "observed_at"),
        Index("ix_component_status_observed", "observed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"))
    component: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))
    observed_at: Mapped[datetime]


class Maintenance(Base):
    """A scheduled (or unplanned) maintenance window."""

    __tablename__ = "maintenance"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        Index("ix_maintenance_source_scheduled", "source_id", "scheduled_for"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))
    impact: Mapped[str | None] = mapped_column(String(32))
    scheduled_for: Mapped[datetime | None]
    scheduled_until: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    url: Mapped[str | None] = mapped_column(Text)
    # Labels only (nothing joins on them), so a JSON list beats a link table.
    components: Mapped[list[str]] = mapped_column(JSON, default=list)
    first_seen_at: Mapped[datetime]
    last_changed_at: Mapped[datetime]


class Check(Base):
    """A configured synthetic check, kept after it leaves the config so its history stays."""

    __tablename__ = "check"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))  # vendor | control
    target: Mapped[str] = mapped_column(Text)  # what it probes, for display (redacted)
    depends_on_source: Mapped[str | None] = mapped_column(String(64))
    depends_on_components: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    # What a passing run of this check usually says, fixed by its first pass
    # (or by the newest pass when 0010 converted older rows) and never
    # changed after: a run whose detail or facts equal it stores NULL there.
    usual_detail: Mapped[str | None] = mapped_column(Text)
    usual_facts: Mapped[str | None] = mapped_column(Text)


class Probe(Base):
    """A probe's name, stored once: each check run carries the probe's small id instead."""

    __tablename__ = "probe"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class CheckRun(Base):
    """One run of a check on one probe: the evidence ``why`` and the charts read.

    The table is the database's bulk (a year of 12 checks at 30 s is 12.6
    million rows), so a row holds numbers only, save where a run has
    something to say (``monitor.store.runcodes`` encodes and decodes it):
    times in integer milliseconds, durations in integer microseconds,
    outcome and failure class as small integers. ``detail`` and ``facts``
    are NULL where they equal the check's usual (``Check.usual_detail``,
    ``usual_facts``); the request id and the server's date are kept for
    failures only, which is what they are read for.

    On SQLite the table is clustered on its key (WITHOUT ROWID): a check's
    runs on one probe are one contiguous range, which is what ``why``
    walks, and no separate rowid is stored beside the key.
    """

    __tablename__ = "check_result"
    __table_args__ = (
        Index("ix_check_result_started", "started_ms"),
        # The failures alone, by time: what a report over months reads.
        Index(
            "ix_check_result_failed",
            "started_ms",
            sqlite_where=text("outcome = 1"),
            postgresql_where=text("outcome = 1"),
        ),
        {"sqlite_with_rowid": False},
    )

    check_id: Mapped[int] = mapped_column(
        ForeignKey("check.id", ondelete="CASCADE"), primary_key=True
    )
    probe_id: Mapped[int] = mapped_column(ForeignKey("probe.id"), primary_key=True)
    started_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    outcome: Mapped[int] = mapped_column(SmallInteger)  # runcodes.PASSED | FAILED | SKIPPED
    failure_class: Mapped[int | None] = mapped_column(SmallInteger)  # runcodes.FAILURE_CODES
    http_status: Mapped[int | None] = mapped_column(SmallInteger)
    duration_us: Mapped[int] = mapped_column(Integer)
    dns_us: Mapped[int | None] = mapped_column(Integer)
    connect_us: Mapped[int | None] = mapped_column(Integer)
    tls_us: Mapped[int | None] = mapped_column(Integer)
    ttfb_us: Mapped[int | None] = mapped_column(Integer)
    request_id: Mapped[str | None] = mapped_column(String(128))
    server_date_ms: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[str | None] = mapped_column(Text)
    facts: Mapped[str | None] = mapped_column(Text)  # canonical JSON (runcodes.facts_text)


class Heartbeat(Base):
    """The service was alive on a probe from ``started_at`` until ``last_seen``.

    One row per service start; "no data" between two rows is a gap in
    monitoring, not a healthy period.
    """

    __tablename__ = "heartbeat"
    __table_args__ = (UniqueConstraint("probe", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    probe: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    last_seen: Mapped[datetime]
    pid: Mapped[int]
    host: Mapped[str] = mapped_column(String(255))
    stopped_at: Mapped[datetime | None]


class RollupHourly(Base):
    """Check runs folded per check, probe and hour once the raw rows age out."""

    __tablename__ = "rollup_hourly"
    __table_args__ = (UniqueConstraint("check_id", "probe", "hour"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("check.id", ondelete="CASCADE"))
    probe: Mapped[str] = mapped_column(String(64))
    hour: Mapped[datetime]
    runs: Mapped[int]
    failures: Mapped[int]
    skipped: Mapped[int] = mapped_column(default=0)
    p50_ms: Mapped[float | None]
    p95_ms: Mapped[float | None]
    # failure class -> count, so a folded hour still says what went wrong
    failure_classes: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)


class ObservedEvent(Base):
    """A failure the user's own tools saw, imported from their logs (``monitor import``).

    ``fingerprint`` makes a re-import of the same file a no-op: it hashes the
    line's time, target and error text plus the line's ordinal among identical
    lines of that file, so two genuinely repeated failures both count once
    and a second import of the file adds nothing.
    """

    __tablename__ = "observed_event"
    __table_args__ = (Index("ix_observed_event_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    at: Mapped[datetime]
    # The configured upstream source these calls depend on (``--source``).
    source: Mapped[str | None] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(Text)
    failure_class: Mapped[str] = mapped_column(String(32))
    # The error text as the tool printed it, redacted and capped.
    error: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(Text)  # the file it came from
    imported_at: Mapped[datetime]


class Notification(Base):
    """One message about a change of answer (or a test), and whether it was delivered.

    ``answer`` is the answer's identity (``notify.tracker.Answer.key``): on a
    restart the service resumes from the last one announced per channel, so
    an outage going on is not announced twice. Title and body are what was
    sent, built from the redacted store; the channel's URL is never stored.
    """

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_probe_channel", "probe", "channel", "decided_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    probe: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # problem | changed | recovered | test
    verdict: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[str] = mapped_column(String(8))
    answer: Mapped[str] = mapped_column(Text)
    # When the failure this is about was first seen (None for a test).
    episode_start: Mapped[datetime | None]
    decided_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]  # None: not delivered
    attempts: Mapped[int]
    error: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
