"""Tables of the bookings service: sites, spaces, bookings (the rule) and their occurrences (one row each)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.db import UTCDateTime, declare_infrastructure, utcnow

# Occurrence states that hold their slot; only these take part in the exclusivity constraint.
LIVE_STATES = ("pending", "confirmed", "checked_in")


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


infra = declare_infrastructure(Base)


class Site(Base):
    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default="centre")  # centre | hub | grid_station | micro_station
    address: Mapped[str] = mapped_column(String(300), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Space(Base):
    __tablename__ = "spaces"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="room")  # room | pool
    capacity: Mapped[int] = mapped_column(Integer, default=1)  # people for rooms
    units: Mapped[int] = mapped_column(Integer, default=1)  # identical units for pools
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    equipment: Mapped[list] = mapped_column(JSON, default=list)
    # Opening hours and booking rules as JSON (see rules.py for their meaning).
    rules: Mapped[dict] = mapped_column(JSON, default=dict)
    manager_ids: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    site: Mapped[Site] = relationship()


class Booking(Base):
    __tablename__ = "bookings"
    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id"), index=True)
    booker_id: Mapped[int] = mapped_column(Integer, index=True)
    team_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16))  # pending | confirmed | rejected | cancelled | expired
    units: Mapped[int] = mapped_column(Integer, default=1)
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    rrule: Mapped[str | None] = mapped_column(Text, nullable=True)
    exdates: Mapped[list] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    space: Mapped[Space] = relationship()
    occurrences: Mapped[list[Occurrence]] = relationship(back_populates="booking", order_by="Occurrence.starts_at")


class Occurrence(Base):
    __tablename__ = "occurrences"
    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id"))
    unit: Mapped[int] = mapped_column(Integer, default=1)
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    # End of the slot this occurrence blocks: its end plus the space's buffer.
    blocked_until: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(16))  # pending | confirmed | checked_in | cancelled | released | ...
    checked_in_at: Mapped[datetime | None] = mapped_column(nullable=True)

    booking: Mapped[Booking] = relationship(back_populates="occurrences")

    __table_args__ = (
        Index("ix_occurrences_space_time", "space_id", "starts_at", "blocked_until"),
    )


# PostgreSQL enforces "never a double booking" itself (created in the migration):
EXCLUSION_DDL = (
    "ALTER TABLE occurrences ADD CONSTRAINT occurrences_no_overlap EXCLUDE USING gist "
    "(space_id WITH =, unit WITH =, tstzrange(starts_at, blocked_until, '[)') WITH &&) "
    "WHERE (status IN ('pending', 'confirmed', 'checked_in'))"
)
