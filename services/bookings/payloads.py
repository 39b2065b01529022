"""Event payloads of bookings (the contracts live in shared/events/bookings.py)."""
from __future__ import annotations

from services.bookings.models import LIVE_STATES, Booking, Occurrence, Space


def slot_starts(occurrences) -> list:
    """Distinct starts of occurrence rows (a pool booking has one row per unit and slot)."""
    return sorted({o.starts_at for o in occurrences})


def booking_event_payload(booking: Booking, space: Space) -> dict:
    live = [o for o in booking.occurrences if o.status in LIVE_STATES] or list(booking.occurrences)
    first = min(live, key=lambda o: o.starts_at) if live else None
    return {
        "booking_id": booking.id, "space_id": space.id, "space_name": space.name,
        "site_name": space.site.name if space.site else "", "booker_id": booking.booker_id,
        "team_id": booking.team_id, "title": booking.title,
        "starts_at": first.starts_at if first else booking.starts_at,
        "ends_at": first.ends_at if first else booking.ends_at,
        "occurrences": len(slot_starts(live)), "timezone": space.timezone, "status": booking.status,
        "manager_ids": list(space.manager_ids or []), "reference": booking.reference,
    }


def occurrence_payload(booking: Booking, space: Space, occurrence: Occurrence) -> dict:
    payload = booking_event_payload(booking, space)
    payload.update(occurrence_id=occurrence.id, starts_at=occurrence.starts_at, ends_at=occurrence.ends_at)
    return payload
