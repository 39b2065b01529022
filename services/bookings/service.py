"""Entrypoints of the bookings service (thin: validate, authorise via the caller, delegate)."""
from __future__ import annotations

from services.bookings import operations
from services.bookings.models import infra
from services.bookings.schemas import BookingRequestSchema
from shared.db import DatabaseProvider
from shared.identity import CallerProvider
from shared.inbox import InboxProvider
from shared.outbox import OutboxProvider
from shared.rpc import load, rpc
from shared.service import ServiceBase


class BookingsService(ServiceBase):
    name = "bookings"

    db = DatabaseProvider("bookings")
    emit = OutboxProvider("bookings", infra)
    inbox = InboxProvider("bookings", infra)
    caller = CallerProvider()

    @rpc
    def create_booking(self, request: dict) -> dict:
        """Book a space for the caller; raises Conflict listing every overlapping occurrence."""
        return operations.create_booking(self.db, self.emit, self.caller, load(BookingRequestSchema, request))

    @rpc
    def get_booking(self, booking_id: int) -> dict:
        """One booking with its occurrences, if the caller booked it or manages its space."""
        return operations.get_booking(self.db, self.caller, booking_id)

    @rpc
    def list_spaces(self) -> list[dict]:
        """Every active space."""
        return operations.list_spaces(self.db)

    @rpc
    def ensure_space(self, site_name: str, space: dict) -> dict:
        """Create a site and a space if missing (admin; used by the demo seed)."""
        return operations.ensure_space(self.db, self.caller, site_name, space)
