"""How every list answers: `{"items": [...], "next_cursor": str | null}`.

A list that can grow without bound pages with `limit` (1..100, default 20) and an opaque `cursor` (the
`next_cursor` of the page before; null on the last page). A small list that is always answered whole (the
grid tree, teams, categories, an action's timeline…) has the same shape with `next_cursor` null.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from marshmallow import Schema, validate
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from shared import fields
from shared.errors import Invalid
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


def cursor_of(query: dict) -> int | None:
    """The id a `cursor` names (the last row of the page before); None for the first page."""
    text = query.get("cursor")
    if not text:
        return None
    try:
        return int(text)
    except (TypeError, ValueError):
        raise Invalid("Bad cursor.", errors={"cursor": ["not a cursor this API returned"]}) from None


@dataclass(frozen=True)
class Page:
    """One page of rows and the cursor of the next (None on the last page)."""

    rows: list
    next_cursor: str | None

    def answer(self, dump: Callable[[list], list], **more) -> dict:
        """The list answer: `{"items": dump(rows), "next_cursor": …}` and any `more` members."""
        return {"items": dump(self.rows), "next_cursor": self.next_cursor, **more}


def keyset(session: Session, statement: Select, key: InstrumentedAttribute, query: dict, *,
           newest_first: bool = True) -> Page:
    """Keyset paging, the one way every list pages: `statement` ordered by the unique integer column `key`
    (newest first by default), `query["limit"]` rows after the `query["cursor"]` row. Filters belong in
    `statement` (SQL), never applied to the rows afterwards, or pages would come out short."""
    after = cursor_of(query)
    if after is not None:
        statement = statement.where(key < after if newest_first else key > after)
    limit = query["limit"]
    rows = list(session.scalars(statement.order_by(key.desc() if newest_first else key.asc())
                                .limit(limit + 1)).all())
    page = rows[:limit]
    more = len(rows) > limit and page
    return Page(page, str(getattr(page[-1], key.key)) if more else None)
