"""The caller's inbox."""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint

from services.gateway.api import SECURED, call, respond
from services.notifications.schemas import InboxPageSchema, InboxQuerySchema

blp = Blueprint("notifications", __name__, description="Inbox and notification settings")


@blp.get("/notifications")
@blp.arguments(InboxQuerySchema, location="query")
@blp.response(200, InboxPageSchema)
@blp.doc(security=SECURED)
def list_notifications(_query):
    """The caller's inbox, newest first, with the unread count."""
    return respond(call("notifications", "list_inbox", request.args.to_dict()))
