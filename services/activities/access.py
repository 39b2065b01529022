"""Who may see and change what, and the queries every use-case of activities shares (not a use-case module:
the use-case modules import from here, never from each other).

Organisers of an activity are its `organiser_ids` (the creator and the organising team's leads), coordinators
and admins. A session is there for others once its room is held (or it needs none).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from services.activities.contracts import SignUpSchema
from services.activities.models import Activity, ActivitySession, SignUp
from services.activities.rules import cancel_deadline
from shared.db import get_or_404
from shared.errors import Forbidden
from shared.identity import Caller

ORGANISERS_ONLY = "Only the activity's organisers, coordinators and admins may do this."


def organises(caller: Caller, activity: Activity) -> bool:
    return caller.has_role("coordinator") or (
        caller.user_id is not None and caller.user_id in activity.organiser_ids)


def visible(row: ActivitySession) -> bool:
    """A session is there for others once its room was had (bookings' answer recorded), or when it needs none;
    while its room is being asked for it is hidden, and it is deleted if the room cannot be had."""
    return row.hold_id is None or row.booking_id is not None


def shown():
    """SQL: the sessions that are there, as `visible`."""
    return or_(ActivitySession.hold_id.is_(None), ActivitySession.booking_id.is_not(None))


def activity_of(session: Session, caller: Caller, activity_id: int, *, lock: bool = False) -> Activity:
    """The activity (any signed-in caller sees it), or 404."""
    caller.require()
    return get_or_404(session, Activity, activity_id, "Activity", lock=lock)


def organised(session: Session, caller: Caller, activity_id: int, *, lock: bool = False) -> Activity:
    """The activity, if the caller organises it (403 otherwise)."""
    activity = activity_of(session, caller, activity_id, lock=lock)
    if not organises(caller, activity):
        raise Forbidden(ORGANISERS_ONLY)
    return activity


def session_of(session: Session, caller: Caller, session_id: int, *,
               lock: bool = False) -> tuple[ActivitySession, Activity]:
    """A session that is there (any signed-in caller sees it) and its activity, or 404."""
    caller.require()
    row = get_or_404(session, ActivitySession, session_id, "Session", lock=lock, visible=visible)
    return row, session.get(Activity, row.activity_id)


def organised_session(session: Session, caller: Caller, session_id: int, *,
                      lock: bool = False) -> tuple[ActivitySession, Activity]:
    """The session and its activity, if the caller organises the activity (403 otherwise)."""
    row, activity = session_of(session, caller, session_id, lock=lock)
    if not organises(caller, activity):
        raise Forbidden(ORGANISERS_ONLY)
    return row, activity


def first_start(session: Session, activity_id: int) -> datetime | None:
    """When the activity's first scheduled session (that is there) starts, or None."""
    return session.scalar(select(func.min(ActivitySession.starts_at)).where(
        ActivitySession.activity_id == activity_id, ActivitySession.state == "scheduled", shown()))


def participants(session: Session, activity_id: int) -> list[int]:
    """Who holds places (confirmed sign-ups) of the activity, by user id."""
    return list(session.scalars(select(SignUp.user_id).where(
        and_(SignUp.activity_id == activity_id, SignUp.state == "confirmed")).order_by(SignUp.id)))


def titles(activity: Activity) -> dict:
    """The members every activity event carries."""
    return {"activity_id": activity.id, "title_zh": activity.title_zh, "title_en": activity.title_en}


def position(session: Session, signup: SignUp) -> int:
    """A waitlisted sign-up's place in line (1 = next): the line is in the order sign-ups were written (id)."""
    return 1 + session.scalar(select(func.count()).select_from(SignUp).where(
        SignUp.activity_id == signup.activity_id, SignUp.state == "waitlisted", SignUp.id < signup.id))


def signup_view(session: Session, signup: SignUp, activity: Activity | None = None) -> dict:
    """A sign-up as the API shows it: with its activity's titles, first session, the participant's cancel
    deadline and, while waitlisted, its place in line."""
    activity = activity or session.get(Activity, signup.activity_id)
    first = first_start(session, activity.id)
    return SignUpSchema().dump({
        **{name: getattr(signup, name) for name in ("id", "activity_id", "user_id", "display_name", "places",
                                                    "household", "state",
                                                    "hold_until", "created_at", "decided_at")},
        "position": position(session, signup) if signup.state == "waitlisted" else None,
        "title_zh": activity.title_zh, "title_en": activity.title_en, "first_starts_at": first,
        "cancel_until": cancel_deadline(first, activity.cancel_before_minutes)})
