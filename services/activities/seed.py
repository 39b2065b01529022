"""Demo activities of Xinhua Road: the night school's first term (新域夜校), the three walking lessons
(行走党课) of Xinhua Road, a couriers' birthday party, and Pengpu's K-song contest with its heats and final.

Each activity is created by the person who runs it (the centre's manager, the storytellers' lead, the command),
so the night school's rooms are booked through the venue saga as they would be from the app. Idempotent: an
activity whose Chinese title is already there is left as it is. Dates follow the day the demo is seeded: the
term starts on the Monday two weeks on.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from services.bookings.seed import CHARGING_SITE as PENGPU
from services.bookings.seed import SITE, STATION
from shared.identity import Caller

ZONE = ZoneInfo("Asia/Shanghai")
TERM_WEEKS = 8

# (title zh, title en, description zh, description en, room, weekday 0=Mon, start, end, capacity, groups)
NIGHT_SCHOOL = [
    ("新域夜校·咖啡拉花入门", "Night school: latte art for beginners",
     "职业技能课:从打奶泡到拉出第一颗心,八节课。", "Job skills: from steaming milk to the first heart, eight classes.",
     "烘焙教室", 1, "19:30", "21:00", 12, ["rider", "courier", "outdoor"]),
    ("新域夜校·手机摄影与短视频", "Night school: phone photography and short video",
     "文化艺术课:用手机记录街区与自己的故事。", "Arts: telling the street's story, and your own, with a phone.",
     "三会实训室", 2, "19:30", "21:00", 16, []),
    ("新域夜校·颈肩腰养护", "Night school: caring for neck, shoulders and back",
     "健康生活课:久骑久站的人的拉伸与养护。", "Health: stretches and care for people who ride and stand all day.",
     "共享家会议室", 3, "19:30", "20:30", 10, []),
]

# The three walking lessons of Xinhua Road: (title zh, title en, meeting point, stops as (name, note)).
WALKS = [
    ("行走党课·人文新华", "Walking lesson: Xinhua's people and culture", "新华路U巷 路口", [
        ("新华路U巷", "从街角咖啡到社区客厅:商户、骑手和居民一起改出来的小巷。"),
        ("外国弄堂", "老洋房和梧桐:街区的历史文脉。"),
        ("社区花园", "居民自己种、自己管的口袋花园。"),
        ("新华路街道党群服务中心", "终点:夜校、议事厅和共享空间向新兴领域人群开放。"),
    ]),
    ("行走党课·社区治理", "Walking lesson: governing the neighbourhood together", "新华路街道党群服务中心 门口", [
        ("治理议事厅", "居民、商户和骑手坐在一张桌子旁商量街区的事。"),
        ("宜北暖新驿站", "骑手和快递员歇脚、充电、热饭的地方,也是他们参与治理的起点。"),
        ("第7微网格", "网格员、骑士和好店家一起发现和处置问题:三级响应怎样运转。"),
        ("分色感知图", "一张图看街区的绿、黄、红。"),
    ]),
    ("行走党课·光辉足迹", "Walking lesson: footsteps of the past", "新华路街道党群服务中心 门口", [
        ("红色印记展陈", "街区的红色记忆与先辈故事。"),
        ("老里弄", "从过去的里弄生活看今天的邻里守望。"),
        ("新华路街道党群服务中心", "终点:把听到的故事讲给下一位新朋友。"),
    ]),
]

CONTEST = ("小镇好声音第二季·K歌大赛", "Town Voice, season 2: the K-song contest",
           "骑手、快递员、保洁员、地铁司机……唱出在这片土地上找到的归属感。两场海选,十一位选手进入决赛。",
           "Riders, couriers, cleaners, metro drivers… singing what belonging here means. Two heats; eleven "
           "singers reach the final.", "彭浦镇文化活动中心")
PARTY = ("快递小哥集体生日会", "A birthday party for couriers",
         "很多年没有过生日的快递小哥,一起吹蜡烛、拿礼物。", "For couriers who have not had a birthday party in "
         "years: candles, cake and presents together.", "骑士休息室")


def _as(person: dict) -> Caller:
    return Caller(user_id=person["id"], roles=frozenset(person.get("roles") or ()),
                  groups=tuple(person.get("groups") or ()), display_name=person.get("display_name") or "")


def _local(day: date, clock: str) -> str:
    """A local wall-clock time as the API takes it (no offset; the session's `timezone` says where)."""
    hours, minutes = map(int, clock.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes).isoformat()


def _weekday_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _existing_titles(call) -> set[str]:
    titles, cursor = set(), None
    while True:
        page = call("activities", "list_activities", {"limit": 100, **({"cursor": cursor} if cursor else {})})
        titles.update(item["title_zh"] for item in page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return titles


def seed(call, people: dict, today: date | None = None) -> None:
    today = today or datetime.now(ZONE).date()
    term_starts = _weekday_on_or_after(today + timedelta(days=14), 0)
    existing = _existing_titles(call)
    spaces = {(space["site_name"], space["name"]): space for space in call("bookings", "list_spaces")}
    teams = call("volunteers", "list_teams", {})
    teams = {team["kind"]: team for team in (teams["items"] if isinstance(teams, dict) else teams)}
    centre = next(space["site_id"] for (site, _), space in spaces.items() if site == SITE)
    pengpu = next((space["site_id"] for (site, _), space in spaces.items() if site == PENGPU), None)
    manager, command = _as(people["manager"]), _as(people["command"])

    for title_zh, title_en, about_zh, about_en, room, weekday, start, end, capacity, groups in NIGHT_SCHOOL:
        if title_zh in existing:
            continue
        space = spaces[(SITE, room)]
        first = _weekday_on_or_after(term_starts, weekday)
        call("activities", "create_activity", {
            "title_zh": title_zh, "title_en": title_en, "description_zh": about_zh, "description_en": about_en,
            "kind": "class", "capacity": capacity, "groups": groups, "cancel_before_minutes": 24 * 60,
            "sessions": [{"starts_at": _local(first, start), "ends_at": _local(first, end), "timezone": "Asia/Shanghai",
                          "space_id": space["id"], "rrule": f"FREQ=WEEKLY;COUNT={TERM_WEEKS}"}],
        }, caller=manager)

    storytellers = teams.get("storytellers")
    guide = _as(people["storyteller"]) if "storyteller" in people else command
    for offset, (title_zh, title_en, meeting_point, stops) in enumerate(WALKS):
        if title_zh in existing:
            continue
        # Every second Saturday morning, the three routes on staggered weeks.
        first = _weekday_on_or_after(term_starts + timedelta(days=7 * (offset % 2)), 5)
        call("activities", "create_activity", {
            "title_zh": title_zh, "title_en": title_en, "kind": "walk", "capacity": 20,
            "description_zh": "讲述者团队带领,边走边听街区的故事。",
            "description_en": "Led by the storytellers team: the street's stories, told on foot.",
            "organiser_team_id": storytellers["id"] if storytellers else None, "site_id": centre,
            "route": [{"name": name, "note": note} for name, note in stops],
            "sessions": [{"starts_at": _local(first, "09:30"), "ends_at": _local(first, "11:00"),
                          "timezone": "Asia/Shanghai", "place": meeting_point,
                          "rrule": "FREQ=WEEKLY;INTERVAL=2;BYDAY=SA;COUNT=6"}],
        }, caller=guide)

    title_zh, title_en, about_zh, about_en, hall = CONTEST
    if title_zh not in existing:
        heats = [_weekday_on_or_after(term_starts, 5), _weekday_on_or_after(term_starts + timedelta(days=7), 5)]
        final = _weekday_on_or_after(term_starts + timedelta(days=21), 5)
        call("activities", "create_activity", {
            "title_zh": title_zh, "title_en": title_en, "description_zh": about_zh, "description_en": about_en,
            "kind": "contest", "capacity": 40, "site_id": pengpu,
            "sessions": [*({"starts_at": _local(day, "18:30"), "ends_at": _local(day, "21:00"),
                            "timezone": "Asia/Shanghai", "place": f"{hall}(海选)"} for day in heats),
                         {"starts_at": _local(final, "19:00"), "ends_at": _local(final, "21:30"),
                          "timezone": "Asia/Shanghai", "place": f"{hall}(决赛,11位选手)"}],
        }, caller=command)

    title_zh, title_en, about_zh, about_en, room = PARTY
    if title_zh not in existing:
        day = _weekday_on_or_after(term_starts + timedelta(days=7), 4)
        call("activities", "create_activity", {
            "title_zh": title_zh, "title_en": title_en, "description_zh": about_zh, "description_en": about_en,
            "kind": "party", "capacity": 8, "groups": ["courier", "rider"], "one_per_household": False,
            "hold_minutes": 60,
            "sessions": [{"starts_at": _local(day, "19:00"), "ends_at": _local(day, "20:30"),
                          "timezone": "Asia/Shanghai", "space_id": spaces[(STATION, room)]["id"]}],
        }, caller=manager)
