"""Use-cases of sign-ups: sign up (a place held by the database, or a place in line), confirm an offer, cancel
(before the deadline; organisers any time), the lists, and the timer that lapses unconfirmed offers.

A sign-up is one transaction: the conditional UPDATE of places.take and the sign-up row. One live sign-up per
person, and per household where the activity says so, is the database's unique constraint on `live_key` and
`household_key`; a second one is a 409.
"""
from __future__ import annotations

from datetime import datetime
from functools import partial

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.activities import places
from services.activities.access import (
    activity_of,
    first_start,
    organised,
    organises,
    shown,
    signup_view,
    titles,
)
from services.activities.models import Activity, ActivitySession, SignUp
from services.activities.rules import HOLDING, SIGNUP, Window, eligible, may_cancel, normalise_household
from shared.claims import claimed, work_through
from shared.db import Database, get_or_404, utcnow
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.identity import Caller
from shared.lifecycle import as_conflict
from shared.paging import keyset

BATCH = 200


def _confirmed(session: Session, emit, activity: Activity, signup: SignUp, now: datetime) -> None:
    first = session.scalar(select(func.min(ActivitySession.starts_at)).where(
        ActivitySession.activity_id == activity.id, ActivitySession.state == "scheduled",
        ActivitySession.starts_at > now, shown()))
    emit(session, "activity.signup_confirmed", {
        **titles(activity), "signup_id": signup.id, "user_id": signup.user_id, "first_starts_at": first,
        "timezone": activity.timezone, "places": signup.places})


def sign_up(db: Database, emit, caller: Caller, activity_id: int, data: dict) -> dict:
    """Sign up for `places`: confirmed when they are free (held by the database), else waitlisted when the
    caller asked to wait (409 otherwise). 403 for someone not eligible; 409 outside the sign-up window or for
    a second live sign-up of the person (or household); 422 for more places than allowed or no household."""
    caller.require()
    if caller.user_id is None:
        raise Forbidden("Only a person signs up.")
    now = utcnow()
    with db.read() as session:
        activity = activity_of(session, caller, activity_id)
        if not eligible(activity.groups, activity.roles, caller.groups, caller.roles):
            raise Forbidden("This activity is for others (its groups or roles).")
        if activity.state != "open":
            raise Conflict(f"The activity is {activity.state}.", extra={"state": activity.state})
        window = Window(activity.signup_opens_at, activity.signup_closes_at).state(
            now, first_start(session, activity.id))
        if window != "open":
            raise Conflict("Sign-up is not open yet." if window == "before" else "Sign-up has closed.",
                           extra={"signup_window": window})
        if data["places"] > activity.max_places_per_person:
            raise Invalid("Too many places.", errors={
                "places": [f"at most {activity.max_places_per_person} per person"]})
        household = normalise_household(data.get("household"))
        if activity.one_per_household and household is None:
            raise Invalid("Say which household.", errors={
                "household": ["this activity takes one sign-up per household"]})
        per_household = activity.one_per_household
    try:
        with db.transaction() as session:
            if places.take(session, activity_id, data["places"]):
                state = "confirmed"
            elif data["wait"]:
                state = "waitlisted"
            else:
                waiting = session.scalar(select(func.count()).select_from(SignUp).where(
                    SignUp.activity_id == activity_id, SignUp.state == "waitlisted"))
                raise Conflict("The activity is full; ask to wait to join its waitlist.",
                               extra={"full": True, "waitlist_length": waiting})
            signup = SignUp(activity_id=activity_id, user_id=caller.user_id,
                            display_name=(caller.display_name or "")[:100], places=data["places"],
                            household=household, state=state, live_key=caller.user_id,
                            household_key=household if per_household else None, created_at=now,
                            decided_at=now if state == "confirmed" else None)
            session.add(signup)
            session.flush()
            activity = session.get(Activity, activity_id)
            if state == "confirmed":
                _confirmed(session, emit, activity, signup, now)
            return signup_view(session, signup, activity)
    except IntegrityError:
        raise Conflict("You (or your household) have signed up for this activity already.",
                       extra={"already": True}) from None


def _own(session: Session, caller: Caller, signup_id: int, *, lock: bool = False) -> tuple[SignUp, Activity]:
    """The sign-up, for its participant or the activity's organisers (404 for anyone else)."""
    caller.require()
    signup = get_or_404(session, SignUp, signup_id, "Sign-up", lock=lock)
    activity = session.get(Activity, signup.activity_id)
    if signup.user_id != caller.user_id and not organises(caller, activity):
        raise NotFound(f"Sign-up {signup_id} does not exist.")
    return signup, activity


@as_conflict()
def cancel_signup(db: Database, emit, caller: Caller, signup_id: int) -> dict:
    """Cancel a sign-up: the participant until the deadline (cancel_before_minutes before the first session),
    organisers any time. Its places go to the next in line."""
    now = utcnow()
    with db.transaction() as session:
        signup, activity = _own(session, caller, signup_id, lock=True)
        if not organises(caller, activity) and not may_cancel(now, first_start(session, activity.id),
                                                              activity.cancel_before_minutes):
            raise Conflict("Too late to cancel: the deadline before the first session has passed.",
                           extra={"deadline": True})
        held = signup.state in HOLDING
        SIGNUP.move(signup, "cancel", attr="state")
        signup.live_key = signup.household_key = None
        signup.decided_at = now
        session.flush()
        if held:
            places.give_back(session, activity.id, signup.places)
            places.offer_freed(session, emit, activity.id, now)
        return signup_view(session, signup, activity)


@as_conflict()
def confirm_offer(db: Database, emit, caller: Caller, signup_id: int) -> dict:
    """Take the places held for you (the participant, before the hold lapses)."""
    now = utcnow()
    with db.transaction() as session:
        signup, activity = _own(session, caller, signup_id, lock=True)
        if signup.user_id != caller.user_id:
            raise Forbidden("Only the person offered the places confirms them.")
        if signup.state == "offered" and signup.hold_until is not None and signup.hold_until <= now:
            raise Conflict("The hold has lapsed; the places go to the next in line.", extra={"state": "expired"})
        SIGNUP.move(signup, "confirm", attr="state")
        signup.hold_until, signup.decided_at = None, now
        session.flush()
        _confirmed(session, emit, activity, signup, now)
        return signup_view(session, signup, activity)


def list_signups(db: Database, caller: Caller, activity_id: int, query: dict) -> dict:
    """Everyone's sign-ups of an activity, in line order (organisers)."""
    with db.read() as session:
        activity = organised(session, caller, activity_id)
        stmt = select(SignUp).where(SignUp.activity_id == activity_id)
        if query.get("state"):
            stmt = stmt.where(SignUp.state == query["state"])
        page = keyset(session, stmt, SignUp.id, query, newest_first=False)
        return page.answer(lambda rows: [signup_view(session, row, activity) for row in rows])


def my_signups(db: Database, caller: Caller, query: dict) -> dict:
    """The caller's sign-ups, newest first."""
    caller.require()
    with db.read() as session:
        stmt = select(SignUp).where(SignUp.user_id == caller.user_id)
        if query.get("state"):
            stmt = stmt.where(SignUp.state == query["state"])
        return keyset(session, stmt, SignUp.id, query).answer(
            lambda rows: [signup_view(session, row) for row in rows])


# --------------------------------------------------------------------------- the offer timer


def _lapse(session: Session, signup_id: int, *, emit, now: datetime) -> bool:
    if not claimed(session, update(SignUp).where(
            SignUp.id == signup_id, SignUp.state == "offered", SignUp.hold_until <= now)
            .values(state=SIGNUP.next("offered", "lapse"), live_key=None, household_key=None, decided_at=now)):
        return False
    signup = session.get(SignUp, signup_id)
    places.give_back(session, signup.activity_id, signup.places)
    places.offer_freed(session, emit, signup.activity_id, now)
    return True


def lapse_offers(db: Database, emit, now: datetime | None = None) -> int:
    """Offers not confirmed in time expire; their places go to the next in line."""
    now = now or utcnow()
    due = select(SignUp.id).where(SignUp.state == "offered", SignUp.hold_until <= now) \
        .order_by(SignUp.hold_until).limit(BATCH)
    return work_through(db, due, partial(_lapse, emit=emit, now=now))
