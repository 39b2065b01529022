"""Everyone's first screens in a real Chromium at 375 × 812: register, sign in (and back to where one was),
the language (zh-CN, en) and elderly mode saved to the account, and the inbox badge updating by itself
after an event — once in zh-CN, once in en, once in elderly mode. axe runs on every screen."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.web.support import new_credentials

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")
OPEN_ALL_DAY = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
WORDS = {
    "zh-CN": {"home": "暖新社区", "me": "我的", "inbox": "消息", "register": "注册账号", "sign_in": "登录暖新",
              "console": "工作台"},
    "en": {"home": "Nuanxin community", "me": "Me", "inbox": "Inbox", "register": "Create an account",
           "sign_in": "Sign in to Nuanxin", "console": "Console"},
}


def signed_in(suite, username: str, password: str):
    """The person's own API client (tests.support.suite.Client), signed in with their password."""
    answer = suite.client().post("/auth/token", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return suite.client(answer.json()["access_token"])


def account_of(suite, username: str, password: str) -> dict:
    return signed_in(suite, username, password).get("/me").json()


def unread_count(suite, username: str, password: str) -> int:
    return signed_in(suite, username, password).get("/notifications/unread").json()["unread_count"]


def book_for(suite, username: str, password: str) -> None:
    """An event for the person: a booking of theirs, made over the API (the app is not touched)."""
    client = signed_in(suite, username, password)
    space = suite.rpc("bookings", "ensure_space", f"党群服务中心 {uuid.uuid4().hex[:6]}", {
        "name": "党建图书室", "capacity": 10, "rules": {"opening_hours": OPEN_ALL_DAY}})
    starts = (datetime.now(SHANGHAI) + timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
    booked = client.post("/bookings", json={"space_id": space["id"], "title": "读书会", "starts_at": starts.isoformat(),
                                            "ends_at": (starts + timedelta(hours=1)).isoformat()})
    assert booked.status_code == 201, booked.text


@pytest.mark.parametrize("mode", ["zh-CN", "en", "elderly"])
def test_register_sign_in_language_elderly_mode_and_the_inbox_badge(web, suite, mode):
    page = web.page
    language = "en" if mode == "en" else "zh-CN"
    words = WORDS[language]
    username, password = new_credentials()

    # Register, in the language chosen on the way in; registering signs in.
    web.open("/register", "register")
    if language == "en":
        page.get_by_role("button", name="English").click()
    web.expect_title(words["register"])
    page.fill("input[name=username]", username)
    page.fill("input[name=display_name]", "王阿姨" if language == "zh-CN" else "Auntie Wang")
    page.fill("input[name=password]", "short")
    page.locator("form button[type=submit]").click()
    # The API's own field message shows beside the field; nothing typed is lost.
    expect(page.locator(".van-field__error-message")).to_contain_text("10")
    expect(page.locator("input[name=username]")).to_have_value(username)
    web.screen("register (refused)")
    page.fill("input[name=password]", password)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(web.base_url + "/")
    web.expect_title(words["home"])
    web.screen("home")
    web.document(f"home-{mode}")
    assert account_of(suite, username, password)["locale"] == language
    expect(page.locator(".van-grid-item", has_text=words["console"])).to_have_count(0)  # a resident has none

    # Sign out; a deep link asks to sign in and comes back to it.
    web.tab("me").click()
    web.expect_title(words["me"])
    web.screen("me")
    page.locator(".actions button").last.click()
    page.wait_for_url("**/login**")
    web.open("/inbox", "sign-in (to the inbox)")
    assert "redirect=/inbox" in page.url.replace("%2F", "/")
    web.sign_in(username, password)
    page.wait_for_url(web.base_url + "/inbox")
    web.expect_title(words["inbox"])
    web.screen("inbox")

    # The language, switched in 我的 and saved to the account.
    web.tab("me").click()
    if language == "zh-CN":
        page.get_by_role("radio", name="English").click()
        expect(web.tab("me")).to_contain_text("Me")
        web.expect_title("Me")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        web.screen("me (en)")
        assert account_of(suite, username, password)["locale"] == "en"
        page.get_by_role("radio", name="中文").click()
        web.expect_title("我的")
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        assert account_of(suite, username, password)["locale"] == "zh-CN"
    else:
        expect(page.locator("html")).to_have_attribute("lang", "en")

    # Elderly mode, saved with the account: larger text and targets on every screen from now on.
    if mode == "elderly":
        page.get_by_test_id("elderly-switch").click()
        expect(page.locator("html")).to_have_class("elderly")
        web.elderly = True
        web.screen("me (elderly)")
        web.document("me-elderly")
        assert account_of(suite, username, password)["elderly_mode"] is True
        web.tab("home").click()
        web.screen("home (elderly)")
    else:
        assert account_of(suite, username, password)["elderly_mode"] is False

    # The badge shows what is unread (the welcome at least); a booking made elsewhere shows on it within
    # 10 s, without a reload.
    before = unread_count(suite, username, password)
    assert before >= 1
    expect(web.badge()).to_have_text(str(before), timeout=10_000)
    page.evaluate("window.__same_page = true")
    book_for(suite, username, password)
    expect(web.badge()).not_to_have_text(str(before), timeout=10_000)
    assert int(web.badge().inner_text()) > before
    assert page.evaluate("window.__same_page === true")

    # In the inbox, reading one takes it off; reading all empties the badge.
    web.tab("inbox").click()
    web.expect_title(words["inbox"])
    unread = page.locator(".inbox-entry.unread")
    expect(unread.first).to_be_visible()
    web.screen("inbox (unread)")
    web.document(f"inbox-{mode}")
    first = unread.first.get_attribute("data-testid")
    unread.first.click()
    expect(page.get_by_test_id(first)).not_to_have_class("unread")
    page.locator(".van-nav-bar__right button").click()
    expect(page.locator(".inbox-entry.unread")).to_have_count(0)
    expect(web.badge()).to_have_count(0)
    web.screen("inbox (all read)")


def test_a_coordinator_finds_the_console_on_the_home_page(web, persona):
    persona(roles=("resident", "coordinator"))
    web.open("/", "home (a coordinator)")
    web.page.locator(".van-grid-item", has_text="工作台").click()
    web.page.wait_for_url(web.base_url + "/console")
    web.screen("console (from home)")
