"""How every list pages: `limit` (1..100, default 20) and an opaque `cursor`, answered as
`{"items": [...], "next_cursor": str | null}`."""
from __future__ import annotations

from marshmallow import Schema, validate

from shared import fields
from shared.inputs import CURSOR_PATTERN


class PageQuerySchema(Schema):
    """`limit` and `cursor` of every list; list queries inherit it and add their filters."""

    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None, allow_none=True,
                           validate=validate.Regexp(CURSOR_PATTERN, error="not a cursor this API returned"),
                           metadata={"description": "`next_cursor` of the previous page"})


def page_of(item_schema: type[Schema], name: str) -> type[Schema]:
    """The schema of one page of `item_schema` (documents list answers in the OpenAPI document)."""
    return type(name, (Schema,), {"items": fields.List(fields.Nested(item_schema)),
                                  "next_cursor": fields.String(allow_none=True)})
