"""A problem report followed to its close, in a real Chromium at 375 × 812: a rider reports a loose shop sign
with no signal (the report is kept on the phone, a reload keeps it); when the signal returns it is sent, and
sent again after its answer was lost, yet makes one report; the grid worker dispatches it to a volunteer with a checklist (over the API); the volunteer, in the
app, accepts, starts, ticks the checklist and writes the outcome, then looks at their hours; the grid worker
verifies (over the API) and the rider sees the step timeline reach 办结. Once in zh-CN, once in en, once in
elderly mode; axe runs on every screen."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from services.volunteers.seed import CATEGORIES
from tests.volunteers.integration.world import EVERY_DAY, make_world

pytestmark = pytest.mark.integration

WORDS = {
    "zh-CN": {"report": "上报问题", "submit": "提交上报", "waiting": "等待发送", "mine": "我的上报", "reported": "已上报",
              "detail": "上报详情", "tasks": "我的任务", "task": "任务详情", "accept": "接单", "accepted": "已接单",
              "start": "开始处置", "in_progress": "处置中", "resolve": "提交处置结果", "resolved": "待核查",
              "hours": "服务时长", "closed": "已办结", "category": "店招松动", "steps": ["上报", "派单", "处置", "核查", "办结"],
              "place": "新华路 211 号门口", "what": "店招一角松脱,风大时晃动", "outcome": "已用膨胀螺丝加固",
              "checklist": ["拍照记录", "加固店招"], "hours_value": "{h} 小时", "send_now": "立即发送", "decline": "婉拒", "reason": "今天不在附近",
              "triaged": "待派单"},
    "en": {"report": "Report a problem", "submit": "Send the report", "waiting": "Waiting to be sent", "mine": "My reports",
           "reported": "Reported", "detail": "Report", "tasks": "My tasks", "task": "Task", "accept": "Accept",
           "accepted": "Accepted", "start": "Start work", "in_progress": "In progress", "resolve": "Send the outcome",
           "resolved": "To check", "hours": "Volunteer hours", "closed": "Closed", "category": "Loose shop sign",
           "steps": ["Reported", "Dispatched", "In hand", "Checked", "Closed"], "place": "Outside 211 Xinhua Road",
           "what": "A corner of the sign came loose and swings in the wind", "outcome": "Fixed with anchor bolts",
           "checklist": ["Take a photo", "Fix the sign"], "hours_value": "{h} h", "send_now": "Send now", "decline": "Decline",
           "reason": "Not nearby today", "triaged": "To dispatch"},
}


def sign_out(web) -> None:
    web.page.evaluate("localStorage.clear()")
    web.page.goto(web.base_url + "/login")


def reported_by(client, user_id: int) -> list[dict]:
    return [a for a in client.get("/actions", params={"mine": "true", "limit": 100}).json()["items"]
            if a["reporter_id"] == user_id]


@pytest.mark.parametrize("mode", ["zh-CN", "en", "elderly"])
def test_a_report_typed_offline_is_sent_once_done_by_a_volunteer_and_closed(web, suite, persona, mode):
    page = web.page
    language = "en" if mode == "en" else "zh-CN"
    words = WORDS[language]
    elderly = mode == "elderly"

    # The neighbourhood: a micro-grid with its grid worker, and the seed's shop-sign category (over the API).
    world = make_world(suite)
    suite.rpc("volunteers", "ensure_category", next(c for c in CATEGORIES if c["name"] == "shop_sign"))
    grid = world.micro

    # A rider opens 上报问题 with signal (the kinds and grids load and are kept), then the signal goes.
    rider = persona(roles=("resident",), groups=("rider",), locale=language, elderly=elderly)
    web.open("/report", "report")
    web.expect_title(words["report"])
    expect(page.get_by_test_id("category-shop_sign")).to_contain_text(words["category"])
    # Sent with nothing chosen, the form says what is missing beside each choice, and keeps nothing.
    page.fill("input[name=location]", words["place"])
    page.get_by_role("button", name=words["submit"], exact=True).click()
    expect(page.get_by_test_id("category-error")).to_be_visible()
    expect(page.get_by_test_id("grid-error")).to_be_visible()
    expect(page.locator("input[name=location]")).to_have_value(words["place"])
    expect(page.get_by_test_id("pending")).to_have_count(0)
    web.screen("report (nothing chosen)")
    # The app's shell is kept by its service worker, so the page reloads without signal.
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null",
                           timeout=20_000)
    page.context.set_offline(True)

    page.get_by_test_id("category-shop_sign").click()
    page.fill("input[name=grid-search]", grid["name"])
    page.get_by_test_id(f"grid-{grid['id']}").click()
    page.fill("textarea[name=description]", words["what"])
    page.get_by_role("button", name=words["submit"], exact=True).click()
    pending = page.get_by_test_id("pending")
    expect(pending).to_have_count(1)
    expect(pending).to_contain_text(words["waiting"])
    expect(pending).to_contain_text(words["place"])
    web.screen("report (kept without signal)")
    assert reported_by(rider.client, rider.id) == []

    # A reload without signal: the report is still on the phone, still waiting.
    page.reload()
    expect(page.get_by_test_id("pending")).to_have_count(1)
    expect(page.get_by_test_id("pending")).to_contain_text(words["waiting"])
    web.screen("report (without signal, after a reload)")
    assert reported_by(rider.client, rider.id) == []

    kept_key = page.evaluate("() => JSON.parse(localStorage.getItem('nuanxin.outbox'))[0].key")

    # The signal returns and the report goes out by itself, but its answer is lost on the way back (the server
    # did get it): the report still waits on the phone.
    answered: list[tuple[int, str]] = []

    def lose_the_answer(route):
        if route.request.method != "POST":
            return route.continue_()
        answer = route.fetch()
        answered.append((answer.status, route.request.headers.get("idempotency-key", "")))
        return route.abort("connectionreset")

    page.route(re.compile(r".*/api/v1/actions$"), lose_the_answer)
    page.context.set_offline(False)
    for _ in range(300):
        if answered:
            break
        page.wait_for_timeout(100)
    page.unroute(re.compile(r".*/api/v1/actions$"))
    assert answered == [(201, kept_key)]
    expect(page.get_by_test_id("pending")).to_have_count(1)
    assert len(reported_by(rider.client, rider.id)) == 1

    # Sent again with the same key, it is the same report: one action, never two.
    page.get_by_role("button", name=words["send_now"], exact=True).click()
    expect(page.get_by_test_id("pending")).to_have_count(0, timeout=30_000)
    web.screen("report (sent)")
    mine = reported_by(rider.client, rider.id)
    assert len(mine) == 1, mine
    action = mine[0]
    assert (action["category"], action["grid_id"], action["location"], action["description"], action["state"]) == \
        ("shop_sign", grid["id"], words["place"], words["what"], "reported")
    assert page.evaluate("() => JSON.parse(localStorage.getItem('nuanxin.outbox') || '[]').length") == 0
    page.reload()  # the app starting again sends nothing more
    web.screen("report (after another start)")
    assert len(reported_by(rider.client, rider.id)) == 1

    # 我的上报, then the report's step timeline: reported.
    page.get_by_test_id("my-reports").click()
    web.expect_title(words["mine"])
    row = page.get_by_test_id(f"report-{action['id']}")
    expect(row).to_contain_text(words["reported"])
    web.screen("my reports")
    row.click()
    web.expect_title(words["detail"])
    steps = page.get_by_test_id("steps").locator("li")
    expect(steps).to_have_text([re.compile(re.escape(s)) for s in words["steps"]])
    expect(page.locator("[aria-current=step]")).to_contain_text(words["steps"][0])
    web.screen("report (reported)")

    # A volunteer serving the grid; the grid worker dispatches the report to them with two steps to tick.
    sign_out(web)
    volunteer = persona(roles=("resident", "volunteer"), locale=language, elderly=elderly)
    profile = volunteer.client.post("/volunteers/me", json={
        "display_name": volunteer.display_name, "skills": {"repair": 3}, "grid_ids": [grid["id"]],
        "availability": EVERY_DAY})
    assert profile.status_code == 201, profile.text
    dispatched = world.gridworker.post(f"/actions/{action['id']}/dispatch", json={
        "volunteer_ids": [volunteer.id], "checklist": words["checklist"]})
    assert dispatched.status_code == 200, dispatched.text

    # 我的任务: asked; accept, start, tick the checklist, write the outcome.
    web.open("/tasks", "tasks")
    web.expect_title(words["tasks"])
    task = page.get_by_test_id(f"task-{action['id']}")
    expect(task).to_be_visible()
    task.click()
    web.expect_title(words["task"])
    expect(page.get_by_test_id(f"task-{action['id']}")).to_contain_text(words["place"])
    web.screen("task (asked)")
    page.get_by_role("button", name=words["accept"], exact=True).click()
    expect(page.get_by_test_id("state")).to_have_text(words["accepted"])
    web.screen("task (accepted)")
    page.get_by_role("button", name=words["start"], exact=True).click()
    expect(page.get_by_test_id("state")).to_have_text(words["in_progress"])
    resolve = page.get_by_role("button", name=words["resolve"], exact=True)
    expect(resolve).to_be_disabled()  # every step is ticked first
    web.screen("task (in progress)")
    for item in words["checklist"]:
        box = page.get_by_role("checkbox", name=item)
        box.click()
        expect(box).to_have_attribute("aria-checked", "true")
    expect(resolve).to_be_enabled()
    page.fill("textarea[name=outcome]", words["outcome"])
    web.screen("task (checklist ticked)")
    resolve.click()
    expect(page.get_by_test_id("state")).to_have_text(words["resolved"])
    web.screen("task (resolved)")
    done = volunteer.client.get(f"/actions/{action['id']}").json()
    assert (done["state"], done["accepted_by"], done["outcome"]) == ("resolved", volunteer.id, words["outcome"])
    assert [i["done"] for i in done["checklist"]] == [True, True]

    # My hours, as the API counts them.
    web.open("/tasks/hours", "hours")
    web.expect_title(words["hours"])
    hours = volunteer.client.get("/volunteers/me").json()["hours_total"]
    expect(page.get_by_test_id("hours-total")).to_have_text(words["hours_value"].format(h=f"{round(hours, 1):g}"))
    expect(page.get_by_test_id(f"done-{action['id']}")).to_be_visible()
    web.screen("hours")

    # The grid worker checks the work (over the API); the rider sees the report reach 办结.
    verified = world.gridworker.post(f"/actions/{action['id']}/verify", json={})
    assert verified.status_code == 200 and verified.json()["state"] == "closed", verified.text
    sign_out(web)
    web.elderly = elderly
    web.sign_in(rider.username, rider.password)
    web.open(f"/reports/{action['id']}", "report (closed)")
    expect(page.get_by_test_id("state")).to_have_text(words["closed"])
    expect(page.locator("[aria-current=step]")).to_contain_text(words["steps"][4])
    expect(page.get_by_test_id("steps").locator("li.done")).to_have_count(5)
    expect(page.get_by_test_id("history")).to_contain_text(words["outcome"])
    if mode == "zh-CN":
        web.document("report-closed-zh-CN")

    timeline = rider.client.get(f"/actions/{action['id']}/timeline").json()["items"]
    assert [e["verb"] for e in timeline] == ["report", "dispatch", "accept", "start", "tick", "tick", "resolve",
                                             "verify", "close"]
    final = reported_by(rider.client, rider.id)
    assert [(a["id"], a["state"]) for a in final] == [(action["id"], "closed")]


@pytest.mark.parametrize("mode", ["zh-CN", "en", "elderly"])
def test_a_volunteer_declines_a_task_with_a_reason_and_it_goes_back_to_the_grid_worker(web, suite, persona, mode):
    page = web.page
    language = "en" if mode == "en" else "zh-CN"
    words = WORDS[language]
    elderly = mode == "elderly"
    world = make_world(suite)
    suite.rpc("volunteers", "ensure_category", next(c for c in CATEGORIES if c["name"] == "shop_sign"))
    reporter = suite.user(groups=["courier"])
    reported = reporter.post("/actions", json={"title": "店招松动 · 新华路 211 号", "category": "shop_sign",
                                               "grid_id": world.micro["id"], "location": "新华路 211 号"})
    assert reported.status_code == 201, reported.text
    action = reported.json()

    volunteer = persona(roles=("resident", "volunteer"), locale=language, elderly=elderly)
    assert volunteer.client.post("/volunteers/me", json={
        "display_name": volunteer.display_name, "skills": {"repair": 2}, "grid_ids": [world.micro["id"]],
        "availability": EVERY_DAY}).status_code == 201
    assert world.gridworker.post(f"/actions/{action['id']}/dispatch",
                                 json={"volunteer_ids": [volunteer.id]}).status_code == 200

    web.open("/tasks", "tasks")
    page.get_by_test_id(f"task-{action['id']}").click()
    web.expect_title(words["task"])
    web.screen("task (asked)")
    page.get_by_role("button", name=words["decline"], exact=True).click()
    page.fill("textarea[name=reason]", words["reason"])
    web.screen("task (declining)")
    page.get_by_role("button", name=words["decline"], exact=True).click()
    expect(page.get_by_test_id("state")).to_have_text(words["triaged"])
    expect(page.get_by_role("button", name=words["accept"], exact=True)).to_have_count(0)
    web.screen("task (declined)")

    after = world.gridworker.get(f"/actions/{action['id']}").json()
    assert after["state"] == "triaged" and after["accepted_by"] is None
    last = world.gridworker.get(f"/actions/{action['id']}/timeline").json()["items"][-1]
    assert (last["verb"], last["actor_id"], last["note"]) == ("decline", volunteer.id, words["reason"])

    # No longer among the tasks waiting for an answer.
    web.open("/tasks", "tasks (after declining)")
    expect(page.get_by_test_id(f"task-{action['id']}")).to_have_count(0)
