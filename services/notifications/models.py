"""Tables of the notifications service: the recipient directory and each user's inbox."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime, declare_infrastructure, utcnow


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


infra = declare_infrastructure(Base)


class Recipient(Base):
    """What notifications knows of an account (kept from the gateway's account events)."""

    __tablename__ = "recipients"
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), default="")
    display_name: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str] = mapped_column(String(8), default="zh-CN")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    roles: Mapped[list] = mapped_column(JSON, default=list)
    grids: Mapped[list] = mapped_column(JSON, default=list)
    groups: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


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

    __table_args__ = (
        UniqueConstraint("user_id", "source_key", name="uq_inbox_user_source"),
        Index("ix_inbox_user_id_desc", "user_id", "id"),
    )
