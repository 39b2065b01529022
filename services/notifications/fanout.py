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

from sqlalchemy import ARRAY, Integer, String, bindparam, case, func, select, true
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


# The fan-out's statements, built once per shape (dialect, category, how the texts are chosen) and run with
# parameters: a notice to one person costs its round trips, not the building of its SQL.
_STATEMENTS: dict[tuple, object] = {}


def _statement(key: tuple, build):
    if key not in _STATEMENTS:
        _STATEMENTS[key] = build()
    return _STATEMENTS[key]


def _listed(dialect: str):
    """The people as rows of one column, `user_id`, bound as one parameter `people` (an array on PostgreSQL,
    a JSON text on SQLite): the statement is the same whatever their number, and people the directory does
    not know are rows too."""
    if dialect == "postgresql":
        listed = func.unnest(bindparam("people", type_=ARRAY(Integer))).table_valued("user_id")
        return select(listed.render_derived(name="listed").c.user_id).subquery("people")
    listed = func.json_each(bindparam("people", type_=String)).table_valued("value")
    return select(listed.c.value.label("user_id")).subquery("people")


def _people(dialect: str, ids: list[int]) -> dict:
    """The parameters of `_listed` and `_joined` for these people."""
    return {"people": list(ids) if dialect == "postgresql" else json.dumps(list(ids)),
            "low": min(ids), "high": max(ids)}


def allows(category: str, channel: str):
    """`allowed` in SQL, on the joined preferences row (absent row, category or switch = on)."""
    return func.coalesce(Preference.rules[(category, channel)].as_boolean(), true())


def deliver(session: Session, notice: Notice, people: list[tuple[int, str | None]],
            group_channel_ids: list[int] = (), now: datetime | None = None) -> Outcome:
    """Write inbox entries for `people` ((user id, audience)) and queue their and the groups' channels.

    Set-based: for each audience and chunk of people, one INSERT … SELECT that joins the people to the
    directory and their preferences (texts rendered once per locale, or per locale and timezone when the
    notice shows a time: those pairs are read first), and one read of the few of them who have channels.
    No statement or Python loop grows with the people who have neither preferences nor channels."""
    now = now or utcnow()
    outcome = Outcome()
    texts: dict[tuple, tuple[str, str]] = {}

    def text_for(locale: str, audience: str | None, timezone: str) -> tuple[str, str]:
        key = (pick_locale(locale), audience, timezone)
        if key not in texts:
            texts[key] = render(notice.type, notice.payload, locale, audience=audience, timezone=timezone,
                                severity=notice.severity)
        return texts[key]

    dialect = session.get_bind().dialect.name
    by_audience: dict[str | None, list[int]] = {}
    for uid, audience in people:
        by_audience.setdefault(audience, []).append(uid)
    for audience, ids in by_audience.items():
        for chunk in _chunks(ids):
            listed = _people(dialect, chunk)
            outcome.inboxed += _inbox(session, dialect, notice, audience, listed, now, text_for)
            outcome.deliveries += _queue(session, _personal_deliveries(session, dialect, notice, audience,
                                                                       listed, now, text_for))
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
    be absent), leaving out people the directory marks inactive. The people's range of ids (`low`, `high`),
    repeated in the joins, lets the database read only that range of the directory (a chunk of a sorted list
    is narrow)."""
    low, high = bindparam("low", type_=Integer), bindparam("high", type_=Integer)
    return (select(*columns).select_from(listed)
            .outerjoin(Recipient, (Recipient.user_id == listed.c.user_id) & Recipient.user_id.between(low, high))
            .outerjoin(Preference, (Preference.user_id == listed.c.user_id) & Preference.user_id.between(low, high))
            .where(func.coalesce(Recipient.active, true()) == true()))


def _chosen(listed, critical: bool, category: str, *columns):
    """`_joined`, keeping only the people whose switches let the notice into their inbox (all if critical)."""
    stmt = _joined(listed, *columns)
    return stmt if critical else stmt.where(allows(category, "inbox"))


# A person's locale and timezone as the texts are rendered for them: their preference's timezone, else the
# directory's, else Shanghai; people the directory does not know read Chinese.
LOCALE = func.coalesce(Recipient.locale, "zh-CN")
TIMEZONE = func.coalesce(func.nullif(Preference.timezone, ""), func.nullif(Recipient.timezone, ""), "Asia/Shanghai")


def _texts(session: Session, dialect: str, notice: Notice, audience: str | None, listed: dict,
           text_for) -> tuple[str, list[tuple], tuple[str, str]]:
    """How each chosen person's title and body are picked: ("locale", [(locale, texts)]) for a notice that
    shows no time (it reads the same in every timezone: one text per locale we speak, nothing read first), or
    ("pairs", [((locale, timezone), texts)]) for the pairs read among the people; and the default texts."""
    default = text_for(DEFAULT_LOCALE, audience, "Asia/Shanghai")
    if all(text_for(locale, audience, "UTC") == text_for(locale, audience, "Asia/Shanghai") for locale in LOCALES):
        return "locale", [(locale, text_for(locale, audience, "Asia/Shanghai")) for locale in LOCALES], default
    key = ("pairs", dialect, notice.critical, notice.category)
    stmt = _statement(key, lambda: _chosen(_listed(dialect), notice.critical, notice.category, LOCALE,
                                           TIMEZONE).distinct())
    pairs = session.connection().execute(stmt, listed).all()
    return "pairs", [((locale, zone), text_for(locale, audience, zone)) for locale, zone in pairs], default


def _inbox(session: Session, dialect: str, notice: Notice, audience: str | None, listed: dict, now: datetime,
           text_for) -> int:
    """Inbox entries for the listed people whose switches let the notice in (all, when it is critical);
    answers how many were new."""
    mode, choices, default = _texts(session, dialect, notice, audience, listed, text_for)
    # Per text (title, body): how many choices it needs, 0 when everyone reads the default.
    counts = tuple(0 if all(texts[i] == default[i] for _, texts in choices) else len(choices) for i in (0, 1))

    def build():
        picked = locale_in_sql(LOCALE)

        def text(index: int, name: str):
            if not counts[index]:
                return bindparam(f"{name}_default", type_=String)
            whens = [((picked == bindparam(f"locale_{n}", type_=String)) if mode == "locale" else
                      ((LOCALE == bindparam(f"locale_{n}", type_=String))
                       & (TIMEZONE == bindparam(f"zone_{n}", type_=String))), bindparam(f"{name}_{n}", type_=String))
                     for n in range(counts[index])]
            # A person whose locale or timezone changed since the pairs were read gets the default text.
            return case(*whens, else_=bindparam(f"{name}_default", type_=String))

        listed_ = _listed(dialect)
        columns = {"user_id": listed_.c.user_id, "source_key": bindparam("source_key", type_=String),
                   "type": bindparam("type", type_=String), "category": bindparam("category", type_=String),
                   "severity": bindparam("severity", type_=String), "title": text(0, "title"),
                   "body": text(1, "body"), "data": bindparam("data", type_=InboxEntry.data.type),
                   "awaits": bindparam("awaits", type_=String),
                   "created_at": bindparam("created_at", type_=InboxEntry.created_at.type)}
        return insert_ignoring(session, InboxEntry, ["user_id", "source_key"]).from_select(
            list(columns), _chosen(listed_, notice.critical, notice.category, *columns.values()))

    stmt = _statement(("inbox", dialect, notice.critical, notice.category, mode, counts), build)
    params = {**listed, "source_key": notice.source_key, "type": notice.type, "category": notice.category,
              "severity": notice.severity, "data": {**notice.data, **({"audience": audience} if audience else {})},
              "awaits": notice.awaits.get(audience), "created_at": now,
              "title_default": default[0], "body_default": default[1]}
    for n, (key, texts) in enumerate(choices):
        locale, zone = (key, None) if mode == "locale" else key
        params.update({f"locale_{n}": locale, f"zone_{n}": zone, f"title_{n}": texts[0], f"body_{n}": texts[1]})
    return session.connection().execute(stmt, params).rowcount


def _personal_deliveries(session: Session, dialect: str, notice: Notice, audience: str | None, listed: dict,
                         now: datetime, text_for) -> list[dict]:
    """Channel messages of the listed people who have active channels their switches allow; quiet hours
    hold them (not a critical notice) until the window ends."""
    def build():
        people = _listed(dialect)
        stmt = _joined(people, Channel.id, Channel.owner_id, Channel.name, LOCALE.label("locale"),
                       TIMEZONE.label("timezone"), Preference.user_id.label("has_preferences"), Preference.rules,
                       Preference.quiet_start, Preference.quiet_end)
        return stmt.join(Channel, (Channel.owner_kind == "user") & (Channel.owner_id == people.c.user_id)
                         & Channel.active.is_(True))

    rows = session.connection().execute(_statement(("channels", dialect), build), listed).all()
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
