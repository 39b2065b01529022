"""The console's grid colour map (分色感知图) and reports (统计报表) at a desk's 1280 × 800, in a real Chromium
against the real suite.

The map: an admin gives a small grid tree its outlines over the API; the sub-district's coordinator sees every
grid drawn from its outline, green and labelled in text. A report in a micro-grid, escalated to the command
(whose limit is 6 s), turns the micro-grid, its big grid and the sub-district yellow without a reload, each
labelled "yellow" in words with the reason (open / overdue / escalated) on hover and on keyboard focus, and the
table below says the same; cancelling the report turns them green again. Focusing a grid from the keyboard and
pressing Enter opens the queue filtered to that grid. The reports page shows a grid's figures for the period
and its CSV download carries them. Once in zh-CN, once in en, once in elderly mode; axe runs on every screen.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.volunteers.integration.world import make_world
from tests.web.support import RESULTS, WebApp

pytestmark = pytest.mark.integration

DESK = {"width": 1280, "height": 800}
MODES = ["zh-CN", "en", "elderly"]
WORDS = {
    "zh-CN": {"title": "分色感知图", "green": "绿 · 正常", "yellow": "黄 · 关注", "red": "红 · 告急",
              "reason": "在办 1 件 · 超时 1 件 · 已升级 1 件", "calm": "在办 0 件 · 超时 0 件 · 已升级 0 件",
              "queue": "事件队列", "reports": "统计报表"},
    "en": {"title": "Grid map", "green": "Green · calm", "yellow": "Yellow · watch", "red": "Red · act now",
           "reason": "1 open · 1 overdue · 1 escalated", "calm": "0 open · 0 overdue · 0 escalated",
           "queue": "Action queue", "reports": "Reports"},
}

# Lon/lat rectangles near 新华路: the sub-district, one big grid inside it, two micro-grids side by side.
WEST, EAST, SOUTH, NORTH = 121.420, 121.440, 31.200, 31.212


def rectangle(west: float, south: float, east: float, north: float) -> dict:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def outline_world(suite, world) -> None:
    """The admin, who keeps the grid tree, gives each grid of the world its outline (over the API)."""
    admin = suite.user(roles=["resident", "admin"])
    middle = (WEST + EAST) / 2
    shapes = {
        world.root["id"]: rectangle(WEST - 0.004, SOUTH - 0.003, EAST + 0.004, NORTH + 0.004),
        world.big["id"]: rectangle(WEST, SOUTH, EAST, NORTH),
        world.micro["id"]: rectangle(WEST + 0.001, SOUTH + 0.001, middle - 0.0005, NORTH - 0.003),
        world.other_micro["id"]: rectangle(middle + 0.0005, SOUTH + 0.001, EAST - 0.001, NORTH - 0.003),
    }
    for grid_id, shape in shapes.items():
        response = admin.patch(f"/grids/{grid_id}", json={"outline": shape})
        assert response.status_code == 200, response.text
        assert response.json()["outline"] == shape


def label(grid: dict, status: str) -> re.Pattern:
    """A grid's label on the map: its name and its status in words (on one line or two)."""
    return re.compile(rf"^\s*{re.escape(grid['name'])}\s*(· )?{re.escape(status)}\s*$")


def sign_in_as(web: WebApp, who, elderly: bool, redirect: str) -> None:
    web.elderly = False  # the sign-in page does not know the account yet
    web.sign_in(who.username, who.password, redirect=redirect)
    web.elderly = elderly


@pytest.mark.parametrize("mode", MODES)
def test_the_map_colours_each_grid_by_its_actions_and_opens_its_queue(web, suite, persona, mode):
    page = web.page
    language = "en" if mode == "en" else "zh-CN"
    words = WORDS[language]
    elderly = mode == "elderly"
    page.set_viewport_size(DESK)

    # At the command (level 3) an action not accepted within 6 s is overdue; levels 1 and 2 keep 10 hours.
    world = make_world(suite, category_limits={"accept_within_minutes": {"1": 600, "2": 600, "3": 0.1},
                                               "resolve_within_minutes": {"1": 600, "2": 600, "3": 600}})
    outline_world(suite, world)
    grids = [world.root, world.big, world.micro, world.other_micro]

    command = persona(roles=("resident", "coordinator"), grids=(world.root["id"],), locale=language,
                      elderly=elderly, sign_in=False)
    sign_in_as(web, command, elderly, "/console/map")
    web.expect_title(words["title"])
    for grid in grids:
        shape = page.get_by_test_id(f"map-grid-{grid['id']}")
        expect(shape).to_have_attribute("data-status", "green")
        expect(shape.locator("path")).to_have_attribute("d", re.compile(r"^M[\d.]+,[\d.]+L"))  # its outline
        expect(page.get_by_test_id(f"map-label-{grid['id']}")).to_have_text(label(grid, words["green"]))
    web.screen("console map (all green)")

    # A courier reports in the micro-grid; the command takes it up to level 3, where its 6 s run out.
    courier = suite.user(roles=["resident"], groups=["courier"])
    action = world.report(courier, title=f"井盖缺失 {world.tag}")
    for _ in range(2):
        response = world.command.post(f"/actions/{action['id']}/escalate", json={"reason": "需要街道协调"})
        assert response.status_code == 200, response.text
    assert response.json()["level"] == 3

    # Without a reload, the micro-grid and every grid above it turn yellow, in words too; its neighbour stays green.
    for grid in (world.micro, world.big, world.root):
        expect(page.get_by_test_id(f"map-grid-{grid['id']}")).to_have_attribute("data-status", "yellow",
                                                                                timeout=30_000)
        expect(page.get_by_test_id(f"map-label-{grid['id']}")).to_have_text(label(grid, words["yellow"]))
    expect(page.get_by_test_id(f"map-grid-{world.other_micro['id']}")).to_have_attribute("data-status", "green")
    status = {s["grid_id"]: s for s in command.client.get("/grid-status").json()["items"]}
    assert (status[world.micro["id"]]["colour"], status[world.micro["id"]]["overdue"]) == ("yellow", 1)

    # The reason: on hover, and in the table below for whoever does not see the map.
    micro = page.get_by_test_id(f"map-grid-{world.micro['id']}")
    micro.hover()
    detail = page.get_by_test_id("map-detail")
    expect(detail).to_contain_text(world.micro["name"])
    expect(detail.get_by_test_id("detail-status")).to_have_text(words["yellow"])
    expect(detail.get_by_test_id("detail-reason")).to_have_text(words["reason"])
    row = page.get_by_test_id(f"map-row-{world.micro['id']}")
    expect(row.get_by_test_id("row-status")).to_have_text(words["yellow"])
    expect(row).to_contain_text(world.micro["name"])
    expect(micro).to_have_attribute("aria-label", re.compile(re.escape(words["reason"])))
    web.screen("console map (yellow)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(RESULTS / f"console-map-{mode}.png"), full_page=True)
    if mode == "zh-CN":
        web.document("console-map-zh-CN")

    # Cancelled by its reporter: green again, without a reload.
    assert courier.post(f"/actions/{action['id']}/cancel", json={"reason": "已修好"}).status_code == 200
    for grid in grids:
        expect(page.get_by_test_id(f"map-grid-{grid['id']}")).to_have_attribute("data-status", "green",
                                                                                timeout=15_000)
        expect(page.get_by_test_id(f"map-label-{grid['id']}")).to_have_text(label(grid, words["green"]))
    expect(row.get_by_test_id("row-status")).to_have_text(words["green"])
    web.screen("console map (green again)")

    # A tap (a finger cannot hover) shows the neighbour's reason and stays on the map.
    neighbour = page.get_by_test_id(f"map-grid-{world.other_micro['id']}")
    neighbour.tap()
    expect(detail).to_contain_text(world.other_micro["name"])
    expect(detail.get_by_test_id("detail-status")).to_have_text(words["green"])
    expect(detail.get_by_test_id("detail-reason")).to_have_text(words["calm"])
    assert page.url.endswith("/console/map")

    # The keyboard: Tab reaches the grids; focus shows the reason; Enter opens the queue of that grid.
    page.get_by_test_id(f"map-grid-{world.root['id']}").focus()
    for _ in range(len(grids)):
        if page.evaluate("() => document.activeElement?.dataset?.testid") == f"map-grid-{world.micro['id']}":
            break
        page.keyboard.press("Tab")
    expect(micro).to_be_focused()
    expect(detail).to_contain_text(world.micro["name"])
    expect(detail.get_by_test_id("detail-reason")).to_have_text(words["calm"])
    web.screen("console map (a grid focused)")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf".*/console\?grid={world.micro['id']}$"))
    web.expect_title(words["queue"])
    expect(page.locator("select[name=grid]")).to_have_value(str(world.micro["id"]))
    web.screen("console queue (from the map)")



@pytest.mark.parametrize("mode", ["elderly"])  # the stories run in every mode; this in one
def test_grids_without_outlines_are_drawn_as_schematic_boxes(web, suite, persona, mode):
    page = web.page
    language = "en" if mode == "en" else "zh-CN"
    words = WORDS[language]
    elderly = mode == "elderly"
    page.set_viewport_size(DESK)
    world = make_world(suite)  # no outlines
    grids = [world.root, world.big, world.micro, world.other_micro]
    command = persona(roles=("resident", "coordinator"), grids=(world.root["id"],), locale=language,
                      elderly=elderly, sign_in=False)
    sign_in_as(web, command, elderly, "/console/map")
    for grid in grids:
        shape = page.get_by_test_id(f"map-grid-{grid['id']}")
        expect(shape).to_have_attribute("data-status", "green")
        expect(page.get_by_test_id(f"map-label-{grid['id']}")).to_have_text(label(grid, words["green"]))
    # Each box in the drawing's own units, all measured at once.
    boxes = page.evaluate("""(ids) => Object.fromEntries(ids.map((id) => {
        const r = document.querySelector(`[data-testid=map-grid-${id}] path`).getBBox();
        return [id, {x: r.x, y: r.y, width: r.width, height: r.height}];
    }))""", [g["id"] for g in grids])
    boxes = {int(k): v for k, v in boxes.items()}
    # Nested: each micro-grid's box inside its big grid's, inside the sub-district's; the two side by side.
    inside = lambda a, b: (b["x"] <= a["x"] and b["y"] <= a["y"] and a["x"] + a["width"] <= b["x"] + b["width"]  # noqa: E731
                           and a["y"] + a["height"] <= b["y"] + b["height"])
    micro, other, big, root = (boxes[g["id"]] for g in (world.micro, world.other_micro, world.big, world.root))
    assert inside(micro, big) and inside(other, big) and inside(big, root)
    assert micro["x"] + micro["width"] <= other["x"] or other["x"] + other["width"] <= micro["x"]
    web.screen("console map (schematic)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(RESULTS / f"console-map-schematic-{mode}.png"))


REPORT_WORDS = {
    "zh-CN": {"title": "统计报表", "csv": "下载 CSV", "show": "查看", "level1": "1级 · 网格", "level2": "2级 · 片区"},
    "en": {"title": "Reports", "csv": "Download CSV", "show": "Show", "level1": "Level 1 · grid",
           "level2": "Level 2 · big grid"},
}


def figure(page, key: str):
    return page.get_by_test_id(f"figure-{key}").locator("dd")


@pytest.mark.parametrize("mode", ["en"])  # the stories run in every mode; this in one
def test_reports_show_a_grids_figures_and_download_them_as_csv(web, suite, persona, mode):
    from tests.charity.support import open_shop, register_pledge

    page = web.page
    language = "en" if mode == "en" else "zh-CN"
    words = REPORT_WORDS[language]
    elderly = mode == "elderly"
    page.set_viewport_size(DESK)

    # Today in the sub-district: a report closed (dispatched, accepted, resolved, verified), another escalated to
    # the big grid; a shop's item claimed twice and redeemed once; one visit.
    world = make_world(suite)
    volunteer = world.volunteer()
    courier = suite.user(roles=["resident"], groups=["courier"])
    closed = world.report(courier, title=f"店招松动 {world.tag}")
    assert world.gridworker.post(f"/actions/{closed['id']}/dispatch",
                                 json={"volunteer_ids": [volunteer.id]}).status_code == 200
    assert volunteer.post(f"/actions/{closed['id']}/accept", json={}).status_code == 200
    assert volunteer.post(f"/actions/{closed['id']}/resolve", json={"outcome": "已加固"}).status_code == 200
    assert courier.post(f"/actions/{closed['id']}/verify", json={}).status_code == 200
    escalated = world.report(courier, title=f"店招又松了 {world.tag}", grid_id=world.other_micro["id"])
    assert world.secretary.post(f"/actions/{escalated['id']}/escalate",
                                json={"reason": "需要片区协调"}).status_code == 200
    owner = suite.user(roles=["resident", "merchant"])
    shop = open_shop(suite, owner, world.micro["id"], approver=world.gridworker)
    pledge = register_pledge(owner, shop["id"])
    codes = [suite.user(roles=["resident"], groups=["rider"]).post(f"/pledges/{pledge['id']}/claims").json()["code"]
             for _ in range(2)]
    assert owner.post(f"/claims/{codes[0]}/redeem").status_code == 200
    visit = world.gridworker.post("/visits", json={"merchant_id": shop["id"], "findings": "灭火器在有效期内"})
    assert visit.status_code == 201, visit.text

    command = persona(roles=("resident", "coordinator"), grids=(world.root["id"],), locale=language,
                      elderly=elderly, sign_in=False)
    sign_in_as(web, command, elderly, f"/console/reports?grid={world.root['id']}")
    web.expect_title(words["title"])
    expect(page.get_by_test_id("report")).to_contain_text(world.root["name"], timeout=20_000)
    expected = {"reported": "2", "closed": "1", "escalations": "1", "escalatedActions": "1", "claimed": "2",
                "redeemed": "1", "visits": "1", "shopsVisited": "1"}
    for key, value in expected.items():
        expect(figure(page, key)).to_have_text(value)
    expect(figure(page, "median")).not_to_have_text("—")
    category = page.get_by_test_id(f"chart-category-{world.category}")
    expect(category.locator("td")).to_have_text("2")
    expect(category.locator("th")).to_have_text("店招松动")
    expect(page.get_by_test_id("chart-level-1").locator("th")).to_have_text(words["level1"])
    expect(page.get_by_test_id("chart-level-1").locator("td")).to_have_text("1")
    expect(page.get_by_test_id("chart-level-2").locator("th")).to_have_text(words["level2"])
    expect(page.get_by_test_id("chart-level-2").locator("td")).to_have_text("1")
    expect(page.get_by_test_id("chart-charity-claimed").locator("td")).to_have_text("2")
    expect(page.get_by_test_id("chart-charity-redeemed").locator("td")).to_have_text("1")
    web.screen("console reports")
    RESULTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(RESULTS / f"console-reports-{mode}.png"), full_page=True)

    # The CSV (the API's own rows) carries the same figures.
    with page.expect_download() as download:
        page.get_by_role("button", name=words["csv"]).click()
    assert download.value.suggested_filename.endswith(".csv")
    text = open(download.value.path(), encoding="utf-8-sig").read()
    rows = {tuple(line.split(",")[:2]): line.split(",")[2] for line in text.strip().splitlines()[1:]}
    assert (rows[("grid", "id")], rows[("grid", "name")]) == (str(world.root["id"]), world.root["name"])
    assert (rows[("actions", "reported")], rows[("actions", "closed")]) == ("2", "1")
    assert rows[("actions_by_category", world.category)] == "2"
    assert (rows[("actions_by_level", "1")], rows[("actions_by_level", "2")]) == ("1", "1")
    assert float(rows[("actions", "median_minutes_to_close")]) >= 0
    assert (rows[("actions", "escalations")], rows[("actions", "escalated_actions")]) == ("1", "1")
    assert (rows[("charity", "claimed")], rows[("charity", "redeemed")]) == ("2", "1")
    assert rows[("visits", "count")] == "1"

    # Days the wrong way round: the API's message beside the field; the figures shown stay.
    first, last = page.input_value("input[name=from]"), page.input_value("input[name=to]")
    assert re.fullmatch(r"\d{4}-\d{2}-01", first) and last >= first
    page.fill("input[name=from]", "2026-01-31")
    page.fill("input[name=to]", "2026-01-01")
    page.get_by_role("button", name=words["show"], exact=True).click()
    expect(page.get_by_test_id("to-error")).not_to_be_empty()
    expect(figure(page, "reported")).to_have_text("2")
    web.screen("console reports (days the wrong way round)")

    # Another grid, the days back in order: the neighbouring micro-grid has only the escalated report.
    page.fill("input[name=from]", first)
    page.fill("input[name=to]", last)
    page.select_option("select[name=grid]", str(world.other_micro["id"]))
    page.get_by_role("button", name=words["show"], exact=True).click()
    expect(page.get_by_test_id("report")).to_contain_text(world.other_micro["name"])
    expect(figure(page, "reported")).to_have_text("1")
    expect(figure(page, "closed")).to_have_text("0")
    expect(figure(page, "claimed")).to_have_text("0")
    expect(page.get_by_test_id("to-error")).to_be_empty()
    web.screen("console reports (another grid)")
