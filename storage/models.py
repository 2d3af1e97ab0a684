"""The tables: workspaces, technicians, clients and what happens between them."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import Latest, UTCDateTime

# Named constraints let Alembic alter and drop them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DEFAULT_CADENCE_DAYS = 30
DEFAULT_FEEDBACK_EVERY_DAYS = 90


class Base(DeclarativeBase):
    """Declarative base carrying the constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Short strings with a CHECK constraint: portable, readable in psql, no native enum to migrate.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [member.value for member in members],
    )


class TouchKind(enum.StrEnum):
    """How a technician was in touch with a client."""

    VISIT = "visit"
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"


class CallOutcome(enum.StrEnum):
    """What came of a phone call."""

    SPOKE = "spoke"
    VOICEMAIL = "voicemail"


class AppointmentStatus(enum.StrEnum):
    """Where a planned appointment stands."""

    PLANNED = "planned"
    CANCELLED = "cancelled"


class Workspace(Base):
    """A team using Nudgebot on one chat platform: a Slack workspace, or a Microsoft 365 tenant on Teams."""

    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "slack" or "teams", and the platform's id for the team: a Slack team id or a Teams tenant id.
    platform: Mapped[str] = mapped_column(String(16), default="slack", server_default="slack")
    external_id: Mapped[str] = mapped_column(String(64))
    # Where the weekly digest goes when chosen from chat (Teams: "@Nudgebot digest here"); a
    # conversation id. Slack workspaces use DIGEST_CHANNEL when this is unset.
    digest_channel: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A client with no feedback for this many days earns its owner a nudge to ask how we are doing.
    feedback_every_days: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_FEEDBACK_EVERY_DAYS, server_default=str(DEFAULT_FEEDBACK_EVERY_DAYS)
    )


class Technician(Base):
    """A person who visits clients; known by their chat user id (Slack) or Entra object id (Teams)."""

    __tablename__ = "technicians"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(64))
    # The person's id in the bot's own conversations (Teams gives each bot its own "29:…" id), needed
    # to open a 1:1 chat with them; None on Slack.
    member_id: Mapped[str | None] = mapped_column(String(300))
    display_name: Mapped[str | None] = mapped_column(String(200))
    # From the chat profile: how an imported client list may name an owner, where the display name is
    # often a first name (the e-mail needs Slack's users:read.email).
    email: Mapped[str | None] = mapped_column(String(320))
    full_name: Mapped[str | None] = mapped_column(String(200))
    # IANA zone from the chat profile; None until the profile has been fetched.
    timezone: Mapped[str | None] = mapped_column(String(64))
    profile_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Working hours in the technician's zone (minutes after midnight) and weekdays (0 = Monday).
    work_start_minute: Mapped[int] = mapped_column(Integer, default=8 * 60, server_default="480")
    work_end_minute: Mapped[int] = mapped_column(Integer, default=18 * 60, server_default="1080")
    work_days: Mapped[str] = mapped_column(String(7), default="01234", server_default="01234")
    # No nudges before this local date (a vacation).
    paused_until: Mapped[date | None] = mapped_column(Date)
    # A zone the technician chose on App Home; it wins over the one from their chat profile.
    timezone_override: Mapped[str | None] = mapped_column(String(64))
    # Kinds of nudge the technician turned off, comma-separated ("checkin,appointment").
    muted_kinds: Mapped[str] = mapped_column(String(200), default="", server_default="")


class Client(Base):
    """A company the team looks after, with its contact and check-in cadence."""

    __tablename__ = "clients"
    __table_args__ = (
        UniqueConstraint("workspace_id", "match_key"),
        # The check-in planner's cut-off, one index per case (touched, never touched): migration 0003.
        Index("ix_clients_cadence_last_touch", "checkin_cadence_days", "last_touch_at"),
        Index(
            "ix_clients_cadence_untouched",
            "checkin_cadence_days",
            "created_at",
            postgresql_where=text("last_touch_at IS NULL"),
            sqlite_where=text("last_touch_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    # Case-folded, NFKC-normalised name: what "the same client" means when matching.
    match_key: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id", ondelete="SET NULL"))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    contact_phone: Mapped[str | None] = mapped_column(String(64))
    checkin_cadence_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_CADENCE_DAYS)
    checkin_snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_touch_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A client who left: no check-in reminders, out of the digest's figures, its history kept.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the client last told us how we are doing, and when its owner last asked them: the "ask how
    # we're doing" nudge runs from the later of the two.
    last_feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    feedback_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    owner: Mapped[Technician | None] = relationship()
    workspace: Mapped[Workspace] = relationship()


# Since when the client has been quiet: the latest of when they were added, last told us how we are
# doing, and were last asked. The question is due no sooner than the workspace's interval after it
# (`bot.feedback.ask_due_at` adds the first asking's spread), so the question planner reads only the
# owned, open clients quiet that long through this index, not every client: migration 0008.
CLIENT_QUIET_SINCE = Latest(
    Client.created_at,
    func.coalesce(Client.last_feedback_at, Client.created_at),
    func.coalesce(Client.feedback_asked_at, Client.created_at),
)
Index(
    "ix_clients_quiet_since",
    CLIENT_QUIET_SINCE,
    postgresql_where=text("owner_id IS NOT NULL AND archived_at IS NULL"),
    sqlite_where=text("owner_id IS NOT NULL AND archived_at IS NULL"),
)


class Visit(Base):
    """A visit logged by a technician, and whether its summary e-mail has gone to the client."""

    __tablename__ = "visits"
    __table_args__ = (
        Index(None, "technician_id", "followup_sent_at"),
        # Only follow-ups not yet sent, for the planner: migration 0003.
        Index(
            "ix_visits_followup_open",
            "visited_at",
            postgresql_where=text("followup_sent_at IS NULL"),
            sqlite_where=text("followup_sent_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id", ondelete="CASCADE"))
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime())
    minutes: Mapped[int] = mapped_column(Integer)
    work_done: Mapped[str] = mapped_column(Text)
    remaining: Mapped[str | None] = mapped_column(Text)
    followup_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    followup_snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    client: Mapped[Client] = relationship()
    technician: Mapped[Technician] = relationship()
    # The changes announced to the client whose window this visit was the first one after.
    announced: Mapped[list[Notice]] = relationship(viewonly=True, order_by="Notice.window_start")


class Touch(Base):
    """Any contact with a client (visit, call, e-mail, meeting); each restarts the check-in clock."""

    __tablename__ = "touches"
    __table_args__ = (Index(None, "client_id", "touched_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id", ondelete="CASCADE"))
    kind: Mapped[TouchKind] = mapped_column(_enum(TouchKind, "touch_kind"))
    outcome: Mapped[CallOutcome | None] = mapped_column(_enum(CallOutcome, "call_outcome"))
    note: Mapped[str | None] = mapped_column(Text)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    touched_at: Mapped[datetime] = mapped_column(UTCDateTime())

    visit: Mapped[Visit | None] = relationship()


class Appointment(Base):
    """A planned visit with an arrival window; a cancelled one waits for a phone call to the client."""

    __tablename__ = "appointments"
    __table_args__ = (
        Index(None, "client_id", "status", "window_start"),
        # Open call tasks and today's appointments, for the planners: migration 0003.
        Index(
            "ix_appointments_call_open",
            "technician_id",
            postgresql_where=text("status = 'cancelled' AND call_logged_at IS NULL"),
            sqlite_where=text("status = 'cancelled' AND call_logged_at IS NULL"),
        ),
        Index("ix_appointments_status_window_start", "status", "window_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id", ondelete="CASCADE"))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[AppointmentStatus] = mapped_column(
        _enum(AppointmentStatus, "appointment_status"), default=AppointmentStatus.PLANNED
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # Set when the client was phoned about the cancellation: closes the "call the client" task.
    call_logged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    client: Mapped[Client] = relationship()


class Promise(Base):
    """Something a technician told a client they would do, by a due date."""

    __tablename__ = "promises"
    __table_args__ = (
        Index(None, "technician_id", "done_at", "due_at"),
        # Only promises not yet kept, for the planner: migration 0003.
        Index(
            "ix_promises_open",
            "due_at",
            postgresql_where=text("done_at IS NULL"),
            sqlite_where=text("done_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    times_moved: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    client: Mapped[Client] = relationship()


class Notice(Base):
    """A change announced to a client before it is made; the e-mail counts once they acknowledge it."""

    __tablename__ = "notices"
    __table_args__ = (
        Index(None, "client_id", "window_start"),
        # Notices still waiting for the client's word, for the planner.
        Index(
            "ix_notices_open",
            "window_start",
            postgresql_where=text("acknowledged_at IS NULL"),
            sqlite_where=text("acknowledged_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id", ondelete="CASCADE"))
    what: Mapped[str] = mapped_column(Text)
    # What the client will notice during the window; None: the draft's general words.
    impact: Mapped[str | None] = mapped_column(Text)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # "link" (the client clicked), "button" (the technician says so) or "call" (a call was logged).
    acknowledged_via: Mapped[str | None] = mapped_column(String(16))
    # The first visit logged for the client after the window, whose follow-up shows what was announced.
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id", ondelete="SET NULL"))

    client: Mapped[Client] = relationship()
    technician: Mapped[Technician] = relationship()


class Feedback(Base):
    """What a client told us about how we are doing: a score from 1 (unhappy) to 5 (happy) and words."""

    __tablename__ = "feedback"
    __table_args__ = (
        # One answer per link (a second click changes it rather than adding one).
        UniqueConstraint("workspace_id", "link_key"),
        Index(None, "client_id", "given_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id", ondelete="SET NULL"))
    # Who it is about: the visit's technician, the owner who asked, or whoever recorded it.
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id", ondelete="SET NULL"))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    # "link", "command", "visit", "call" or "button".
    source: Mapped[str] = mapped_column(String(16))
    # What a one-click link was bound to ("visit:12", "ask:5:2026-12-06"); None for answers typed in chat.
    link_key: Mapped[str | None] = mapped_column(String(64))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    client: Mapped[Client] = relationship()
    visit: Mapped[Visit | None] = relationship()


class Risk(Base):
    """An unhappy client: at risk until a repair is logged and their next word is not negative."""

    __tablename__ = "risks"
    __table_args__ = (
        # At most one open risk per client: a second unhappy mark re-flags it.
        Index(
            "ix_risks_open",
            "client_id",
            unique=True,
            postgresql_where=text("closed_at IS NULL"),
            sqlite_where=text("closed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The latest unhappy mark: the reminders to repair it run from here.
    flagged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    feedback_id: Mapped[int | None] = mapped_column(ForeignKey("feedback.id", ondelete="SET NULL"))
    # Told at once besides the owner: the technician of the visit it is about, or who recorded it.
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id", ondelete="SET NULL"))
    repaired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    repair_note: Mapped[str | None] = mapped_column(Text)
    repaired_by_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # "happy again" (repaired, then a word that was not negative) or "answer changed" (a misclick undone).
    closed_how: Mapped[str | None] = mapped_column(String(32))

    client: Mapped[Client] = relationship()
    feedback: Mapped[Feedback | None] = relationship()


class NeedDismissal(Base):
    """A suggested proactive conversation set aside: not useful (for good), or raised with the client."""

    __tablename__ = "need_dismissals"
    __table_args__ = (UniqueConstraint("client_id", "topic"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(64))
    # None: not useful, never suggested again; else when it was raised (only later visits count again).
    raised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id", ondelete="SET NULL"))
    dismissed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProcessedRequest(Base):
    """A chat request already acted on, so a replayed or double-clicked one changes nothing twice."""

    __tablename__ = "processed_requests"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class NudgeStatus(enum.StrEnum):
    """Where a nudge stands in the outbox."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"
    SKIPPED = "skipped"


class Nudge(Base):
    """An outbox row: one reminder about one subject for one period, planned once, sent at most once.

    `subject` names what it is about ("visit:12", "appointment:3", "promise:7", "client:5"); `period`
    names the occurrence ("first", "2026-11-24", "call-2"), so planning the same instant twice, from
    two processes or after a restart inserts nothing new. A managers' digest is a row too (kind
    "digest", no technician), posted to `channel` in several parts; `parts_sent` says how far it got.
    """

    __tablename__ = "nudges"
    __table_args__ = (
        UniqueConstraint("workspace_id", "subject", "kind", "period"),
        Index(None, "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(64))
    status: Mapped[NudgeStatus] = mapped_column(
        _enum(NudgeStatus, "nudge_status"), default=NudgeStatus.PENDING
    )
    # When it is meant to arrive (in the technician's working hours), and when to try next.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    channel: Mapped[str | None] = mapped_column(String(300))
    message_ts: Mapped[str | None] = mapped_column(String(300))
    last_error: Mapped[str | None] = mapped_column(Text)
    parts_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    technician: Mapped[Technician | None] = relationship()


class Conversation(Base):
    """A conversation the bot can write to without being asked: a person's 1:1 chat with it, or a channel.

    Teams needs one to send anything (its id and the service URL it lives at); they are stored from
    every activity, refreshed when they change and removed when the bot is uninstalled. Slack needs
    none (a user id opens a DM).
    """

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("workspace_id", "conversation_id"),
        Index(None, "technician_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(String(300))
    # "personal" (a 1:1 chat), "channel" or "groupChat".
    kind: Mapped[str] = mapped_column(String(16))
    service_url: Mapped[str] = mapped_column(String(500))
    # The person whose 1:1 chat it is; None for channels and group chats.
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id", ondelete="CASCADE"))
    # The team a channel belongs to, so uninstalling from the team forgets its channels.
    team_id: Mapped[str | None] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RateGate(Base):
    """A workspace the chat platform has told to slow down (HTTP 429), shared by every sender process."""

    __tablename__ = "rate_gates"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    blocked_until: Mapped[datetime] = mapped_column(UTCDateTime())
