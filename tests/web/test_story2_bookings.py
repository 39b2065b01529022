"""Story 2 in a real Chromium at 375 × 812: a resident finds the governance council hall (治理议事厅) and books it
for Tuesday 19:00–21:00; someone else's overlapping attempt shows the conflict in its preview and writes
nothing (they join the waitlist instead, and accept the slot when it frees up); a team lead books the baking
classroom (烘焙教室) every Saturday morning for three months, leaving one Saturday out and skipping the one a
neighbour holds, after a preview of every time; then cancels one Saturday, saves the series to a calendar, and
checks in to a reading-room booking about to start. Once in zh-CN, once in en, once in elderly mode; axe and
the elderly measures run on every screen; the API's state is checked after each step."""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from services.bookings.seed import ROOMS

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")
WORDS = {
    "zh-CN": {"tab": "空间预约", "find": "找空间", "search": "查找", "open": "查看空闲时段", "free": "可预约",
              "booked": "已被预约", "preview": "预览每一次", "pending": "待审批", "confirmed": "已确认",
              "conflict": "有冲突", "skip_this": "不约这一次", "cancel_one": "取消这一次", "cancelled": "已取消",
              "checked_in": "已签到", "check_in": "签到", "offered": "候补保留", "accept": "接受",
              "weekly": "每周", "day": "按天", "others_stay": "其余的保留", "ends_before": "must be after", "join": "排队候补这个时段", "will_skip": "将跳过"},
    "en": {"tab": "Book a space", "find": "Find a space", "search": "Search", "open": "See free times", "free": "Free",
           "booked": "booked", "preview": "Preview every time", "pending": "Awaiting approval",
           "confirmed": "Confirmed", "conflict": "Conflict", "skip_this": "Leave this one out",
           "cancel_one": "Cancel this one", "cancelled": "Cancelled", "checked_in": "Checked in",
           "check_in": "Check in", "offered": "Held for you", "accept": "Accept", "weekly": "Weekly",
           "others_stay": "The others stay", "day": "Day",
           "ends_before": "must be after", "join": "Join the waitlist for this time", "will_skip": "Will be skipped"},
}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def next_weekday(weekday: int, min_days: int = 3) -> datetime:
    """Midnight of the next such weekday in Shanghai, at least `min_days` ahead."""
    day = datetime.now(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=min_days)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


def at(day: datetime, hh_mm: str) -> datetime:
    hour, minute = map(int, hh_mm.split(":"))
    return day.replace(hour=hour, minute=minute)


def room(name: str) -> dict:
    return next(r for r in ROOMS if r["name"] == name)


def the_centre(suite) -> tuple[dict, dict, dict, dict, object]:
    """A service centre of this test with the demo's council hall, baking classroom and reading room (the
    reading room open all day, so that a check-in can be tried whatever the hour the test runs)."""
    admin = suite.user(roles=["admin"])
    site = admin.post("/sites", json={"name": unique("新华路街道党群服务中心")}).json()
    made = []
    for spec in (room("治理议事厅"), room("烘焙教室"),
                 {**room("党建图书室"), "rules": {**room("党建图书室")["rules"], "opening_hours": None}}):
        answer = admin.post("/spaces", json={**spec, "site_id": site["id"]})
        assert answer.status_code == 201, answer.text
        made.append(answer.json())
    return site, made[0], made[1], made[2], admin


def sign_out(web) -> None:
    web.page.evaluate("localStorage.clear()")
    web.page.goto(web.base_url + "/login")


def local_dates(booking: dict, status: str | None = None) -> list[str]:
    return sorted({datetime.fromisoformat(o["starts_at"]).astimezone(SHANGHAI).date().isoformat()
                   for o in booking["occurrences"] if status is None or o["status"] == status})


@pytest.mark.parametrize("mode", ["zh-CN", "en", "elderly"])
def test_the_council_hall_and_the_baking_classroom_are_booked_and_never_double_booked(web, suite, persona, mode):
    page = web.page
    language = "en" if mode == "en" else "zh-CN"
    words = WORDS[language]
    elderly = mode == "elderly"
    site, hall, classroom, reading_room, admin = the_centre(suite)
    tuesday = next_weekday(1)

    # ---- A resident finds the council hall, sees its week, and books Tuesday 19:00–21:00.
    resident = persona(roles=("resident",), locale=language, elderly=elderly)
    web.tab("bookings").click()
    web.expect_title(words["tab"])
    web.screen("bookings (none yet)")
    page.get_by_test_id("find-space").click()
    web.expect_title(words["find"])
    page.select_option("select[name=site]", str(site["id"]))
    page.get_by_role("button", name=words["search"], exact=True).click()
    card = page.get_by_test_id(f"space-{hall['id']}")
    expect(card).to_contain_text("治理议事厅")
    expect(page.locator("article.space-card")).to_have_count(3)
    web.screen("find a space")
    # Room for at least 20: the API's message beside the field for 0, then the hall (30) and the reading room (20).
    page.fill("input[name=min_capacity]", "0")
    page.get_by_role("button", name=words["search"], exact=True).click()
    expect(page.locator(".van-field__error-message")).to_be_visible()
    web.screen("find a space (refused)")
    page.fill("input[name=min_capacity]", "20")
    page.get_by_role("button", name=words["search"], exact=True).click()
    expect(page.locator("article.space-card")).to_have_count(2)
    expect(page.get_by_test_id(f"space-{classroom['id']}")).to_have_count(0)
    card.get_by_role("button").click()
    page.wait_for_url(f"**/bookings/spaces/{hall['id']}")
    web.expect_title("治理议事厅")
    # A week at a time: more than one day is on the screen.
    expect(page.locator("section.space-day")).to_have_count(7)
    web.screen("a space's week")
    if mode == "zh-CN":
        web.document("space-week-zh-CN")
    if tuesday.date() > (datetime.now(SHANGHAI) + timedelta(days=6)).date():
        page.get_by_role("button", name=re.compile("下一段|Later")).click()
    day = page.get_by_test_id(f"day-{tuesday.date().isoformat()}")
    day.get_by_role("button", name=re.compile("08:30–21:00")).click()
    page.wait_for_url(re.compile(r".*/book\?.*"))
    expect(page.locator("input[name=date]")).to_have_value(tuesday.date().isoformat())
    expect(page.locator("input[name=start]")).to_have_value("08:30")
    web.screen("booking form (from a free time)")
    page.fill("input[name=start]", "19:00")
    page.fill("input[name=end]", "18:00")
    page.fill("input[name=title]", "居民议事会")
    page.get_by_role("button", name=words["preview"]).click()
    # The API's own message beside the end time; what was typed stays.
    expect(page.locator(".van-field__error-message")).to_contain_text(words["ends_before"])
    expect(page.locator("input[name=title]")).to_have_value("居民议事会")
    web.screen("booking form (refused)")
    page.fill("input[name=end]", "21:00")
    page.get_by_role("button", name=words["preview"]).click()
    occurrence = page.get_by_test_id(f"occurrence-{tuesday.date().isoformat()}")
    expect(occurrence).to_contain_text("19:00–21:00")
    expect(occurrence).to_contain_text(words["free"])
    web.screen("preview (one free time)")
    assert resident.client.get("/bookings").json()["items"] == [], "a preview writes nothing"
    page.get_by_test_id("confirm").click()
    page.wait_for_url(re.compile(r".*/bookings/\d+$"))
    expect(page.get_by_test_id("booking-status")).to_have_text(words["pending"])
    web.screen("a booking (awaiting approval)")
    booked = resident.client.get("/bookings").json()["items"]
    assert len(booked) == 1
    hall_booking = booked[0]
    assert (hall_booking["space_id"], hall_booking["status"], hall_booking["title"]) == (hall["id"], "pending", "居民议事会")
    assert datetime.fromisoformat(hall_booking["starts_at"]) == at(tuesday, "19:00")
    assert datetime.fromisoformat(hall_booking["ends_at"]) == at(tuesday, "21:00")
    page.goto(web.base_url + "/bookings")
    expect(page.get_by_test_id(f"booking-{hall_booking['id']}")).to_contain_text(words["pending"])
    web.screen("my bookings")

    # ---- Someone else tries 19:30–20:30 the same Tuesday: the preview shows the conflict, nothing is written.
    sign_out(web)
    other = persona(roles=("resident",), locale=language, elderly=elderly)
    web.open(f"/bookings/spaces/{hall['id']}", "a space's week (booked)")
    if tuesday.date() > (datetime.now(SHANGHAI) + timedelta(days=6)).date():
        page.get_by_role("button", name=re.compile("下一段|Later")).click()
    busy = page.get_by_test_id(f"day-{tuesday.date().isoformat()}").locator(".slot-busy")
    expect(busy).to_contain_text("19:00–")
    expect(busy).to_contain_text(words["booked"])
    page.get_by_role("button", name=words["day"], exact=True).click()
    expect(page.locator("section.space-day")).to_have_count(1)
    web.screen("a space's day")
    before = admin.get("/bookings", params={"mine": "false", "space_id": hall["id"]}).json()["items"]
    page.goto(web.base_url + f"/bookings/spaces/{hall['id']}/book?date={tuesday.date()}&start=19:30&end=20:30")
    page.get_by_role("button", name=words["preview"]).click()
    occurrence = page.get_by_test_id(f"occurrence-{tuesday.date().isoformat()}")
    expect(occurrence).to_contain_text(words["conflict"])
    expect(occurrence).to_contain_text("19:00–21:00")
    expect(page.get_by_test_id("confirm")).to_be_disabled()
    expect(page.get_by_test_id("blocked")).to_be_visible()
    web.screen("preview (a conflict)")
    assert other.client.get("/bookings").json()["items"] == []
    after = admin.get("/bookings", params={"mine": "false", "space_id": hall["id"]}).json()["items"]
    assert [(b["id"], b["version"]) for b in after] == [(b["id"], b["version"]) for b in before] == \
        [(hall_booking["id"], hall_booking["version"])]
    # They wait for it instead; when the resident gives it back, it is held for them and they take it.
    occurrence.get_by_role("button", name=words["join"]).click()
    page.wait_for_url("**/bookings")
    entries = other.client.get("/waitlist").json()["items"]
    assert [(e["space_id"], e["status"]) for e in entries] == [(hall["id"], "waiting")]
    web.screen("my bookings (waiting)")
    cancelled = resident.client.post(f"/bookings/{hall_booking['id']}/cancel", json={"scope": "series"})
    assert cancelled.status_code == 200, cancelled.text
    page.reload()
    entry = page.get_by_test_id(f"waitlist-{entries[0]['id']}")
    expect(entry).to_contain_text(words["offered"])
    web.screen("my bookings (an offer)")
    entry.get_by_role("button", name=words["accept"], exact=True).click()
    page.wait_for_url(re.compile(r".*/bookings/\d+$"))
    taken = other.client.get("/bookings").json()["items"]
    assert len(taken) == 1 and datetime.fromisoformat(taken[0]["starts_at"]) == at(tuesday, "19:30")
    assert other.client.get("/waitlist").json()["items"][0]["status"] == "accepted"
    web.screen("a booking (from the waitlist)")

    # ---- A team lead books the baking classroom every Saturday 09:00–11:30 for three months. A neighbour
    # already has the fifth Saturday; the lead leaves the third out and skips the one in conflict.
    saturday = next_weekday(5)
    until = saturday.date() + timedelta(days=91)  # thirteen weeks on: the 14th Saturday, included
    saturdays = [saturday + timedelta(weeks=n) for n in range(14)]
    neighbour = suite.user(roles=["resident"])
    held = neighbour.post("/bookings", json={"space_id": classroom["id"], "starts_at": at(saturdays[4], "10:00").isoformat(),
                                             "ends_at": at(saturdays[4], "11:00").isoformat()})
    assert held.status_code == 201, held.text
    sign_out(web)
    lead = persona(roles=("resident", "volunteer"), locale=language, elderly=elderly)
    team = admin.post("/teams", json={"name": unique("营造师"), "kind": "placemakers", "lead_ids": [lead.id]})
    assert team.status_code == 201, team.text
    team = team.json()
    web.open(f"/bookings/spaces/{classroom['id']}/book?date={saturday.date()}&start=09:00&end=11:30", "booking form (a series)")
    page.fill("input[name=title]", "烘焙课")
    page.get_by_role("radio", name=re.compile(team["name"])).click()
    page.get_by_role("radio", name=re.compile("每周重复|Every week")).click()
    expect(page.get_by_test_id("day-SA")).to_have_attribute("aria-pressed", "true")
    page.fill("input[name=until]", until.isoformat())
    web.screen("booking form (every Saturday)")
    page.get_by_role("button", name=words["preview"]).click()
    preview = page.get_by_test_id("preview")
    expect(preview.locator("li.preview-item")).to_have_count(len(saturdays))
    fifth = page.get_by_test_id(f"occurrence-{saturdays[4].date()}")
    expect(fifth).to_contain_text(words["conflict"])
    expect(fifth).to_contain_text("10:00–11:00")
    expect(page.get_by_test_id("confirm")).to_be_disabled()
    web.screen("preview (a series with a conflict)")
    # Nothing was written by looking.
    assert lead.client.get("/bookings").json()["items"] == []
    page.get_by_test_id(f"occurrence-{saturdays[2].date()}").get_by_role("button", name=re.compile(words["skip_this"])).click()
    expect(page.get_by_test_id(f"occurrence-{saturdays[2].date()}")).to_have_count(0)
    expect(page.get_by_test_id("left-out")).to_be_visible()
    page.get_by_test_id("skip-conflicts").click()
    expect(fifth).to_contain_text(words["will_skip"])
    expect(page.get_by_test_id("confirm")).to_be_enabled()
    expect(page.get_by_test_id("confirm")).to_contain_text(str(len(saturdays) - 2))
    web.screen("preview (one left out, one skipped)")
    if mode == "en":
        web.document("booking-preview-en")
    assert lead.client.get("/bookings").json()["items"] == []
    page.get_by_test_id("confirm").click()
    page.wait_for_url(re.compile(r".*/bookings/\d+$"))
    expect(page.get_by_test_id("booking-rule")).to_contain_text(words["weekly"])
    expect(page.get_by_test_id("booking-status")).to_have_text(words["confirmed"])
    web.screen("a series")
    series = lead.client.get("/bookings").json()["items"]
    assert len(series) == 1
    series = series[0]
    assert (series["space_id"], series["team_id"], series["status"], series["title"]) == \
        (classroom["id"], team["id"], "confirmed", "烘焙课")
    assert "BYDAY=SA" in series["rrule"] and f"UNTIL={until:%Y%m%d}" in series["rrule"]
    expected = [s.date().isoformat() for i, s in enumerate(saturdays) if i not in (2, 4)]
    assert local_dates(series) == expected
    assert saturdays[2].date().isoformat() in series["exdates"]
    assert all(datetime.fromisoformat(o["starts_at"]).astimezone(SHANGHAI).strftime("%a %H:%M") == "Sat 09:00"
               for o in series["occurrences"])
    assert len(neighbour.get("/bookings").json()["items"]) == 1  # the neighbour's Saturday is untouched

    # ---- The lead cancels the second Saturday only.
    second = next(o for o in series["occurrences"] if datetime.fromisoformat(o["starts_at"]) == at(saturdays[1], "09:00"))
    row = page.get_by_test_id(f"occurrence-{second['id']}")
    row.get_by_role("button", name=re.compile(words["cancel_one"])).click()
    expect(row.get_by_test_id("cancel-ask")).to_contain_text(words["others_stay"])
    web.screen("a series (asked before cancelling one)")
    assert local_dates(lead.client.get(f"/bookings/{series['id']}").json(), "cancelled") == []
    row.get_by_test_id("cancel-yes").click()
    expect(row).to_contain_text(words["cancelled"])
    web.screen("a series (one cancelled)")
    series = lead.client.get(f"/bookings/{series['id']}").json()
    assert local_dates(series, "cancelled") == [saturdays[1].date().isoformat()]
    assert local_dates(series, "confirmed") == [d for d in expected if d != saturdays[1].date().isoformat()]

    # ---- Add to my calendar: the series as one event with its rule and the dates left out.
    with page.expect_download() as download:
        page.get_by_test_id("add-to-calendar").click()
    text = open(download.value.path(), encoding="utf-8").read()
    rule = re.search(r"^RRULE:(.*)$", text, re.M)
    assert "BEGIN:VCALENDAR" in text and rule and "FREQ=WEEKLY" in rule[1] and "BYDAY=SA" in rule[1]
    exdates = " ".join(re.findall(r"^EXDATE.*$", text, re.M))
    assert f"{saturdays[2]:%Y%m%d}T090000" in exdates and f"{saturdays[4]:%Y%m%d}T090000" in exdates

    # ---- Check in to a reading-room booking that starts in a few minutes.
    soon = (datetime.now(SHANGHAI) + timedelta(minutes=5)).replace(second=0, microsecond=0)
    reading = lead.client.post("/bookings", json={"space_id": reading_room["id"], "title": "读书会",
                                                  "starts_at": soon.isoformat(), "ends_at": (soon + timedelta(hours=1)).isoformat()})
    assert reading.status_code == 201, reading.text
    reading = reading.json()
    web.open(f"/bookings/{reading['id']}", "a booking about to start")
    row = page.get_by_test_id(f"occurrence-{reading['occurrences'][0]['id']}")
    row.get_by_role("button", name=words["check_in"], exact=True).click()
    expect(row).to_contain_text(words["checked_in"])
    web.screen("a booking (checked in)")
    assert lead.client.get(f"/bookings/{reading['id']}").json()["occurrences"][0]["status"] == "checked_in"
