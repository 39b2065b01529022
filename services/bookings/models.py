"""Tables of the bookings service: sites, spaces, bookings (the rule) and their occurrences (one row each).

A booking that takes k units of a pool has k occurrence rows per slot (one per unit number), so the
exclusion constraint over (space, unit, period) alone guarantees that no unit is ever used twice.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.bookings.states import LIVE_STATES  # noqa: F401 (re-exported: the queries filter on it)
from shared.db import UTCDateTime, ValueList, declare_infrastructure, owned_rows, utcnow

# Occurrence states that hold their slot (LIVE_STATES, see states.py) are the only ones in the exclusivity
# constraint. `held`: a freed slot kept for the first person on the waitlist while they decide.


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


infra = declare_infrastructure(Base, request_log=True)


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
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The longest period (duration + buffer, minutes) any occurrence of this space may block, ever:
    # it bounds the "overlaps this day" query from below so it reads only that day's index range.
    max_block_minutes: Mapped[int] = mapped_column(Integer, default=24 * 60, server_default="1440")

    site: Mapped[Site] = relationship()
    managers: Mapped[list[SpaceManager]] = owned_rows("SpaceManager", "user_id")
    # The people who manage the space (approve its bookings, change its rules), by user id.
    manager_ids = ValueList("managers", "user_id")

    @classmethod
    def managed_by(cls, user_id: int):
        """SQL: the spaces `user_id` manages."""
        return cls.id.in_(select(SpaceManager.space_id).where(SpaceManager.user_id == user_id))


class SpaceManager(Base):
    """One manager of one space (a relation filtered in SQL, hence a table, not a JSON list)."""

    __tablename__ = "space_managers"
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)


class Blackout(Base):
    """A period in which a space (or every space of a site) cannot be booked: holidays, maintenance."""

    __tablename__ = "blackouts"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), nullable=True, index=True)
    space_id: Mapped[int | None] = mapped_column(ForeignKey("spaces.id"), nullable=True, index=True)
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Booking(Base):
    __tablename__ = "bookings"
    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id"), index=True)
    booker_id: Mapped[int] = mapped_column(Integer, index=True)
    team_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    # See states.BOOKING: pending | confirmed | rejected | cancelled | expired | released | offered (waitlist
    # hold) | lapsed
    status: Mapped[str] = mapped_column(String(16))
    units: Mapped[int] = mapped_column(Integer, default=1)
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    rrule: Mapped[str | None] = mapped_column(Text, nullable=True)
    exdates: Mapped[list] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    # SQLAlchemy's version counter: every UPDATE of the row bumps it and carries `WHERE version = :seen`,
    # so a concurrent change is a StaleDataError, never a lost update. The booking's ETag and the
    # calendar's SEQUENCE.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The zone the rule was expanded in (the space's), so calendars reproduce the same instants.
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai", server_default="Asia/Shanghai")
    decided_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # The caller's own name for this booking (another service's saga), so a retried create answers the
    # booking it made and `release_reference` can give it back; NULL for bookings made by people.
    reference: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True, index=True)

    space: Mapped[Space] = relationship()
    occurrences: Mapped[list[Occurrence]] = relationship(
        back_populates="booking", order_by=lambda: [Occurrence.starts_at, Occurrence.unit])

    __mapper_args__ = {"version_id_col": version}


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
    # See states.OCCURRENCE: pending | confirmed | checked_in | held | cancelled | rejected | expired | released
    # | lapsed
    status: Mapped[str] = mapped_column(String(16))
    checked_in_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # When an un-checked-in occurrence is given back (spaces that require check-in), else NULL.
    release_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    reminded_at: Mapped[datetime | None] = mapped_column(nullable=True)

    booking: Mapped[Booking] = relationship(back_populates="occurrences")

    __table_args__ = (
        Index("ix_occurrences_space_time", "space_id", "starts_at", "blocked_until"),
        # The timers look for live occurrences by start across all spaces.
        Index("ix_occurrences_status_start", "status", "starts_at"),
    )


class ReleasedReference(Base):
    """A booking reference given back (`release_reference`): the booking made with it, if any, is cancelled,
    and a create_booking that comes with it later is refused, so a saga that gave up leaves nothing held."""

    __tablename__ = "released_references"
    reference: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The booking that was cancelled for it (NULL: none had been made with it yet).
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), nullable=True)
    released_by: Mapped[int | None] = mapped_column(Integer, nullable=True)  # NULL: the system
    released_at: Mapped[datetime] = mapped_column(default=utcnow)


class WaitlistEntry(Base):
    """Someone waiting for a full slot; offered it (held for a while) when it frees up."""

    __tablename__ = "waitlist"
    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id"), index=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    units: Mapped[int] = mapped_column(Integer, default=1)
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    # See states.WAITLIST: waiting | offered | accepted | lapsed | left | closed (the slot started before it
    # freed up) | skipped (when the slot freed up, the person broke a rule of the space: see `reason`)
    status: Mapped[str] = mapped_column(String(16), index=True)
    # Why an entry was skipped (the rule broken), else "".
    reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), nullable=True)
    hold_until: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# PostgreSQL enforces "never a double booking" itself. The initial migration created this constraint;
# the `blackouts, waitlist...` migration recreated it over LIVE_STATES, which now include `held`.
EXCLUSION_DDL = (
    "ALTER TABLE occurrences ADD CONSTRAINT occurrences_no_overlap EXCLUDE USING gist "
    "(space_id WITH =, unit WITH =, tstzrange(starts_at, blocked_until, '[)') WITH &&) "
    "WHERE (status IN ('pending', 'confirmed', 'checked_in'))"
)
