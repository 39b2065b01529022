"""The demo that `make run` seeds, used through the app: its printed logins sign in on the phone screens and
each person finds their own things (the resident the rooms of the stories, the coffee shop's owner the shop,
the grid worker the console)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.gateway.integration.test_cli import demo_logins, seeded_demo

pytestmark = pytest.mark.integration


def test_the_demo_logins_work_in_the_app(web, suite):
    page = web.page
    seeded_demo(suite, [])
    logins = demo_logins(suite)

    # 王小明, a resident: the rooms of story 2 are there to book.
    web.sign_in("demo", logins["demo"])
    web.screen("home (demo)")
    web.open("/bookings/spaces", "find a space (demo)")
    expect(page.locator(".space-card", has_text="治理议事厅").first).to_be_visible()
    expect(page.locator(".space-card", has_text="烘焙教室").first).to_be_visible()

    # 李老板 of U巷咖啡: the shop, approved.
    page.evaluate("localStorage.clear()")
    web.sign_in("coffee", logins["coffee"])
    web.open("/merchant", "merchant (coffee)")
    expect(page.locator("[data-testid^=shop-]", has_text="U巷咖啡").first).to_contain_text("已通过")

    # 网格员 陈丽: the console's queue.
    page.evaluate("localStorage.clear()")
    web.sign_in("gridworker", logins["gridworker"])
    web.open("/console", "console (gridworker)")
    expect(page.get_by_test_id("nav-queue")).to_be_visible()
