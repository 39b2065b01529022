"""Activities' events, published as the activities outbox does, reach each participant (and a helping
volunteer) in their own language, in the inbox and on their channels, and the activities category can be
switched off per channel like any other."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.notifications.integration.conftest import add_channel, deliveries_of, entries, known, publish
from tests.support.peers import WebhookPeer
from tests.support.suite import wait_for

pytestmark = pytest.mark.integration

START = datetime(2026, 12, 15, 11, 0, tzinfo=UTC)  # 19:00 in Shanghai
TITLES = {"activity_id": 41, "title_zh": "新域夜校·手机摄影", "title_en": "Night school: phone photography"}


def _inbox(suite, person, envelope) -> tuple[str, str]:
    [entry] = wait_for(lambda: entries(suite, person.id, envelope["event_id"]), timeout=15,
                       message=f"{envelope['type']} for {person.id}")
    assert entry.type == envelope["type"] and "{" not in entry.title + entry.body
    return entry.title, entry.body


@pytest.fixture(scope="module")
def people(fast_suite):
    """A participant reading Chinese, one reading English, and a volunteer (English) who helps run sessions."""
    zh = fast_suite.user(locale="zh-CN")
    en = fast_suite.user(locale="en", timezone="Europe/London")
    volunteer = fast_suite.user(roles=["resident", "volunteer"], locale="en")
    for person in (zh, en, volunteer):
        known(fast_suite, person)
    return zh, en, volunteer


def test_a_sign_up_and_a_waitlist_offer_are_told_to_their_one_participant(fast_suite, people):
    zh, en, _volunteer = people
    confirmed = publish(fast_suite, "activity.signup_confirmed", {
        **TITLES, "signup_id": 1, "user_id": zh.id, "first_starts_at": START, "timezone": "Asia/Shanghai",
        "places": 2})
    offered = publish(fast_suite, "activity.waitlist_offered", {
        **TITLES, "signup_id": 2, "user_id": en.id, "hold_until": START, "timezone": "Asia/Shanghai"})
    title, body = _inbox(fast_suite, zh, confirmed)
    assert title == "报名成功:新域夜校·手机摄影"
    assert "2 个名额" in body and "2026-12-15 19:00" in body  # the activity's zone, not UTC
    title, body = _inbox(fast_suite, en, offered)
    assert title == "A place is free for you: Night school: phone photography"
    assert "until 2026-12-15 19:00" in body
    # Each is for its own participant only.
    assert not entries(fast_suite, en.id, confirmed["event_id"])
    assert not entries(fast_suite, zh.id, offered["event_id"])


def test_reminders_changes_and_a_cancellation_reach_everyone_signed_up_in_their_language(fast_suite, people):
    zh, en, _volunteer = people
    everyone = [zh.id, en.id]
    reminder = publish(fast_suite, "activity.session_reminder", {
        **TITLES, "session_id": 7, "user_ids": everyone, "starts_at": START, "place": "新华路党群服务中心 三会实训室"})
    moved = publish(fast_suite, "activity.session_changed", {
        **TITLES, "session_id": 7, "user_ids": everyone, "change": "moved",
        "starts_at": START.replace(day=16), "ends_at": START.replace(day=16, hour=13),
        "old_starts_at": START, "reason": "教室维修"})
    dropped = publish(fast_suite, "activity.session_changed", {
        **TITLES, "session_id": 8, "user_ids": everyone, "change": "cancelled", "starts_at": START.replace(day=22),
        "ends_at": START.replace(day=22, hour=13)})
    cancelled = publish(fast_suite, "activity.cancelled", {**TITLES, "user_ids": everyone, "reason": "台风停课"})

    assert _inbox(fast_suite, zh, reminder) == (
        "活动提醒:新域夜校·手机摄影", "您报名的“新域夜校·手机摄影”将于 2026-12-15 19:00 开始,地点:新华路党群服务中心 三会实训室。请准时到场签到。")
    title, body = _inbox(fast_suite, en, reminder)
    assert title == "Reminder: Night school: phone photography" and "starts at 2026-12-15 19:00" in body

    title, body = _inbox(fast_suite, zh, moved)
    assert title == "活动改期:新域夜校·手机摄影"
    assert "原定 2026-12-15 19:00" in body and "2026-12-16 19:00 – 2026-12-16 21:00" in body and "教室维修" in body
    title, body = _inbox(fast_suite, en, moved)
    assert title == "Session moved: Night school: phone photography" and "planned for 2026-12-15 19:00" in body

    assert _inbox(fast_suite, zh, dropped)[0] == "活动取消一次:新域夜校·手机摄影"
    assert _inbox(fast_suite, en, dropped)[0] == "Session cancelled: Night school: phone photography"
    title, body = _inbox(fast_suite, zh, cancelled)
    assert title == "活动已取消:新域夜校·手机摄影" and "台风停课" in body
    assert _inbox(fast_suite, en, cancelled)[0] == "Activity cancelled: Night school: phone photography"


def test_an_activity_without_an_english_title_shows_its_chinese_one(fast_suite, people):
    _zh, en, _volunteer = people
    event = publish(fast_suite, "activity.cancelled", {
        "activity_id": 42, "title_zh": "蒲汇塘K歌大赛", "title_en": "", "user_ids": [en.id]})
    assert _inbox(fast_suite, en, event)[0] == "Activity cancelled: 蒲汇塘K歌大赛"


def test_a_lost_room_reaches_each_organiser_in_their_language(fast_suite, people):
    zh, en, _volunteer = people
    lost = publish(fast_suite, "activity.venue_lost", {
        **TITLES, "session_id": 7, "session_ids": [7, 8, 9], "sessions": 3, "user_ids": [zh.id, en.id],
        "starts_at": START, "space_id": 2, "place": "新华路党群服务中心 三会实训室", "reason": "rejected",
        "detail": "当天礼堂另有安排"})
    title, body = _inbox(fast_suite, zh, lost)
    assert title == "活动场地未获批准:新域夜校·手机摄影"
    assert "2026-12-15 19:00 起共 3 场" in body and "三会实训室" in body and "当天礼堂另有安排" in body
    title, body = _inbox(fast_suite, en, lost)
    assert title == "Room not approved: Night school: phone photography"
    assert "3 session(s)" in body and "from 2026-12-15 19:00" in body


def test_the_volunteer_who_helped_hears_of_the_hours_credited_on_their_channels(fast_suite, people):
    zh, _en, volunteer = people
    with WebhookPeer() as hook:
        add_channel(volunteer, "hook", hook.url("/hours"))
        credited = publish(fast_suite, "activity.hours_credited", {
            **TITLES, "credit_id": "c0ffee00-0000-4000-8000-000000000001", "session_id": 7, "user_id": volunteer.id,
            "minutes": 90, "team_id": None, "ended_at": START.replace(hour=13)})
        title, body = _inbox(fast_suite, volunteer, credited)
        wait_for(lambda: hook.received("/hours"), timeout=15, message="the webhook")
    assert title == "1.5 hours credited for Night school: phone photography"
    assert "ended 2026-12-15 21:00" in body and "volunteer profile" in body
    assert hook.received("/hours")[0]["body"]["title"] == title
    # In Chinese for a Chinese reader.
    again = publish(fast_suite, "activity.hours_credited", {
        **TITLES, "credit_id": "c0ffee00-0000-4000-8000-000000000002", "session_id": 7, "user_id": zh.id,
        "minutes": 120, "ended_at": START.replace(hour=13)})
    assert _inbox(fast_suite, zh, again)[0] == "已记录 2 小时志愿时长:新域夜校·手机摄影"


def test_activities_is_a_category_its_readers_switch_per_channel(fast_suite):
    person = fast_suite.user(locale="en")
    known(fast_suite, person)
    with WebhookPeer() as hook:
        add_channel(person, "hook", hook.url("/prefs"))
        response = person.put("/notification-preferences", json={"categories": {"activities": {"hook": False}}})
        assert response.status_code == 200, response.text
        quiet = publish(fast_suite, "activity.session_reminder", {
            **TITLES, "session_id": 9, "user_ids": [person.id], "starts_at": START})
        _inbox(fast_suite, person, quiet)
        publish(fast_suite, "booking.confirmed", {
            "booking_id": 3, "space_id": 2, "space_name": "烘焙教室", "booker_id": person.id,
            "starts_at": START, "ends_at": START.replace(hour=12), "status": "confirmed"})
        wait_for(lambda: hook.received("/prefs"), timeout=15, message="the booking's webhook")
    assert [r["body"]["title"] for r in hook.received("/prefs")] == ["Booking confirmed: 烘焙教室"]
    assert not deliveries_of(fast_suite, quiet["event_id"])
    [entry] = entries(fast_suite, person.id, quiet["event_id"])
    assert entry.category == "activities"
