"""The notifications service's contracts: the RPC request and response schemas, shared with the gateway."""
from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from marshmallow import Schema, ValidationError, validate, validates, validates_schema

from services.notifications.routing import CATEGORIES
from shared import fields
from shared.identity import ROLES
from shared.paging import PageQuerySchema, page_of

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
CHANNEL_NAME = validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,39}$", error="lower-case letters, digits, - and _")
SEVERITIES = ("info", "warning", "critical")


def _zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (KeyError, ValueError):
        raise ValidationError("not an IANA timezone (e.g. Asia/Shanghai)") from None


Page = PageQuerySchema


# -- inbox ---------------------------------------------------------------------------------------------
class InboxEntrySchema(Schema):
    id = fields.Integer()
    type = fields.String()
    category = fields.String()
    severity = fields.String()
    title = fields.String()
    body = fields.String()
    data = fields.Dict()
    created_at = fields.AwareDateTime()
    read_at = fields.AwareDateTime(allow_none=True)
    superseded_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "set when what the entry asked is no longer the reader's (e.g. someone else accepted); "
                       "a superseded entry does not count as unread"})


class InboxQuerySchema(Page):
    unread = fields.Boolean(load_default=False)
    category = fields.String(load_default=None, validate=validate.OneOf(CATEGORIES))


class InboxPageSchema(page_of(InboxEntrySchema, "InboxEntries")):
    unread_count = fields.Integer()


class ReadResultSchema(Schema):
    marked = fields.Integer(metadata={"description": "entries that were unread and are read now"})
    unread_count = fields.Integer()


# -- preferences ---------------------------------------------------------------------------------------
class QuietHoursSchema(Schema):
    start = fields.String(required=True, metadata={"example": "22:00"})
    end = fields.String(required=True, metadata={"example": "07:00"})

    @validates("start")
    def _start(self, value, **_):
        if not HHMM.match(value):
            raise ValidationError("HH:MM, 24-hour")

    @validates("end")
    def _end(self, value, **_):
        if not HHMM.match(value):
            raise ValidationError("HH:MM, 24-hour")

    @validates_schema
    def _not_empty(self, data, **_):
        if data.get("start") == data.get("end"):
            raise ValidationError("start and end must differ", "end")


class PreferencesSchema(Schema):
    quiet_hours = fields.Nested(QuietHoursSchema, allow_none=True, load_default=None,
                                metadata={"description": "non-critical channel messages wait until it ends"})
    timezone = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=64),
                             metadata={"description": "quiet hours are in this zone (default: the account's)"})
    categories = fields.Dict(
        keys=fields.String(validate=validate.OneOf(CATEGORIES)),
        values=fields.Dict(keys=fields.String(validate=CHANNEL_NAME), values=fields.Boolean()),
        load_default=dict,
        metadata={"description": "category → channel name (`inbox` or a channel's name) → on/off; absent = on",
                  "example": {"bookings": {"inbox": True, "email": False}}},
    )

    @validates("timezone")
    def _timezone(self, value, **_):
        if value is not None:
            _zone(value)


# -- channels ------------------------------------------------------------------------------------------
class ChannelRequestSchema(Schema):
    name = fields.String(required=True, validate=CHANNEL_NAME,
                         metadata={"description": "your label, used in preferences", "example": "email"})
    url = fields.String(required=True, validate=validate.Length(min=4, max=2000),
                        metadata={"description": "an Apprise URL of a supported scheme (mailto(s)://, json(s)://, "
                                                 "ntfy(s)://, wecombot://, dingtalk://) with that scheme's query "
                                                 "parameters only, to a host that resolves to public addresses "
                                                 "(unless the operator allows its network); checked again "
                                                 "before each send", "example": "wecombot://BOTKEY"})
    team_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1),
                             metadata={"description": "a team's group channel (coordinators)"})
    grid_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1),
                             metadata={"description": "a grid's group channel (its coordinators)"})
    locale = fields.String(load_default="zh-CN", validate=validate.OneOf(["zh-CN", "en"]))

    @validates_schema
    def _one_owner(self, data, **_):
        if data.get("team_id") and data.get("grid_id"):
            raise ValidationError("give team_id or grid_id, not both", "grid_id")


class ChannelQuerySchema(Schema):
    team_id = fields.Integer(load_default=None, validate=validate.Range(min=1))
    grid_id = fields.Integer(load_default=None, validate=validate.Range(min=1))


class ChannelSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    owner_kind = fields.String()
    owner_id = fields.Integer()
    scheme = fields.String()
    address = fields.String(attribute="masked", metadata={"description": "masked: scheme and last 4 chars"})
    locale = fields.String()
    active = fields.Boolean()
    created_at = fields.AwareDateTime()


ChannelPageSchema = page_of(ChannelSchema, "ChannelPageSchema", whole=True)


# -- broadcasts ----------------------------------------------------------------------------------------
class AudienceSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["everyone", "role", "team", "grid"]))
    id = fields.Integer(load_default=None, validate=validate.Range(min=1),
                        metadata={"description": "the team or grid (grids include their subtree)"})
    role = fields.String(load_default=None, validate=validate.OneOf(ROLES))
    only = fields.String(load_default=None, validate=validate.OneOf(["merchants", "volunteers", "coordinators"]))

    @validates_schema
    def _complete(self, data, **_):
        if data["kind"] in ("team", "grid") and not data.get("id"):
            raise ValidationError(f"a {data['kind']} audience needs its id", "id")
        if data["kind"] == "role" and not data.get("role"):
            raise ValidationError("a role audience needs the role", "role")


class BroadcastRequestSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    body = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    title_en = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200),
                             metadata={"description": "the English title, for people whose locale is English "
                                                      "(they get `title` without it); with body_en"})
    body_en = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=4000),
                            metadata={"description": "the English text; with title_en"})
    audience = fields.List(fields.Nested(AudienceSchema), required=True, validate=validate.Length(min=1, max=20),
                           metadata={"description": "everyone reached by any item hears once"})
    severity = fields.String(load_default="info", validate=validate.OneOf(SEVERITIES),
                             metadata={"description": "critical passes quiet hours and opt-outs"})
    send_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                   metadata={"description": "schedule it (default: now)"})
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                      metadata={"description": "channel messages not sent by then are dropped"})

    @validates_schema
    def _times(self, data, **_):
        if data.get("expires_at") and data.get("send_at") and data["expires_at"] <= data["send_at"]:
            raise ValidationError("must be after send_at", "expires_at")

    @validates_schema
    def _english(self, data, **_):
        if bool(data.get("title_en")) != bool(data.get("body_en")):
            missing = "body_en" if data.get("title_en") else "title_en"
            raise ValidationError("the English title and text go together", missing)


class AudienceCountSchema(AudienceSchema):
    people = fields.Integer(metadata={"description": "people this item reaches (some may be in other items too)"})


class BroadcastPreviewSchema(Schema):
    targeted = fields.Integer(metadata={"description": "people the broadcast would reach, each once"})
    audience = fields.List(fields.Nested(AudienceCountSchema))
    group_channels = fields.Integer(metadata={"description": "team and grid group channels it would post to"})


class ChannelProgressSchema(Schema):
    pending = fields.Integer()
    sent = fields.Integer()
    failed = fields.Integer()


class SchemeProgressSchema(ChannelProgressSchema):
    scheme = fields.String(metadata={"description": "the kind of channel: mailto, wecom, dingtalk, ntfy, json…"})


class BroadcastQuerySchema(PageQuerySchema):
    mine = fields.Boolean(load_default=False, metadata={
        "description": "only broadcasts I sent (a coordinator only ever sees their own; narrows an admin's list)"})


class BroadcastSchema(Schema):
    id = fields.Integer()
    sender_id = fields.Integer(allow_none=True)
    title = fields.String()
    body = fields.String()
    title_en = fields.String(allow_none=True)
    body_en = fields.String(allow_none=True)
    severity = fields.String()
    audience = fields.List(fields.Dict())
    state = fields.String(metadata={"description": "scheduled | sending | done"})
    send_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime(allow_none=True)
    targeted = fields.Integer(metadata={"description": "people reached by the audience"})
    sent = fields.Integer(metadata={"description": "inbox entries written"})
    failed = fields.Integer(metadata={"description": "channel messages given up on (parked)"})
    channels = fields.Nested(ChannelProgressSchema)
    by_channel = fields.List(fields.Nested(SchemeProgressSchema),
                             metadata={"description": "channel messages by kind of channel and state"})
    created_at = fields.AwareDateTime()
    done_at = fields.AwareDateTime(allow_none=True)


BroadcastPageSchema = page_of(BroadcastSchema, "BroadcastPageSchema")


# -- deliveries (operators) ----------------------------------------------------------------------------
class DeliveryQuerySchema(Page):
    status = fields.String(load_default="parked",
                           validate=validate.OneOf(["pending", "sending", "sent", "parked", "expired"]))


class DeliveryAttemptSchema(Schema):
    attempt = fields.Integer()
    channel = fields.String()
    status = fields.String()
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer()
    at = fields.AwareDateTime()


class DeliverySchema(Schema):
    id = fields.Integer()
    source_key = fields.String()
    channel_id = fields.Integer()
    user_id = fields.Integer(allow_none=True)
    broadcast_id = fields.Integer(allow_none=True)
    type = fields.String()
    title = fields.String()
    status = fields.String()
    held_reason = fields.String(allow_none=True)
    attempts = fields.Integer()
    next_attempt_at = fields.AwareDateTime()
    last_error = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    sent_at = fields.AwareDateTime(allow_none=True)
    log = fields.List(fields.Nested(DeliveryAttemptSchema))


DeliveryPageSchema = page_of(DeliverySchema, "DeliveryPageSchema")


class ReplayRequestSchema(Schema):
    ids = fields.List(fields.Integer(validate=validate.Range(min=1)), load_default=list,
                      validate=validate.Length(max=1000), metadata={"description": "none = every parked one"})


class ReplayResultSchema(Schema):
    replayed = fields.Integer()
