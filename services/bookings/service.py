"""Entrypoints of the bookings service (thin: validate, authorise via the caller, delegate)."""
from __future__ import annotations

from services.bookings import catalogue, operations, tasks, waitlist
from services.bookings.contracts import (
    AvailabilityQuerySchema,
    BlackoutQuerySchema,
    BlackoutRequestSchema,
    BookingQuerySchema,
    BookingRequestSchema,
    BookingUpdateSchema,
    CancelRequestSchema,
    CheckInSchema,
    DecisionSchema,
    EnsureSpaceSchema,
    ReferencedBookingRequestSchema,
    ReferenceSchema,
    RejectionSchema,
    SiteQuerySchema,
    SiteRequestSchema,
    SpaceQuerySchema,
    SpaceRequestSchema,
    SpaceUpdateSchema,
    WaitlistQuerySchema,
    WaitlistRequestSchema,
)
from services.bookings.models import infra
from shared.config import env_float
from shared.errors import Invalid, NotFound
from shared.remote import ServiceRpc
from shared.rpc import load, rpc
from shared.service import ServiceBase
from shared.timers import timer

# How often the timers look for due work (seconds); tests shorten it.
TIMER_SECONDS = env_float("BOOKINGS_TIMER_SECONDS", 15)


class BookingsService(ServiceBase, infra=infra):
    name = "bookings"

    volunteers = ServiceRpc("volunteers")

    def _team_leads(self, team_id: int) -> list[int]:
        """Leads of a team, asked of the volunteers service (which owns teams), with a timeout."""
        try:
            return list(self.volunteers.call("team_leads", team_id))
        except NotFound:
            raise Invalid("No such team.", errors={"team_id": [f"team {team_id} does not exist"]}) from None

    # -- catalogue -------------------------------------------------------------------------------------------
    @rpc
    def create_site(self, request: dict) -> dict:
        """Add a site (service centre, station); admins and coordinators."""
        return catalogue.create_site(self.db, self.caller, load(SiteRequestSchema, request))

    @rpc
    def list_sites(self, query: dict | None = None) -> dict:
        """Sites by id, paginated."""
        return catalogue.list_sites(self.db, self.caller, load(SiteQuerySchema, query or {}))

    @rpc
    def get_site(self, site_id: int) -> dict:
        """One site."""
        return catalogue.get_site(self.db, self.caller, site_id)

    @rpc
    def create_space(self, request: dict) -> dict:
        """Add a room or a pool of identical units with its hours and rules; admins and coordinators."""
        return catalogue.create_space(self.db, self.caller, load(SpaceRequestSchema, request))

    @rpc
    def get_space(self, space_id: int) -> dict:
        """One active space with its rules."""
        return catalogue.get_space_view(self.db, self.caller, space_id)

    @rpc
    def update_space(self, space_id: int, request: dict) -> dict:
        """Change a space (catalogue roles; its managers may change rules, capacity and equipment)."""
        return catalogue.update_space(self.db, self.caller, space_id, load(SpaceUpdateSchema, request))

    @rpc
    def list_spaces(self) -> list[dict]:
        """Every active space."""
        return catalogue.list_spaces(self.db)

    @rpc
    def search_spaces(self, query: dict | None = None) -> dict:
        """Active spaces filtered by site, kind, capacity, equipment and "free between"; paginated."""
        return catalogue.search_spaces(self.db, self.caller, load(SpaceQuerySchema, query or {}))

    @rpc
    def ensure_space(self, site_name: str, space: dict) -> dict:
        """Create a site and a space if missing (admin; used by the demo seed)."""
        return catalogue.ensure_space(self.db, self.caller, site_name, load(EnsureSpaceSchema, space))

    @rpc
    def add_blackout(self, space_id: int, request: dict) -> dict:
        """Black out a space (or its whole site) for a period: holidays, maintenance."""
        return catalogue.add_blackout(self.db, self.caller, space_id, load(BlackoutRequestSchema, request))

    @rpc
    def list_blackouts(self, space_id: int, query: dict | None = None) -> list[dict]:
        """Blackouts of a space and its site."""
        return catalogue.list_blackouts(self.db, self.caller, space_id, load(BlackoutQuerySchema, query or {}))

    @rpc
    def availability(self, space_id: int, query: dict) -> dict:
        """Free intervals (free units for pools) between from and to; others' bookings are only busy."""
        return catalogue.availability(self.db, self.caller, space_id, load(AvailabilityQuerySchema, query))

    @rpc
    def space_calendar(self, space_id: int) -> str:
        """The space's bookings as an RFC 5545 calendar (others' as busy)."""
        return operations.space_calendar(self.db, self.caller, space_id)

    # -- bookings --------------------------------------------------------------------------------------------
    @rpc
    def create_booking(self, request: dict) -> dict:
        """Book a space, once or recurring, for the caller (or a team they lead).

        422 names the broken rule and writes nothing; 409 lists every conflicting occurrence (or, with
        on_conflict=skip, a series books only its free occurrences). Never a double booking. Over RPC a
        `reference` names the booking: a repeat answers the booking already made; a released one is a 409.
        """
        return operations.create_booking(self.db, self.emit, self.caller,
                                         load(ReferencedBookingRequestSchema, request), team_leads=self._team_leads)

    @rpc
    def release_reference(self, reference: str) -> dict:
        """Give back the booking made with `reference` (its live occurrences are cancelled), or, if none was
        made yet, refuse it to a later create_booking. Idempotent; the system or the booker (internal RPC,
        for another service's compensation: not on HTTP)."""
        data = load(ReferenceSchema, {"reference": reference})
        return operations.release_reference(self.db, self.emit, self.caller, data["reference"])

    @rpc
    def preview_booking(self, request: dict) -> dict:
        """What create_booking would do with the same request, writing nothing: every occurrence with its
        conflicts. Same 422s and the same authorisation as booking."""
        return operations.preview_booking(self.db, self.caller, load(BookingRequestSchema, request),
                                          team_leads=self._team_leads)

    @rpc
    def get_booking(self, booking_id: int) -> dict:
        """One booking with its occurrences, if the caller booked it or manages its space (else NotFound)."""
        return operations.get_booking(self.db, self.caller, booking_id)

    @rpc
    def list_bookings(self, query: dict | None = None) -> dict:
        """The caller's bookings (mine, the default), those of spaces they manage (scope=managed), or both
        (mine=false), newest first."""
        return operations.list_bookings(self.db, self.caller, load(BookingQuerySchema, query or {}))

    @rpc
    def update_booking(self, booking_id: int, request: dict, expected_version: int | None = None) -> dict:
        """Change title/notes; a stale expected_version raises PreconditionFailed."""
        return operations.update_booking(self.db, self.caller, booking_id, load(BookingUpdateSchema, request),
                                         expected_version)

    @rpc
    def cancel_booking(self, booking_id: int, request: dict | None = None) -> dict:
        """Cancel one occurrence, this-and-following, or the series; freed slots go to the waitlist."""
        return operations.cancel_booking(self.db, self.emit, self.caller, booking_id,
                                         load(CancelRequestSchema, request or {}))

    @rpc
    def approve_booking(self, booking_id: int, request: dict | None = None) -> dict:
        """A space manager confirms a pending booking."""
        return operations.approve_booking(self.db, self.emit, self.caller, booking_id,
                                          load(DecisionSchema, request or {}))

    @rpc
    def reject_booking(self, booking_id: int, request: dict) -> dict:
        """A space manager rejects a pending booking with a reason; its slots are freed."""
        return operations.reject_booking(self.db, self.emit, self.caller, booking_id,
                                         load(RejectionSchema, request))

    @rpc
    def check_in(self, booking_id: int, request: dict) -> dict:
        """Check in to an occurrence (opens shortly before its start)."""
        data = load(CheckInSchema, request)
        return operations.check_in(self.db, self.caller, booking_id, data["occurrence_id"])

    @rpc
    def booking_calendar(self, booking_id: int) -> str:
        """One booking as an RFC 5545 calendar (same visibility as get_booking)."""
        return operations.booking_calendar(self.db, self.caller, booking_id)

    # -- waitlist --------------------------------------------------------------------------------------------
    @rpc
    def join_waitlist(self, request: dict) -> dict:
        """Wait for a full slot; Conflict when it is free (book it instead)."""
        return waitlist.join(self.db, self.caller, load(WaitlistRequestSchema, request))

    @rpc
    def list_waitlist(self, query: dict | None = None) -> dict:
        """The caller's waitlist entries with their place in line."""
        return waitlist.mine(self.db, self.caller, load(WaitlistQuerySchema, query or {}))

    @rpc
    def leave_waitlist(self, entry_id: int) -> dict:
        """Stop waiting (a held offer passes to the next in line)."""
        return waitlist.leave(self.db, self.emit, self.caller, entry_id)

    @rpc
    def accept_offer(self, entry_id: int) -> dict:
        """Take a slot held for you before the hold lapses."""
        return waitlist.accept(self.db, self.emit, self.caller, entry_id)

    # -- timers (each item claimed once across replicas) ----------------------------------------------------
    @timer(interval=TIMER_SECONDS)
    def expire_pending(self):
        tasks.expire_pending(self.db, self.emit)

    @timer(interval=TIMER_SECONDS)
    def release_no_shows(self):
        tasks.release_no_shows(self.db, self.emit)

    @timer(interval=TIMER_SECONDS)
    def send_reminders(self):
        tasks.send_reminders(self.db, self.emit)

    @timer(interval=TIMER_SECONDS)
    def lapse_waitlist_offers(self):
        tasks.lapse_offers(self.db, self.emit)
