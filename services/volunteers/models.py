"""Tables of the volunteers service."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    or_,
    select,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.volunteers.lifecycle import OPEN_STATES
from shared.db import UTCDateTime, ValueList, declare_infrastructure, owned_rows, utcnow


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


infra = declare_infrastructure(Base, request_log=True)


def _states(states) -> str:
    return "(" + ", ".join(f"'{state}'" for state in sorted(states)) + ")"


# The rows of the partial indexes on actions, as SQL (the lists are frozen in migration 0c5e8a1d7b32).
LIVE_PREDICATE = f"state IN {_states(OPEN_STATES | {'resolved'})}"
OPEN_PREDICATE = f"kind = 'single' AND state IN {_states(OPEN_STATES)}"


class Grid(Base):
    """A node of the grid tree: level 3 sub-district (command), 2 big grid, 1 micro-grid."""

    __tablename__ = "grids"
    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[int] = mapped_column(Integer)
    # The record of coordinator scope: who coordinates this grid (and so its subtree).
    coordinator_links: Mapped[list[GridCoordinator]] = owned_rows("GridCoordinator", "position")
    coordinator_ids = ValueList("coordinator_links", "user_id")
    # The grid's shape for the colour map: a GeoJSON Polygon in lon/lat (WGS 84), one closed ring, or None
    # (docs/volunteers.md, "Grid outlines").
    outline: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GridCoordinator(Base):
    """A coordinator named on a grid node."""

    __tablename__ = "grid_coordinators"
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # rider_knights | good_shops | placemakers | storytellers | action_team | other
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    # open: joining is immediate | approval: a lead or coordinator approves | invitation: only invitees join
    join_policy: Mapped[str] = mapped_column(String(16), default="approval", server_default="approval")


class TeamMember(Base):
    __tablename__ = "team_members"
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    role: Mapped[str] = mapped_column(String(16), default="member")  # lead | member
    status: Mapped[str] = mapped_column(String(16))  # invited | pending | active
    invited_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    joined_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("team_id", "user_id", name="uq_team_members_team_user"),)


class Volunteer(Base):
    """A volunteer profile, keyed by the account's user id (so a volunteer id *is* a user id)."""

    __tablename__ = "volunteers"
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    display_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(32), default="")
    # {"repair": 3, "first_aid": 1}: skill name -> level 1..5
    # Filtered in SQL by `has_skill` (portable JSON path on SQLite and PostgreSQL).
    skills: Mapped[dict] = mapped_column(JSON, default=dict)
    grid_links: Mapped[list[VolunteerGrid]] = owned_rows("VolunteerGrid", "position")
    grid_ids = ValueList("grid_links", "grid_id")
    # [{"weekday": 0, "start": "18:00", "end": "22:00"}] in the volunteer's time zone
    availability: Mapped[list] = mapped_column(JSON, default=list)
    # [{"starts_at": iso, "ends_at": iso, "reason": ""}] (UTC)
    unavailable: Mapped[list] = mapped_column(JSON, default=list)
    on_leave: Mapped[bool] = mapped_column(Boolean, default=False)
    max_open_actions: Mapped[int] = mapped_column(Integer, default=3)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    last_action_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


    @classmethod
    def has_skill(cls, skill: str):
        """SQL: the volunteer lists `skill` (at any level)."""
        return cls.skills[skill].as_integer().is_not(None)

    @classmethod
    def in_grids(cls, grid_ids):
        """SQL: the volunteer belongs to one of `grid_ids`."""
        return cls.user_id.in_(select(VolunteerGrid.user_id).where(VolunteerGrid.grid_id.in_(grid_ids)))


class VolunteerGrid(Base):
    """A grid a volunteer belongs to."""

    __tablename__ = "volunteer_grids"
    user_id: Mapped[int] = mapped_column(ForeignKey("volunteers.user_id", ondelete="CASCADE"), primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id", ondelete="CASCADE"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Category(Base):
    """An action category and its time limits per level (minutes), e.g. shop_sign: accept 30 min at level 1."""

    __tablename__ = "action_categories"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    accept_within_minutes: Mapped[dict] = mapped_column(JSON, default=dict)
    resolve_within_minutes: Mapped[dict] = mapped_column(JSON, default=dict)
    required_skill: Mapped[str | None] = mapped_column(String(64), nullable=True)
    min_skill_level: Mapped[int] = mapped_column(Integer, default=1)


class Action(Base):
    """A reported problem or a task, handled through the closed loop and the three whistles."""

    __tablename__ = "actions"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="single")  # single | mass (a parent of checks)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id"), nullable=True, index=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(ForeignKey("action_categories.name"))
    description: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(300), default="")
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    photo_urls: Mapped[list] = mapped_column(JSON, default=list)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    merchant_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    level: Mapped[int] = mapped_column(Integer, default=1)
    level_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The next time limit (accept or resolve at the current level); the escalation timer scans it.
    deadline_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    deadline_kind: Mapped[str | None] = mapped_column(String(8), nullable=True)
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    reporter_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    # The reporter's display name when they reported, from the signed-in caller (as a timeline's actor_name).
    reporter_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    follower_links: Mapped[list[ActionFollower]] = owned_rows("ActionFollower", "position")
    follower_ids = ValueList("follower_links", "user_id")
    # Candidates asked to act; those who declined; the one who accepted.
    candidate_links: Mapped[list[ActionCandidate]] = owned_rows("ActionCandidate", "position")
    candidate_ids = ValueList("candidate_links", "user_id")
    declined_links: Mapped[list[ActionDecline]] = owned_rows("ActionDecline", "position")
    declined_ids = ValueList("declined_links", "user_id")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), nullable=True)
    accepted_by: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # The display name of who accepted, when they accepted ("" while nobody has).
    accepted_by_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    resolved_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    feedback: Mapped[str] = mapped_column(Text, default="")
    checklist: Mapped[list] = mapped_column(JSON, default=list)  # [{"item": str, "done": bool}]
    survivor_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id"), nullable=True)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Every change bumps the version and SQLAlchemy adds `WHERE version = :seen` to the UPDATE: the guarded
    # update that lets exactly one of many concurrent accepts (or escalation timers) win.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_actions_open_deadline", "state", "deadline_at"),
        # A coordinator's queue, newest first: only the live actions (open, or resolved and awaiting the
        # reporter), so a page reads past other grids' live work, never past years of closed actions.
        Index("ix_actions_live", "id", postgresql_where=text(LIVE_PREDICATE), sqlite_where=text(LIVE_PREDICATE)),
        # The colour map counts the open actions of every grid from this index alone (an index-only scan).
        Index("ix_actions_open_by_grid", "grid_id", "deadline_at", "escalations",
              postgresql_where=text(OPEN_PREDICATE), sqlite_where=text(OPEN_PREDICATE)),
    )


    @classmethod
    def seen_by(cls, user_id: int):
        """SQL: `user_id` reported, follows, was asked to take or accepted the action."""
        return or_(cls.reporter_id == user_id, cls.accepted_by == user_id,
                   cls.id.in_(select(ActionFollower.action_id).where(ActionFollower.user_id == user_id)),
                   cls.id.in_(select(ActionCandidate.action_id).where(ActionCandidate.user_id == user_id)))


class _ActionPerson:
    """A person linked to an action (one table per relation)."""

    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class ActionFollower(_ActionPerson, Base):
    """Someone told of the action's changes (the reporter, those of merged duplicates)."""

    __tablename__ = "action_followers"


class ActionCandidate(_ActionPerson, Base):
    """A volunteer asked to take the action (in the dispatcher's order)."""

    __tablename__ = "action_candidates"


class ActionDecline(_ActionPerson, Base):
    """A candidate who declined."""

    __tablename__ = "action_declines"


class TimelineEntry(Base):
    """One change of an action: who, when, what, note."""

    __tablename__ = "action_timeline"
    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"), index=True)
    verb: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The actor's display name when they acted, from the signed-in caller ("" for the system).
    actor_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class WorkLog(Base):
    """Hours a volunteer gave: on an action (from accept to resolve, editable with a reason), or helping run
    an activity's session (credited by the activities service at check-out, `activity.hours_credited`,
    applied once per `credit_id`). A volunteer's and a team's hours are the sum of both kinds."""

    __tablename__ = "work_logs"
    id: Mapped[int] = mapped_column(primary_key=True)
    # The action worked on; NULL for an activity's hours.
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id"), nullable=True, index=True)
    # The activity session helped with, and the credit that recorded it (activities' ids); NULL for an action.
    activity_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    activity_session_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    credit_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # What the hours were for, as the activity was titled when they were credited ("" for an action).
    title: Mapped[str] = mapped_column(String(200), default="", server_default="")
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    team_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    minutes: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime] = mapped_column()
    edit_reason: Mapped[str] = mapped_column(Text, default="")
    edited_by: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (
        UniqueConstraint("action_id", "user_id", name="uq_work_logs_action_user"),
        UniqueConstraint("credit_id", name="uq_work_logs_credit"),
        CheckConstraint("action_id IS NOT NULL OR credit_id IS NOT NULL", name="ck_work_logs_action_or_credit"),
    )


class Visit(Base):
    """A grid worker's visit to a merchant (十必访、十必记、五必报)."""

    __tablename__ = "visits"
    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), nullable=True, index=True)
    visitor_id: Mapped[int] = mapped_column(Integer)
    visited_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    findings: Mapped[str] = mapped_column(Text, default="")
    needs_follow_up: Mapped[bool] = mapped_column(Boolean, default=False)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id"), nullable=True)
