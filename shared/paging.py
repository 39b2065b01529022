"""How every list answers: `{"items": [...], "next_cursor": str | null}`.

A list that can grow without bound pages with `limit` (1..100, default 20) and an opaque `cursor` (the
`next_cursor` of the page before; null on the last page). A small list that is always answered whole (the
grid tree, teams, categories, an action's timeline…) has the same shape with `next_cursor` null.
"""
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


def whole(items: list) -> dict:
    """A list answered whole: every item, no further page."""
    return {"items": items, "next_cursor": None}


def page_of(item_schema: type[Schema], name: str, whole: bool = False) -> type[Schema]:
    """The schema of one page of `item_schema` (documents list answers in the OpenAPI document); `whole`
    for a list always answered in one page, whose `next_cursor` is null."""
    cursor = ("Always null: this list is answered whole" if whole
              else "`cursor` for the next page; null on the last page")
    return type(name, (Schema,), {
        "items": fields.List(fields.Nested(item_schema), required=True),
        "next_cursor": fields.String(required=True, allow_none=True, metadata={"description": cursor}),
    })
