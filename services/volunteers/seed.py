"""Demo grids, teams, volunteers and action categories of Xinhua Road sub-district (新华路街道).

The railway splits the sub-district into two big grids, 宜北 and 宜南. The command (街道城运中心) coordinates
the sub-district, each big grid has its branch secretary (楊國華 for 宜北) and each micro-grid its grid worker
(陈丽 for 第7微网格); that scope is recorded on the grid tree. The action team (行动队) takes members by
invitation: its lead and a member are seeded, the member having been invited and accepted. Idempotent: every
call is an `ensure_*`, and a membership is added only when missing.
"""
from __future__ import annotations

from shared.identity import Caller

ROOT = "新华路街道"
BIG_GRIDS = {"宜南": ["第1微网格", "第2微网格", "第3微网格"],
             "宜北": ["第4微网格", "第5微网格", "第6微网格", "第7微网格"]}

# Outlines (lon/lat, WGS 84) drawn schematically around Xinhua Road: the railway at latitude 31.206 parts 宜北
# (north) from 宜南 (south); each big grid's micro-grids lie side by side inside it, 第7微网格 at the west end of
# 宜北 (around 新华路 U巷, 31.2065 N 121.4251 E). Boxes as (west, south, east, north).
RAILWAY = 31.206
BOXES = {ROOT: (121.420, 31.196, 121.444, 31.216),
         "宜北": (121.420, RAILWAY, 121.444, 31.216), "宜南": (121.420, 31.196, 121.444, RAILWAY),
         "第7微网格": (121.420, RAILWAY, 121.426, 31.216), "第6微网格": (121.426, RAILWAY, 121.432, 31.216),
         "第5微网格": (121.432, RAILWAY, 121.438, 31.216), "第4微网格": (121.438, RAILWAY, 121.444, 31.216),
         "第1微网格": (121.420, 31.196, 121.428, RAILWAY), "第2微网格": (121.428, 31.196, 121.436, RAILWAY),
         "第3微网格": (121.436, 31.196, 121.444, RAILWAY)}


def outline(name: str) -> dict:
    """The grid's box as a GeoJSON Polygon, its ring counter-clockwise (RFC 7946) and closed."""
    west, south, east, north = BOXES[name]
    return {"type": "Polygon",
            "coordinates": [[[west, south], [east, south], [east, north], [west, north], [west, south]]]}


TEAMS = [
    ("骑士团", "rider_knights", "外卖骑手志愿者:路上发现隐患随手报,帮独居老人代购、查燃气", "approval"),
    ("好店家", "good_shops", "新域好店家:街边商户的公益联盟", "approval"),
    ("营造师", "placemakers", "社区营造:把街角变成大家的客厅", "open"),
    ("讲述者", "storytellers", "行走党课的讲解员,七条线路", "approval"),
    ("行动队", "action_team", "急难险重的处置力量", "invitation"),
]

# Minutes per level (1 micro-grid, 2 big grid, 3 command): to be accepted, then to be resolved.
CATEGORIES = [
    {"name": "shop_sign", "label": "店招松动", "required_skill": "repair",
     "accept_within_minutes": {"1": 30, "2": 60, "3": 120}, "resolve_within_minutes": {"1": 240, "2": 240, "3": 480}},
    {"name": "shared_bikes", "label": "共享单车堵门",
     "accept_within_minutes": {"1": 60, "2": 120, "3": 240}, "resolve_within_minutes": {"1": 480, "2": 480, "3": 960}},
    {"name": "elderly_check", "label": "独居老人探访",
     "accept_within_minutes": {"1": 15, "2": 30, "3": 60}, "resolve_within_minutes": {"1": 120, "2": 240, "3": 480}},
    {"name": "noise", "label": "噪音扰民调解",
     "accept_within_minutes": {"1": 120, "2": 240, "3": 480},
     "resolve_within_minutes": {"1": 2880, "2": 4320, "3": 10080}},
    {"name": "storefront_check", "label": "台风店招检查",
     "accept_within_minutes": {"1": 60, "2": 60, "3": 60}, "resolve_within_minutes": {"1": 240, "2": 240, "3": 240}},
    {"name": "other", "label": "其他",
     "accept_within_minutes": {"1": 120, "2": 240, "3": 480},
     "resolve_within_minutes": {"1": 1440, "2": 2880, "3": 4320}},
]

# The rider knights and the action team are on call around the clock: a day on the road, and a night round
# that runs past midnight into the next morning (a window whose end comes before its start).
AROUND_THE_CLOCK = [window for day in range(7) for window in (
    {"weekday": day, "start": "07:00", "end": "23:00"}, {"weekday": day, "start": "23:00", "end": "07:00"})]


# (username, profile) of the demo volunteers; grids by name.
VOLUNTEERS = [
    ("rider", {"display_name": "骑士 张师傅", "skills": {"delivery": 3, "repair": 2, "hazard_report": 2},
               "grids": ["第7微网格"], "availability": AROUND_THE_CLOCK, "max_open_actions": 3}),
    ("rider2", {"display_name": "骑士 王师傅", "skills": {"delivery": 4, "repair": 1},
                "grids": ["第6微网格", "第7微网格"], "availability": AROUND_THE_CLOCK, "max_open_actions": 3}),
    ("fixer", {"display_name": "行动队 老马", "skills": {"repair": 4, "electrical": 3},
               "grids": ["宜北"], "availability": AROUND_THE_CLOCK, "max_open_actions": 5}),
    ("fixer2", {"display_name": "行动队 吴刚", "skills": {"repair": 3},
                "grids": ["宜北"], "availability": AROUND_THE_CLOCK, "max_open_actions": 5}),
    ("coffee", {"display_name": "U巷咖啡 李老板", "skills": {"hospitality": 3}, "grids": ["第7微网格"],
                "availability": [{"weekday": day, "start": "09:00", "end": "18:00"} for day in range(7)]}),
]
# team kind -> (leads, members): members are invited and accept, whatever the team's join policy.
MEMBERSHIP = {"rider_knights": (["rider"], ["rider2"]), "good_shops": (["coffee"], []),
              "action_team": (["fixer2"], ["fixer"]), "storytellers": (["storyteller"], [])}


def _as(person: dict) -> Caller:
    return Caller(user_id=person["id"], roles=frozenset(person.get("roles") or ()),
                  groups=tuple(person.get("groups") or ()), display_name=person.get("display_name") or "")


def seed(call, people: dict) -> None:
    def coordinators(*usernames):
        return [people[u]["id"] for u in usernames if u in people]

    root = call("volunteers", "ensure_grid", {"name": ROOT, "level": 3, "coordinator_ids": coordinators("command"),
                                              "outline": outline(ROOT)})
    grids = {ROOT: root}
    for big_name, micro_names in BIG_GRIDS.items():
        secretary = "secretary" if big_name == "宜北" else "secretary2"
        big = grids[big_name] = call("volunteers", "ensure_grid", {
            "name": big_name, "level": 2, "parent_id": root["id"], "coordinator_ids": coordinators(secretary),
            "outline": outline(big_name)})
        for micro_name in micro_names:
            number = micro_name.removeprefix("第").removesuffix("微网格")
            worker = "gridworker" if number == "7" else f"gridworker{number}"
            grids[micro_name] = call("volunteers", "ensure_grid", {
                "name": micro_name, "level": 1, "parent_id": big["id"], "coordinator_ids": coordinators(worker),
                "outline": outline(micro_name)})

    for category in CATEGORIES:
        call("volunteers", "ensure_category", category)

    for username, profile in VOLUNTEERS:
        if username in people:
            data = {k: v for k, v in profile.items() if k != "grids"}
            call("volunteers", "ensure_volunteer", people[username]["id"],
                 {**data, "grid_ids": [grids[name]["id"] for name in profile["grids"]]})

    for name, kind, description, policy in TEAMS:
        leads, members = MEMBERSHIP.get(kind, ([], []))
        team = call("volunteers", "ensure_team", {"name": name, "kind": kind, "description": description,
                                                  "join_policy": policy, "lead_ids": coordinators(*leads)})
        listed = call("volunteers", "list_team_members", team["id"])
        listed = listed["items"] if isinstance(listed, dict) else listed
        status = {m["user_id"]: m["status"] for m in listed}
        for username in members:
            person = people.get(username)
            current = status.get(person["id"]) if person else "active"
            if current == "active":
                continue
            if current != "invited":  # invited by the system; a pending request is simply let in
                call("volunteers", "invite_to_team", team["id"], {"user_id": person["id"]})
                if current == "pending":
                    continue
            call("volunteers", "join_team", team["id"], caller=_as(person))  # the person accepts
