"""The caller's inbox, notification settings and channels; broadcasts; parked deliveries (operators)."""
from __future__ import annotations

from flask import Response, request
from flask_smorest import Blueprint

from services.gateway.api import SECURED, call, created, etag, respond
from services.gateway.schemas import UnreadSchema
from services.notifications.contracts import (
    BroadcastPageSchema,
    BroadcastPreviewSchema,
    BroadcastQuerySchema,
    BroadcastRequestSchema,
    BroadcastSchema,
    ChannelPageSchema,
    ChannelQuerySchema,
    ChannelRequestSchema,
    ChannelSchema,
    DeliveryPageSchema,
    DeliveryQuerySchema,
    InboxPageSchema,
    InboxQuerySchema,
    PreferencesSchema,
    ReadResultSchema,
    ReplayRequestSchema,
    ReplayResultSchema,
)
from shared.paging import whole

blp = Blueprint("notifications", __name__, description="Inbox, notification settings, channels and broadcasts")


@blp.get("/notifications")
@blp.arguments(InboxQuerySchema, location="query")
@blp.response(200, InboxPageSchema)
@blp.doc(security=SECURED)
def list_notifications(query):
    """The caller's inbox, newest first, with the unread count."""
    return respond(call("notifications", "list_inbox", query))


@blp.get("/notifications/unread")
@blp.response(200, UnreadSchema)
@blp.alt_response(304, description="Unchanged since the ETag sent in If-None-Match")
@blp.doc(security=SECURED)
def unread():
    """The unread count and the newest entry's id, for a badge polled often: send the last ETag in
    If-None-Match and the answer is an empty 304 while nothing changed."""
    page = call("notifications", "list_inbox", {"limit": 1})
    body = {"unread_count": page["unread_count"], "latest_id": page["items"][0]["id"] if page["items"] else None}
    tag = etag(f"{body['unread_count']}-{body['latest_id']}")
    if request.if_none_match.contains_weak(tag.strip('"')):
        response = Response(status=304)
    else:
        response = respond(body)
    response.headers["ETag"] = tag
    return response


@blp.post("/notifications/<int:entry_id>/read")
@blp.response(200, ReadResultSchema)
@blp.doc(security=SECURED)
def mark_read(entry_id):
    """Mark one notification read (repeating it changes nothing)."""
    return respond(call("notifications", "mark_read", entry_id))


@blp.post("/notifications/read-all")
@blp.response(200, ReadResultSchema)
@blp.doc(security=SECURED)
def mark_all_read():
    """Mark every notification of the caller read."""
    return respond(call("notifications", "mark_all_read"))


@blp.get("/notification-preferences")
@blp.response(200, PreferencesSchema)
@blp.doc(security=SECURED)
def get_preferences():
    """The caller's per-category, per-channel switches and quiet hours."""
    return respond(call("notifications", "get_preferences"))


@blp.put("/notification-preferences")
@blp.arguments(PreferencesSchema)
@blp.response(200, PreferencesSchema)
@blp.doc(security=SECURED)
def put_preferences(data):
    """Replace the caller's preferences. Critical notices (typhoon alerts, escalation to the command)
    ignore them."""
    return respond(call("notifications", "put_preferences", data))


@blp.get("/notification-channels")
@blp.arguments(ChannelQuerySchema, location="query")
@blp.response(200, ChannelPageSchema)
@blp.doc(security=SECURED)
def list_channels(query):
    """The caller's channels, or with `team_id`/`grid_id` a group's (coordinators). Addresses are masked.
    Answered whole."""
    return respond(whole(call("notifications", "list_channels", query)))


@blp.post("/notification-channels")
@blp.arguments(ChannelRequestSchema)
@blp.response(201, ChannelSchema)
@blp.alt_response(409, description="A channel of that name exists already")
@blp.doc(security=SECURED)
def add_channel(data):
    """Add an e-mail, WeCom, DingTalk, ntfy, webhook… address (any Apprise URL). Stored encrypted."""
    channel = call("notifications", "add_channel", data)
    return created(channel, f"/api/v1/notification-channels/{channel['id']}")


@blp.delete("/notification-channels/<int:channel_id>")
@blp.response(204)
@blp.doc(security=SECURED)
def remove_channel(channel_id):
    """Stop sending to a channel."""
    call("notifications", "remove_channel", channel_id)
    return Response(status=204)


@blp.post("/broadcasts")
@blp.arguments(BroadcastRequestSchema)
@blp.response(201, BroadcastSchema)
@blp.alt_response(403, description="A coordinator addressed something outside their grids")
@blp.alt_response(503, description="The volunteers service did not answer (teams and grids); try again")
@blp.doc(security=SECURED)
def create_broadcast(data):
    """Send a notice to an audience (coordinators: grids in their scope; admins: anyone)."""
    broadcast = call("notifications", "create_broadcast", data)
    return created(broadcast, f"/api/v1/broadcasts/{broadcast['id']}")


@blp.post("/broadcasts/preview")
@blp.arguments(BroadcastRequestSchema)
@blp.response(200, BroadcastPreviewSchema)
@blp.alt_response(403, description="A coordinator addressed something outside their grids")
@blp.alt_response(503, description="The volunteers service did not answer (teams and grids); try again")
@blp.doc(security=SECURED)
def preview_broadcast(data):
    """How many people a broadcast would reach, in all and per audience item, before sending it:
    checked and authorised as POST /broadcasts, and writes nothing."""
    return respond(call("notifications", "preview_broadcast", data))


@blp.get("/broadcasts")
@blp.arguments(BroadcastQuerySchema, location="query")
@blp.response(200, BroadcastPageSchema)
@blp.doc(security=SECURED)
def list_broadcasts(query):
    """The caller's broadcasts, newest first (every one for admins; `mine`: only those you sent)."""
    return respond(call("notifications", "list_broadcasts", query))


@blp.get("/broadcasts/<int:broadcast_id>")
@blp.response(200, BroadcastSchema)
@blp.doc(security=SECURED)
def get_broadcast(broadcast_id):
    """A broadcast and its progress: targeted, sent (inboxes), failed, and channel messages in all and per kind
    of channel (`by_channel`)."""
    return respond(call("notifications", "get_broadcast", broadcast_id))


@blp.get("/notification-deliveries")
@blp.arguments(DeliveryQuerySchema, location="query")
@blp.response(200, DeliveryPageSchema)
@blp.doc(security=SECURED)
def list_deliveries(query):
    """Channel messages by status (parked by default) with every attempt and its error; admins only."""
    return respond(call("notifications", "list_deliveries", query))


@blp.post("/notification-deliveries/replay")
@blp.arguments(ReplayRequestSchema)
@blp.response(200, ReplayResultSchema)
@blp.doc(security=SECURED)
def replay_deliveries(data):
    """Send parked channel messages again (all of them when no ids are given); admins only."""
    return respond(call("notifications", "replay_deliveries", data))
