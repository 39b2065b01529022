"""Signed in on a phone: an expired access token renews itself and nothing typed is lost; a sign-in that
cannot be renewed leads to the sign-in page and back; notification channels, per-category switches and
quiet hours are saved; the app's shell opens with no network. axe runs on every screen."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.integration

SESSION = "nuanxin.session"


def spoil_tokens(page, access: bool = True, refresh: bool = False) -> None:
    """What an expired sign-in looks like to the app: tokens the API no longer takes."""
    page.evaluate("""([key, access, refresh]) => {
        const s = JSON.parse(localStorage.getItem(key));
        if (access) s.access = 'expired.' + s.access;
        if (refresh) s.refresh = 'revoked-' + s.refresh;
        localStorage.setItem(key, JSON.stringify(s));
    }""", [SESSION, access, refresh])


def test_an_expired_token_renews_itself_and_a_lost_sign_in_comes_back_to_the_page(web, persona):
    page = web.page
    who = persona()
    web.open("/me", "me")
    # The access token stops working (e.g. it expired): the change is still saved, once.
    page.reload()
    spoil_tokens(page)
    page.reload()
    web.screen("me (reloaded)")
    page.fill("input[name=display_name]", "李师傅")
    page.locator(".van-field", has=page.locator("input[name=display_name]")).locator("button").click()
    expect(page.locator(".notice-toast")).to_have_text("已保存")
    assert who.client.get("/me").json()["display_name"] == "李师傅"
    assert "/login" not in page.url

    # The whole sign-in is gone: the next request leads to sign in, and back to 我的.
    spoil_tokens(page, refresh=True)
    page.reload()
    page.wait_for_url(re.compile(r"/login\?redirect=(/|%2F)me$"))
    web.screen("sign-in (after the session ended)")
    web.sign_in(who.username, who.password)
    page.wait_for_url(web.base_url + "/me")
    expect(page.locator("input[name=display_name]")).to_have_value("李师傅")


def test_channels_category_switches_and_quiet_hours_are_saved(web, persona):
    page = web.page
    who = persona(locale="en")
    web.open("/me/notifications", "notification settings")
    web.expect_title("Notification settings")

    # A bad address is refused with the API's own words beside the field, and what was typed stays.
    page.fill("input[name=name]", "email")
    page.fill("input[name=url]", "ftp://example.invalid/x")
    page.get_by_role("button", name="Add a channel").click()
    error = page.locator(".van-field", has=page.locator("input[name=url]")).locator(".van-field__error-message")
    expect(error).not_to_be_empty()
    expect(page.locator("input[name=url]")).to_have_value("ftp://example.invalid/x")
    web.screen("notification settings (refused channel)")

    # Bookings stop reaching the inbox; quiet hours 22:00–07:00.
    page.get_by_role("switch", name="Bookings · Inbox").click()
    page.get_by_role("switch", name="Quiet hours on").click()
    page.fill("input[name=start]", "22:00")
    page.fill("input[name=end]", "07:00")
    web.screen("notification settings (quiet hours)")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".notice-toast")).to_have_text("Settings saved")
    saved = who.client.get("/notification-preferences").json()
    assert saved["quiet_hours"] == {"start": "22:00", "end": "07:00"}
    assert saved["categories"]["bookings"]["inbox"] is False

    # Start and end the same: refused beside the field, nothing saved.
    page.fill("input[name=end]", "22:00")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".van-field", has=page.locator("input[name=end]"))
           .locator(".van-field__error-message")).not_to_be_empty()
    assert who.client.get("/notification-preferences").json()["quiet_hours"]["end"] == "07:00"

    # A channel is removed only when asked a second time, in the page beside it.
    channel = who.client.post("/notification-channels", json={"name": "mail", "url": "mailto://a@example.org"})
    assert channel.status_code == 201, channel.text
    web.open("/me/notifications", "notification settings (a channel)")
    page.get_by_role("button", name="Remove", exact=True).click()
    ask = page.get_by_test_id("remove-channel-ask")
    expect(ask).to_contain_text("Stop sending to “mail”?")
    web.screen("notification settings (remove a channel?)")
    assert len(who.client.get("/notification-channels").json()["items"]) == 1
    ask.get_by_role("button", name="Remove", exact=True).click()
    expect(ask).to_have_count(0)
    expect(page.locator(".van-cell__label", has_text="mailto://")).to_have_count(0)
    assert who.client.get("/notification-channels").json()["items"] == []


def test_the_app_shell_opens_offline(web, persona):
    page = web.page
    persona()
    web.open("/", "home")
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now under the service worker's control
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.context.set_offline(True)
    try:
        page.reload()
        web.expect_title("暖新社区")
        expect(page.locator(".van-tabbar-item")).to_have_count(5)
    finally:
        page.context.set_offline(False)


def test_times_show_in_the_account_zone_and_a_wrong_zone_is_refused_beside_the_field(web, persona):
    page = web.page
    who = persona(locale="en", timezone="America/New_York")  # the phone itself is set to Asia/Shanghai
    web.open("/inbox", "inbox")
    welcome = page.locator(".inbox-entry time").first
    expect(welcome).to_be_visible()
    moment = datetime.fromisoformat(welcome.get_attribute("datetime")).astimezone(ZoneInfo("America/New_York"))
    shown = " ".join(welcome.inner_text().replace("\u202f", " ").replace("\u00a0", " ").split())
    assert shown == f"{moment:%b} {moment.day}, {moment.year}, {moment.hour % 12 or 12}:{moment:%M} {moment:%p}"

    # In 我的: a zone that does not exist is refused with the API's words; a real one is saved.
    web.tab("me").click()
    zone = page.locator("input[name=timezone]")
    save = page.locator(".van-field", has=zone).locator("button")
    zone.fill("Mars/Olympus")
    save.click()
    expect(page.locator(".van-field", has=zone).locator(".van-field__error-message")).to_contain_text("IANA")
    web.screen("me (refused zone)")
    zone.fill("Europe/London")
    save.click()
    expect(page.locator(".notice-toast")).to_have_text("Saved")
    assert who.client.get("/me").json()["timezone"] == "Europe/London"
