"""Story 4 in the coordinators' console at a desk's 1280 × 800, in a real Chromium against the real suite.

The command (the coordinator of the sub-district's grid) composes a typhoon broadcast to three micro-grids,
in Chinese and in English, for their volunteers: an empty title is refused beside its field when the
recipients are counted; the server counts four people (per grid too) before anything is sent; sent, the
delivery is followed to every inbox (the English reader gets the English text) and to a webhook, counted
per kind of channel. From the broadcast the
command creates storefront checks for every shop of those grids, dispatched to the action team; a volunteer
ticks one on their phone (a second browser at 375 × 812), the others are done over the API; the console
follows each grid's progress (not started, in progress, done) and the checks themselves until every check
is done, and the grid map shows the grids green. Once in zh-CN, once in en, once in elderly mode; axe runs
on every screen.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.notifications.integration.conftest import known
from tests.support.peers import WebhookPeer
from tests.support.suite import wait_for
from tests.volunteers.integration.world import EVERY_DAY, make_world
from tests.web.support import RESULTS, WebApp
from tests.web.test_story_report import WORDS as PHONE

pytestmark = pytest.mark.integration

DESK = {"width": 1280, "height": 800}
PHONE_VIEWPORT = {"width": 375, "height": 812}
MODES = ["zh-CN", "en", "elderly"]

WORDS = {
    "zh-CN": {"title": "通知与行动", "recipients": "将通知 4 人", "all_sent": "已发完", "done": "全部检查已完成",
              "checklist": ["店招已加固", "已告知最近的避险点"], "check": "店招检查", "one_of_three": "1 / 3 已完成",
              "three_of_three": "3 / 3 已完成"},
    "en": {"title": "Broadcasts", "recipients": "4 people will be told", "all_sent": "All sent",
           "done": "Every check is done", "checklist": ["Shop sign secured", "Told the nearest shelter"],
           "check": "Storefront check", "one_of_three": "1 of 3 done", "three_of_three": "3 of 3 done"},
}
TYPHOON = {"title": "台风“贝碧嘉”预警", "body": "今晚风力 10 级,请检查店招并告知商户最近的避险点。",
           "title_en": "Typhoon Bebinca warning",
           "body_en": "Gale force 10 tonight: check shop signs and tell shops where the nearest shelter is."}


def volunteer_in(suite, grid: dict, team: dict, locale: str = "zh-CN", client=None):
    """A volunteer serving `grid`, a member of `team`, known to the notifications directory."""
    client = client or suite.user(roles=["resident", "volunteer"], locale=locale)
    profile = client.post("/volunteers/me", json={"display_name": f"志愿者 {client.id}", "grid_ids": [grid["id"]],
                                                  "availability": EVERY_DAY, "skills": {"repair": 2}})
    assert profile.status_code == 201, profile.text
    assert client.post(f"/teams/{team['id']}/join").status_code in (200, 201)
    known(suite, client)
    return client


@pytest.mark.parametrize("mode", MODES)
def test_story4_the_command_broadcasts_to_three_grids_and_follows_the_storefront_checks(
        web, suite, persona, browser, mode):
    page = web.page
    language = "en" if mode == "en" else "zh-CN"
    words, phone_words = WORDS[language], PHONE[language]
    elderly = mode == "elderly"
    web.page.set_viewport_size(DESK)

    # The neighbourhood (over the API): three micro-grids of one big grid, a shop in each, the action team,
    # a volunteer in each grid (one reads English) and one more in the first, who will use their phone.
    world = make_world(suite, required_skill=None)
    third = suite.rpc("volunteers", "ensure_grid", {"name": f"第9微网格 {world.tag}", "level": 1,
                                                    "parent_id": world.big["id"]})
    grids = [world.micro, world.other_micro, third]
    shops = {grid["id"]: suite.rpc("volunteers", "ensure_merchant", {
        "name": f"{name} {world.tag}", "status": "approved", "grid_id": grid["id"], "user_id": None})
        for grid, name in zip(grids, ("老王面馆", "小李水果", "新华烟酒"), strict=True)}
    team = suite.rpc("volunteers", "ensure_team", {"name": f"台风行动队 {world.tag}", "kind": "action_team",
                                                   "join_policy": "open"})
    helpers = [volunteer_in(suite, grid, team, locale)
               for grid, locale in zip(grids, ("zh-CN", "en", "zh-CN"), strict=True)]
    phone = persona(roles=("resident", "volunteer"), locale=language, elderly=elderly, sign_in=False)
    volunteer_in(suite, world.micro, team, client=phone.client)

    # The command signs in and opens the broadcasts.
    web.elderly = False  # the sign-in page does not know the account yet
    command = persona(roles=("resident", "coordinator"), grids=(world.root["id"],), locale=language, elderly=elderly)
    web.open("/console/broadcasts", "console broadcasts")
    web.expect_title(words["title"])
    for grid in grids:
        page.get_by_test_id(f"grid-choice-{grid['id']}").check()
    page.select_option("select[name=only]", "volunteers")
    page.select_option("select[name=severity]", "warning")
    page.select_option("select[name=expires]", "h24")
    send = page.locator("form button[type=submit]")
    expect(send).to_be_disabled()  # the recipients are counted first

    # Counting with the title left empty: the API's message beside the field, nothing sent.
    page.fill("textarea[name=body]", TYPHOON["body"])
    page.locator("form button[type=button]").click()
    expect(page.get_by_test_id("title-error")).not_to_be_empty()
    expect(page.locator("input[name=title]")).to_have_attribute("aria-invalid", "true")
    web.screen("console broadcasts (title missing)")
    assert not command.client.get("/broadcasts").json()["items"]

    page.fill("input[name=title]", TYPHOON["title"])
    page.fill("input[name=title-en]", TYPHOON["title_en"])
    page.fill("textarea[name=body-en]", TYPHOON["body_en"])
    page.locator("form button[type=button]").click()
    expect(page.get_by_test_id("recipients")).to_have_text(words["recipients"])
    expect(page.get_by_test_id(f"preview-grid-{world.micro['id']}")).to_contain_text("2")
    expect(page.get_by_test_id(f"preview-grid-{third['id']}")).to_contain_text("1")
    expect(page.get_by_test_id("title-error")).to_be_empty()
    expect(send).to_be_enabled()
    web.screen("console broadcasts (recipients counted)")
    assert not command.client.get("/broadcasts").json()["items"]  # counting wrote nothing

    # Changing the text after counting asks for a new count before sending.
    page.fill("input[name=title]", TYPHOON["title"] + "!")
    expect(page.get_by_test_id("preview-stale")).to_be_visible()
    expect(send).to_be_disabled()
    page.fill("input[name=title]", TYPHOON["title"])
    expect(send).to_be_enabled()
    # The English reader also has a webhook of their own: its message is counted per kind of channel.
    with WebhookPeer() as hook:
        channel = helpers[1].post("/notification-channels", json={"name": "hook", "url": hook.url("/rider")})
        assert channel.status_code == 201, channel.text
        send.click()

        # Its delivery, followed: four targeted, four inboxes, nothing failed.
        page.wait_for_url(re.compile(r".*/console/broadcasts\?id=\d+$"))
        broadcast_id = int(page.url.rsplit("=", 1)[1])
        card = page.get_by_test_id(f"broadcast-{broadcast_id}")
        expect(card.get_by_test_id("broadcast-state")).to_have_text(words["all_sent"], timeout=15_000)
        expect(card.get_by_test_id("targeted")).to_have_text("4")
        expect(card.get_by_test_id("delivered")).to_have_text("4")
        expect(card.get_by_test_id("channel-inbox").get_by_test_id("sent")).to_have_text("4")
        expect(card.get_by_test_id("channel-inbox").get_by_test_id("failed")).to_have_text("0")
        web.screen("console broadcast (delivered)")
        held = command.client.get(f"/broadcasts/{broadcast_id}").json()
        assert (held["targeted"], held["sent"], held["failed"], held["state"]) == (4, 4, 0, "done")
        assert (held["title_en"], held["severity"]) == (TYPHOON["title_en"], "warning")
        assert {a["id"] for a in held["audience"]} == {g["id"] for g in grids}
        assert held["expires_at"] is not None
        told = {who.id: [i for i in who.get("/notifications").json()["items"]
                         if i["data"].get("broadcast_id") == broadcast_id] for who in [*helpers, phone.client]}
        assert all(len(items) == 1 for items in told.values()), told
        assert told[helpers[1].id][0]["title"].endswith(TYPHOON["title_en"])  # the English reader
        assert told[helpers[0].id][0]["title"].endswith(TYPHOON["title"])
        assert not [i for i in world.gridworker.get("/notifications").json()["items"]
                    if i["data"].get("broadcast_id") == broadcast_id]  # volunteers only
        expect(card.get_by_test_id("channel-json").get_by_test_id("sent")).to_have_text("1", timeout=15_000)
        expect(card.get_by_test_id("channel-sent")).to_have_text("1")
        web.screen("console broadcast (sent to the channel too)")
        assert hook.received("/rider")[0]["body"]["title"].endswith(TYPHOON["title_en"])
    assert command.client.get(f"/broadcasts/{broadcast_id}").json()["by_channel"] == [
        {"scheme": "json", "sent": 1, "pending": 0, "failed": 0}]

    # Storefront checks from the broadcast: its grids are chosen already; dispatched to the action team.
    for grid in grids:
        expect(page.get_by_test_id(f"mass-grid-choice-{grid['id']}")).to_be_checked()
    expect(page.locator("input[name=mass-title]")).to_have_value(re.compile(re.escape(words["check"])))
    page.select_option("select[name=mass-category]", world.category)
    page.fill("textarea[name=checklist]", "\n".join(words["checklist"]))
    page.select_option("select[name=team]", str(team["id"]))
    web.screen("console broadcast (storefront checks)")
    page.get_by_role("button", name=re.compile("建立检查任务|Create the checks")).click()
    page.wait_for_url(re.compile(r".*[?&]mass=\d+"))
    mass_id = int(re.search(r"mass=(\d+)", page.url).group(1))
    mass = command.client.get(f"/actions/{mass_id}").json()
    assert (mass["kind"], mass["progress"]["total"]) == ("mass", 3)
    checks = {c["grid_id"]: c for c in command.client.get("/actions", params={"parent_id": mass_id}).json()["items"]}
    assert {g: c["merchant_id"] for g, c in checks.items()} == {g: s["id"] for g, s in shops.items()}
    assert all(c["team_id"] == team["id"] and [i["item"] for i in c["checklist"]] == words["checklist"]
               for c in checks.values())
    panel = page.get_by_test_id(f"mass-{mass_id}")
    for grid in grids:
        row = panel.get_by_test_id(f"mass-grid-{grid['id']}")
        expect(row).to_contain_text(grid["name"])
        expect(row.get_by_test_id("waiting")).to_have_text("1")
        expect(row.get_by_test_id("done")).to_have_text("0")
    web.screen("console storefront checks (not started)")

    # The English-reading volunteer accepts theirs (over the API): that grid shows it in progress.
    second = checks[world.other_micro["id"]]
    assert helpers[1].post(f"/actions/{second['id']}/accept", json={}).status_code == 200
    expect(panel.get_by_test_id(f"mass-grid-{world.other_micro['id']}").get_by_test_id("moving")).to_have_text(
        "1", timeout=10_000)

    # The phone volunteer ticks the first grid's check on their phone.
    first = checks[world.micro["id"]]
    context = browser.new_context(viewport=PHONE_VIEWPORT, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN", timezone_id="Asia/Shanghai")
    try:
        other = WebApp(page=context.new_page(), base_url=web.base_url)
        other.sign_in(phone.username, phone.password, redirect=f"/tasks/{first['id']}")
        other.elderly = elderly
        other.expect_title(phone_words["task"])
        other.screen("task (storefront check, asked)")
        other.page.get_by_role("button", name=phone_words["accept"], exact=True).click()
        expect(other.page.get_by_test_id("state")).to_have_text(phone_words["accepted"])
        other.page.get_by_role("button", name=phone_words["start"], exact=True).click()
        expect(other.page.get_by_test_id("state")).to_have_text(phone_words["in_progress"])
        for item in words["checklist"]:
            box = other.page.get_by_role("checkbox", name=item)
            box.click()
            expect(box).to_have_attribute("aria-checked", "true")
        other.page.fill("textarea[name=outcome]", phone_words["outcome"])
        other.screen("task (storefront check, ticked)")
        other.page.get_by_role("button", name=phone_words["resolve"], exact=True).click()
        expect(other.page.get_by_test_id("state")).to_have_text(
            re.compile(f"{re.escape(phone_words['resolved'])}|{re.escape(phone_words['closed'])}"))
        other.screen("task (storefront check, done)")
    finally:
        context.close()
    ticked = phone.client.get(f"/actions/{first['id']}").json()
    assert ticked["accepted_by"] == phone.id and [i["done"] for i in ticked["checklist"]] == [True, True]
    assert ticked["state"] in ("resolved", "closed")
    expect(panel.get_by_test_id(f"mass-grid-{world.micro['id']}").get_by_test_id("done")).to_have_text(
        "1", timeout=10_000)
    expect(panel.get_by_test_id("mass-total")).to_contain_text(words["one_of_three"])
    web.screen("console storefront checks (one done)")

    # The other two are done over the API; the mass action reaches done, every grid shows all done.
    for volunteer, check in ((helpers[1], second), (helpers[2], checks[third["id"]])):
        if check is not second:
            assert volunteer.post(f"/actions/{check['id']}/accept", json={}).status_code == 200
        for index in range(len(words["checklist"])):
            assert volunteer.post(f"/actions/{check['id']}/checklist", json={"index": index}).status_code == 200
        resolved = volunteer.post(f"/actions/{check['id']}/resolve", json={"outcome": "ok"})
        assert resolved.status_code == 200, resolved.text
    expect(panel.get_by_test_id("mass-done")).to_have_text(words["done"], timeout=15_000)
    for grid in grids:
        row = panel.get_by_test_id(f"mass-grid-{grid['id']}")
        expect(row.get_by_test_id("done")).to_have_text("1")
        expect(row.get_by_test_id("waiting")).to_have_text("0")
        expect(row.get_by_test_id("moving")).to_have_text("0")
    for check in checks.values():
        expect(panel.get_by_test_id(f"check-{check['id']}")).to_be_visible()
    web.screen("console storefront checks (all done)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(RESULTS / f"console-storefront-checks-{mode}.png"))
    final = wait_for(lambda: (m := command.client.get(f"/actions/{mass_id}").json())["state"] == "closed" and m,
                     timeout=10, message="the mass action closed")
    assert final["progress"]["done"] == 3 and final["progress"]["checklist_done"] == 6

    # Later, from the broadcasts page: the mass action is listed with its count and opens its progress.
    web.open("/console/broadcasts", "console broadcasts (later)")
    listed = page.get_by_test_id(f"mass-list-{mass_id}")
    expect(listed).to_contain_text(words["three_of_three"], timeout=15_000)
    listed.get_by_role("link").click()
    expect(page.get_by_test_id(f"mass-{mass_id}").get_by_test_id("mass-done")).to_have_text(words["done"])
    web.screen("console storefront checks (opened from the list)")

    # The grid map: each of the three grids green.
    web.open("/console/map", "console map (after the checks)")
    for grid in grids:
        expect(page.get_by_test_id(f"map-grid-{grid['id']}")).to_have_attribute("data-status", "green",
                                                                                  timeout=15_000)
