"""Use-cases of the notifications service."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from services.notifications.models import InboxEntry, Recipient
from services.notifications.schemas import InboxEntrySchema
from shared.db import Database
from shared.errors import Invalid
from shared.identity import Caller


def upsert_recipient(session, payload: dict) -> None:
    recipient = session.get(Recipient, payload["user_id"]) or Recipient(user_id=payload["user_id"])
    for key in ("username", "display_name", "locale", "timezone", "roles", "grids", "groups", "active"):
        setattr(recipient, key, payload.get(key, getattr(recipient, key)))
    session.add(recipient)


def add_inbox_entries(session, user_ids, *, source_key: str, type_name: str, title: str, body: str,
                      data: dict | None = None, category: str = "general", severity: str = "info") -> int:
    """One entry per user for `source_key`; a repeated call adds nothing (INSERT … ON CONFLICT DO NOTHING)."""
    rows = [{"user_id": uid, "source_key": source_key, "type": type_name, "category": category,
             "severity": severity, "title": title, "body": body, "data": data or {}}
            for uid in sorted(set(user_ids))]
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(InboxEntry).values(rows).on_conflict_do_nothing(index_elements=["user_id", "source_key"])
    return session.execute(stmt).rowcount


def list_inbox(db: Database, caller: Caller, query: dict) -> dict:
    caller.require()
    with db.read() as session:
        stmt = select(InboxEntry).where(InboxEntry.user_id == caller.user_id)
        if query.get("unread"):
            stmt = stmt.where(InboxEntry.read_at.is_(None))
        if query.get("cursor"):
            try:
                stmt = stmt.where(InboxEntry.id < int(query["cursor"]))
            except ValueError:
                raise Invalid("Bad cursor.", errors={"cursor": ["not a cursor from a previous page"]}) from None
        items = session.scalars(stmt.order_by(InboxEntry.id.desc()).limit(query["limit"] + 1)).all()
        more = len(items) > query["limit"]
        items = items[: query["limit"]]
        unread = session.scalar(select(func.count()).select_from(InboxEntry)
                                .where(InboxEntry.user_id == caller.user_id, InboxEntry.read_at.is_(None)))
        return {"items": InboxEntrySchema(many=True).dump(items),
                "next_cursor": str(items[-1].id) if more else None, "unread_count": unread}
