"""Entrypoints of the notifications service (thin: validate, authorise via the caller, delegate)."""
from __future__ import annotations

import eventlet

from services.notifications import broadcasts, deliveries, operations
from services.notifications.contracts import (
    BroadcastQuerySchema,
    BroadcastRequestSchema,
    ChannelQuerySchema,
    ChannelRequestSchema,
    DeliveryQuerySchema,
    InboxQuerySchema,
    PreferencesSchema,
    ReplayRequestSchema,
)
from services.notifications.models import infra
from shared import config
from shared.db import utcnow
from shared.events import REGISTRY
from shared.identity import Caller
from shared.inbox import consumes
from shared.remote import ServiceRpc
from shared.rpc import load, rpc
from shared.service import ServiceBase
from shared.timers import timer


class NotificationsService(ServiceBase, infra=infra):
    name = "notifications"

    volunteers = ServiceRpc("volunteers", as_system=True)

    # -- helpers handed to the use-cases ---------------------------------------------------------------
    def _coordinator_scope(self, user_id: int) -> list[int]:
        return list(self.volunteers.call("coordinator_scope", user_id))

    def _members(self, query: dict) -> list[int]:
        return list(self.volunteers.call("audience_members", query))

    # -- inbox -----------------------------------------------------------------------------------------
    @rpc
    def list_inbox(self, query: dict | None = None) -> dict:
        """The caller's inbox, newest first, with the unread count; paginated by cursor."""
        return operations.list_inbox(self.db, self.caller, load(InboxQuerySchema, query or {}))

    @rpc
    def mark_read(self, entry_id: int) -> dict:
        """Mark one of the caller's entries read (idempotent); NotFound for anyone else's."""
        return operations.mark_read(self.db, self.caller, int(entry_id))

    @rpc
    def mark_all_read(self) -> dict:
        """Mark every entry of the caller read; answers how many changed."""
        return operations.mark_all_read(self.db, self.caller)

    # -- preferences and channels ----------------------------------------------------------------------
    @rpc
    def get_preferences(self) -> dict:
        """The caller's preferences (all on, no quiet hours, until they change them)."""
        return operations.get_preferences(self.db, self.caller)

    @rpc
    def put_preferences(self, data: dict) -> dict:
        """Replace the caller's preferences; validated first, so bad input changes nothing."""
        return operations.put_preferences(self.db, self.caller, load(PreferencesSchema, data))

    @rpc
    def ensure_preferences(self, user_id: int, data: dict) -> dict:
        """Set someone's preferences (admin; used by the demo seed). Idempotent."""
        self.caller.require_role("admin")
        return operations.put_preferences(self.db, Caller(user_id=int(user_id)), load(PreferencesSchema, data))

    @rpc
    def list_channels(self, query: dict | None = None) -> list[dict]:
        """The caller's own channels, or a team's or grid's (coordinators); addresses masked."""
        return operations.list_channels(self.db, self.caller, load(ChannelQuerySchema, query or {}),
                                        self._coordinator_scope)

    @rpc
    def add_channel(self, data: dict) -> dict:
        """Register an Apprise address for the caller, a team or a grid; stored encrypted, answered masked."""
        return operations.add_channel(self.db, self.caller, load(ChannelRequestSchema, data), self._coordinator_scope)

    @rpc
    def remove_channel(self, channel_id: int) -> None:
        """Stop using a channel (its delivery log is kept)."""
        operations.remove_channel(self.db, self.caller, int(channel_id), self._coordinator_scope)

    # -- broadcasts ------------------------------------------------------------------------------------
    @rpc
    def create_broadcast(self, data: dict) -> dict:
        """Send (or schedule) a notice to an audience; fan-out starts at once when it is due."""
        data = load(BroadcastRequestSchema, data)
        created = broadcasts.create_broadcast(self.db, self.caller, data, self._coordinator_scope, self._members)
        if not data.get("send_at") or data["send_at"] <= utcnow():
            # Start now rather than at the next tick; the claim keeps the timer from doing it twice.
            eventlet.spawn_n(broadcasts.fan_out, self.db, created["id"])
        return created

    @rpc
    def preview_broadcast(self, data: dict) -> dict:
        """How many people a broadcast would reach (authorised as sending it); writes nothing."""
        data = load(BroadcastRequestSchema, data)
        return broadcasts.preview_broadcast(self.db, self.caller, data, self._coordinator_scope, self._members)

    @rpc
    def get_broadcast(self, broadcast_id: int) -> dict:
        """A broadcast with its progress: targeted, sent (inboxes), failed, and channel counts."""
        return broadcasts.get_broadcast(self.db, self.caller, int(broadcast_id))

    @rpc
    def list_broadcasts(self, query: dict | None = None) -> dict:
        """The caller's broadcasts (every one for admins), newest first."""
        return broadcasts.list_broadcasts(self.db, self.caller, load(BroadcastQuerySchema, query or {}))

    # -- operators -------------------------------------------------------------------------------------
    @rpc
    def list_deliveries(self, query: dict | None = None) -> dict:
        """Channel messages by status (parked by default) with their attempt log; admins only."""
        self.caller.require_role("admin")
        return deliveries.list_deliveries(self.db, load(DeliveryQuerySchema, query or {}))

    @rpc
    def replay_deliveries(self, data: dict | None = None) -> dict:
        """Queue parked channel messages again (all when no ids are given); admins only."""
        self.caller.require_role("admin")
        ids = load(ReplayRequestSchema, data or {})["ids"]
        return {"replayed": deliveries.replay_deliveries(ids or None, self.db)}

    # -- timers ----------------------------------------------------------------------------------------
    @timer(interval=config.env_float("NUANXIN_DELIVERY_INTERVAL", 1.0))
    def send_deliveries(self):
        """Send due channel messages (retries and quiet-hour holds included)."""
        deliveries.send_due(self.db)

    @timer(interval=config.env_float("NUANXIN_BROADCAST_INTERVAL", 1.0))
    def fan_out_broadcasts(self):
        """Fan out scheduled broadcasts that are due, and resume any whose process died."""
        broadcasts.fan_out(self.db)

    @timer(interval=config.env_float("NUANXIN_REMINDER_INTERVAL", 5.0))
    def fire_reminders(self):
        """Send reminders that are due, each once."""
        operations.fire_due_reminders(self.db)

    @timer(interval=config.env_float("NUANXIN_INBOX_PURGE_INTERVAL", 3600.0))
    def purge_inbox(self):
        """Forget inbox entries older than NUANXIN_INBOX_KEEP_DAYS."""
        operations.purge_inbox(self.db, config.env_float("NUANXIN_INBOX_KEEP_DAYS", 180.0))


def _event_handler(type_name: str):
    def handler(self, session, event):
        operations.handle_event(session, event)

    handler.__name__ = handler.__qualname__ = "on_" + type_name.replace(".", "_")
    handler.__doc__ = f"Tell the people concerned of {type_name}."
    return handler


# Every event type in the contracts has a handler; the inbox finds retries by the handler's name.
for _event_type in REGISTRY.values():
    _handler = _event_handler(_event_type.name)
    setattr(NotificationsService, _handler.__name__, consumes(_event_type.source, _event_type.name)(_handler))
