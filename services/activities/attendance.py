"""Check-in and check-out (签到/签退) of a session, its helpers, walk-ins and the attendance list.

A participant checks in by the session's rotating code (shown by an organiser, attendance_rules); an
organiser scans a participant's ticket or picks them by user id. Attendance is recorded once per person and
session (a unique row): a second scan answers the record already there. A helper's check-out credits their
minutes — a `HoursCredit` row and the `activity.hours_credited` event in the same transaction, once per
(session, helper) — which the volunteers service applies to their hours.

Organisers are the activity's `organiser_ids`, coordinators and admins (docs: the activities design).
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.activities import attendance_rules as rules
from services.activities.access import organised_session, organises, session_of, titles
from services.activities.contracts import (
    AttendanceListSchema,
    AttendanceSchema,
    HelperPageSchema,
    SessionCodeSchema,
    TicketSchema,
    WalkInsSchema,
)
from services.activities.models import (
    Activity,
    ActivitySession,
    Attendance,
    HoursCredit,
    SessionHelper,
    SignUp,
)
from shared.db import Database, get_or_404, insert_ignoring, utcnow
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.identity import Caller
from shared.paging import whole

# ------------------------------------------------------------------------------------------------ helpers

def _not_cancelled(row: ActivitySession) -> None:
    if row.state == "cancelled":
        raise Conflict("The session is cancelled.", extra={"state": row.state})


def _confirmed_signup(session: Session, activity_id: int, user_id: int) -> SignUp | None:
    return session.scalars(select(SignUp).where(SignUp.activity_id == activity_id, SignUp.user_id == user_id,
                                                SignUp.state == "confirmed")).first()


def _is_helper(session: Session, session_id: int, user_id: int) -> bool:
    return session.get(SessionHelper, (session_id, user_id)) is not None


def _record(session: Session, session_id: int, user_id: int) -> Attendance | None:
    return session.scalars(select(Attendance).where(Attendance.session_id == session_id,
                                                    Attendance.user_id == user_id)).first()


def _dump(record: Attendance, *, recorded: bool, minutes: int | None = None) -> dict:
    return AttendanceSchema().dump({
        "session_id": record.session_id, "user_id": record.user_id, "role": record.role,
        "checked_in_at": record.checked_in_at, "checked_out_at": record.checked_out_at, "method": record.method,
        "recorded": recorded, "minutes_credited": minutes})


# ------------------------------------------------------------------------------------------- code, ticket

def session_code(db: Database, caller: Caller, session_id: int) -> dict:
    """The session's code of this 30-second step, for the organiser's screen (a QR of it)."""
    with db.read() as session:
        row, _ = organised_session(session, caller, session_id)
        _not_cancelled(row)
        return SessionCodeSchema().dump({"session_id": row.id, **rules.current_code(row.checkin_secret, utcnow())})


def ticket(db: Database, caller: Caller, signup_id: int) -> dict:
    """The participant's own ticket for a confirmed sign-up (someone else's sign-up: 404)."""
    caller.require()
    with db.read() as session:
        signup = get_or_404(session, SignUp, signup_id, "Sign-up",
                            visible=lambda row: row.user_id == caller.user_id)
        if signup.state != "confirmed":
            raise Conflict(f"The sign-up is {signup.state}; a ticket is for a confirmed place.",
                           extra={"state": signup.state})
        token = rules.sign_ticket(signup.id, signup.user_id, signup.activity_id, utcnow())
        return TicketSchema().dump({"ticket": token, "signup_id": signup.id, "activity_id": signup.activity_id,
                                    "user_id": signup.user_id})


# ---------------------------------------------------------------------------------------------- check-in

def check_in(db: Database, emit, caller: Caller, session_id: int, data: dict) -> dict:
    """Check in (or out, `direction`) by the session's code (yourself), a participant's ticket or a user id
    (organisers). Recorded once: a repeat answers the record already there (`recorded` false)."""
    now = utcnow()
    with db.transaction() as session:
        row, activity = session_of(session, caller, session_id, lock=True)
        user_id, method = _who(session, caller, row, activity, data, now)
        _not_cancelled(row)
        helper = _is_helper(session, row.id, user_id)
        if not helper and _confirmed_signup(session, activity.id, user_id) is None:
            if method == "code":
                raise Forbidden("You have no confirmed place in this activity and do not help run this session; "
                                "ask an organiser.")
            raise Invalid("Not a participant of this activity nor a helper of the session.",
                          errors={"user_id" if method == "manual" else "ticket": [
                              "has no confirmed place in this activity"]})
        if data["direction"] == "in":
            return _in(session, row, user_id, "helper" if helper else "participant", method, now)
        return _out(session, emit, row, activity, user_id, now)


def _who(session: Session, caller: Caller, row: ActivitySession, activity: Activity, data: dict,
         now: datetime) -> tuple[int, str]:
    """Who is checked in, and how: the caller by code, or someone an organiser names by ticket or id."""
    if data.get("code") is not None:
        if caller.user_id is None:
            raise Invalid("A code checks in the person who sends it.", errors={"code": ["sent by no person"]})
        opens, closes = rules.code_window(row.starts_at, row.ends_at)
        if not opens <= now <= closes:
            raise Conflict(f"Check-in by code is open from {opens.isoformat()} until {closes.isoformat()}.",
                           extra={"opens_at": opens.isoformat(), "closes_at": closes.isoformat()})
        try:
            rules.check_code(row.checkin_secret, data["code"], now)
        except rules.CodeRefused as refused:
            detail = ("The code has expired; scan the one on the screen now." if refused.reason == "expired"
                      else "This is not the session's code.")
            raise Invalid(detail, errors={"code": [refused.reason]}) from None
        return caller.user_id, "code"
    if not organises(caller, activity):
        raise Forbidden("Only the activity's organisers check in someone else (by ticket or by user id).")
    opens = rules.code_window(row.starts_at, row.ends_at)[0]
    if now < opens:
        raise Conflict(f"Check-in opens at {opens.isoformat()}.", extra={"opens_at": opens.isoformat()})
    if data.get("ticket") is not None:
        try:
            named = rules.read_ticket(data["ticket"])
        except rules.TicketRefused:
            raise Invalid("Not a ticket of this service.", errors={"ticket": ["not a valid ticket"]}) from None
        if named.activity_id != activity.id:
            raise Invalid("The ticket is for another activity.", errors={"ticket": ["for another activity"]})
        signup = session.get(SignUp, named.signup_id)
        if signup is None or signup.user_id != named.user_id or signup.state != "confirmed":
            raise Invalid("The ticket's sign-up holds no place any more.",
                          errors={"ticket": ["the sign-up holds no place"]})
        return named.user_id, "ticket"
    return data["user_id"], "manual"


def _in(session: Session, row: ActivitySession, user_id: int, role: str, method: str, now: datetime) -> dict:
    inserted = session.execute(insert_ignoring(session, Attendance, ["session_id", "user_id"]).values(
        session_id=row.id, user_id=user_id, role=role, checked_in_at=now, method=method)).rowcount
    record = _record(session, row.id, user_id)
    return _dump(record, recorded=bool(inserted), minutes=_credited(session, row.id, user_id))


def _out(session: Session, emit, row: ActivitySession, activity: Activity, user_id: int, now: datetime) -> dict:
    record = _record(session, row.id, user_id)
    if record is None:
        raise Conflict("Not checked in to this session; check in first.")
    if record.checked_out_at is not None:
        return _dump(record, recorded=False, minutes=_credited(session, row.id, user_id))
    record.checked_out_at = max(now, record.checked_in_at)
    minutes = None
    if record.role == "helper" or _is_helper(session, row.id, user_id):
        minutes = _credit(session, emit, row, activity, record)
    session.flush()
    return _dump(record, recorded=True, minutes=minutes)


def _credit(session: Session, emit, row: ActivitySession, activity: Activity, record: Attendance) -> int:
    """Credit a helper's minutes once per (session, helper), with its event, in the caller's transaction."""
    minutes = rules.credited_minutes(record.checked_in_at, record.checked_out_at, row.starts_at, row.ends_at)
    credit_id = str(uuid.uuid4())
    inserted = session.execute(insert_ignoring(session, HoursCredit, ["session_id", "user_id"]).values(
        session_id=row.id, user_id=record.user_id, minutes=minutes, credit_id=credit_id,
        created_at=utcnow())).rowcount
    if not inserted:
        return _credited(session, row.id, record.user_id)
    emit(session, "activity.hours_credited", {
        **titles(activity), "credit_id": credit_id, "session_id": row.id, "user_id": record.user_id,
        "minutes": minutes, "team_id": activity.organiser_team_id, "ended_at": min(record.checked_out_at, row.ends_at)})
    return minutes


def _credited(session: Session, session_id: int, user_id: int) -> int | None:
    return session.scalar(select(HoursCredit.minutes).where(HoursCredit.session_id == session_id,
                                                           HoursCredit.user_id == user_id))


# -------------------------------------------------------------------------------- the list, helpers, walk-ins

def attendance(db: Database, caller: Caller, session_id: int) -> dict:
    """Everyone expected at a session and who came: participants with a confirmed place (and anyone checked
    in as one), helpers; in and out; no-shows once the session has ended. Answered whole."""
    now = utcnow()
    with db.read() as session:
        row, activity = organised_session(session, caller, session_id)
        ended = row.state == "done" or now >= row.ends_at
        records = {r.user_id: r for r in session.scalars(select(Attendance).where(Attendance.session_id == row.id))}
        credits = dict(session.execute(select(HoursCredit.user_id, HoursCredit.minutes)
                                       .where(HoursCredit.session_id == row.id)).all())
        helper_rows = session.scalars(select(SessionHelper).where(SessionHelper.session_id == row.id)).all()
        helpers = {h.user_id for h in helper_rows}
        every_signup = session.scalars(select(SignUp).where(SignUp.activity_id == activity.id).order_by(SignUp.id))
        names, signups = {}, {}
        for signup in every_signup:
            names[signup.user_id] = signup.display_name
            if signup.state == "confirmed":
                signups[signup.user_id] = signup
        names.update({h.user_id: h.display_name for h in helper_rows if h.display_name})
        people = [(uid, "helper") for uid in sorted(helpers | {u for u, r in records.items() if r.role == "helper"})]
        people += [(uid, "participant") for uid in signups if uid not in helpers]
        people += [(uid, "participant") for uid, r in sorted(records.items())
                   if r.role == "participant" and uid not in signups and uid not in helpers]
        items = []
        for uid, role in people:
            record, signup = records.get(uid), signups.get(uid)
            items.append({
                "user_id": uid, "display_name": names.get(uid, ""), "role": role,
                "signup_id": signup.id if signup else None,
                "places": signup.places if signup else None,
                "checked_in_at": record.checked_in_at if record else None,
                "checked_out_at": record.checked_out_at if record else None,
                "method": record.method if record else None,
                "standing": rules.standing(record.checked_in_at if record else None,
                                           record.checked_out_at if record else None, ended),
                "minutes_credited": credits.get(uid)})
        participants = [i for i in items if i["role"] == "participant"]
        checked_in = sum(1 for i in items if i["checked_in_at"] is not None)
        return AttendanceListSchema().dump({
            **whole(items), "session_id": row.id, "activity_id": activity.id, "starts_at": row.starts_at,
            "ends_at": row.ends_at, "ended": ended, "summary": {
                "participants": len(participants),
                "participants_in": sum(1 for i in participants if i["checked_in_at"] is not None),
                "no_shows": sum(1 for i in participants if i["standing"] == "no_show"),
                "helpers": len(items) - len(participants),
                "walk_ins": row.walk_ins, "visits": checked_in + row.walk_ins}})


def _helpers(session: Session, session_id: int) -> dict:
    rows = session.scalars(select(SessionHelper).where(SessionHelper.session_id == session_id)
                           .order_by(SessionHelper.added_at, SessionHelper.user_id)).all()
    return HelperPageSchema().dump(whole([{"user_id": h.user_id, "display_name": h.display_name,
                                           "added_by": h.added_by, "added_at": h.added_at} for h in rows]))


def add_helper(db: Database, caller: Caller, session_id: int, data: dict,
               volunteer: Callable[[int], dict]) -> dict:
    """Name a volunteer who helps run the session (again: no change). Answers the session's helpers.
    `volunteer(user_id)` is their profile in the volunteers service (where their hours are credited); someone
    without one is refused on `user_id`."""
    with db.read() as session:
        organised_session(session, caller, session_id)  # who asks is checked before anyone else is asked
    try:
        name = (volunteer(data["user_id"]).get("display_name") or "")[:100]
    except NotFound:
        raise Invalid("Only a volunteer helps run a session.", errors={
            "user_id": ["has no volunteer profile (the hours are credited there)"]}) from None
    with db.transaction() as session:
        row, _ = organised_session(session, caller, session_id, lock=True)
        _not_cancelled(row)
        session.execute(insert_ignoring(session, SessionHelper, ["session_id", "user_id"]).values(
            session_id=row.id, user_id=data["user_id"], display_name=name, added_by=caller.user_id,
            added_at=utcnow()))
        record = _record(session, row.id, data["user_id"])
        if record is not None and record.checked_out_at is None:
            record.role = "helper"  # already in: from now on they are here to help
        session.flush()
        return _helpers(session, row.id)


def remove_helper(db: Database, caller: Caller, session_id: int, user_id: int) -> dict:
    """Take a helper off the session before they checked in (their attendance, once there, stays)."""
    with db.transaction() as session:
        row, _ = organised_session(session, caller, session_id, lock=True)
        helper = session.get(SessionHelper, (row.id, user_id))
        if helper is None:
            raise Invalid("Not a helper of this session.", errors={"user_id": ["is not a helper of this session"]})
        record = _record(session, row.id, user_id)
        if record is not None:
            raise Conflict("This helper has checked in; their attendance stays recorded.")
        session.delete(helper)
        session.flush()
        return _helpers(session, row.id)


def list_helpers(db: Database, caller: Caller, session_id: int) -> dict:
    with db.read() as session:
        row, _ = organised_session(session, caller, session_id)
        return _helpers(session, row.id)


def set_walk_ins(db: Database, caller: Caller, session_id: int, data: dict) -> dict:
    """The count of people who came without a sign-up, as the organiser counted them (a new count replaces
    the last)."""
    with db.transaction() as session:
        row, _ = organised_session(session, caller, session_id, lock=True)
        _not_cancelled(row)
        row.walk_ins = data["count"]
        session.flush()
        return WalkInsSchema().dump({"session_id": row.id, "count": row.walk_ins})
