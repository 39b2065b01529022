"""The coordinators' console at a desk's 1280 × 800, in a real Chromium against the real suite.

Story 3, end to end across two browsers, a desk and a phone at 375 × 812: a courier reports a loose shop sign on
the phone's 上报问题 screen; the grid worker sees it in the queue's 待办 tab with its level badge and countdown,
sees a second report of the same sign (sent from the courier's phone) arrive without reloading and merges it
into the first; dispatches the first from the suggestions with one tap, escalates it with a reason (the API's
message beside the empty reason first); the volunteer, of the action team, accepts, starts and resolves it in
我的任务 on the phone; the courier confirms it on the report's page on the phone; the console shows it closed.
With a category limit shortened to 6 s, nobody accepts and the branch secretary, in a second browser, sees it
arrive at level 2 in the 超时 tab with its countdown. A space manager approves a pending booking (and a
rejection without a reason is refused beside the field). Once in zh-CN, once in en, once in elderly mode; axe
runs on every screen, the phone's too.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from tests.volunteers.integration.world import make_world
from tests.web.support import RESULTS, VIEWPORT, WebApp

pytestmark = pytest.mark.integration

DESK = {"width": 1280, "height": 800}
SHANGHAI = timezone(timedelta(hours=8))

WORDS = {
    "zh-CN": {"queue": "事件队列", "todo": "待办", "overdue": "超时", "done": "已办结", "level1": "1级 · 网格",
              "level2": "2级 · 片区", "left": "剩余", "new": "新", "dispatched": "已派单", "closed": "已办结",
              "merged": "已合并", "merge": "合并", "dispatch_to": "派给 {name}", "escalate": "升级",
              "reason": "店主不在,需要片区协调", "timeline_report": "上报", "timeline_escalate": "升级",
              "timeline_verify": "核查", "serves": "服务", "open_actions": "在办", "approvals": "审核",
              "approve": "通过", "reject": "驳回", "reject_reason": "当天有活动", "bookings": "预约审批",
              "outcome": "已用膨胀螺丝加固", "all": "全部", "place": "新华路 211 号", "what": "店招一角松脱,风大时晃动",
              "again": "店招又松了,还在晃", "report": "上报问题", "submit": "提交上报", "detail": "上报详情",
              "reported": "已上报", "tasks": "我的任务", "task": "任务详情", "accept": "接单", "accepted": "已接单",
              "start": "开始处置", "in_progress": "处置中", "resolve": "提交处置结果", "resolved": "待核查",
              "confirm": "确认已解决"},
    "en": {"queue": "Action queue", "todo": "To do", "overdue": "Overdue", "done": "Closed", "level1": "Level 1 · grid",
           "level2": "Level 2 · big grid", "left": "left", "new": "New", "dispatched": "Dispatched", "closed": "Closed",
           "merged": "Merged", "merge": "Merge", "dispatch_to": "Dispatch to {name}", "escalate": "Escalate",
           "reason": "The owner is away; the big grid must step in", "timeline_report": "Reported",
           "timeline_escalate": "Escalated", "timeline_verify": "Verified", "serves": "serves",
           "open_actions": "open actions", "approvals": "Approvals", "approve": "Approve", "reject": "Reject",
           "reject_reason": "The hall is in use that day", "bookings": "Bookings", "outcome": "Fixed with anchor bolts",
           "all": "All", "place": "新华路 211 号", "what": "A corner of the sign came loose and swings in the wind",
           "again": "The sign is loose again and still swings", "report": "Report a problem", "submit": "Send the report",
           "detail": "Report", "reported": "Reported", "tasks": "My tasks", "task": "Task", "accept": "Accept",
           "accepted": "Accepted", "start": "Start work", "in_progress": "In progress", "resolve": "Send the outcome",
           "resolved": "To check", "confirm": "Confirm it is solved"},
}
MODES = ["zh-CN", "en", "elderly"]


def desk(web: WebApp) -> None:
    web.page.set_viewport_size(DESK)


def wait_for_state(client, action_id: int, state: str, timeout: float = 10.0) -> dict:
    from tests.support.suite import wait_for

    found = {}

    def reached() -> bool:
        found.update(client.get(f"/actions/{action_id}").json())
        return found.get("state") == state

    wait_for(reached, timeout=timeout, message=f"action {action_id} {state}")
    return found


@pytest.fixture
def phone(web, browser, request):
    """A second browser: a phone at 375 × 812, as the test's own page is made (see conftest.py)."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN", timezone_id="Asia/Shanghai")
    app = WebApp(page=context.new_page(), base_url=web.base_url)
    yield app
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        app.save_screenshot(RESULTS / f"{name}-phone.png")
        print(f"phone screens: {app.screens}\nthe phone said:\n" + "\n".join(app.console[-40:]))
    context.close()


def on_the_phone(client, language: str, elderly: bool) -> None:
    """The account reads the app in the test's language, in elderly mode when the test is."""
    assert client.patch("/me", json={"locale": language, "elderly_mode": elderly}).status_code == 200


def sign_in_on(phone: WebApp, who, elderly: bool, path: str, name: str) -> None:
    """`who` signs in on the phone (whoever used it before signs out first) and lands on `path`."""
    if phone.page.url.startswith(phone.base_url):
        phone.page.evaluate("localStorage.clear()")
    phone.elderly = False  # the sign-in page does not know the account yet
    phone.sign_in(who.user["username"], who.user["password"], redirect=path)
    phone.page.wait_for_url(re.compile(rf".*{re.escape(path)}$"))
    phone.elderly = elderly
    phone.screen(name)


def report_on(phone: WebApp, words: dict, world, description: str, name: str) -> int:
    """The courier fills in 上报问题 (kind, grid, place, what happened) and sends it; the report's id."""
    page = phone.page
    phone.expect_title(words["report"])
    page.get_by_test_id(f"category-{world.category}").click()
    page.fill("input[name=grid-search]", world.micro["name"])
    page.get_by_test_id(f"grid-{world.micro['id']}").click()
    page.fill("input[name=location]", words["place"])
    page.fill("textarea[name=description]", description)
    phone.screen(f"{name} (filled in)")
    page.get_by_role("button", name=words["submit"], exact=True).click()
    page.wait_for_url(re.compile(r".*/reports/\d+$"))
    phone.expect_title(words["detail"])
    expect(page.get_by_test_id("state")).to_have_text(words["reported"])
    phone.screen(f"{name} (sent)")
    return int(page.url.rsplit("/", 1)[1])


@pytest.mark.parametrize("mode", MODES)
def test_story3_the_grid_worker_merges_dispatches_escalates_and_sees_it_closed(web, phone, suite, persona, mode):
    page = web.page
    language = "en" if mode == "en" else "zh-CN"
    words = WORDS[language]
    elderly = mode == "elderly"
    desk(web)

    world = make_world(suite)
    micro = world.micro
    volunteer = world.volunteer()
    on_the_phone(volunteer, language, elderly)
    team = suite.rpc("volunteers", "ensure_team", {"name": f"行动队 {world.tag}", "kind": "action_team",
                                                   "lead_ids": [volunteer.id]})
    assert volunteer.id in [m["user_id"] for m in suite.rpc("volunteers", "list_team_members", team["id"])]
    courier = suite.user(roles=["resident"], groups=["courier"], display_name=f"快递员 小刘 {world.tag}")
    on_the_phone(courier, language, elderly)

    # The courier reports the loose sign on their phone (the second browser).
    sign_in_on(phone, courier, elderly, "/report", "report (courier)")
    first_id = report_on(phone, words, world, words["what"], "report")
    first = courier.get(f"/actions/{first_id}").json()
    assert (first["category"], first["grid_id"], first["location"], first["description"], first["state"],
            first["reporter_id"]) == (world.category, micro["id"], words["place"], words["what"], "reported", courier.id)

    # The grid worker of the micro-grid signs in and opens the console: the report waits in 待办.
    worker = persona(roles=("resident", "coordinator"), grids=(micro["id"],), locale=language, elderly=elderly)
    web.open("/console", "console queue")
    web.expect_title(words["queue"])
    row = page.get_by_test_id(f"action-{first['id']}")
    expect(row).to_be_visible()
    expect(row.get_by_test_id("level")).to_have_text(words["level1"])
    expect(row.get_by_test_id("clock")).to_contain_text(words["left"])
    expect(row).to_contain_text("店招松动")
    expect(row).to_contain_text("新华路 211 号")
    expect(row).to_contain_text(micro["name"])
    expect(row).to_contain_text(courier.user["display_name"])
    expect(page.get_by_test_id("tab-todo")).to_have_attribute("aria-selected", "true")
    # The countdown is live: it changes by itself.
    before = row.get_by_test_id("clock").inner_text()
    page.wait_for_timeout(1500)
    assert row.get_by_test_id("clock").inner_text() != before
    web.screen("console queue")

    # A second report of the same sign, from the courier's phone, arrives while the grid worker watches: no reload.
    phone.open("/report", "report (again)")
    second = courier.get(f"/actions/{report_on(phone, words, world, words['again'], 'report again')}").json()
    assert (second["location"], second["description"], second["state"]) == (words["place"], words["again"], "reported")
    second_row = page.get_by_test_id(f"action-{second['id']}")
    expect(second_row).to_be_visible(timeout=15_000)
    expect(second_row).to_contain_text(words["new"])
    RESULTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(RESULTS / f"console-queue-{mode}.png"))
    web.document(f"console-queue-{mode}")

    # The filters: level 2 hides both, the micro-grid shows both again.
    page.select_option("select[name=level]", "2")
    expect(row).to_have_count(0)
    expect(page.get_by_test_id("queue-empty")).to_be_visible()
    page.select_option("select[name=level]", "")
    page.select_option("select[name=grid]", str(micro["id"]))
    page.select_option("select[name=category]", world.category)
    expect(row).to_be_visible()
    expect(second_row).to_be_visible()
    web.screen("console queue (filtered)")

    # Narrow, as on a grid worker's phone: every row still reads, nothing breaks.
    page.set_viewport_size({"width": 375, "height": 812})
    expect(row).to_be_visible()
    web.screen("console queue (narrow)")
    page.screenshot(path=str(RESULTS / f"console-queue-narrow-{mode}.png"), full_page=True)
    desk(web)

    # The duplicate: its page, merged into the first.
    second_row.get_by_role("link").click()
    page.wait_for_url(re.compile(rf".*/console/actions/{second['id']}$"))
    expect(page.get_by_test_id("timeline")).to_contain_text(courier.user["display_name"])
    web.screen("console action (duplicate)")
    page.select_option("select[name=survivor]", str(first["id"]))
    page.get_by_role("button", name=words["merge"], exact=True).click()
    expect(page.get_by_test_id("action-head").get_by_test_id("state")).to_have_text(words["merged"])
    merged = worker.client.get(f"/actions/{second['id']}").json()
    assert (merged["state"], merged["survivor_id"]) == ("duplicate", first["id"])
    web.screen("console action (merged)")

    # The first: suggestions with their reasons, one tap dispatches.
    page.goto(f"{web.base_url}/console/actions/{first['id']}")
    suggestion = page.get_by_test_id(f"suggestion-{volunteer.id}")
    expect(suggestion).to_contain_text(words["serves"])
    expect(suggestion).to_contain_text(words["open_actions"])
    expect(page.get_by_test_id("reporter")).to_have_text(courier.user["display_name"])
    web.screen("console action")
    page.screenshot(path=str(RESULTS / f"console-action-{mode}.png"), full_page=True)
    name = volunteer.get("/volunteers/me").json()["display_name"]
    suggestion.get_by_role("button", name=words["dispatch_to"].format(name=name)).click()
    expect(page.get_by_test_id("action-head").get_by_test_id("state")).to_have_text(words["dispatched"])
    dispatched = worker.client.get(f"/actions/{first['id']}").json()
    assert dispatched["state"] == "dispatched" and dispatched["candidate_ids"] == [volunteer.id]

    # Escalate: without a reason the API's message shows beside the field; with one it moves to level 2.
    page.get_by_test_id("escalate").click()
    expect(page.get_by_test_id("escalate-error")).not_to_be_empty()
    web.screen("console action (escalate refused)")
    page.fill("textarea[name=escalate]", words["reason"])
    page.get_by_test_id("escalate").click()
    expect(page.get_by_test_id("action-head").get_by_test_id("level")).to_have_text(words["level2"])
    expect(page.get_by_test_id("timeline")).to_contain_text(words["reason"])
    assert worker.client.get(f"/actions/{first['id']}").json()["level"] == 2

    # The volunteer, of the action team, on the phone: 我的任务, the task; accepts, starts, writes the outcome.
    sign_in_on(phone, volunteer, elderly, "/tasks", "tasks")
    phone.expect_title(words["tasks"])
    task = phone.page.get_by_test_id(f"task-{first['id']}")
    expect(task).to_be_visible()
    task.click()
    phone.page.wait_for_url(re.compile(rf".*/tasks/{first['id']}$"))
    phone.expect_title(words["task"])
    expect(phone.page.get_by_test_id(f"task-{first['id']}")).to_contain_text(words["place"])
    phone.screen("task (asked)")
    phone.page.get_by_role("button", name=words["accept"], exact=True).click()
    expect(phone.page.get_by_test_id("state")).to_have_text(words["accepted"])
    phone.screen("task (accepted)")
    phone.page.get_by_role("button", name=words["start"], exact=True).click()
    expect(phone.page.get_by_test_id("state")).to_have_text(words["in_progress"])
    phone.page.fill("textarea[name=outcome]", words["outcome"])
    phone.screen("task (in progress)")
    phone.page.get_by_role("button", name=words["resolve"], exact=True).click()
    expect(phone.page.get_by_test_id("state")).to_have_text(words["resolved"])
    phone.screen("task (resolved)")
    done = worker.client.get(f"/actions/{first['id']}").json()
    assert (done["state"], done["accepted_by"], done["outcome"], done["level"]) == \
        ("resolved", volunteer.id, words["outcome"], 2)

    # The courier, on the phone again: the report's page shows the outcome; they confirm it is solved.
    sign_in_on(phone, courier, elderly, f"/reports/{first['id']}", "report (to confirm)")
    phone.expect_title(words["detail"])
    expect(phone.page.get_by_test_id("state")).to_have_text(words["resolved"])
    expect(phone.page.get_by_test_id("outcome")).to_contain_text(words["outcome"])
    confirm = phone.page.get_by_role("button", name=words["confirm"], exact=True)
    confirm.click()
    expect(phone.page.get_by_test_id("state")).to_have_text(words["closed"])
    expect(confirm).to_have_count(0)
    phone.screen("report (confirmed)")
    assert wait_for_state(worker.client, first["id"], "closed")["state"] == "closed"
    # The page open on the grid worker's desk follows by itself.
    expect(page.get_by_test_id("action-head").get_by_test_id("state")).to_have_text(words["closed"], timeout=15_000)

    # The console shows it closed: in 已办结, with the whole timeline on its page.
    page.get_by_test_id("nav-queue").click()
    page.get_by_test_id("tab-done").click()
    closed_row = page.get_by_test_id(f"action-{first['id']}")
    expect(closed_row.get_by_test_id("state")).to_have_text(words["closed"], timeout=15_000)
    expect(page.get_by_test_id(f"action-{second['id']}").get_by_test_id("state")).to_have_text(words["merged"])
    web.screen("console queue (closed)")
    closed_row.get_by_role("link").click()
    timeline = page.get_by_test_id("timeline")
    for verb in ("timeline_report", "timeline_escalate", "timeline_verify"):
        expect(timeline).to_contain_text(words[verb])
    expect(page.get_by_test_id("outcome")).to_have_text(words["outcome"])
    expect(page.get_by_test_id("hours")).to_contain_text(volunteer.user["display_name"])
    web.screen("console action (closed)")


@pytest.mark.parametrize("mode", MODES)
def test_story3_nobody_accepts_and_the_secretary_sees_it_arrive_at_level_2(web, suite, persona, browser, mode):
    page = web.page
    language = "en" if mode == "en" else "zh-CN"
    words = WORDS[language]
    elderly = mode == "elderly"
    desk(web)

    # The category's limit at level 1 shortened to 6 s (levels 2 and 3 keep 10 hours): the escalation timer
    # (every 30 s in the suite) moves it up when nobody accepts.
    world = make_world(suite, category_limits={"accept_within_minutes": {"1": 0.1, "2": 600, "3": 600},
                                               "resolve_within_minutes": {"1": 600, "2": 600, "3": 600}})
    volunteer = world.volunteer()
    courier = suite.user(roles=["resident"], groups=["courier"], display_name=f"快递员 小周 {world.tag}")
    action = world.report(courier, title=f"店招松动 {world.tag}")

    # The grid worker dispatches it from the console (first browser).
    persona(roles=("resident", "coordinator"), grids=(world.micro["id"],), locale=language, elderly=elderly)
    web.open(f"/console/actions/{action['id']}", "console action (grid worker)")
    page.get_by_test_id(f"suggestion-{volunteer.id}").get_by_role("button").click()
    expect(page.get_by_test_id("action-head").get_by_test_id("state")).to_have_text(words["dispatched"])

    # The branch secretary of the big grid at their own desk (second browser): it arrives at level 2, late.
    secretary = persona(roles=("resident", "coordinator"), grids=(world.big["id"],), locale=language,
                        elderly=elderly, sign_in=False)
    context = browser.new_context(viewport=DESK, locale="zh-CN", timezone_id="Asia/Shanghai")
    try:
        other = WebApp(page=context.new_page(), base_url=web.base_url)
        other.sign_in(secretary.username, secretary.password, redirect="/console?tab=overdue")
        other.elderly = elderly  # measured from the first screen that knows the account
        other.screen("console queue (secretary)")
        row = other.page.get_by_test_id(f"action-{action['id']}")
        expect(row.get_by_test_id("level")).to_have_text(words["level2"], timeout=75_000)
        expect(row.get_by_test_id("clock")).to_contain_text(words["left"])
        expect(other.page.get_by_test_id("tab-overdue")).to_have_attribute("aria-selected", "true")
        escalated = secretary.client.get(f"/actions/{action['id']}").json()
        assert (escalated["level"], escalated["state"], escalated["escalations"]) == (2, "dispatched", 1)
        other.screen("console queue (secretary, escalated)")
        other.page.screenshot(path=str(RESULTS / f"console-escalated-{mode}.png"))

        # The volunteer accepts and resolves, the courier verifies; the secretary's console shows it closed.
        assert volunteer.post(f"/actions/{action['id']}/accept", json={}).status_code == 200
        assert volunteer.post(f"/actions/{action['id']}/resolve", json={"outcome": words["outcome"]}).status_code == 200
        assert courier.post(f"/actions/{action['id']}/verify", json={}).status_code == 200
        other.page.get_by_test_id("tab-done").click()
        expect(other.page.get_by_test_id(f"action-{action['id']}").get_by_test_id("state")).to_have_text(
            words["closed"], timeout=15_000)
        other.screen("console queue (secretary, closed)")
    finally:
        context.close()


def _slot(days: int, hour: int) -> dict:
    start = datetime.now(SHANGHAI).replace(hour=hour, minute=0, second=0, microsecond=0) + timedelta(days=days)
    return {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()}


@pytest.mark.parametrize("mode", ["en"])  # the stories run in every mode; this in one
def test_a_space_manager_approves_a_pending_booking_in_the_console(web, suite, persona, mode):
    page = web.page
    language = "en" if mode == "en" else "zh-CN"
    words = WORDS[language]
    elderly = mode == "elderly"
    desk(web)

    manager = persona(roles=("resident", "space_manager"), locale=language, elderly=elderly, sign_in=False)
    site = suite.rpc("bookings", "create_site", {"name": f"新华路党群服务中心 {manager.username}"})
    hall = suite.rpc("bookings", "create_space", {"site_id": site["id"], "name": "治理议事厅", "kind": "room",
                                                  "manager_ids": [manager.id], "rules": {"approval_required": True}})
    resident = suite.user()
    wanted = resident.post("/bookings", json={"space_id": hall["id"], "title": "楼组议事会", **_slot(3, 14)}).json()
    other = resident.post("/bookings", json={"space_id": hall["id"], "title": "读书会", **_slot(3, 16)}).json()
    assert wanted["status"] == other["status"] == "pending"

    # The console opens on the approvals (a space manager has no action queue), the count in the navigation.
    web.elderly = False  # the sign-in page does not know the account yet
    web.sign_in(manager.username, manager.password, redirect="/console")
    web.elderly = elderly
    page.wait_for_url(re.compile(r".*/console/approvals$"))
    web.expect_title(words["approvals"])
    expect(page.get_by_test_id("nav-approvals")).to_contain_text("2")
    card = page.get_by_test_id(f"booking-{wanted['id']}")
    expect(card).to_contain_text("楼组议事会")
    expect(card).to_contain_text("治理议事厅")
    web.screen("console approvals")
    page.screenshot(path=str(RESULTS / f"console-approvals-{mode}.png"), full_page=True)

    # Rejecting without a reason: the API's message beside the field; nothing changes.
    refused = page.get_by_test_id(f"booking-{other['id']}")
    refused.get_by_role("button", name=words["reject"], exact=True).click()
    expect(refused.locator(".field-error")).not_to_be_empty()
    assert resident.get(f"/bookings/{other['id']}").json()["status"] == "pending"
    web.screen("console approvals (reason missing)")

    # Approving: gone from the queue, the count follows, the booking is confirmed.
    card.get_by_role("button", name=words["approve"], exact=True).click()
    expect(card).to_have_count(0)
    expect(page.get_by_test_id("nav-approvals")).to_contain_text("1")
    assert resident.get(f"/bookings/{wanted['id']}").json()["status"] == "confirmed"

    # Rejecting with a reason.
    refused.locator("input").fill(words["reject_reason"])
    refused.get_by_role("button", name=words["reject"], exact=True).click()
    expect(refused).to_have_count(0)
    rejected = resident.get(f"/bookings/{other['id']}").json()
    assert (rejected["status"], rejected["reason"]) == ("rejected", words["reject_reason"])
    web.screen("console approvals (done)")


APPROVALS = {
    "zh-CN": {"approve": "通过", "publish": "通过并发布", "reject": "驳回", "why": "请写驳回原因", "reason": "不属于微心愿范围",
              "visits": "十必访", "log": "记录走访", "save": "保存走访", "findings": "店招螺丝锈蚀,需要加固",
              "follow": "店招螺丝锈蚀", "made": "已生成事件", "open": "查看事件", "never": "从未走访",
              "shop_reason": "营业执照照片看不清", "no_reject": "接口还不能驳回"},
    "en": {"approve": "Approve", "publish": "Approve and publish", "reject": "Reject", "why": "Say why",
           "reason": "Not a micro-wish", "visits": "Visits due", "log": "Log a visit", "save": "Save the visit",
           "findings": "The sign's bolts are rusty", "follow": "Rusty sign bolts", "made": "created",
           "open": "Open the action", "never": "Never visited", "shop_reason": "The licence photo is unreadable",
           "no_reject": "cannot reject them yet"},
}


def sign_in_as(web: WebApp, who, elderly: bool, redirect: str) -> None:
    web.elderly = False  # the sign-in page does not know the account yet
    web.sign_in(who.username, who.password, redirect=redirect)
    web.elderly = elderly


@pytest.mark.parametrize("mode", ["zh-CN"])  # the stories run in every mode; this in one
def test_a_grid_worker_approves_a_shop_and_vets_wishes_in_the_console(web, suite, persona, mode):
    page = web.page
    language = "en" if mode == "en" else "zh-CN"
    words = APPROVALS[language]
    elderly = mode == "elderly"
    desk(web)

    world = make_world(suite)
    owner = suite.user(roles=["resident", "merchant"])
    shop = owner.post("/merchants", json={"name": f"U巷咖啡 {world.tag}", "grid_id": world.micro["id"],
                                          "category": "cafe", "street_area": "U巷"}).json()
    other_owner = suite.user(roles=["resident", "merchant"])
    stall = other_owner.post("/merchants", json={"name": f"U巷烟酒 {world.tag}", "grid_id": world.micro["id"],
                                                 "category": "retail", "street_area": "U巷"}).json()
    assert shop["status"] == stall["status"] == "pending"
    rider = suite.user(groups=["rider"])
    wishes = [rider.post("/wishes", json={"title": title, "story": "家里的电饭煲坏了", "estimated_value": 300,
                                          "grid_id": world.micro["id"]}).json() for title in ("一台电饭煲", "一部新手机")]
    assert [w["state"] for w in wishes] == ["submitted", "submitted"]

    worker = persona(roles=("resident", "coordinator"), grids=(world.micro["id"],), locale=language,
                     elderly=elderly, sign_in=False)
    sign_in_as(web, worker, elderly, "/console/approvals")
    expect(page.get_by_test_id("nav-approvals")).to_contain_text("4")
    merchants = page.get_by_test_id("merchants")
    expect(merchants.locator("h2")).to_contain_text("2")
    merchant = page.get_by_test_id(f"merchant-{shop['id']}")
    expect(merchant).to_contain_text(shop["name"])
    expect(merchant).to_contain_text(world.micro["name"])
    expect(page.get_by_text(words["no_reject"])).to_have_count(0)
    web.screen("console approvals (shops and wishes)")

    # The shop: approved.
    merchant.get_by_role("button", name=words["approve"], exact=True).click()
    expect(merchant).to_have_count(0)
    assert worker.client.get(f"/merchants/{shop['id']}").json()["status"] == "approved"

    # The other shop: rejected without a reason, the API's message beside the field and nothing changed;
    # then with a reason it leaves the queue and the count, and its owner reads why.
    rejected_shop = page.get_by_test_id(f"merchant-{stall['id']}")
    rejected_shop.get_by_role("button", name=words["reject"], exact=True).click()
    expect(rejected_shop.locator(".field-error")).not_to_be_empty()
    expect(rejected_shop.locator("input")).to_have_attribute("aria-invalid", "true")
    still = other_owner.get(f"/merchants/{stall['id']}").json()
    assert (still["status"], still["rejection_reason"]) == ("pending", "")
    web.screen("console approvals (shop reason missing)")
    rejected_shop.locator("input").fill(words["shop_reason"])
    rejected_shop.get_by_role("button", name=words["reject"], exact=True).click()
    expect(rejected_shop).to_have_count(0)
    expect(merchants.locator("h2")).to_contain_text("0")
    expect(page.get_by_test_id("nav-approvals")).to_contain_text("2")
    gone = other_owner.get(f"/merchants/{stall['id']}").json()
    assert (gone["status"], gone["rejection_reason"]) == ("rejected", words["shop_reason"])

    # A wish: published; the other rejected, with a reason (asked for beside the field when missing).
    good = page.get_by_test_id(f"wish-{wishes[0]['id']}")
    good.get_by_role("button", name=words["publish"], exact=True).click()
    expect(good).to_have_count(0)
    assert worker.client.get(f"/wishes/{wishes[0]['id']}").json()["state"] == "published"
    bad = page.get_by_test_id(f"wish-{wishes[1]['id']}")
    bad.get_by_role("button", name=words["reject"], exact=True).click()
    expect(bad.locator(".field-error")).to_have_text(words["why"])
    web.screen("console approvals (reason missing)")
    bad.locator("input").fill(words["reason"])
    bad.get_by_role("button", name=words["reject"], exact=True).click()
    expect(bad).to_have_count(0)
    rejected = worker.client.get(f"/wishes/{wishes[1]['id']}").json()
    assert rejected["state"] == "rejected"
    expect(page.get_by_test_id("nav-approvals")).to_contain_text("0")
    web.screen("console approvals (done)")


@pytest.mark.parametrize("mode", ["elderly"])  # the stories run in every mode; this in one
def test_a_grid_worker_logs_a_visit_and_turns_a_finding_into_an_action(web, suite, persona, mode):
    page = web.page
    language = "en" if mode == "en" else "zh-CN"
    words = APPROVALS[language]
    elderly = mode == "elderly"
    desk(web)

    world = make_world(suite)
    owner = suite.user(roles=["resident", "merchant"])
    shop = owner.post("/merchants", json={"name": f"U巷咖啡 {world.tag}", "grid_id": world.micro["id"],
                                          "category": "cafe", "street_area": "U巷"}).json()
    assert world.gridworker.post(f"/merchants/{shop['id']}/approve", json={}).status_code == 200

    worker = persona(roles=("resident", "coordinator"), grids=(world.micro["id"],), locale=language,
                     elderly=elderly, sign_in=False)
    sign_in_as(web, worker, elderly, "/console/visits")
    due = page.get_by_test_id(f"due-{shop['id']}")
    expect(due).to_contain_text(shop["name"])
    expect(due).to_contain_text(words["never"])
    web.screen("console visits")

    # A finding that needs follow-up, without its category: the API's message beside the field, nothing lost.
    due.get_by_role("button", name=words["log"]).click()
    page.fill("textarea[name=findings]", words["findings"])
    page.check("input[name=follow-up]")
    page.fill("input[name=follow-up-title]", words["follow"])
    page.get_by_role("button", name=words["save"]).click()
    expect(page.get_by_test_id("follow-category-error")).not_to_be_empty()
    expect(page.locator("textarea[name=findings]")).to_have_value(words["findings"])
    assert worker.client.get("/visits", params={"mine": "true"}).json()["items"] == []
    web.screen("console visits (category missing)")

    page.select_option("select[name=follow-up-category]", world.category)
    page.get_by_role("button", name=words["save"]).click()
    made = page.get_by_test_id("visit-action")
    expect(made).to_contain_text(words["made"])
    visits = worker.client.get("/visits", params={"mine": "true"}).json()["items"]
    assert [(v["merchant_id"], v["findings"], v["needs_follow_up"]) for v in visits] == \
        [(shop["id"], words["findings"], True)]
    action_id = visits[0]["action_id"]
    assert action_id
    expect(page.get_by_test_id(f"due-{shop['id']}")).to_have_count(0)
    web.screen("console visits (logged)")

    # The finding is an action in the queue of the shop's grid.
    made.get_by_role("link", name=words["open"]).click()
    page.wait_for_url(re.compile(rf".*/console/actions/{action_id}$"))
    expect(page.get_by_test_id("action-head")).to_contain_text(words["follow"])
    action = worker.client.get(f"/actions/{action_id}").json()
    assert (action["grid_id"], action["merchant_id"], action["category"]) == (world.micro["id"], shop["id"], world.category)
    web.screen("console action (from a visit)")


CHECKS = {
    "zh-CN": {"reopen": "退回重办", "why": "店招仍在晃动", "reopened": "已退回", "verify": "核查通过", "closed": "已办结",
              "hours": "修改时长", "fixed": "补记路上的时间", "minutes": "45 分钟", "outcome": "已加固",
              "checked": "现场看过,已牢固", "team": "派给这个队伍", "dispatched": "已派单"},
    "en": {"reopen": "Reopen", "why": "The sign still swings", "reopened": "Reopened", "verify": "Verify",
           "closed": "Closed", "hours": "Correct the hours", "fixed": "Travel time added", "minutes": "45 minutes",
           "outcome": "Fixed", "checked": "Seen on site: firm",
           "team": "Dispatch to this team", "dispatched": "Dispatched"},
}


@pytest.mark.parametrize("mode", ["en"])  # the stories run in every mode; this in one
def test_the_grid_worker_reopens_verifies_and_corrects_the_hours(web, suite, persona, mode):
    page = web.page
    language = "en" if mode == "en" else "zh-CN"
    words = CHECKS[language]
    elderly = mode == "elderly"
    desk(web)

    # Reported, dispatched, accepted and resolved (over the API): it waits in 待核查.
    world = make_world(suite)
    volunteer = world.volunteer()
    action = world.report(suite.user(groups=["courier"]))
    path = f"/actions/{action['id']}"
    assert world.gridworker.post(f"{path}/dispatch", json={"volunteer_ids": [volunteer.id]}).status_code == 200
    assert volunteer.post(f"{path}/accept", json={}).status_code == 200
    assert volunteer.post(f"{path}/resolve", json={"outcome": words["outcome"]}).status_code == 200
    team = suite.rpc("volunteers", "ensure_team", {"name": f"行动队 {world.tag}", "kind": "action_team",
                                                   "lead_ids": [volunteer.id]})

    worker = persona(roles=("resident", "coordinator"), grids=(world.micro["id"],), locale=language,
                     elderly=elderly, sign_in=False)
    sign_in_as(web, worker, elderly, "/console?tab=verify")
    row = page.get_by_test_id(f"action-{action['id']}")
    expect(row).to_be_visible()
    web.screen("console queue (to check)")
    row.get_by_role("link").click()
    page.wait_for_url(re.compile(rf".*/console/actions/{action['id']}$"))
    expect(page.get_by_test_id("outcome")).to_have_text(words["outcome"])
    web.screen("console action (to check)")

    # Reopen: a reason is required (the API's message beside the field), then it goes back.
    page.get_by_role("button", name=words["reopen"], exact=True).click()
    expect(page.locator("#reopen-error")).not_to_be_empty()
    page.fill("textarea[name=reopen]", words["why"])
    page.get_by_role("button", name=words["reopen"], exact=True).click()
    expect(page.get_by_test_id("action-head").get_by_test_id("state")).to_have_text(words["reopened"])
    expect(page.get_by_test_id("timeline")).to_contain_text(words["why"])
    assert worker.client.get(path).json()["state"] == "reopened"
    web.screen("console action (reopened)")

    # Dispatched again, this time to the volunteer's team (chosen by name in the console).
    page.select_option("select[name=team]", str(team["id"]))
    page.get_by_role("button", name=words["team"], exact=True).click()
    expect(page.get_by_test_id("action-head").get_by_test_id("state")).to_have_text(words["dispatched"])
    to_team = worker.client.get(path).json()
    assert (to_team["state"], to_team["team_id"]) == ("dispatched", team["id"])
    assert volunteer.id in to_team["candidate_ids"]
    web.screen("console action (dispatched to a team)")

    # Done again (over the API), then verified in the console with a note (only the reporter rates).
    assert volunteer.post(f"{path}/accept", json={}).status_code == 200
    assert volunteer.post(f"{path}/resolve", json={"outcome": words["outcome"]}).status_code == 200
    page.reload()
    page.fill("textarea[name=feedback]", words["checked"])
    page.get_by_test_id("verify").click()
    expect(page.get_by_test_id("action-head").get_by_test_id("state")).to_have_text(words["closed"])
    closed = worker.client.get(path).json()
    assert (closed["state"], closed["feedback"]) == ("closed", words["checked"])

    # The hours logged, corrected with a reason.
    page.fill("input[name=minutes]", "45")
    page.fill("input[name=hours-reason]", words["fixed"])
    page.get_by_role("button", name=words["hours"], exact=True).click()
    expect(page.get_by_test_id("hours")).to_contain_text(words["minutes"])
    expect(page.get_by_test_id("timeline")).to_contain_text(words["fixed"])
    hours = [e for e in worker.client.get(f"{path}/timeline").json()["items"] if e["verb"] == "hours"]
    assert [(e["data"]["minutes"], e["note"]) for e in hours] == [(45, words["fixed"])]
    web.screen("console action (hours corrected)")


@pytest.mark.parametrize("mode", ["zh-CN"])  # the stories run in every mode; this in one
def test_a_resident_is_told_the_console_is_not_theirs(web, persona, mode):
    language = "en" if mode == "en" else "zh-CN"
    desk(web)
    persona(roles=("resident",), locale=language, elderly=mode == "elderly")
    web.open("/console", "console (a resident)")
    expect(web.page.get_by_test_id("no-access")).to_contain_text("工作台" if language == "zh-CN" else "console")
    expect(web.page.get_by_test_id("queue")).to_have_count(0)
    expect(web.page.get_by_test_id("nav-queue")).to_have_count(0)
