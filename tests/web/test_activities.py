"""Activities in a real Chromium (375 × 812).

1. A night-school course from creation to its last class's attendance: a coordinator creates "新域夜校" evening
   classes every Thursday at a room of a centre (the form refuses a class that ends before it starts, beside
   the field; the room is booked for every class); a rider finds the course under 课程 on their phone and
   signs up, sees it in 我的报名 with the ticket's QR; two more sign up. The term then goes by (the test moves
   the course's sessions back in the activities database, so that its last class begins in ten minutes).
   At the last class the organiser's desk shows the rotating code; the rider's phone camera (Chromium's fake
   camera, fed the desk's QR) scans it and checks in; the organiser checks the second participant in by name;
   the desk counts two in and one not here. zh-CN; axe on every screen.
2. A full party with a waitlist promotion, in elderly mode: a station's birthday party, one sign-up per
   household, two places, both taken; the next person joins the waitlist from the activity's page; one of
   the two cancels on their phone; the waitlisted person is offered the place with its deadline and confirms
   it in time, then finds it in 我的报名 with the ticket. The elderly measures run on every screen.
3. The centre's report, in English: a class held yesterday with two sign-ups; after it the desk shows no
   code, its camera reads one participant's ticket (the other is a no-show) and it counts three walk-ins; the
   report for the centre's site shows it (attendance 50 %, one no-show, four visits) and downloads as CSV.
4. A walking lesson created in English at a meeting point, with its route: a route with no stop is refused
   beside the stops; with two stops (a note each) it is created and its page lists them in order; then it is
   moved to the afternoon, and the same walk is added a week later.
5. The organiser's screens (the form with a weekly schedule and a route, an activity's organiser tools, the
   desk with its code, adding sessions, editing it — more places —, the reports) measured in elderly mode,
   each part as it scrolls in.
The API's state is checked after each step."""
from __future__ import annotations

import base64
import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.bookings.integration.conftest import make_space
from tests.web.support import RESULTS, WebApp

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")
WORDS = {"create": "发起活动", "class": "课程", "sign_up": "报名", "signed_up": "已报名", "wait": "名额已满,排队候补",
         "waitlisted": "候补中", "offered": "有名额待确认", "confirm": "确认参加", "confirmed": "已确认,报名成功",
         "mine": "我的报名", "checked_in": "签到成功", "ends_before": "must end after"}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def next_weekday(weekday: int, min_days: int = 3) -> datetime:
    day = datetime.now(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=min_days)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


def phone(browser, browser_context_args, suite, who, elderly: bool = False) -> tuple[object, WebApp]:
    """Another person's phone: a new context of the browser, signed in as `who`."""
    context = browser.new_context(**browser_context_args)
    app = WebApp(page=context.new_page(), base_url=suite.base_url)
    app.sign_in(who.username, who.password)
    app.elderly = elderly
    return context, app


def let_the_term_pass(suite, activity_id: int, last_starts_in: timedelta) -> list[int]:
    """The weeks go by: every session of the activity moves back by the same amount, so that its last one
    begins `last_starts_in` from now (the earlier ones are then behind us). Answers the session ids in order."""
    from services.activities.models import ActivitySession

    with suite.database("activities").transaction() as session:
        rows = session.scalars(select(ActivitySession).where(ActivitySession.activity_id == activity_id)
                               .order_by(ActivitySession.starts_at)).all()
        shift = rows[-1].starts_at - (datetime.now(SHANGHAI) + last_starts_in)
        for row in rows:
            row.starts_at -= shift
            row.ends_at -= shift
        return [row.id for row in rows]


# The picture a phone camera sees: the QR code on the desk's screen, drawn on a 640 × 480 frame with white
# around it, as the grey levels of Chromium's fake camera file (YUV 4:2:0, no colour).
FRAME = (640, 480)
GREYS = """(img) => {
  const [w, h] = [640, 480], side = 420;
  const canvas = document.createElement('canvas');
  canvas.width = w; canvas.height = h;
  const g = canvas.getContext('2d');
  g.fillStyle = '#fff'; g.fillRect(0, 0, w, h);
  g.imageSmoothingEnabled = false;
  g.drawImage(img, (w - side) / 2, (h - side) / 2, side, side);
  const rgba = g.getImageData(0, 0, w, h).data;
  let out = '';
  for (let i = 0; i < rgba.length; i += 4)
    out += String.fromCharCode(Math.round(0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2]));
  return btoa(out);
}"""


def camera_file(path, greys: bytes) -> None:
    width, height = FRAME
    chroma = bytes([128]) * (width // 2 * height // 2)
    path.write_bytes(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
                     + b"FRAME\n" + greys + chroma + chroma)


def test_a_night_school_course_from_creation_to_the_last_class_attendance(
        web, suite, persona, browser, browser_type, browser_type_launch_args, browser_context_args, tmp_path):
    page = web.page
    words = WORDS
    room = make_space(suite, name=unique("多功能教室"), capacity=30, site=unique("新华路街道党群服务中心"))
    title = unique("新域夜校·短视频剪辑")
    thursday = next_weekday(3)

    # ---- The coordinator creates the course: four Thursday evenings, 19:00–21:00, in the centre's room.
    organiser = persona(roles=("resident", "coordinator"))
    web.open("/", "home")
    page.locator(".van-grid-item", has_text="社区活动").click()
    web.expect_title("活动")
    page.get_by_test_id("create-activity").click()
    web.expect_title(words["create"])
    web.screen("create an activity")
    page.select_option("select[name=kind]", "class")
    page.fill("input[name=title_zh]", title)
    page.fill("input[name=title_en]", "New-sector night school: short-video editing")
    page.fill("textarea[name=description_zh]", "为骑手的下班时间安排的晚间课程:手机拍摄与剪辑。")
    page.fill("input[name=date]", thursday.date().isoformat())
    page.fill("input[name=start]", "19:00")
    page.fill("input[name=end]", "18:00")
    page.get_by_test_id("repeat-weekly").click()
    expect(page.get_by_test_id("day-TH")).to_have_attribute("aria-pressed", "true")  # the first class's weekday
    page.fill("input[name=count]", "4")
    page.select_option("select[name=site]", str(room["site_id"]))
    expect(page.locator(f"select[name=space] option[value='{room['id']}']")).to_have_count(1)
    page.select_option("select[name=space]", str(room["id"]))
    page.fill("input[name=capacity]", "12")
    page.get_by_test_id("create").click()
    # The API's own message beside the end time; what was typed stays.
    expect(page.locator(".van-field__error-message")).to_contain_text(words["ends_before"])
    expect(page.locator("input[name=title_zh]")).to_have_value(title)
    web.screen("create an activity (refused)")
    page.fill("input[name=end]", "21:00")
    page.get_by_test_id("create").click()
    page.wait_for_url(re.compile(r".*/activities/\d+$"))
    activity_id = int(page.url.rsplit("/", 1)[1])
    web.expect_title(title)
    expect(page.locator("li.session")).to_have_count(4)
    expect(page.get_by_test_id("places-left")).to_contain_text("12")
    web.screen("the course (organiser)")
    made = organiser.client.get(f"/activities/{activity_id}").json()
    assert [s["state"] for s in made["sessions"]] == ["scheduled"] * 4
    assert all(s["booking_id"] for s in made["sessions"])  # the room is held for every class
    starts = sorted(datetime.fromisoformat(s["starts_at"]).astimezone(SHANGHAI) for s in made["sessions"])
    assert [(s.weekday(), s.strftime("%H:%M")) for s in starts] == [(3, "19:00")] * 4
    assert starts[0].date() == thursday.date()

    # ---- A rider finds it under 课程 and signs up on their phone; sees it in 我的报名 with the ticket.
    rider = persona(roles=("resident",), groups=("rider",), sign_in=False)
    context, rider_phone = phone(browser, browser_context_args, suite, rider)
    try:
        rp = rider_phone.page
        rp.goto(suite.base_url + "/activities")
        rp.get_by_test_id("kind-class").click()
        card = rp.get_by_test_id(f"activity-{activity_id}")
        expect(card).to_contain_text(title)
        expect(card).to_contain_text("共 4 次")  # the card says when: its first class and how many
        rider_phone.screen("activities (classes)")
        card.get_by_role("link", name=title).click()
        rider_phone.expect_title(title)
        rp.get_by_test_id("sign-up").click()
        expect(rp.get_by_test_id("signup-state")).to_have_text(words["signed_up"])
        expect(rp.get_by_test_id("places-left")).to_contain_text("11")
        rider_phone.screen("the course (signed up)")
        rp.get_by_test_id("ticket").click()
        expect(rp.get_by_test_id("qr-code")).to_be_visible()
        rider_phone.screen("my ticket")
        rider_phone.open("/activities/mine", "my sign-ups")
        signup = rider.client.get("/me/activity-signups").json()["items"][0]
        assert (signup["activity_id"], signup["state"]) == (activity_id, "confirmed")
        expect(rp.get_by_test_id(f"my-signup-{signup['id']}")).to_contain_text(words["signed_up"])
    finally:
        context.close()
    courier = suite.user(groups=("courier",))
    absent = suite.user(groups=("rider",))
    for person in (courier, absent):
        answer = person.post(f"/activities/{activity_id}/signups", json={"places": 1})
        assert answer.status_code == 201 and answer.json()["state"] == "confirmed", answer.text

    # ---- The term goes by; at the last class the organiser opens its desk: the rotating code.
    sessions = let_the_term_pass(suite, activity_id, timedelta(minutes=10))
    last = sessions[-1]
    web.open(f"/activities/{activity_id}", "the course (last class ahead)")
    page.get_by_test_id(f"desk-{last}").click()
    page.wait_for_url(f"**/activities/{activity_id}/sessions/{last}")
    digits = page.get_by_test_id("code-digits")
    expect(digits).to_have_text(re.compile(r"^\d{3} \d{3}$"))
    web.screen("the last class's desk")
    code = organiser.client.get(f"/activity-sessions/{last}/code").json()
    assert re.fullmatch(r"\d{6}", code["code"]) and code["period_seconds"] == 30
    greys = base64.b64decode(page.get_by_test_id("qr-code").evaluate(GREYS))
    assert len(greys) == FRAME[0] * FRAME[1] and min(greys) < 60 and max(greys) > 200
    picture = tmp_path / "desk.y4m"
    camera_file(picture, greys)

    # ---- The rider's phone camera reads the code on the desk's screen: checked in.
    camera = browser_type.launch(**{**browser_type_launch_args, "args": [
        *browser_type_launch_args["args"], "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={picture}"]})
    try:
        context = camera.new_context(**browser_context_args, permissions=["camera"])
        rider_phone = WebApp(page=context.new_page(), base_url=suite.base_url)
        try:
            rider_phone.sign_in(rider.username, rider.password)
            rider_phone.page.goto(f"{suite.base_url}/activities/{activity_id}")
            rider_phone.page.get_by_test_id(f"check-in-{last}").click()
            rider_phone.page.wait_for_url(f"**/sessions/{last}/check-in")
            rider_phone.screen("check in")
            rider_phone.page.get_by_test_id("scan").click()
            expect(rider_phone.page.get_by_test_id("checked-in")).to_contain_text(words["checked_in"], timeout=15_000)
            rider_phone.screen("checked in")
        except Exception:
            rider_phone.save_screenshot(RESULTS / "activities-camera-check-in.png")
            print("the rider's page said:\n" + "\n".join(rider_phone.console[-40:]))
            raise
        finally:
            context.close()
    finally:
        camera.close()

    # ---- The organiser's desk shows it, and checks the courier in by hand; one is not here.
    expect(page.get_by_test_id(f"attendee-{rider.id}")).to_contain_text("扫码", timeout=10_000)
    # People are named on the desk; the courier is checked in by name.
    page.get_by_role("button", name=f"为 {courier.user['display_name']} 签到").click()
    expect(page.get_by_test_id(f"attendee-{courier.id}")).to_contain_text("手动")
    expect(page.get_by_test_id("attendance-summary")).to_have_text("已签到 2 人,已签退 0 人,未到 1 人")
    web.screen("the last class's attendance")
    listed = organiser.client.get(f"/activity-sessions/{last}/attendance").json()
    by_user = {item["user_id"]: item for item in listed["items"]}
    assert (by_user[rider.id]["method"], by_user[courier.id]["method"]) == ("code", "manual")
    assert by_user[absent.id]["checked_in_at"] is None
    assert listed["summary"]["participants_in"] == 2


def test_a_full_party_promotes_the_next_person_on_the_waitlist_who_confirms_in_time(
        web, suite, persona, browser, browser_context_args):
    page = web.page
    words = WORDS
    organiser = suite.user(roles=["resident", "coordinator"])
    day = datetime.now(SHANGHAI).replace(hour=15, minute=0, second=0, microsecond=0) + timedelta(days=4)
    title = unique("快递驿站生日会")
    made = organiser.post("/activities", json={
        "kind": "party", "title_zh": title, "title_en": "Birthday party at the courier station", "capacity": 2,
        "one_per_household": True, "hold_minutes": 30,
        "sessions": [{"starts_at": day.isoformat(), "ends_at": (day + timedelta(hours=2)).isoformat(),
                      "place": "浦东快递驿站二楼"}]})
    assert made.status_code == 201, made.text
    activity_id = made.json()["id"]
    first, second = persona(groups=("courier",), sign_in=False), suite.user(groups=("courier",))
    taken = [person.post(f"/activities/{activity_id}/signups", json={"household": f"驿站宿舍 {n} 室"})
             for n, person in enumerate((first.client, second), start=1)]
    assert [answer.json().get("state") for answer in taken] == ["confirmed", "confirmed"], [a.text for a in taken]

    # ---- Full: the next person joins the waitlist from the activity's page (their household typed).
    guest = persona(roles=("resident",), groups=("courier",), elderly=True)
    web.open(f"/activities/{activity_id}", "the party (full)")
    web.expect_title(title)
    expect(page.get_by_test_id("places-left")).to_contain_text("0")
    page.fill("input[name=household]", "驿站宿舍 3 室")
    page.get_by_test_id("sign-up").click()
    expect(page.get_by_test_id("signup-state")).to_have_text(words["waitlisted"])
    web.screen("the party (waitlisted)")
    mine = guest.client.get(f"/activities/{activity_id}").json()["my_signup"]
    assert mine["state"] == "waitlisted"

    # ---- One of the two cancels; the place is offered to the guest with its deadline; confirmed in time.
    context, first_phone = phone(browser, browser_context_args, suite, first)
    try:
        first_phone.page.goto(f"{suite.base_url}/activities/{activity_id}")
        first_phone.page.get_by_test_id("cancel-signup").click()
        first_phone.page.get_by_test_id("cancel-yes").click()
        # The freed place is held for the one waiting: still full for anyone else.
        expect(first_phone.page.get_by_test_id("sign-up")).to_have_text(words["wait"])
        first_phone.screen("the party (cancelled)")
    finally:
        context.close()
    assert first.client.get(f"/activities/{activity_id}").json()["my_signup"]["state"] == "cancelled"
    offered = guest.client.get(f"/activities/{activity_id}").json()["my_signup"]
    assert offered["state"] == "offered" and offered["hold_until"], offered
    hold_until = datetime.fromisoformat(offered["hold_until"])
    assert timedelta(minutes=29) < hold_until - datetime.now(SHANGHAI) <= timedelta(minutes=30)
    page.reload()
    expect(page.get_by_test_id("signup-state")).to_have_text(words["offered"])
    expect(page.get_by_test_id("offer-until")).to_contain_text(f"{hold_until.astimezone(SHANGHAI):%H:%M}")
    web.screen("the party (offered)")
    page.get_by_test_id("confirm-offer").click()
    expect(page.get_by_test_id("signup-state")).to_have_text(words["signed_up"])
    web.screen("the party (confirmed)")
    web.open("/activities/mine", "my sign-ups")
    expect(page.get_by_test_id(f"my-signup-{offered['id']}")).to_contain_text(words["signed_up"])
    page.get_by_test_id(f"ticket-{offered['id']}").click()
    expect(page.get_by_test_id("qr-code")).to_be_visible()
    web.screen("my ticket")
    after = organiser.get(f"/activities/{activity_id}").json()
    assert (after["taken"], after["capacity"]) == (2, 2)
    assert guest.client.get(f"/activities/{activity_id}").json()["my_signup"]["state"] == "confirmed"


def test_the_report_counts_a_held_class_per_site_and_downloads_as_csv(
        web, suite, persona, browser, browser_type, browser_type_launch_args, browser_context_args, tmp_path):
    page = web.page
    room = make_space(suite, name=unique("烘焙教室"), capacity=20, site=unique("新华路街道党群服务中心"))
    organiser = persona(roles=("resident", "coordinator"), locale="en")
    tomorrow = datetime.now(SHANGHAI).replace(hour=19, minute=0, second=0, microsecond=0) + timedelta(days=1)
    made = organiser.client.post("/activities", json={
        "kind": "workshop", "title_zh": unique("亲子烘焙"), "capacity": 10,
        "sessions": [{"starts_at": tomorrow.isoformat(), "ends_at": (tomorrow + timedelta(hours=2)).isoformat(),
                      "space_id": room["id"]}]})
    assert made.status_code == 201, made.text
    activity_id = made.json()["id"]
    came, missed = persona(sign_in=False, locale="en"), suite.user()
    for person in (came.client, missed):
        assert person.post(f"/activities/{activity_id}/signups", json={}).status_code == 201
    (held,) = let_the_term_pass(suite, activity_id, timedelta(days=-1, hours=-2))  # it was yesterday

    # The participant's ticket on their phone, as the desk's camera will see it.
    context, came_phone = phone(browser, browser_context_args, suite, came)
    try:
        signup_id = came.client.get("/me/activity-signups").json()["items"][0]["id"]
        came_phone.open(f"/activities/signups/{signup_id}/ticket", "my ticket (en)")
        greys = base64.b64decode(came_phone.page.get_by_test_id("qr-code").evaluate(GREYS))
    finally:
        context.close()
    picture = tmp_path / "ticket.y4m"
    camera_file(picture, greys)

    # The desk after the class (its phone's camera sees the ticket): no code any more, the other participant a
    # no-show; the organiser scans the ticket, and counts three walk-ins.
    camera = browser_type.launch(**{**browser_type_launch_args, "args": [
        *browser_type_launch_args["args"], "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={picture}"]})
    try:
        context = camera.new_context(**browser_context_args, permissions=["camera"])
        desk = WebApp(page=context.new_page(), base_url=suite.base_url)
        try:
            desk.sign_in(organiser.username, organiser.password)
            desk.open(f"/activities/{activity_id}/sessions/{held}", "the desk (after the class)")
            expect(desk.page.get_by_test_id("code-closed")).to_be_visible()
            expect(desk.page.get_by_test_id(f"attendee-{missed.id}")).to_contain_text("No-show")
            desk.page.get_by_test_id("scan-ticket").click()
            expect(desk.page.get_by_test_id(f"attendee-{came.id}")).to_contain_text("Ticket", timeout=15_000)
            desk.page.fill("input[name=walk_ins]", "3")
            desk.page.get_by_test_id("save-walk-ins").click()
            expect(desk.page.locator(".notice-toast")).to_have_text("Saved")
            desk.screen("the desk (after the class, counted)")
        except Exception:
            desk.save_screenshot(RESULTS / "activities-desk-ticket.png")
            print("the desk's page said:\n" + "\n".join(desk.console[-40:]))
            raise
        finally:
            context.close()
    finally:
        camera.close()
    summary = organiser.client.get(f"/activity-sessions/{held}/attendance").json()["summary"]
    assert (summary["participants_in"], summary["no_shows"], summary["walk_ins"]) == (1, 1, 3)

    web.open("/activities", "activities (en)")
    page.get_by_test_id("activity-reports").click()
    web.expect_title("Activity reports")
    since = (datetime.now(SHANGHAI) - timedelta(days=3)).date().isoformat()
    page.select_option("select[name=site]", str(room["site_id"]))
    page.fill("input[name=from]", since)
    page.get_by_role("button", name="Show", exact=True).click()
    row = page.get_by_test_id(f"report-site-{room['site_id']}")
    expect(row).to_contain_text(room["site_name"])
    for figure, value in (("sessions", "1"), ("signups", "2"), ("attendance_rate", "50%"), ("no_shows", "1"),
                          ("visits", "4")):
        expect(row.get_by_test_id(f"report-{figure}")).to_have_text(value)
    web.screen("activity reports")
    with page.expect_download() as download:
        page.get_by_test_id("report-csv").click()
    text = open(download.value.path(), encoding="utf-8-sig").read()
    header, first = text.splitlines()[:2]
    assert header.startswith("site_id,site_name,activities_held,sessions,signups")
    assert first.startswith(f"{room['site_id']},{room['site_name']},1,1,2,")


def test_a_walking_lesson_is_created_at_a_meeting_point_with_its_stops_in_order(web, suite, persona):
    page = web.page
    organiser = persona(roles=("resident", "coordinator"), locale="en")
    day = (datetime.now(SHANGHAI) + timedelta(days=5)).date().isoformat()
    title = unique("行走党课·新华路红色足迹")
    web.open("/activities/new", "create an activity (en)")
    page.select_option("select[name=kind]", "walk")
    expect(page.get_by_test_id("route-on")).to_have_attribute("aria-checked", "true")  # a walk has a route
    page.fill("input[name=title_zh]", title)
    page.fill("input[name=title_en]", "Walking lesson: Xinhua Road's red footprints")
    page.fill("input[name=date]", day)
    page.fill("input[name=start]", "09:30")
    page.fill("input[name=end]", "11:00")
    page.get_by_test_id("where-place").click()
    page.fill("input[name=place]", "新华路 211 弄门口")
    page.get_by_test_id("create").click()
    expect(page.get_by_test_id("route-error")).not_to_be_empty()  # the API's own words, beside the stops
    expect(page.locator("input[name=place]")).to_have_value("新华路 211 弄门口")
    web.screen("create a walk (no stops)")
    page.fill("input[name=stop-1-name]", "外国弄堂")
    page.fill("textarea[name=stop-1-note]", "1920 年代的花园洋房")
    page.get_by_test_id("add-stop").click()
    page.fill("input[name=stop-2-name]", "新华路 211 弄")
    page.fill("textarea[name=stop-2-note]", "老党员讲述社区变迁")
    page.get_by_test_id("create").click()
    page.wait_for_url(re.compile(r".*/activities/\d+$"))
    activity_id = int(page.url.rsplit("/", 1)[1])
    route = page.get_by_test_id("route")
    expect(route.locator("li")).to_have_count(2)
    expect(route.locator("li").nth(0)).to_contain_text("Stop 1 外国弄堂")
    expect(route.locator("li").nth(1)).to_contain_text("老党员讲述社区变迁")
    expect(page.locator("li.session")).to_contain_text("新华路 211 弄门口")
    web.screen("a walking lesson")
    made = organiser.client.get(f"/activities/{activity_id}").json()
    assert [(stop["name"], stop["note"]) for stop in sorted(made["route"], key=lambda stop: stop["position"])] == [
        ("外国弄堂", "1920 年代的花园洋房"), ("新华路 211 弄", "老党员讲述社区变迁")]
    (session,) = made["sessions"]
    assert (session["place"], session["space_id"], made["kind"]) == ("新华路 211 弄门口", None, "walk")

    # Rain is forecast for the morning: the organiser moves the walk to the afternoon.
    page.get_by_test_id(f"move-{session['id']}").click()
    page.fill("input[name=move-start]", "14:00")
    page.fill("input[name=move-end]", "15:30")
    page.fill("input[name=move-reason]", "上午有雨")
    web.screen("moving the walk")
    page.get_by_test_id("move-save").click()
    expect(page.locator("li.session .session-when")).to_contain_text("14:00–15:30")
    moved = organiser.client.get(f"/activities/{activity_id}").json()["sessions"][0]
    assert datetime.fromisoformat(moved["starts_at"]).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") == f"{day} 14:00"

    # And the same walk a week later: the new session starts like the last one, at its meeting point.
    page.get_by_test_id("add-sessions").click()
    page.wait_for_url(f"**/activities/{activity_id}/sessions/new")
    expect(page.locator("input[name=place]")).to_have_value("新华路 211 弄门口")
    expect(page.locator("input[name=start]")).to_have_value("14:00")
    web.screen("add sessions")
    page.get_by_test_id("add-sessions").click()
    page.wait_for_url(re.compile(r".*/activities/\d+$"))
    expect(page.locator("li.session")).to_have_count(2)
    starts = sorted(datetime.fromisoformat(s["starts_at"]).astimezone(SHANGHAI)
                    for s in organiser.client.get(f"/activities/{activity_id}").json()["sessions"])
    assert starts[1] - starts[0] == timedelta(days=7)


def test_the_organisers_screens_in_elderly_mode(web, suite, persona):
    """The organiser's screens measured in elderly mode (the stories above run in one mode each): the form
    with a weekly schedule and a route, an activity's page with its organiser tools, a session's desk showing
    its code, adding sessions and the reports."""
    page = web.page
    organiser = persona(roles=("resident", "coordinator"), elderly=True)
    start = datetime.now(SHANGHAI) + timedelta(minutes=20)
    made = organiser.client.post("/activities", json={
        "kind": "fitness", "title_zh": unique("八段锦"), "capacity": 15,
        "sessions": [{"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat(),
                      "place": "社区广场"}]})
    assert made.status_code == 201, made.text
    activity = made.json()
    session_id = activity["sessions"][0]["id"]
    assert suite.user().post(f"/activities/{activity['id']}/signups", json={}).status_code == 201

    web.open("/activities/new", "create an activity (elderly)")
    page.get_by_test_id("repeat-weekly").click()
    page.select_option("select[name=kind]", "walk")
    expect(page.locator("input[name=stop-1-name]")).to_be_visible()
    web.screen("create an activity (weekly, a route; elderly)")
    for part in ("day-MO", "route-on", "add-stop", "one-per-household", "create"):  # measured as each scrolls in
        page.get_by_test_id(part).scroll_into_view_if_needed()
        web.check_elderly(f"create an activity (at {part})")
    web.open(f"/activities/{activity['id']}", "an activity (organiser, elderly)")
    expect(page.get_by_test_id("signups").locator("li.signup")).to_have_count(1)
    expect(page.get_by_test_id("signups").get_by_role("button", name=re.compile("^取消报名:"))).to_have_count(1)
    for part in (f"desk-{session_id}", "signups", "cancel-activity"):
        page.get_by_test_id(part).scroll_into_view_if_needed()
        web.check_elderly(f"an activity (at {part})")
    web.open(f"/activities/{activity['id']}/sessions/{session_id}", "the desk (elderly)")
    expect(page.get_by_test_id("code-digits")).to_be_visible()
    for part in ("scan-ticket", "attendance", "add-helper", "save-walk-ins"):
        page.get_by_test_id(part).scroll_into_view_if_needed()
        web.check_elderly(f"the desk (at {part})")
    web.open(f"/activities/{activity['id']}/sessions/new", "add sessions (elderly)")
    web.open(f"/activities/{activity['id']}/edit", "edit the activity (elderly)")
    page.fill("input[name=capacity]", "20")
    page.get_by_test_id("save").click()
    page.wait_for_url(re.compile(r".*/activities/\d+$"))
    expect(page.get_by_test_id("places-left")).to_contain_text("共 20 个,剩 19 个")
    assert organiser.client.get(f"/activities/{activity['id']}").json()["capacity"] == 20
    web.open("/activities/reports", "activity reports (elderly)")
    expect(page.get_by_test_id("activity-report")).to_be_visible()
    web.screen("activity reports (shown, elderly)")


def test_a_rooms_standing_shows_on_the_activity_pending_then_lost(web, suite, persona):
    """A class in a room that needs its manager's approval shows the room as awaiting approval; the manager
    rejects the booking in bookings; once activities has heard of it, the page says the room was not kept
    (zh-CN; axe on both screens)."""
    organiser = persona(roles=("resident", "coordinator"))
    manager = suite.user(roles=["resident", "space_manager"])
    space = make_space(suite, rules={"approval_required": True}, manager_ids=[manager.id])
    start = next_weekday(2).replace(hour=19)
    activity = organiser.client.post("/activities", json={
        "title_zh": unique("新域夜校·书法"), "kind": "class", "capacity": 10,
        "sessions": [{"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat(),
                      "space_id": space["id"]}]}).json()
    (session,) = activity["sessions"]
    assert session["venue_status"] == "pending", session
    web.open(f"/activities/{activity['id']}", "the class (room awaiting approval)")
    expect(web.page.get_by_test_id(f"venue-{session['id']}")).to_have_text("场地待管理员审批")
    rejected = manager.post(f"/bookings/{session['booking_id']}/reject", json={"reason": "当晚有街道会议"})
    assert rejected.status_code == 200, rejected.text
    for _ in range(40):
        if organiser.client.get(f"/activities/{activity['id']}").json()["sessions"][0]["venue_status"] == "lost":
            break
        web.page.wait_for_timeout(250)
    web.page.reload()
    expect(web.page.get_by_test_id(f"venue-{session['id']}")).to_contain_text("场地未能保留")
    web.screen("the class (room lost)")
