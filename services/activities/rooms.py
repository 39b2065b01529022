"""What bookings tells of the rooms sessions hold: each session's `venue_status` kept up to date from bookings'
events, and the organisers told when a room is lost.

A room booked for sessions (venue.py) starts `pending` when its space needs a manager's approval, else
`confirmed` (bookings' answer, recorded when the saga settles). Then, for the bookings activities' sessions
hold (matched by booking_id, and by occurrence for the events that name occurrences):
- booking.confirmed: a manager approved it → the sessions still `pending` are `confirmed`;
- booking.rejected, booking.expired (the whole booking), booking.cancelled (its occurrences), booking.released
  (a no-show's occurrence) → `lost`, and the activity's organisers get `activity.venue_lost`.

A room activities gives back itself (a session cancelled or moved, an activity cancelled: the venue timer cancels
it in bookings) is no loss: such a session is cancelled already, or no longer names that occurrence (moved), or
its hold is `releasing`/`released`; only scheduled sessions whose held room bookings gave up are marked lost.

Each event is applied once (the inbox, by event id; the handlers run in its transaction). Not a use-case module
of requests: the handlers in service.py call it.
"""
from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from services.activities.access import titles
from services.activities.models import Activity, ActivitySession, VenueHold
from services.activities.rules import LOST_BY

# The events whose `reason` is someone's own words (a manager's), passed on; bookings' expiry and no-show
# releases explain themselves in the message's template.
WORDED = ("booking.rejected", "booking.cancelled")


def _held_rooms():
    """SQL: sessions whose room activities still holds (no hold given back, nor being given back)."""
    return or_(ActivitySession.hold_id.is_(None),
               ActivitySession.hold_id.in_(select(VenueHold.id).where(VenueHold.state == "held")))


def held_by_sessions(payload: dict) -> bool:
    """Whether a bookings event may be about a room sessions hold: those bookings were made by the venue saga,
    with a reference; a person's own bookings (reference None) are none of activities' business. An event
    that does not say (from before bookings told references) is looked at."""
    return payload.get("reference", "") is not None


def confirmed(session: Session, payload: dict) -> int:
    """A manager approved the booking: its sessions awaiting approval hold their room. Returns how many."""
    return session.execute(update(ActivitySession).where(
        ActivitySession.booking_id == payload["booking_id"], ActivitySession.venue_status == "pending")
        .values(venue_status="confirmed")).rowcount


def lost(session: Session, emit, type_name: str, payload: dict) -> int:
    """Bookings gave up the booking's room (all of it, or the occurrences the event names): the scheduled
    sessions that held it are `lost` and their organisers told (one activity.venue_lost per activity).
    Returns how many sessions lost their room."""
    stmt = select(ActivitySession).where(
        ActivitySession.booking_id == payload["booking_id"], ActivitySession.state == "scheduled",
        ActivitySession.venue_status.in_(("pending", "confirmed")), _held_rooms())
    if type_name == "booking.released":
        stmt = stmt.where(ActivitySession.occurrence_id == payload["occurrence_id"])
    elif type_name == "booking.cancelled":
        stmt = stmt.where(ActivitySession.occurrence_id.in_(payload.get("occurrence_ids") or ()))
    rows = list(session.scalars(stmt.order_by(ActivitySession.starts_at).with_for_update()))
    by_activity: dict[int, list[ActivitySession]] = {}
    for row in rows:
        row.venue_status = "lost"
        by_activity.setdefault(row.activity_id, []).append(row)
    session.flush()
    for activity_id, lost_rows in by_activity.items():
        activity = session.get(Activity, activity_id)
        first = lost_rows[0]
        emit(session, "activity.venue_lost", {
            **titles(activity), "session_id": first.id, "session_ids": [row.id for row in lost_rows],
            "sessions": len(lost_rows), "user_ids": list(activity.organiser_ids), "starts_at": first.starts_at,
            "space_id": first.space_id, "place": first.place, "reason": LOST_BY[type_name],
            "detail": (payload.get("reason") or "") if type_name in WORDED else "", "timezone": activity.timezone})
    return len(rows)
