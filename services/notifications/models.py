"""Tables of the notifications service: the recipient directory, inboxes, channels, preferences,
broadcasts, reminders, and the delivery log of every channel send."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime, declare_infrastructure, utcnow


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


infra = declare_infrastructure(Base, request_log=True)


class Recipient(Base):
    """What notifications knows of an account (kept from the gateway's account events)."""

    __tablename__ = "recipients"
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), default="")
    display_name: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str] = mapped_column(String(8), default="zh-CN")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # Roles and beneficiary groups are rows of recipient_roles and recipient_groups (audiences are chosen by
    # them in SQL). The grids of an account event, kept whole and never filtered on: the volunteers
    # service's grid tree is the record of who belongs where.
    grids: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecipientRole(Base):
    """A role a recipient holds (an audience "everyone with the merchant role" is read from here)."""

    __tablename__ = "recipient_roles"
    user_id: Mapped[int] = mapped_column(ForeignKey("recipients.user_id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)

    __table_args__ = (Index("ix_recipient_roles_role", "role"),)


class RecipientGroup(Base):
    """A beneficiary group a recipient belongs to (rider, courier, …), confirmed by a coordinator."""

    __tablename__ = "recipient_groups"
    user_id: Mapped[int] = mapped_column(ForeignKey("recipients.user_id", ondelete="CASCADE"), primary_key=True)
    group_name: Mapped[str] = mapped_column(String(32), primary_key=True)

    __table_args__ = (Index("ix_recipient_groups_group", "group_name"),)


UNREAD = "read_at IS NULL AND superseded_at IS NULL"


class InboxEntry(Base):
    __tablename__ = "inbox_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    # The event (or broadcast) that caused it: one entry per user and cause, however often it arrives.
    source_key: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32), default="general")
    severity: Mapped[str] = mapped_column(String(16), default="info")
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # What the entry asks of its reader ("action:12" for "please accept"), while it may still be answered.
    awaits: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # When the question stopped being theirs (someone else accepted, it went elsewhere, it was settled):
    # a superseded entry no longer counts as unread.
    superseded_at: Mapped[datetime | None] = mapped_column(nullable=True)

    __table_args__ = (
        UniqueConstraint("user_id", "source_key", name="uq_inbox_user_source"),
        Index("ix_inbox_user_id_desc", "user_id", "id"),
        Index("ix_inbox_awaits", "awaits"),
        # The unread count reads a person's unread entries alone, however many they have read.
        Index("ix_inbox_unread", "user_id", postgresql_where=text(UNREAD), sqlite_where=text(UNREAD)),
    )


class Preference(Base):
    """A user's switches: per category and channel on/off, and quiet hours in their timezone."""

    __tablename__ = "notification_preferences"
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # {category: {channel name ("inbox" or a channel's name): bool}}; anything absent is on.
    rules: Mapped[dict] = mapped_column(JSON, default=dict)
    quiet_start: Mapped[str | None] = mapped_column(String(5), nullable=True)  # "22:00"
    quiet_end: Mapped[str | None] = mapped_column(String(5), nullable=True)  # "07:00"
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Channel(Base):
    """An external address (Apprise URL) of a user, a team or a grid; the URL is stored encrypted."""

    __tablename__ = "notification_channels"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_kind: Mapped[str] = mapped_column(String(8))  # user | team | grid
    owner_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(40))
    scheme: Mapped[str] = mapped_column(String(32))
    secret: Mapped[str] = mapped_column(Text)
    masked: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8), default="zh-CN")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("owner_kind", "owner_id", "name", name="uq_channel_owner_name"),
        Index("ix_channel_owner", "owner_kind", "owner_id"),
    )


class Delivery(Base):
    """One message to one channel. Sent by the delivery timer after the inbox commit, never inline."""

    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(primary_key=True)
    source_key: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[int] = mapped_column(ForeignKey("notification_channels.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    broadcast_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    type: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16), default="info")
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    # pending (due at next_attempt_at) | sending (claimed until locked_until) | sent | parked | expired
    status: Mapped[str] = mapped_column(String(12), default="pending")
    held_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)

    __table_args__ = (
        # The same event delivered twice sends once per channel.
        UniqueConstraint("source_key", "channel_id", name="uq_delivery_source_channel"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )


class DeliveryAttempt(Base):
    """The log of every send attempt: which channel, what happened."""

    __tablename__ = "delivery_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(64))  # the masked address
    status: Mapped[str] = mapped_column(String(8))  # sent | failed
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Broadcast(Base):
    """A notice from a coordinator to an audience; fanned out by a timer that claims it once."""

    __tablename__ = "broadcasts"
    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # The English text, told to people whose locale is English (the Chinese one when absent).
    title_en: Mapped[str | None] = mapped_column(String(200), nullable=True)
    body_en: Mapped[str | None] = mapped_column(Text, nullable=True)
    severity: Mapped[str] = mapped_column(String(16), default="info")
    # Snapshots taken when it was created, only ever read whole: the audience as asked (shown back), everyone it
    # reached then (the fan-out walks it chunk by chunk), and the group channels (teams, grids) it addresses.
    audience: Mapped[list] = mapped_column(JSON, default=list)
    recipient_ids: Mapped[list] = mapped_column(JSON, default=list)
    group_channel_ids: Mapped[list] = mapped_column(JSON, default=list)
    # scheduled (waits for send_at) | sending (claimed) | done
    state: Mapped[str] = mapped_column(String(12), default="scheduled")
    send_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    targeted: Mapped[int] = mapped_column(Integer, default=0)
    inboxed: Mapped[int] = mapped_column(Integer, default=0)
    fan_out_runs: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(nullable=True)

    __table_args__ = (Index("ix_broadcasts_due", "state", "send_at"),)


class Reminder(Base):
    """A message due at a time (an action's deadline is near); fired once by a guarded claim."""

    __tablename__ = "reminders"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime] = mapped_column()
    user_ids: Mapped[list] = mapped_column(JSON, default=list)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    # scheduled | fired | cancelled
    state: Mapped[str] = mapped_column(String(12), default="scheduled")
    fired_at: Mapped[datetime | None] = mapped_column(nullable=True)

    __table_args__ = (Index("ix_reminders_due", "state", "due_at"),)
