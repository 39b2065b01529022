"""The notifications service's RPC and HTTP contract."""
from marshmallow import Schema, fields, validate


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


class InboxQuerySchema(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    unread = fields.Boolean(load_default=False)


class InboxPageSchema(Schema):
    items = fields.List(fields.Nested(InboxEntrySchema))
    next_cursor = fields.String(allow_none=True)
    unread_count = fields.Integer()
