"""Who hears of an activity's events, and in which words (pure routing and templates)."""
from __future__ import annotations

import pytest

from services.notifications.routing import resolve, route
from services.notifications.templates import render
from tests.notifications.samples import sample_payload


@pytest.mark.parametrize("type_name", ["activity.signup_confirmed", "activity.waitlist_offered"])
def test_a_sign_up_and_an_offer_are_for_their_one_participant(type_name):
    plan = route(type_name, sample_payload(type_name, user_id=21))
    assert plan.category == "activities" and resolve(plan) == [(21, "participant")]


@pytest.mark.parametrize("type_name", ["activity.session_reminder", "activity.session_changed",
                                       "activity.cancelled"])
def test_reminders_changes_and_cancellations_are_for_everyone_signed_up(type_name):
    plan = route(type_name, sample_payload(type_name, user_ids=[21, 22, 21]))
    assert resolve(plan) == [(21, "participant"), (22, "participant")]


def test_hours_credited_are_for_the_volunteer():
    plan = route("activity.hours_credited", sample_payload("activity.hours_credited", user_id=30))
    assert plan.category == "activities" and resolve(plan) == [(30, "volunteer")]


@pytest.mark.parametrize(("minutes", "zh", "en"), [(60, "1 小时", "1 hour "), (90, "1.5 小时", "1.5 hours"),
                                                   (20, "0.33 小时", "0.33 hours"), (0, "0 小时", "0 hours")])
def test_minutes_read_as_hours(minutes, zh, en):
    payload = sample_payload("activity.hours_credited", minutes=minutes, title_zh="行走党课", title_en="Walk")
    assert zh in render("activity.hours_credited", payload, "zh-CN")[0]
    assert render("activity.hours_credited", payload, "en")[0].startswith(en)


def test_a_moved_and_a_cancelled_session_say_different_things():
    moved = sample_payload("activity.session_changed", change="moved", title_zh="夜校")
    dropped = {**moved, "change": "cancelled"}
    assert render("activity.session_changed", moved, "zh-CN")[0] == "活动改期:夜校"
    assert render("activity.session_changed", dropped, "zh-CN")[0] == "活动取消一次:夜校"


def test_a_lost_room_is_for_the_organisers():
    plan = route("activity.venue_lost", sample_payload("activity.venue_lost", user_ids=[31, 32, 31]))
    assert plan.category == "activities" and resolve(plan) == [(31, "organiser"), (32, "organiser")]


LOST = {"title_zh": "新域夜校·手机摄影", "title_en": "Night school: phone photography", "sessions": 3,
        "place": "新华路党群服务中心 三会实训室", "detail": "当天礼堂另有安排"}


@pytest.mark.parametrize(("reason", "zh", "en"), [
    ("rejected", "活动场地未获批准:新域夜校·手机摄影", "Room not approved: Night school: phone photography"),
    ("expired", "活动场地审批已过期:新域夜校·手机摄影", "Room approval expired: Night school: phone photography"),
    ("cancelled", "活动场地预订被取消:新域夜校·手机摄影", "Room booking cancelled: Night school: phone photography"),
    ("released", "活动场地已释放:新域夜校·手机摄影", "Room released: Night school: phone photography"),
    ("«reason»", "活动场地已失去:新域夜校·手机摄影", "Room lost: Night school: phone photography"),
])
def test_a_lost_room_reads_by_its_reason_in_both_languages(reason, zh, en):
    payload = sample_payload("activity.venue_lost", **LOST, reason=reason)
    zh_title, zh_body = render("activity.venue_lost", payload, "zh-CN")
    en_title, en_body = render("activity.venue_lost", payload, "en")
    assert (zh_title, en_title) == (zh, en)
    assert "新华路党群服务中心 三会实训室" in zh_body and "新华路党群服务中心 三会实训室" in en_body
    assert "2026-09-15 19:30" in zh_body and "2026-09-15 19:30" in en_body  # the activity's zone
    if reason in ("rejected", "cancelled"):  # the manager's own words are passed on
        assert "共 3 场" in zh_body and "3 session(s)" in en_body and "当天礼堂另有安排" in zh_body


def test_a_lost_room_of_an_activity_without_an_english_title_shows_its_chinese_one():
    payload = sample_payload("activity.venue_lost", **{**LOST, "title_en": ""}, reason="rejected")
    assert render("activity.venue_lost", payload, "en")[0] == "Room not approved: 新域夜校·手机摄影"
