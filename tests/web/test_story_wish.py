"""A micro-wish in a real Chromium at 375 × 812, from post to fulfil: a rider posts "a rice cooker" in the app
(the API's field messages beside the fields first), the grid worker of the rider's micro-grid publishes it
(over the API: vetting is the console's), a shop owner finds it from 商户中心, adopts it and marks it delivered
in the app, and the rider confirms receipt in the app, following its step timeline at each step. Once in
zh-CN, once in en, once in elderly mode; axe runs on every screen."""
from __future__ import annotations

import os
import re
import signal
import time
from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from tests.charity.support import coordinator, make_grid, unique

pytestmark = pytest.mark.integration

WORDS = {
    "zh-CN": {"wishes": "微心愿", "post": "发布微心愿", "form": "发布微心愿", "submit": "提交心愿", "detail": "心愿详情",
              "merchant": "商户中心", "adopt_wishes": "认领微心愿", "adopt": "认领这个心愿", "deliver": "我已送达",
              "fulfil": "确认已收到", "open": "待认领", "mine": "我的心愿", "no_wishes": "还没有心愿",
              "states": {"submitted": "待审核", "published": "待认领", "adopted": "已认领", "delivered": "已送达",
                         "fulfilled": "已实现"},
              "verbs": ["提交心愿", "审核通过并发布", "认领心愿", "已送达", "确认收到,心愿实现"],
              "next": ["审核发布", "爱心认领", "送达", "确认实现"]},
    "en": {"wishes": "Micro-wishes", "post": "Post a micro-wish", "form": "Post a micro-wish", "submit": "Submit the wish",
           "detail": "Wish", "merchant": "My shop", "adopt_wishes": "Adopt a micro-wish", "adopt": "Adopt this wish",
           "deliver": "I delivered it", "fulfil": "I received it", "open": "To adopt", "mine": "My wishes",
           "no_wishes": "No wishes yet",
           "states": {"submitted": "Awaiting review", "published": "Open to adopt", "adopted": "Adopted",
                      "delivered": "Delivered", "fulfilled": "Fulfilled"},
           "verbs": ["Posted the wish", "Approved and published it", "Adopted it", "Delivered it",
                     "Received it: the wish came true"],
           "next": ["Reviewed", "Adopted", "Delivered", "Fulfilled"]},
}


def sign_out(web) -> None:
    web.page.evaluate("localStorage.clear()")
    web.page.goto(web.base_url + "/login")


def field_error(page, name: str):
    return page.locator(".van-field", has=page.locator(f"[name={name}]")).locator(".van-field__error-message")


@pytest.mark.parametrize("mode", ["zh-CN", "en", "elderly"])
def test_a_wish_is_posted_published_adopted_delivered_and_fulfilled(web, suite, persona, mode):
    page = web.page
    language = "en" if mode == "en" else "zh-CN"
    words = WORDS[language]
    elderly = mode == "elderly"
    grid_name = unique("第7微网格")
    grid = make_grid(suite, grid_name)
    gridworker = coordinator(suite, grid)

    # A rider opens 微心愿: nothing yet, and the way to post one.
    rider = persona(roles=("resident",), groups=("rider",), locale=language, elderly=elderly)
    shop_owner = persona(roles=("resident", "merchant"), locale=language, elderly=elderly, sign_in=False)
    web.open("/wishes", "wishes (none yet)")
    web.expect_title(words["wishes"])
    expect(page.get_by_text(words["no_wishes"])).to_be_visible()
    page.get_by_role("button", name=words["post"]).or_(page.get_by_role("link", name=words["post"])).click()
    page.wait_for_url("**/wishes/new")
    web.expect_title(words["form"])
    web.screen("post a wish")

    # Refused: no title, a value of 0. The API's messages show beside those fields; the story typed stays.
    story = "网约车司机家里的电饭煲坏了,孩子要吃饭" if language == "zh-CN" else "Our rice cooker broke; the kids need dinner"
    page.fill("[name=story]", story)
    page.fill("input[name=estimated_value]", "0")
    page.get_by_role("button", name=words["submit"], exact=True).click()
    expect(field_error(page, "title")).not_to_be_empty()
    expect(field_error(page, "estimated_value")).to_contain_text("5000")
    expect(page.locator("[name=story]")).to_have_value(story)
    expect(page.locator("input[name=estimated_value]")).to_have_value("0")
    assert rider.client.get("/wishes", params={"mine": "true"}).json()["items"] == []
    web.screen("post a wish (refused)")

    # Corrected, and placed in the rider's micro-grid (found by its name).
    title = "一台电饭煲" if language == "zh-CN" else "A rice cooker"
    page.fill("input[name=title]", title)
    page.fill("input[name=estimated_value]", "300")
    page.get_by_test_id("grid").click()
    page.locator(".van-search input").fill(grid_name)
    expect(page.get_by_test_id(f"grid-{grid}")).to_be_visible()
    web.screen("choose a grid")
    page.get_by_test_id(f"grid-{grid}").click()
    expect(page.get_by_test_id("grid")).to_contain_text(grid_name)
    page.get_by_role("button", name=words["submit"], exact=True).click()
    page.wait_for_url(re.compile(r".*/wishes/\d+$"))
    mine = rider.client.get("/wishes", params={"mine": "true"}).json()["items"]
    assert [(w["title"], w["story"], w["estimated_value"], w["grid_id"], w["state"]) for w in mine] == \
        [(title, story, 300, grid, "submitted")]
    wish_id = mine[0]["id"]
    assert page.url.endswith(f"/wishes/{wish_id}")
    web.expect_title(words["detail"])
    expect(page.get_by_test_id("wish-state")).to_have_text(words["states"]["submitted"])
    steps = page.get_by_test_id("wish-steps")
    expect(steps).to_contain_text(words["verbs"][0])
    expect(steps).to_contain_text(rider.display_name)
    for upcoming in words["next"]:
        expect(steps).to_contain_text(upcoming)
    web.screen("wish (submitted)")

    # The grid worker of that micro-grid vets and publishes it (the console's work; over the API here).
    published = gridworker.post(f"/wishes/{wish_id}/publish", json={})
    assert published.status_code == 200 and published.json()["state"] == "published", published.text
    page.reload()
    expect(page.get_by_test_id("wish-state")).to_have_text(words["states"]["published"])
    expect(steps).to_contain_text(gridworker.user["display_name"])
    expect(page.get_by_test_id("wish-adopt")).to_have_count(0)  # nobody adopts their own wish
    web.screen("wish (published)")

    # A shop owner goes from 商户中心 to the wishes waiting to be adopted, and adopts this one.
    sign_out(web)
    web.sign_in(shop_owner.username, shop_owner.password)
    web.open("/merchant", "merchant")
    web.expect_title(words["merchant"])
    page.get_by_test_id("adopt-wishes").click()
    page.wait_for_url("**/wishes?tab=open")
    card = page.get_by_test_id(f"wish-{wish_id}")
    for _ in range(20):  # newest first; the list loads more as it is scrolled
        if card.count():
            break
        page.mouse.wheel(0, 4000)
        page.wait_for_load_state("networkidle")
    expect(card).to_contain_text(title)
    expect(card).to_contain_text(words["states"]["published"])
    web.screen("wishes to adopt")
    card.click()
    page.wait_for_url(f"**/wishes/{wish_id}")
    expect(page.get_by_test_id("wish-adopt")).to_have_text(words["adopt"])
    web.screen("wish (to adopt)")
    page.get_by_test_id("wish-adopt").click()
    expect(page.get_by_test_id("wish-state")).to_have_text(words["states"]["adopted"])
    expect(page.get_by_test_id("wish-adopter")).to_contain_text(shop_owner.display_name)
    wish = shop_owner.client.get(f"/wishes/{wish_id}").json()
    assert (wish["state"], wish["adopter_id"]) == ("adopted", shop_owner.id)
    web.screen("wish (adopted)")

    # The shop brings it round and says so.
    page.get_by_test_id("wish-deliver").click()
    expect(page.get_by_test_id("wish-state")).to_have_text(words["states"]["delivered"])
    expect(page.get_by_test_id("wish-deliver")).to_have_count(0)
    assert shop_owner.client.get(f"/wishes/{wish_id}").json()["state"] == "delivered"
    web.screen("wish (delivered)")

    # The rider finds it among their wishes, delivered, and confirms receipt: the wish came true.
    sign_out(web)
    web.sign_in(rider.username, rider.password)
    web.open("/wishes", "my wishes")
    expect(page.get_by_test_id(f"wish-{wish_id}")).to_contain_text(words["states"]["delivered"])
    page.get_by_test_id(f"wish-{wish_id}").click()
    page.wait_for_url(f"**/wishes/{wish_id}")
    expect(page.get_by_test_id("wish-status")).to_contain_text(shop_owner.display_name)
    expect(page.get_by_test_id("wish-fulfil")).to_have_text(words["fulfil"])
    web.screen("wish (to confirm)")
    page.get_by_test_id("wish-fulfil").click()
    expect(page.get_by_test_id("wish-state")).to_have_text(words["states"]["fulfilled"])
    expect(page.get_by_test_id("wish-fulfil")).to_have_count(0)
    for verb in words["verbs"]:
        expect(steps).to_contain_text(verb)
    web.screen("wish (fulfilled)")
    done = rider.client.get(f"/wishes/{wish_id}").json()
    assert done["state"] == "fulfilled" and done["adopter_id"] == shop_owner.id
    assert [(t["verb"], t["actor_id"]) for t in done["timeline"]] == [
        ("submit", rider.id), ("publish", gridworker.id), ("adopt", shop_owner.id), ("deliver", shop_owner.id),
        ("fulfil", rider.id)]


@contextmanager
def frozen(suite, service: str):
    """The service's process stopped (SIGSTOP): the gateway answers 503 once its RPC times out."""
    pid = suite.suite.processes[service].pid
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def test_a_wish_typed_while_the_service_is_busy_is_kept_and_sent_once(web, suite, persona):
    page = web.page
    rider = persona(roles=("resident",), groups=("courier",))
    web.open("/wishes/new", "post a wish")
    page.fill("input[name=title]", "一件雨衣")
    page.fill("[name=story]", "雨季送快递,旧雨衣破了")
    page.fill("input[name=estimated_value]", "80")
    with frozen(suite, "volunteers"):
        page.get_by_role("button", name="提交心愿", exact=True).click()
        expect(page.get_by_role("alert")).to_have_text("服务繁忙,请稍后再试", timeout=30_000)
    # Nothing typed is lost, and nothing was posted.
    expect(page.locator("input[name=title]")).to_have_value("一件雨衣")
    expect(page.locator("[name=story]")).to_have_value("雨季送快递,旧雨衣破了")
    expect(page.locator("input[name=estimated_value]")).to_have_value("80")
    web.screen("post a wish (service busy)")
    assert rider.client.get("/wishes", params={"mine": "true"}).json()["items"] == []
    # Sent again once the service is back: one wish.
    page.get_by_role("button", name="提交心愿", exact=True).click()
    page.wait_for_url(re.compile(r".*/wishes/\d+$"))
    web.screen("wish (submitted)")
    time.sleep(3)  # long enough for the thawed service to work through what it was given while frozen
    mine = rider.client.get("/wishes", params={"mine": "true"}).json()["items"]
    assert [(w["title"], w["estimated_value"], w["state"]) for w in mine] == [("一件雨衣", 80, "submitted")]


def test_a_wish_adopted_by_another_shop_meanwhile_says_so(web, suite, persona):
    page = web.page
    grid = make_grid(suite, unique("第7微网格"))
    rider = suite.user(roles=["resident"], groups=["rider"])
    wish = rider.post("/wishes", json={"title": "一顶新头盔", "story": "头盔裂了", "estimated_value": 150,
                                       "grid_id": grid}).json()
    assert coordinator(suite, grid).post(f"/wishes/{wish['id']}/publish", json={}).status_code == 200
    shop = persona(roles=("resident", "merchant"))
    web.open(f"/wishes/{wish['id']}", "wish (to adopt)")
    expect(page.get_by_test_id("wish-state")).to_have_text("待认领")
    # Another shop adopts it first (over the API); this shop's tap is refused and the wish shows as it is now.
    other = suite.user(roles=["resident", "merchant"], display_name=unique("番禺路面馆"))
    assert other.post(f"/wishes/{wish['id']}/adopt", json={}).status_code == 200
    page.get_by_test_id("wish-adopt").click()
    expect(page.locator(".notice-toast.shown")).to_have_text("这个心愿刚被其他人认领了")
    expect(page.get_by_test_id("wish-state")).to_have_text("已认领")
    expect(page.get_by_test_id("wish-adopter")).to_contain_text(other.user["display_name"])
    expect(page.get_by_test_id("wish-adopt")).to_have_count(0)
    web.screen("wish (adopted by another shop)")
    assert rider.get(f"/wishes/{wish['id']}").json()["adopter_id"] == other.id
    assert shop.client.get("/wishes", params={"mine": "true"}).json()["items"] == []


def test_a_wish_withdrawn_by_its_owner_before_anyone_adopts_it(web, suite, persona):
    page = web.page
    rider = persona(roles=("resident",), groups=("sanitation",), elderly=True)
    wish = rider.client.post("/wishes", json={"title": "一双雨靴", "story": "清扫时鞋子总是湿的",
                                              "estimated_value": 60}).json()
    web.open(f"/wishes/{wish['id']}", "wish (submitted)")
    page.get_by_test_id("wish-withdraw").click()
    confirm = page.get_by_test_id("withdraw-confirm")
    expect(confirm).to_contain_text("确定撤回这个心愿吗")
    web.screen("withdraw (are you sure?)")
    assert rider.client.get(f"/wishes/{wish['id']}").json()["state"] == "submitted"  # not before it is confirmed
    confirm.get_by_role("button", name="撤回心愿").click()
    expect(page.get_by_test_id("wish-state")).to_have_text("已撤回")
    expect(page.get_by_test_id("wish-steps")).to_contain_text("撤回心愿")
    expect(page.get_by_test_id("wish-withdraw")).to_have_count(0)
    web.screen("wish (withdrawn)")
    assert rider.client.get(f"/wishes/{wish['id']}").json()["state"] == "withdrawn"
