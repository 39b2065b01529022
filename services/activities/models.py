"""Tables of the activities service: activities (classes, walks, contests, parties…), their route stops and
eligibility, their sessions, the venue holds that book their rooms through the bookings service, sign-ups
(with the capacity held by the database), attendance, the volunteers who help run a session and the hours
credited to them.

The capacity is a column, `Activity.taken` (places held by confirmed and offered sign-ups), guarded by a
CHECK constraint and raised only by a conditional UPDATE (signups.py): two sign-ups can never both take the
last place, on SQLite or PostgreSQL.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.db import UTCDateTime, ValueList, declare_infrastructure, owned_rows, utcnow


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


infra = declare_infrastructure(Base, request_log=True)


class Activity(Base):
    __tablename__ = "activities"
    id: Mapped[int] = mapped_column(primary_key=True)
    title_zh: Mapped[str] = mapped_column(String(200), default="")
    title_en: Mapped[str] = mapped_column(String(200), default="")
    description_zh: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    # rules.KINDS: class | walk | contest | party | film | workshop | fitness | other
    kind: Mapped[str] = mapped_column(String(16), index=True)
    # The volunteers team that runs it (its leads are organisers), if any.
    organiser_team_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    # The bookings site it belongs to (reports group by it) and its name when it was set.
    site_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    site_name: Mapped[str] = mapped_column(String(200), default="")
    capacity: Mapped[int] = mapped_column(Integer)
    # Places held: confirmed sign-ups and offers not yet lapsed. Only a conditional UPDATE raises it.
    taken: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    signup_opens_at: Mapped[datetime | None] = mapped_column(nullable=True)
    signup_closes_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # A participant may cancel until this long before the first session (organisers any time).
    cancel_before_minutes: Mapped[int] = mapped_column(Integer, default=0)
    max_places_per_person: Mapped[int] = mapped_column(Integer, default=1)
    one_per_household: Mapped[bool] = mapped_column(Boolean, default=False)
    # How long a waitlist offer is held for the person offered it.
    hold_minutes: Mapped[int] = mapped_column(Integer, default=30)
    # rules.ACTIVITY: open | cancelled | finished
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    created_by: Mapped[int] = mapped_column(Integer, index=True)
    # The creating request's idempotency key: a retried creation answers the activity it made (unique).
    request_key: Mapped[str | None] = mapped_column(String(200), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # SQLAlchemy's version counter (the activity's ETag; a concurrent change is refused, never lost).
    version: Mapped[int] = mapped_column(Integer, default=1)

    group_rows: Mapped[list[ActivityGroup]] = owned_rows("ActivityGroup", "group_name")
    # Who may sign up: beneficiary groups and roles (shared.identity); both empty = everyone.
    groups = ValueList("group_rows", "group_name", sort=True)
    role_rows: Mapped[list[ActivityRole]] = owned_rows("ActivityRole", "role")
    roles = ValueList("role_rows", "role", sort=True)
    organiser_rows: Mapped[list[ActivityOrganiser]] = owned_rows("ActivityOrganiser", "position")
    # The creator and the organiser team's leads when it was created (or later named).
    organiser_ids = ValueList("organiser_rows", "user_id")
    route: Mapped[list[RouteStop]] = owned_rows("RouteStop", "position")

    __table_args__ = (
        CheckConstraint("capacity >= 1", name="ck_activities_capacity"),
        CheckConstraint("taken >= 0 AND taken <= capacity", name="ck_activities_taken"),
    )
    __mapper_args__ = {"version_id_col": version}

    @classmethod
    def organised_by(cls, user_id: int):
        """SQL: the activities `user_id` organises."""
        return cls.id.in_(select(ActivityOrganiser.activity_id).where(ActivityOrganiser.user_id == user_id))


class ActivityGroup(Base):
    """A beneficiary group that may sign up for the activity."""

    __tablename__ = "activity_groups"
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True)
    group_name: Mapped[str] = mapped_column(String(32), primary_key=True)


class ActivityRole(Base):
    """A role whose holders may sign up for the activity."""

    __tablename__ = "activity_roles"
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class ActivityOrganiser(Base):
    """Someone who may change the activity, its sessions and check people in."""

    __tablename__ = "activity_organisers"
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class RouteStop(Base):
    """One stop of a walking lesson's route, in order."""

    __tablename__ = "route_stops"
    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")


class VenueHold(Base):
    """The saga's record of a room booked through the bookings service for some sessions.

    rules.HOLD: booking (asked, no answer yet) → held | refused | releasing → released. `reference` is sent
    with the booking, so the room can be released by it even when the answer was lost.
    """

    __tablename__ = "venue_holds"
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(36), unique=True)
    # No foreign key: the hold outlives an activity whose creation failed (its room is still given back).
    activity_id: Mapped[int] = mapped_column(Integer, index=True)
    space_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), index=True)
    booking_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Set on a hold that gives back one occurrence of a series (a session cancelled or moved): the timer cancels
    # that occurrence, not the whole booking made with the reference.
    occurrence_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the hold last changed; a hold in `releasing` is retried a while after it (the lease of one attempt).
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_venue_holds_state_updated", "state", "updated_at"),)


class ActivitySession(Base):
    """One meeting of an activity (a class, a walk, a heat). Visible once its hold (if any) is `held`."""

    __tablename__ = "activity_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    space_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Where, in words, when there is no space (a route's meeting point, a square).
    place: Mapped[str] = mapped_column(String(300), default="")
    # rules.SESSION: scheduled | cancelled | done
    state: Mapped[str] = mapped_column(String(16), default="scheduled")
    booking_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    occurrence_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The room's standing in bookings (rules.VENUE_STATUSES): confirmed | pending (awaiting the room's manager) |
    # lost (rejected, expired, cancelled or released there); NULL for a session without a room. Set from
    # bookings' answer when the room is booked, then kept up to date by bookings' events (rooms.py).
    venue_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("venue_holds.id"), nullable=True, index=True)
    walk_ins: Mapped[int] = mapped_column(Integer, default=0)
    # Random per session: the rotating check-in code is an HMAC of it and the time step.
    checkin_secret: Mapped[str] = mapped_column(String(64))
    reminded_at: Mapped[datetime | None] = mapped_column(nullable=True)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")

    hold: Mapped[VenueHold | None] = relationship()

    __table_args__ = (
        Index("ix_activity_sessions_state_start", "state", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="ck_activity_sessions_period"),
    )


class SignUp(Base):
    """Someone's sign-up for an activity: rules.SIGNUP, confirmed | waitlisted | offered | cancelled | expired.

    While a sign-up is live (confirmed, waitlisted, offered) `live_key` holds its user id and, for an activity
    of one sign-up per household, `household_key` its household; both are NULL once it is cancelled or
    expired. Their unique constraints make one live sign-up per person, and per household, per activity
    (NULLs never collide, on SQLite as on PostgreSQL).
    """

    __tablename__ = "signups"
    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    # The participant's name as their account gave it when signing up (for the organisers' lists).
    display_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    places: Mapped[int] = mapped_column(Integer, default=1)
    # The household as the participant gave it, normalised (rules.normalise_household), or NULL.
    household: Mapped[str | None] = mapped_column(String(200), nullable=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    # Until when an offered place is held for this person.
    hold_until: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    # Set while live (the user id), NULL once cancelled or expired: one live sign-up per person.
    live_key: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Set while live for an activity of one place per household (the household), else NULL.
    household_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)

    __table_args__ = (
        UniqueConstraint("activity_id", "live_key", name="uq_signups_live_person"),
        UniqueConstraint("activity_id", "household_key", name="uq_signups_live_household"),
        CheckConstraint("places >= 1", name="ck_signups_places"),
        Index("ix_signups_activity_state_created", "activity_id", "state", "created_at"),
    )


class Attendance(Base):
    """Someone's presence at a session, recorded once: a participant or a helper, in and (maybe) out."""

    __tablename__ = "attendance"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("activity_sessions.id"), index=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    role: Mapped[str] = mapped_column(String(16), default="participant")  # participant | helper
    checked_in_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_out_at: Mapped[datetime | None] = mapped_column(nullable=True)
    method: Mapped[str] = mapped_column(String(16), default="manual")  # code | ticket | manual

    __table_args__ = (UniqueConstraint("session_id", "user_id", name="uq_attendance_session_user"),)


class SessionHelper(Base):
    """A volunteer who helps run a session (their check-out credits their hours)."""

    __tablename__ = "session_helpers"
    session_id: Mapped[int] = mapped_column(ForeignKey("activity_sessions.id", ondelete="CASCADE"),
                                            primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
    # The volunteer's name from their profile when added.
    display_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    added_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class HoursCredit(Base):
    """Minutes credited to a helper for a session, once; written with its outbox event in one transaction."""

    __tablename__ = "hours_credits"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("activity_sessions.id"), index=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    minutes: Mapped[int] = mapped_column(Integer)
    credit_id: Mapped[str] = mapped_column(String(36), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("session_id", "user_id", name="uq_hours_credits_session_user"),)
