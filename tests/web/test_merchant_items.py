"""A shop owner's items in a real Chromium at 375 × 812: edit one in the register form (a refused value shows
the API's field message beside the field; a change made meanwhile elsewhere answers 412 and the form shows
the item as it is now), pause and resume it, and see today's claims on it. In zh-CN, en and elderly mode;
axe runs on every screen."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.charity.support import make_grid, open_shop, register_pledge, unique, users

pytestmark = pytest.mark.integration

WORDS = {
    "zh-CN": {"merchant": "商户中心", "edit": "编辑", "edit_title": "编辑公益物品", "save": "保存修改",
              "active": "发放中", "paused": "已暂停", "pause": "暂停", "resume": "恢复", "use_current": "改用现在的内容",
              "to_redeem": "待核销", "count": "今日已领 1,已核销 0", "stock_8": "每天 8 份", "left_12": "今日剩余 11/12"},
    "en": {"merchant": "My shop", "edit": "Edit", "edit_title": "Edit an item", "save": "Save changes",
           "active": "Active", "paused": "Paused", "pause": "Pause", "resume": "Resume", "use_current": "Use these values",
           "to_redeem": "To redeem", "count": "1 claimed today, 0 redeemed", "stock_8": "8 a day",
           "left_12": "11/12 left today"},
}


def field_error(page, name: str):
    return page.locator(".van-field", has=page.locator(f"[name={name}]")).locator(".van-field__error-message")


@pytest.mark.parametrize("mode", ["zh-CN", "en", "elderly"])
def test_an_item_is_edited_refused_changed_meanwhile_paused_and_resumed(web, suite, persona, mode):
    page = web.page
    language = "en" if mode == "en" else "zh-CN"
    words = WORDS[language]
    owner = persona(roles=("resident", "merchant"), locale=language, elderly=mode == "elderly")
    shop = open_shop(suite, owner.client, make_grid(suite, unique("第7微网格")), name=unique("U巷咖啡"))
    item = register_pledge(owner.client, shop["id"])
    title = item["title_en"] if language == "en" else item["title"]
    # A rider claimed one this morning (over the API).
    rider = users(suite, 1, roles=["resident"], groups=["rider"])[0]
    claim = rider.post(f"/pledges/{item['id']}/claims")
    assert claim.status_code == 201, claim.text

    # 商户中心: the item with today's stock and claims; today's claim waits at the counter.
    web.open("/merchant", "merchant")
    web.expect_title(words["merchant"])
    card = page.get_by_test_id(f"item-{item['id']}")
    expect(card.get_by_test_id("item-state")).to_have_text(words["active"])
    expect(card).to_contain_text(words["count"])
    expect(page.get_by_test_id(f"today-{claim.json()['id']}")).to_contain_text(words["to_redeem"])

    # Edit it: the register form, filled with the item as it is.
    card.get_by_role("button", name=f"{words['edit']}").click()
    page.wait_for_url(f"**/merchant/pledges/{item['id']}/edit")
    web.expect_title(words["edit_title"])
    expect(page.locator("input[name=title]")).to_have_value(item["title"])
    expect(page.locator("input[name=stock]")).to_have_value("10")
    web.screen("edit an item")

    # A refused value: the API's message beside the field, what was typed kept, nothing changed.
    page.fill("input[name=title]", "骑手免费咖啡一大杯")
    page.fill("input[name=stock]", "0")
    page.get_by_role("button", name=words["save"], exact=True).click()
    expect(field_error(page, "stock")).to_contain_text("1")
    expect(page.locator("input[name=title]")).to_have_value("骑手免费咖啡一大杯")
    assert owner.client.get(f"/pledges/{item['id']}").json()["stock"] == 10
    web.screen("edit an item (refused)")

    # Meanwhile the owner's other phone changes the item (over the API): this save answers 412, takes
    # nothing, and the form shows the item as it is now beside what was typed.
    changed = owner.client.patch(f"/pledges/{item['id']}", json={"title": "骑手热咖啡", "stock": 8})
    assert changed.status_code == 200, changed.text
    page.fill("input[name=stock]", "12")
    page.get_by_role("button", name=words["save"], exact=True).click()
    notice = page.get_by_test_id("changed")
    expect(notice.get_by_test_id("current-title")).to_have_text("骑手热咖啡")
    expect(notice.get_by_test_id("current-stock")).to_have_text(words["stock_8"])
    expect(page.locator("input[name=stock]")).to_have_value("12")
    now = owner.client.get(f"/pledges/{item['id']}").json()
    assert (now["title"], now["stock"], now["version"]) == ("骑手热咖啡", 8, changed.json()["version"])
    web.screen("edit an item (changed meanwhile)")

    # Taking the item as it is now, with the stock raised to 12, is saved.
    notice.get_by_role("button", name=words["use_current"]).click()
    expect(page.locator("input[name=title]")).to_have_value("骑手热咖啡")
    expect(page.locator("input[name=stock]")).to_have_value("8")
    page.fill("input[name=stock]", "12")
    page.get_by_role("button", name=words["save"], exact=True).click()
    page.wait_for_url("**/merchant")
    saved = owner.client.get(f"/pledges/{item['id']}").json()
    assert (saved["title"], saved["stock"], saved["title_en"]) == ("骑手热咖啡", 12, item["title_en"])
    expect(card).to_contain_text(words["left_12"])
    web.screen("merchant (edited)")

    # Pause and resume it.
    title = saved["title_en"] if language == "en" else saved["title"]
    card.get_by_role("button", name=f"{words['pause']}").click()
    expect(card.get_by_test_id("item-state")).to_have_text(words["paused"])
    assert owner.client.get(f"/pledges/{item['id']}").json()["status"] == "paused"
    live = rider.get("/pledges", params={"group": "rider", "merchant_id": shop["id"]}).json()["items"]
    assert item["id"] not in [p["id"] for p in live]  # riders no longer see it
    expect(card.get_by_role("button", name=words["resume"])).to_have_accessible_name(f"{words['resume']}{':' if language == 'zh-CN' else ': '}{title}")
    web.screen("merchant (paused)")
    card.get_by_role("button", name=words["resume"]).click()
    expect(card.get_by_test_id("item-state")).to_have_text(words["active"])
    assert owner.client.get(f"/pledges/{item['id']}").json()["status"] == "active"
    web.screen("merchant (resumed)")
