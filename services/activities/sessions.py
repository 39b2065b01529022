"""Use-cases of sessions: add one or a series (its room booked through the venue saga), move one (the new time
booked first, then the old given back), cancel one, and the reminder timer.

A session at a space books it in the bookings service as the organiser (venue.py); without a space it has a
place in words (a route's meeting point) and is there at once. Participants are told of a move or a
cancellation, and reminded once before each session, through the outbox.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.activities import venue
from services.activities.access import organised, organised_session, participants, shown, titles
from services.activities.contracts import SessionSchema
from services.activities.models import Activity, ActivitySession
from services.activities.planning import (
    book_plan,
    booking_request,
    check_plans,
    described,
    insert_plain,
    plan,
)
from services.activities.rules import SESSION, venue_status
from services.activities.venue import Bookings
from shared.claims import claimed, work_through
from shared.db import Database, get_or_404, utcnow
from shared.errors import Conflict, Unavailable
from shared.identity import Caller
from shared.lifecycle import as_conflict
from shared.paging import whole

BATCH = 200


@as_conflict()
def add_sessions(db: Database, caller: Caller, activity_id: int, data: dict, bookings: Bookings,
                 request_key: str | None = None) -> dict:
    """Add a session or a series to an open activity (organisers). With a space, its room is booked for every
    session (409 listing the conflicts, nothing added); the sign-up window must still open before the last.
    A keyed request's retry meets the hold its first attempt made (venue.py): held, it answers those sessions
    as they are now; still being booked or given back, 503."""
    with db.read() as session:
        activity = organised(session, caller, activity_id)
        made, reference = venue.attempt(session, request_key, "add_sessions", activity_id)
        if made is not None:
            venue.busy(made)
            return whole(SessionSchema(many=True).dump(session.scalars(
                select(ActivitySession).where(ActivitySession.hold_id == made.id)
                .order_by(ActivitySession.starts_at)).all()))
        if activity.state != "open":
            raise Conflict(f"The activity is {activity.state}: sessions are added to open activities only.",
                           extra={"state": activity.state})
        timezone, opens, closes = activity.timezone, activity.signup_opens_at, activity.signup_closes_at
        existing = list(session.scalars(select(ActivitySession.starts_at).where(
            ActivitySession.activity_id == activity_id, ActivitySession.state == "scheduled", shown())))
    the_plan = plan(bookings, data, timezone)
    check_plans(opens, closes, [the_plan], existing)
    if the_plan.space is None:
        with db.transaction() as session:
            rows = insert_plain(session, activity_id, the_plan)
            return whole(SessionSchema(many=True).dump(rows))
    return whole(SessionSchema(many=True).dump(book_plan(db, bookings, activity_id, the_plan, reference)))


def _changed(session: Session, emit, activity: Activity, row: ActivitySession, change: str,
             old_starts_at: datetime | None, reason: str) -> None:
    emit(session, "activity.session_changed", {
        **titles(activity), "session_id": row.id, "user_ids": participants(session, activity.id),
        "change": change, "starts_at": row.starts_at, "ends_at": row.ends_at, "old_starts_at": old_starts_at,
        "reason": reason, "timezone": activity.timezone})


def _give_back(session: Session, row: ActivitySession) -> None:
    if row.booking_id is not None and row.occurrence_id is not None:
        venue.release_occurrence(session, row.activity_id, row.space_id, row.booking_id, row.occurrence_id)


@as_conflict()
def move_session(db: Database, emit, caller: Caller, session_id: int, data: dict, bookings: Bookings,
                 request_key: str | None = None) -> dict:
    """Move a session (organisers): a room for the new time is booked first (409 with the conflicts, 503 when
    bookings does not answer: the session stays as it was), then the old one is given back; participants told.
    A keyed request's retry meets the hold its first attempt made (venue.py): held, it answers the session as
    it is now; still being booked or given back, 503. A session already where it is asked to be (a retried move
    without a room) is answered as it is, no one told again."""
    with db.read() as session:
        row, activity = organised_session(session, caller, session_id)
        made, reference = venue.attempt(session, request_key, "move_session", session_id)
        if made is not None:
            venue.busy(made)
            return SessionSchema().dump(row)
        SESSION.next(row.state, "move")
        space_id = data["space_id"] if data.get("space_id") is not None else row.space_id
        timezone, activity_id = activity.timezone, row.activity_id
        place = data.get("place") or ("" if space_id != row.space_id else row.place)
        now_at = (row.starts_at, row.ends_at, row.space_id, row.place)
        as_it_is = SessionSchema().dump(row)
    the_plan = plan(bookings, {**data, "space_id": space_id, "place": place, "rrule": None, "exdates": []},
                    timezone)
    if the_plan.space is None and now_at == (*the_plan.periods[0], None, the_plan.place):
        return as_it_is
    new_hold = booking = None
    if the_plan.space is not None:
        with db.transaction() as session:
            hold = venue.open_hold(session, activity_id, space_id, reference)
            new_hold, reference = hold.id, hold.reference
            about = described(session.get(Activity, activity_id))
        booking = venue.ask(db, new_hold, booking_request(about, the_plan, reference, the_plan.periods[0]),
                            bookings.book)
    with db.transaction() as session:
        row, activity = organised_session(session, caller, session_id, lock=True)
        if new_hold is not None and venue.settle(session, new_hold, booking) is None:
            raise Unavailable("The room's answer came too late and is being given back; try again.")
        SESSION.move(row, "move", attr="state")
        _give_back(session, row)
        old_starts_at = row.starts_at
        row.starts_at, row.ends_at = the_plan.periods[0]
        row.space_id, row.place = space_id, the_plan.place
        row.hold_id = new_hold
        row.booking_id = booking["id"] if booking else None
        occurrence = (booking.get("occurrences") or [{}])[0] if booking else {}
        row.occurrence_id = occurrence.get("id")
        row.venue_status = venue_status(occurrence.get("status") or booking.get("status")) if booking else None
        row.reminded_at = None
        session.flush()
        _changed(session, emit, activity, row, "moved", old_starts_at, data.get("reason", ""))
        return SessionSchema().dump(row)


@as_conflict()
def cancel_session(db: Database, emit, caller: Caller, session_id: int, data: dict) -> dict:
    """Cancel one session (organisers): its room is given back (the venue timer), participants told."""
    with db.transaction() as session:
        row, activity = organised_session(session, caller, session_id, lock=True)
        SESSION.move(row, "cancel", attr="state")
        row.cancel_reason = data.get("reason", "")
        _give_back(session, row)
        session.flush()
        _changed(session, emit, activity, row, "cancelled", None, row.cancel_reason)
        return SessionSchema().dump(row)


def sessions_of(db: Database, caller: Caller, activity_id: int) -> dict:
    """Every session of the activity that is there, in time order (answered whole)."""
    caller.require()
    with db.read() as session:
        get_or_404(session, Activity, activity_id, "Activity")
        rows = session.scalars(select(ActivitySession).where(ActivitySession.activity_id == activity_id, shown())
                               .order_by(ActivitySession.starts_at)).all()
        return whole(SessionSchema(many=True).dump(rows))


# --------------------------------------------------------------------------- reminders


def _remind(session: Session, session_id: int, *, emit, now: datetime) -> bool:
    if not claimed(session, update(ActivitySession).where(
            ActivitySession.id == session_id, ActivitySession.reminded_at.is_(None)).values(reminded_at=now)):
        return False
    row = session.get(ActivitySession, session_id)
    activity = session.get(Activity, row.activity_id)
    users = participants(session, activity.id)
    if users and activity.state == "open":
        emit(session, "activity.session_reminder", {
            **titles(activity), "session_id": row.id, "user_ids": users, "starts_at": row.starts_at,
            "place": row.place, "timezone": activity.timezone})
    return True


def send_reminders(db: Database, emit, lead: timedelta, now: datetime | None = None) -> int:
    """Remind the participants of each session starting within `lead`, once."""
    now = now or utcnow()
    due = select(ActivitySession.id).where(
        ActivitySession.state == "scheduled", ActivitySession.reminded_at.is_(None),
        ActivitySession.starts_at > now, ActivitySession.starts_at <= now + lead, shown()).limit(BATCH)
    return work_through(db, due, partial(_remind, emit=emit, now=now))

