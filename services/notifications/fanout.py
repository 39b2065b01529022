"""Turn one notice into inbox entries and channel deliveries, in the caller's transaction.

Used by event handlers, broadcasts and reminders alike. Each person gets the text in their own locale;
their preferences decide the inbox and each of their channels; quiet hours hold channel messages (not
the inbox) until the window ends, unless the notice is critical. Rows are written with INSERT … ON
CONFLICT DO NOTHING on (user, source) and (source, channel), so a repeated notice adds nothing. Sending
happens later, in the delivery timer, never here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.notifications.models import (
    Channel,
    Delivery,
    InboxEntry,
    Preference,
    Recipient,
    RecipientGroup,
    RecipientRole,
)
from services.notifications.quiet_hours import quiet_until
from services.notifications.templates import pick_locale, render
from shared.db import insert_ignoring, utcnow

CHUNK = 1000


@dataclass
class Notice:
    source_key: str
    type: str
    category: str
    payload: dict
    severity: str = "info"
    critical: bool = False
    data: dict = field(default_factory=dict)
    broadcast_id: int | None = None
    expires_at: datetime | None = None
    # {audience: what its entries ask of the reader} (InboxEntry.awaits), e.g. {"assignee": "action:12"}.
    awaits: dict = field(default_factory=dict)


@dataclass
class Outcome:
    inboxed: int = 0
    deliveries: int = 0


def _chunks(items: list, size: int = CHUNK):
    for index in range(0, len(items), size):
        yield items[index:index + size]


def allowed(rules: dict | None, category: str, channel: str) -> bool:
    """Whether a person's preferences let `category` through `channel` (absent = on)."""
    return bool(((rules or {}).get(category) or {}).get(channel, True))


def ids_in_directory(session: Session, *, role: str | None = None, groups: list[str] | None = None,
                     everyone: bool = False) -> list[int]:
    """Active recipients with a role, in one of some beneficiary groups, or all of them (by user id)."""
    stmt = select(Recipient.user_id).where(Recipient.active.is_(True)).order_by(Recipient.user_id)
    if everyone:
        return list(session.scalars(stmt))
    if role:
        return list(session.scalars(stmt.where(Recipient.user_id.in_(
            select(RecipientRole.user_id).where(RecipientRole.role == role)))))
    if not groups:
        return []
    return list(session.scalars(stmt.where(Recipient.user_id.in_(
        select(RecipientGroup.user_id).where(RecipientGroup.group_name.in_(list(groups)))))))


def deliver(session: Session, notice: Notice, people: list[tuple[int, str | None]],
            group_channel_ids: list[int] = (), now: datetime | None = None) -> Outcome:
    """Write inbox entries for `people` ((user id, audience)) and queue their and the groups' channels."""
    now = now or utcnow()
    outcome = Outcome()
    texts: dict[tuple, tuple[str, str]] = {}

    def text_for(locale: str, audience: str | None, timezone: str) -> tuple[str, str]:
        key = (pick_locale(locale), audience, timezone)
        if key not in texts:
            texts[key] = render(notice.type, notice.payload, locale, audience=audience, timezone=timezone,
                                severity=notice.severity)
        return texts[key]

    for chunk in _chunks(people):
        ids = [uid for uid, _ in chunk]
        # Plain rows, not ORM objects: a broadcast reads thousands of them.
        recipients = {r.user_id: r for r in session.execute(
            select(Recipient.user_id, Recipient.locale, Recipient.timezone, Recipient.active)
            .where(Recipient.user_id.in_(ids)))}
        prefs = {p.user_id: p for p in session.scalars(select(Preference).where(Preference.user_id.in_(ids)))}
        channels: dict[int, list[Channel]] = {}
        for channel in session.scalars(select(Channel).where(Channel.owner_kind == "user", Channel.active.is_(True),
                                                             Channel.owner_id.in_(ids))):
            channels.setdefault(channel.owner_id, []).append(channel)
        entries, deliveries = [], []
        for uid, audience in chunk:
            who, pref = recipients.get(uid), prefs.get(uid)
            if who is not None and not who.active:
                continue
            locale = who.locale if who else "zh-CN"
            timezone = (pref.timezone if pref and pref.timezone else None) or (who.timezone if who else None) \
                or "Asia/Shanghai"
            rules = pref.rules if pref else {}
            title, body = text_for(locale, audience, timezone)
            if notice.critical or allowed(rules, notice.category, "inbox"):
                entries.append({"user_id": uid, "source_key": notice.source_key, "type": notice.type,
                                "category": notice.category, "severity": notice.severity, "title": title,
                                "body": body, "data": {**notice.data, **({"audience": audience} if audience else {})},
                                "awaits": notice.awaits.get(audience), "created_at": now})
            held = None if notice.critical or pref is None else quiet_until(now, pref.quiet_start, pref.quiet_end,
                                                                             timezone)
            for channel in channels.get(uid, []):
                if notice.critical or allowed(rules, notice.category, channel.name):
                    deliveries.append(_delivery(notice, channel.id, uid, title, body, now, held))
        if entries:
            # executemany with RETURNING: batched into multi-row INSERTs by SQLAlchemy, compiled once, and
            # the returned ids say how many were new (rowcount is unreliable for executemany).
            outcome.inboxed += len(session.execute(
                insert_ignoring(session, InboxEntry, ["user_id", "source_key"]).returning(InboxEntry.id),
                entries).all())
        outcome.deliveries += _queue(session, deliveries)
    if group_channel_ids:
        groups = session.scalars(select(Channel).where(Channel.id.in_(list(group_channel_ids)),
                                                       Channel.active.is_(True))).all()
        rows = []
        for channel in groups:
            title, body = text_for(channel.locale, None, "Asia/Shanghai")
            rows.append(_delivery(notice, channel.id, None, title, body, now, None))
        outcome.deliveries += _queue(session, rows)
    return outcome


def _delivery(notice: Notice, channel_id: int, user_id: int | None, title: str, body: str, now: datetime,
              held: datetime | None) -> dict:
    return {"source_key": notice.source_key, "channel_id": channel_id, "user_id": user_id,
            "broadcast_id": notice.broadcast_id, "type": notice.type, "severity": notice.severity,
            "title": title, "body": body, "status": "pending", "attempts": 0,
            "held_reason": "quiet_hours" if held else None, "next_attempt_at": held or now,
            "expires_at": notice.expires_at, "created_at": now}


def _queue(session: Session, rows: list[dict]) -> int:
    total = 0
    for chunk in _chunks(rows):
        total += len(session.execute(insert_ignoring(session, Delivery, ["source_key", "channel_id"])
                                     .returning(Delivery.id), chunk).all())
    return total


def group_channel_ids(session: Session, groups: list[tuple[str, int]]) -> list[int]:
    """Active group channels of some teams and grids."""
    ids: list[int] = []
    for kind, owner_id in groups:
        ids.extend(session.scalars(select(Channel.id).where(Channel.owner_kind == kind, Channel.owner_id == owner_id,
                                                            Channel.active.is_(True))).all())
    return ids
