"""Entrypoints of the notifications service."""
from __future__ import annotations

from services.notifications import operations
from services.notifications.models import infra
from services.notifications.schemas import InboxQuerySchema
from shared.db import DatabaseProvider
from shared.identity import CallerProvider
from shared.inbox import InboxProvider, consumes
from shared.outbox import OutboxProvider
from shared.rpc import load, rpc
from shared.service import ServiceBase


class NotificationsService(ServiceBase):
    name = "notifications"

    db = DatabaseProvider("notifications")
    emit = OutboxProvider("notifications", infra)
    inbox = InboxProvider("notifications", infra)
    caller = CallerProvider()

    @rpc
    def list_inbox(self, query: dict | None = None) -> dict:
        """The caller's inbox, newest first, with the unread count; paginated by cursor."""
        return operations.list_inbox(self.db, self.caller, load(InboxQuerySchema, query or {}))

    @consumes("gateway", "account.registered")
    def on_account_registered(self, session, event):
        operations.upsert_recipient(session, event["payload"])

    @consumes("gateway", "account.updated")
    def on_account_updated(self, session, event):
        operations.upsert_recipient(session, event["payload"])

    @consumes("bookings", "booking.confirmed")
    def on_booking_confirmed(self, session, event):
        p = event["payload"]
        operations.add_inbox_entries(
            session, [p["booker_id"]], source_key=event["event_id"], type_name=event["type"],
            category="bookings", title=f"预订已确认:{p['space_name']}",
            body=f"{p['space_name']} {p['starts_at'].isoformat()} – {p['ends_at'].isoformat()}",
            data={"booking_id": p["booking_id"]},
        )
