"""Quiet hours, preference switches, channel secrets, grid scopes, backoff: pure rules."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from marshmallow import ValidationError

from services.notifications import channels, deliveries
from services.notifications.contracts import BroadcastRequestSchema, ChannelRequestSchema, PreferencesSchema
from services.notifications.fanout import allowed
from services.notifications.quiet_hours import quiet_until


def shanghai(hour: int, minute: int = 0, day: int = 15) -> datetime:
    # Shanghai is UTC+8 all year.
    return datetime(2026, 9, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def test_quiet_hours_across_midnight_hold_until_the_morning():
    assert quiet_until(shanghai(23, 30), "22:00", "07:00", "Asia/Shanghai") == shanghai(7, 0, day=16)
    assert quiet_until(shanghai(6, 59), "22:00", "07:00", "Asia/Shanghai") == shanghai(7, 0)
    assert quiet_until(shanghai(7, 0), "22:00", "07:00", "Asia/Shanghai") is None
    assert quiet_until(shanghai(21, 59), "22:00", "07:00", "Asia/Shanghai") is None


def test_quiet_hours_within_a_day_and_in_other_zones():
    assert quiet_until(shanghai(12, 30), "12:00", "14:00", "Asia/Shanghai") == shanghai(14, 0)
    assert quiet_until(shanghai(14, 0), "12:00", "14:00", "Asia/Shanghai") is None
    # 23:30 in Shanghai is 16:30 in Berlin (summer time): not quiet there.
    assert quiet_until(shanghai(23, 30), "22:00", "07:00", "Europe/Berlin") is None
    assert quiet_until(shanghai(23, 30), None, None, "Asia/Shanghai") is None


def test_preferences_default_to_on_and_switch_per_category_and_channel():
    rules = {"bookings": {"email": False}}
    assert not allowed(rules, "bookings", "email")
    assert allowed(rules, "bookings", "inbox")
    assert allowed(rules, "actions", "email")
    assert allowed(None, "broadcasts", "wecom")


def test_preferences_schema_rejects_bad_input():
    with pytest.raises(ValidationError) as bad:
        PreferencesSchema().load({"quiet_hours": {"start": "25:00", "end": "07:00"}, "timezone": "Mars/Base",
                                  "categories": {"nonsense": {"inbox": True}}})
    assert set(bad.value.messages) == {"quiet_hours", "timezone", "categories"}
    with pytest.raises(ValidationError):
        PreferencesSchema().load({"quiet_hours": {"start": "22:00", "end": "22:00"}})


def test_channel_addresses_are_encrypted_and_masked(monkeypatch):
    monkeypatch.setenv("NUANXIN_CHANNEL_KEY", "gSUvWbK0c6Ipb7mPNGXNP7x1YkC3Mp2sw8o2oKeX8dA=")
    channels._fernet.cache_clear()
    try:
        url = "wecombot://0123456789abcdef-KEY1"
        token = channels.encrypt(url)
        assert "0123456789abcdef" not in token
        assert channels.decrypt(token) == url
        assert channels.mask(url) == "wecombot://…KEY1"
        monkeypatch.setenv("NUANXIN_CHANNEL_KEY", "Fk9v0k0q7d8W8dOqk3f7cE1Q0tI6q5o2yQmZ3c1x2aA=")
        channels._fernet.cache_clear()
        with pytest.raises(ValueError):
            channels.decrypt(token)
    finally:
        channels._fernet.cache_clear()


def test_channel_addresses_are_checked_by_apprise():
    assert channels.check("mailtos://user:pw@smtp.example.com?to=li@example.com") is None
    assert channels.check("wecombot://0123456789abcdef") is None
    assert channels.check("dingtalk://abcdef0123456789") is None
    assert channels.check("jsons://hooks.example.com/in") is None
    assert channels.check("file:///etc/passwd") is not None
    assert channels.check("no-scheme") is not None
    assert channels.check("nosuchplugin://x") is not None
    with pytest.raises(ValidationError):
        ChannelRequestSchema().load({"name": "Email!", "url": "mailto://x@y.z"})
    with pytest.raises(ValidationError):
        ChannelRequestSchema().load({"name": "g", "url": "json://h/x", "team_id": 1, "grid_id": 2})


def test_backoff_doubles(monkeypatch):
    monkeypatch.setenv("NUANXIN_DELIVERY_BACKOFF_SECONDS", "2")
    assert [deliveries.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [2, 4, 8, 16]


def test_broadcast_requests_are_validated():
    good = BroadcastRequestSchema().load({"title": "台风", "body": "请加固招牌",
                                          "audience": [{"kind": "grid", "id": 3, "only": "merchants"}]})
    assert good["severity"] == "info"
    with pytest.raises(ValidationError) as bad:
        BroadcastRequestSchema().load({"title": "", "body": "x", "audience": [{"kind": "grid"}],
                                       "severity": "panic"})
    assert set(bad.value.messages) >= {"title", "audience", "severity"}


def test_an_english_text_comes_with_both_title_and_body():
    both = BroadcastRequestSchema().load({"title": "台风", "body": "请加固招牌", "title_en": "Typhoon",
                                          "body_en": "Secure your shop signs", "audience": [{"kind": "everyone"}]})
    assert (both["title_en"], both["body_en"]) == ("Typhoon", "Secure your shop signs")
    with pytest.raises(ValidationError) as half:
        BroadcastRequestSchema().load({"title": "台风", "body": "请加固招牌", "title_en": "Typhoon",
                                       "audience": [{"kind": "everyone"}]})
    assert set(half.value.messages) == {"body_en"}
