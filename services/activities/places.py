"""The capacity, held by the database: places are taken only by a conditional UPDATE.

`take` raises `activities.taken` by a sign-up's places only `WHERE taken + places <= capacity` — on PostgreSQL
the UPDATE locks the row and re-reads it after a concurrent one committed, on SQLite writers are serialised —
so two sign-ups never both get the last place, and the CHECK constraint (taken <= capacity) is the backstop.
Places given back are offered to the waitlist in the same transaction (`offer_freed`), held for each person
offered until their hold lapses, so newcomers do not jump the line.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.activities.access import titles
from services.activities.models import Activity, SignUp
from services.activities.rules import SIGNUP, offers
from shared.claims import claimed
from shared.db import utcnow


def take(session: Session, activity_id: int, places: int) -> bool:
    """Hold `places` of an open activity if they are free; False when they are not (nothing changed)."""
    return claimed(session, update(Activity).where(
        Activity.id == activity_id, Activity.state == "open",
        Activity.taken + places <= Activity.capacity).values(taken=Activity.taken + places))


def give_back(session: Session, activity_id: int, places: int) -> None:
    session.execute(update(Activity).where(Activity.id == activity_id).values(taken=Activity.taken - places))


def free_places(session: Session, activity_id: int) -> int:
    capacity, taken = session.execute(select(Activity.capacity, Activity.taken)
                                      .where(Activity.id == activity_id)).one()
    return capacity - taken


def offer_freed(session: Session, emit, activity_id: int, now: datetime | None = None) -> list[int]:
    """Offer the free places to the waitlist, in line order (each person whose places fit), holding them
    `hold_minutes`; returns the sign-ups offered."""
    now = now or utcnow()
    free = free_places(session, activity_id)
    if free <= 0:
        return []
    waiting = session.execute(select(SignUp.id, SignUp.places).where(
        SignUp.activity_id == activity_id, SignUp.state == "waitlisted").order_by(SignUp.id)).all()
    chosen = offers(free, [(row.id, row.places) for row in waiting])
    if not chosen:
        return []
    activity = session.get(Activity, activity_id)
    offered = []
    for signup_id in chosen:
        signup = session.get(SignUp, signup_id)
        if not take(session, activity_id, signup.places):
            break
        SIGNUP.move(signup, "offer", attr="state")
        signup.hold_until = now + timedelta(minutes=activity.hold_minutes)
        signup.decided_at = now
        session.flush()
        emit(session, "activity.waitlist_offered", {
            **titles(activity), "signup_id": signup.id, "user_id": signup.user_id,
            "hold_until": signup.hold_until, "timezone": activity.timezone})
        offered.append(signup.id)
    return offered
