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
