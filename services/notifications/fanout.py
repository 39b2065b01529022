"""Turn one notice into inbox entries and channel deliveries, in the caller's transaction.

Used by event handlers, broadcasts and reminders alike. Each person gets the text in their own locale;
their preferences decide the inbox and each of their channels; quiet hours hold channel messages (not
the inbox) until the window ends, unless the notice is critical. Rows are written with INSERT … ON
CONFLICT DO NOTHING on (user, source) and (source, channel), so a repeated notice adds nothing. Sending
happens later, in the delivery timer, never here.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ARRAY, Integer, String, bindparam, case, func, literal, select, true
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
from services.notifications.templates import DEFAULT_LOCALE, LOCALES, locale_in_sql, pick_locale, render
from shared.db import insert_ignoring, utcnow

# People per statement (and per transaction of a broadcast's fan-out).
CHUNK = 10_000


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


def people_rows(session: Session, ids: list[int]):
    """`ids` as rows of one column, `user_id`, bound as one parameter (an array on PostgreSQL, a JSON text on
    SQLite): the statement is the same whatever the number of people, and people the directory does not
    know are rows too."""
    if session.get_bind().dialect.name == "postgresql":
        listed = func.unnest(bindparam("people", list(ids), type_=ARRAY(Integer))).table_valued("user_id")
        rows = select(listed.render_derived(name="listed").c.user_id).subquery("people")
    else:
        listed = func.json_each(bindparam("people", json.dumps(list(ids)), type_=String)).table_valued("value")
        rows = select(listed.c.value.label("user_id")).subquery("people")
    rows.bounds = (min(ids), max(ids))
    return rows


def allows(category: str, channel: str):
    """`allowed` in SQL, on the joined preferences row (absent row, category or switch = on)."""
    return func.coalesce(Preference.rules[(category, channel)].as_boolean(), true())


def deliver(session: Session, notice: Notice, people: list[tuple[int, str | None]],
            group_channel_ids: list[int] = (), now: datetime | None = None) -> Outcome:
    """Write inbox entries for `people` ((user id, audience)) and queue their and the groups' channels.

    Set-based: for each audience and chunk of people, one read of the distinct (locale, timezone) pairs
    among them (each text is rendered once per pair), one INSERT … SELECT that joins the people to the
    directory and their preferences, and one read of the few of them who have channels. No statement or
    Python loop grows with the people who have neither preferences nor channels."""
    now = now or utcnow()
    outcome = Outcome()
    texts: dict[tuple, tuple[str, str]] = {}

    def text_for(locale: str, audience: str | None, timezone: str) -> tuple[str, str]:
        key = (pick_locale(locale), audience, timezone)
        if key not in texts:
            texts[key] = render(notice.type, notice.payload, locale, audience=audience, timezone=timezone,
                                severity=notice.severity)
        return texts[key]

    by_audience: dict[str | None, list[int]] = {}
    for uid, audience in people:
        by_audience.setdefault(audience, []).append(uid)
    for audience, ids in by_audience.items():
        for chunk in _chunks(ids):
            listed = people_rows(session, chunk)
            outcome.inboxed += _inbox(session, notice, audience, listed, now, text_for)
            outcome.deliveries += _queue(session, _personal_deliveries(session, notice, audience, listed, now,
                                                                       text_for))
    if group_channel_ids:
        groups = session.scalars(select(Channel).where(Channel.id.in_(list(group_channel_ids)),
                                                       Channel.active.is_(True))).all()
        rows = []
        for channel in groups:
            title, body = text_for(channel.locale, None, "Asia/Shanghai")
            rows.append(_delivery(notice, channel.id, None, title, body, now, None))
        outcome.deliveries += _queue(session, rows)
    return outcome


def _joined(listed, *columns):
    """A select of `columns` over the listed people, their directory row and their preferences (either may
    be absent), leaving out people the directory marks inactive. The people's range of ids, repeated in the
    joins, lets the database read only that range of the directory (a chunk of a sorted list is narrow)."""
    low, high = listed.bounds
    return (select(*columns).select_from(listed)
            .outerjoin(Recipient, (Recipient.user_id == listed.c.user_id) & Recipient.user_id.between(low, high))
            .outerjoin(Preference, (Preference.user_id == listed.c.user_id) & Preference.user_id.between(low, high))
            .where(func.coalesce(Recipient.active, true()) == true()))


# A person's locale and timezone as the texts are rendered for them: their preference's timezone, else the
# directory's, else Shanghai; people the directory does not know read Chinese.
LOCALE = func.coalesce(Recipient.locale, "zh-CN")
TIMEZONE = func.coalesce(func.nullif(Preference.timezone, ""), func.nullif(Recipient.timezone, ""), "Asia/Shanghai")


def _texts(session: Session, notice: Notice, audience: str | None, chosen, text_for) -> tuple:
    """SQL expressions of the title and the body each chosen person reads. A notice that shows no time
    reads the same in every timezone: its texts depend on the locale alone (one of the few we speak), so
    nothing is read first. Otherwise the (locale, timezone) pairs among the people are read, and each pair's
    text rendered once."""
    if all(text_for(locale, audience, "UTC") == text_for(locale, audience, "Asia/Shanghai") for locale in LOCALES):
        picked = locale_in_sql(LOCALE)
        choices = [(picked == locale, text_for(locale, audience, "Asia/Shanghai")) for locale in LOCALES]
    else:
        pairs = session.execute(chosen(LOCALE, TIMEZONE).distinct()).all()
        choices = [((LOCALE == locale) & (TIMEZONE == zone), text_for(locale, audience, zone))
                   for locale, zone in pairs]
    # A person whose locale or timezone changed since the read above gets the default text.
    default = text_for(DEFAULT_LOCALE, audience, "Asia/Shanghai")

    def pick(index: int):
        if all(texts[index] == default[index] for _, texts in choices):
            return literal(default[index], String)  # everyone reads the same
        return case(*[(condition, literal(texts[index], String)) for condition, texts in choices],
                    else_=literal(default[index], String))

    return pick(0), pick(1)


def _inbox(session: Session, notice: Notice, audience: str | None, listed, now: datetime, text_for) -> int:
    """Inbox entries for the listed people whose switches let the notice in (all, when it is critical);
    answers how many were new."""
    def chosen(*columns):
        stmt = _joined(listed, *columns)
        return stmt if notice.critical else stmt.where(allows(notice.category, "inbox"))

    title, body = _texts(session, notice, audience, chosen, text_for)
    data = {**notice.data, **({"audience": audience} if audience else {})}
    columns = {"user_id": listed.c.user_id, "source_key": literal(notice.source_key, String),
               "type": literal(notice.type, String), "category": literal(notice.category, String),
               "severity": literal(notice.severity, String), "title": title, "body": body,
               "data": literal(data, InboxEntry.data.type), "awaits": literal(notice.awaits.get(audience), String),
               "created_at": literal(now, InboxEntry.created_at.type)}
    stmt = insert_ignoring(session, InboxEntry, ["user_id", "source_key"]).from_select(
        list(columns), chosen(*columns.values()))
    return session.execute(stmt).rowcount


def _personal_deliveries(session: Session, notice: Notice, audience: str | None, listed, now: datetime,
                         text_for) -> list[dict]:
    """Channel messages of the listed people who have active channels their switches allow; quiet hours
    hold them (not a critical notice) until the window ends."""
    rows = session.execute(_joined(listed, Channel.id, Channel.owner_id, Channel.name, LOCALE.label("locale"),
                                   TIMEZONE.label("timezone"), Preference.user_id.label("has_preferences"),
                                   Preference.rules, Preference.quiet_start, Preference.quiet_end)
                           .join(Channel, (Channel.owner_kind == "user") & (Channel.owner_id == listed.c.user_id)
                                 & Channel.active.is_(True))).all()
    deliveries = []
    for row in rows:
        if not (notice.critical or allowed(row.rules, notice.category, row.name)):
            continue
        title, body = text_for(row.locale, audience, row.timezone)
        held = None if notice.critical or row.has_preferences is None else quiet_until(
            now, row.quiet_start, row.quiet_end, row.timezone)
        deliveries.append(_delivery(notice, row.id, row.owner_id, title, body, now, held))
    return deliveries


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
