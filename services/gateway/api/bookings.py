"""Sites, spaces, availability, bookings, calendars and the waitlist."""
from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from services.bookings.contracts import (
    AvailabilityQuerySchema,
    AvailabilitySchema,
    BlackoutPageSchema,
    BlackoutQuerySchema,
    BlackoutRequestSchema,
    BlackoutSchema,
    BookingPageSchema,
    BookingPreviewSchema,
    BookingQuerySchema,
    BookingRequestSchema,
    BookingSchema,
    BookingUpdateSchema,
    CancelRequestSchema,
    CheckInSchema,
    DecisionSchema,
    RejectionSchema,
    SitePageSchema,
    SiteQuerySchema,
    SiteRequestSchema,
    SiteSchema,
    SpacePageSchema,
    SpaceQuerySchema,
    SpaceRequestSchema,
    SpaceSchema,
    SpaceUpdateSchema,
    WaitlistEntrySchema,
    WaitlistPageSchema,
    WaitlistQuerySchema,
    WaitlistRequestSchema,
)
from services.gateway.api import SECURED, call, created, etag, if_match_version, respond, verb
from shared.paging import whole

blp = Blueprint("bookings", __name__, description="Shared spaces, their bookings, calendars and waitlist")

RULE_BROKEN = "A rule of the space is broken (the field names it): nothing was written"


def _calendar(text: str, filename: str) -> Response:
    response = Response(text, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _booking(booking: dict, status: int = 200) -> Response:
    return respond(booking, status, {"ETag": etag(booking["version"])})


# --------------------------------------------------------------------------- catalogue


@blp.get("/sites")
@blp.arguments(SiteQuerySchema, location="query")
@blp.response(200, SitePageSchema)
@blp.doc(security=SECURED)
def list_sites(query):
    """Sites (service centres, stations), paginated."""
    return respond(call("bookings", "list_sites", query))


@blp.post("/sites")
@blp.arguments(SiteRequestSchema)
@blp.response(201, SiteSchema)
@blp.alt_response(403, description="Only admins and coordinators manage the catalogue")
@blp.doc(security=SECURED)
def create_site(data):
    """Add a site."""
    site = call("bookings", "create_site", data)
    return created(site, f"/api/v1/sites/{site['id']}")


@blp.get("/spaces")
@blp.arguments(SpaceQuerySchema, location="query")
@blp.response(200, SpacePageSchema)
@blp.doc(security=SECURED)
def list_spaces(query):
    """Spaces, filtered by site, kind, capacity, equipment, and free between free_from and free_to.

    free_to must be after free_from (else 422 naming free_to)."""
    return respond(call("bookings", "search_spaces", query))


@blp.post("/spaces")
@blp.arguments(SpaceRequestSchema)
@blp.response(201, SpaceSchema)
@blp.alt_response(403, description="Only admins and coordinators manage the catalogue")
@blp.doc(security=SECURED)
def create_space(data):
    """Add a room or a pool of identical units, with opening hours and booking rules."""
    space = call("bookings", "create_space", data)
    return created(space, f"/api/v1/spaces/{space['id']}")


@blp.get("/spaces/<int:space_id>")
@blp.response(200, SpaceSchema)
@blp.doc(security=SECURED)
def get_space(space_id):
    """One space with its rules."""
    return respond(call("bookings", "get_space", space_id))


@blp.patch("/spaces/<int:space_id>")
@blp.arguments(SpaceUpdateSchema)
@blp.response(200, SpaceSchema)
@blp.doc(security=SECURED)
def update_space(data, space_id):
    """Change a space; its managers may change rules, capacity and equipment."""
    return respond(call("bookings", "update_space", space_id, data))


@blp.get("/spaces/<int:space_id>/availability")
@blp.arguments(AvailabilityQuerySchema, location="query")
@blp.response(200, AvailabilitySchema)
@blp.doc(security=SECURED)
def availability(query, space_id):
    """Free intervals (free units for pools) honouring hours, blackouts, buffers and bookings.

    `to` must be after `from` (else 422 naming `to`)."""
    return respond(call("bookings", "availability", space_id, query))


@blp.get("/spaces/<int:space_id>/calendar.ics")
@blp.response(200, description="RFC 5545 calendar (text/calendar); others' bookings show as Busy")
@blp.doc(security=SECURED)
def space_calendar(space_id):
    """The space's bookings as an iCalendar feed."""
    return _calendar(call("bookings", "space_calendar", space_id), f"space-{space_id}.ics")


@blp.get("/spaces/<int:space_id>/blackouts")
@blp.arguments(BlackoutQuerySchema, location="query")
@blp.response(200, BlackoutPageSchema)
@blp.doc(security=SECURED)
def list_blackouts(query, space_id):
    """Blackouts of the space and of its whole site. Answered whole."""
    return respond(whole(call("bookings", "list_blackouts", space_id, query)))


@blp.post("/spaces/<int:space_id>/blackouts")
@blp.arguments(BlackoutRequestSchema)
@blp.response(201, BlackoutSchema)
@blp.doc(security=SECURED)
def add_blackout(data, space_id):
    """Black out the space (or its whole site) for a period: holidays, maintenance.

    ends_at must be after starts_at (else 422 naming ends_at)."""
    blackout = call("bookings", "add_blackout", space_id, data)
    return created(blackout, f"/api/v1/spaces/{space_id}/blackouts")


# --------------------------------------------------------------------------- bookings


@blp.post("/bookings")
@blp.arguments(BookingRequestSchema)
@blp.response(201, BookingSchema)
@blp.alt_response(409, description="The time overlaps existing bookings (each one is listed in `conflicts`)")
@blp.alt_response(422, description=RULE_BROKEN)
@blp.doc(security=SECURED)
def create_booking(data):
    """Book a space once, or recurring with an RRULE; pending when the space needs approval.

    Rules beyond the schema, each a 422 naming its field: ends_at after starts_at, both with an offset or
    both local; timezone an IANA name; team_id a team you lead; and the space's rules — starts_at (notice,
    advance), duration, opening_hours, blackout, quota, units (at most the space's), rrule, exdates."""
    booking = call("bookings", "create_booking", data)
    response = created(booking, f"/api/v1/bookings/{booking['id']}")
    response.headers["ETag"] = etag(booking["version"])
    return response


@blp.post("/bookings/preview")
@blp.arguments(BookingRequestSchema)
@blp.response(200, BookingPreviewSchema)
@blp.alt_response(403, description="You may not book this space (or on behalf of this team)")
@blp.alt_response(422, description="A rule of the space is broken (the field names it), as for a booking")
@blp.doc(security=SECURED)
def preview_booking(data):
    """What POST /bookings would do with the same body, writing nothing: every occurrence of a series
    (expanded by the server in the space's zone, across DST changes) with the bookings in its way.

    The same body, checks and 422s as POST /bookings; `bookable` says whether that would book. A series
    leaves an occurrence out when its `local_date` is sent in `exdates`."""
    return respond(call("bookings", "preview_booking", data))


@blp.get("/bookings")
@blp.arguments(BookingQuerySchema, location="query")
@blp.response(200, BookingPageSchema)
@blp.doc(security=SECURED)
def list_bookings(query):
    """Your bookings (`mine=true`, the default); `scope=managed`: those of spaces you manage; `mine=false`:
    both. Newest first. `mine=true` with `scope=managed` is a contradiction (422 naming mine)."""
    return respond(call("bookings", "list_bookings", query))


@blp.get("/bookings/<int:booking_id>")
@blp.response(200, BookingSchema)
@blp.alt_response(404, description="No such booking, or it is someone else's")
@blp.doc(security=SECURED)
def get_booking(booking_id):
    """One booking with its occurrences (ETag = its version)."""
    return _booking(call("bookings", "get_booking", booking_id))


@blp.patch("/bookings/<int:booking_id>")
@blp.arguments(BookingUpdateSchema)
@blp.response(200, BookingSchema)
@blp.alt_response(412, description="If-Match names an older version")
@blp.doc(security=SECURED)
def update_booking(data, booking_id):
    """Change the title or notes (send If-Match with the ETag you read)."""
    return _booking(call("bookings", "update_booking", booking_id, data,
                         expected_version=if_match_version()))


@blp.get("/bookings/<int:booking_id>.ics")
@blp.response(200, description="RFC 5545 calendar (text/calendar)")
@blp.doc(security=SECURED)
def booking_calendar(booking_id):
    """One booking (a series as one event with its RRULE) as iCalendar."""
    return _calendar(call("bookings", "booking_calendar", booking_id), f"booking-{booking_id}.ics")


def _booking_verb(name: str, method: str, body, summary: str, conflict: str):
    """POST /bookings/{id}/<name>: the validated body goes to one RPC; the answer is the booking with its ETag."""
    def forward(booking_id, data):
        return call("bookings", method, booking_id, data)

    return verb(blp, f"/bookings/<int:booking_id>/{name}", body, BookingSchema, forward, name=method,
                summary=summary, responses={409: conflict}, finish=_booking)


cancel_booking = _booking_verb(
    "cancel", "cancel_booking", CancelRequestSchema,
    "Cancel one occurrence, this-and-following (both need occurrence_id, an occurrence of this booking, else "
    "422), or the whole series.", "Nothing left to cancel")
approve_booking = _booking_verb("approve", "approve_booking", DecisionSchema,
                                "A space manager approves a pending booking.", "The booking is not pending")
reject_booking = _booking_verb("reject", "reject_booking", RejectionSchema,
                               "A space manager rejects a pending booking, with a reason.",
                               "The booking is not pending")
check_in = _booking_verb("check-in", "check_in", CheckInSchema,
                         "Check in to an occurrence (opens shortly before it starts).",
                         "Check-in is not open, or the occurrence is not confirmed")


# --------------------------------------------------------------------------- waitlist


@blp.post("/waitlist")
@blp.arguments(WaitlistRequestSchema)
@blp.response(201, WaitlistEntrySchema)
@blp.alt_response(409, description="The slot is free: book it instead")
@blp.doc(security=SECURED)
def join_waitlist(data):
    """Wait for a full slot; when it frees up you are offered it and it is held for you.

    ends_at must be after starts_at, timezone an IANA name, and the slot within the space's rules (422
    naming the field, as for a booking)."""
    entry = call("bookings", "join_waitlist", data)
    return created(entry, f"/api/v1/waitlist/{entry['id']}")


@blp.get("/waitlist")
@blp.arguments(WaitlistQuerySchema, location="query")
@blp.response(200, WaitlistPageSchema)
@blp.doc(security=SECURED)
def list_waitlist(query):
    """Your waitlist entries, with your place in line."""
    return respond(call("bookings", "list_waitlist", query))


@blp.delete("/waitlist/<int:entry_id>")
@blp.response(200, WaitlistEntrySchema)
@blp.doc(security=SECURED)
def leave_waitlist(entry_id):
    """Stop waiting (a slot held for you passes to the next in line)."""
    return respond(call("bookings", "leave_waitlist", entry_id))


@blp.post("/waitlist/<int:entry_id>/accept")
@blp.response(200, WaitlistEntrySchema)
@blp.alt_response(409, description="Not offered, or the hold lapsed")
@blp.doc(security=SECURED)
def accept_offer(entry_id):
    """Take the slot held for you: it becomes your booking."""
    return respond(call("bookings", "accept_offer", entry_id))
