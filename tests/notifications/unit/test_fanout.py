"""The fan-out's rules, on SQLite and PostgreSQL alike (it writes in SQL, set-based): who gets an entry, in
which language and timezone, once; whose channel messages wait for quiet hours."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from services.notifications.fanout import CHUNK, Notice, deliver
from services.notifications.models import Channel, Delivery, InboxEntry, Preference, Recipient
from services.notifications.templates import locale_in_sql, pick_locale
from shared.db import database_for
from shared.migrations import upgrade
from tests.notifications.samples import sample_payload

NOW = datetime(2026, 9, 15, 12, tzinfo=UTC)  # 20:00 in Shanghai


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'notifications.db'}"
        upgrade("notifications", url)
        yield database_for("notifications", url)
        return
    from tests.support.infra import PostgresDatabases

    pg = PostgresDatabases()
    try:
        url = pg.create()["notifications"]
        upgrade("notifications", url)
        database = database_for("notifications", url)
        yield database
        database.engine.dispose()
    finally:
        pg.drop()


def people(db, rows: list[dict], prefs: list[dict] = (), channels: list[dict] = ()) -> None:
    with db.transaction() as session:
        session.execute(insert(Recipient), [{"username": "", "display_name": "", "timezone": "Asia/Shanghai",
                                             "grids": [], "active": True, **row} for row in rows])
        if prefs:
            session.execute(insert(Preference), [{"rules": {}, "quiet_start": None, "quiet_end": None,
                                                  "timezone": None, **row} for row in prefs])
        for channel in channels:
            session.execute(insert(Channel).values(owner_kind="user", scheme="json", secret="x", masked="x",
                                                   active=True, **channel))


def notify(db, notice: Notice, ids: list[int], audience: str | None = None):
    with db.transaction() as session:
        return deliver(session, notice, [(uid, audience) for uid in ids], now=NOW)


def inbox(db, source_key: str) -> dict[int, tuple[str, str]]:
    with db.read() as session:
        return {e.user_id: (e.title, e.body) for e in session.execute(
            select(InboxEntry.user_id, InboxEntry.title, InboxEntry.body).where(InboxEntry.source_key == source_key))}


def broadcast(key: str, severity: str = "warning") -> Notice:
    return Notice(source_key=key, type="broadcast", category="broadcasts", severity=severity,
                  critical=severity == "critical", data={"broadcast_id": 1},
                  payload={"title": "暴雨预警", "body": "收好货架。", "title_en": "Rainstorm", "body_en": "Racks in."})


def test_each_person_reads_their_language_once_and_switches_and_inactive_accounts_are_kept(db):
    people(db, [{"user_id": 1, "locale": "zh-CN"}, {"user_id": 2, "locale": "en"},
                {"user_id": 3, "locale": "en-GB"}, {"user_id": 4, "locale": "EN"}, {"user_id": 5, "locale": "fr"},
                {"user_id": 6, "locale": "en", "active": False}, {"user_id": 7, "locale": "en"}],
           prefs=[{"user_id": 7, "rules": {"broadcasts": {"inbox": False}}},
                  {"user_id": 1, "rules": {"broadcasts": {"inbox": True}, "charity": {"inbox": False}}}])
    ids = [1, 2, 3, 4, 5, 6, 7, 99]  # 99: not in the directory yet, told in Chinese
    assert notify(db, broadcast("broadcast:1"), ids).inboxed == 6
    chinese, english = ("【提醒】暴雨预警", "收好货架。"), ("[Notice] Rainstorm", "Racks in.")
    assert inbox(db, "broadcast:1") == {1: chinese, 2: english, 3: english, 4: english, 5: chinese, 99: chinese}
    assert notify(db, broadcast("broadcast:1"), ids).inboxed == 0  # again: nothing twice
    # A critical notice reaches the inbox whatever the switches say; inactive accounts still hear nothing.
    assert notify(db, broadcast("broadcast:2", "critical"), ids).inboxed == 7
    assert set(inbox(db, "broadcast:2")) == {1, 2, 3, 4, 5, 7, 99}


def test_times_are_shown_in_each_persons_timezone_their_preference_first(db):
    people(db, [{"user_id": 1, "locale": "zh-CN"}, {"user_id": 2, "locale": "zh-CN", "timezone": "Europe/Berlin"},
                {"user_id": 3, "locale": "en", "timezone": "Europe/Berlin"}],
           prefs=[{"user_id": 3, "timezone": "America/New_York"}])
    payload = sample_payload("booking.confirmed", starts_at="2026-09-15T11:00:00+00:00",
                             ends_at="2026-09-15T13:00:00+00:00")
    payload.pop("timezone", None)
    notice = Notice(source_key="evt-1", type="booking.confirmed", category="bookings", payload=payload)
    assert notify(db, notice, [1, 2, 3], "booker").inboxed == 3
    bodies = {uid: body for uid, (_, body) in inbox(db, "evt-1").items()}
    assert "2026-09-15 19:00" in bodies[1] and "2026-09-15 13:00" in bodies[2] and "2026-09-15 07:00" in bodies[3]


def test_quiet_hours_hold_channel_messages_and_a_critical_one_goes_at_once(db):
    people(db, [{"user_id": 1, "locale": "zh-CN"}, {"user_id": 2, "locale": "en"}],
           prefs=[{"user_id": 1, "quiet_start": "19:00", "quiet_end": "07:00"},
                  {"user_id": 2, "rules": {"broadcasts": {"hook": False}}}],
           channels=[{"owner_id": 1, "name": "hook"}, {"owner_id": 2, "name": "hook"}, {"owner_id": 2, "name": "mail"}])
    assert notify(db, broadcast("broadcast:3"), [1, 2]).deliveries == 2
    assert notify(db, broadcast("broadcast:4", "critical"), [1, 2]).deliveries == 3
    with db.read() as session:
        rows = session.execute(select(Delivery.source_key, Delivery.user_id, Delivery.held_reason,
                                      Delivery.title)).all()
    held = {(key, uid): (reason, title) for key, uid, reason, title in rows if key == "broadcast:3"}
    assert held == {("broadcast:3", 1): ("quiet_hours", "【提醒】暴雨预警"), ("broadcast:3", 2): (None, "[Notice] Rainstorm")}
    assert all(reason is None for key, _, reason, _ in rows if key == "broadcast:4")


def test_more_people_than_a_chunk_are_all_told(db):
    many = list(range(1000, 1000 + CHUNK + 5))
    people(db, [{"user_id": uid, "locale": "en" if uid % 2 else "zh-CN"} for uid in many])
    assert notify(db, broadcast("broadcast:5"), many).inboxed == len(many)


@pytest.mark.parametrize("locale", ["zh-CN", "en", "en-US", "EN", "En-gb", "fr", "zh-TW", "", "english", "en_US"])
def test_the_sql_locale_rule_is_pick_locale(tmp_path, locale):
    from sqlalchemy import create_engine, literal

    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.scalar(select(locale_in_sql(literal(locale)))) == pick_locale(locale)
