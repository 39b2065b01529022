"""Demo grids, teams, volunteers and action categories of Xinhua Road sub-district (新华路街道).

The railway splits the sub-district into two big grids, 宜北 and 宜南; the grid worker 陈丽 looks after
第7微网格 in 宜北, whose branch secretary is 楊國華. Idempotent: every call is an `ensure_*`.
"""
from __future__ import annotations

ROOT = "新华路街道"
BIG_GRIDS = {"宜南": ["第1微网格", "第2微网格", "第3微网格"],
             "宜北": ["第4微网格", "第5微网格", "第6微网格", "第7微网格"]}

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

EVERY_DAY = [{"weekday": day, "start": "07:00", "end": "23:00"} for day in range(7)]


def seed(call, people: dict) -> None:
    gridworker, secretary = people["gridworker"]["id"], people["secretary"]["id"]
    rider, coffee = people["rider"]["id"], people["coffee"]["id"]

    root = call("volunteers", "ensure_grid", {"name": ROOT, "level": 3})
    grids = {}
    for big_name, micro_names in BIG_GRIDS.items():
        big = call("volunteers", "ensure_grid", {
            "name": big_name, "level": 2, "parent_id": root["id"],
            "coordinator_ids": [secretary] if big_name == "宜北" else []})
        for micro_name in micro_names:
            grids[micro_name] = call("volunteers", "ensure_grid", {
                "name": micro_name, "level": 1, "parent_id": big["id"],
                "coordinator_ids": [gridworker] if micro_name == "第7微网格" else []})
    grid7 = grids["第7微网格"]["id"]

    for category in CATEGORIES:
        call("volunteers", "ensure_category", category)

    call("volunteers", "ensure_volunteer", rider, {
        "display_name": "骑士 张师傅", "skills": {"delivery": 3, "repair": 2, "hazard_report": 2},
        "grid_ids": [grid7], "availability": EVERY_DAY, "max_open_actions": 3})
    call("volunteers", "ensure_volunteer", coffee, {
        "display_name": "U巷咖啡 李老板", "skills": {"hospitality": 3}, "grid_ids": [grid7],
        "availability": [{"weekday": day, "start": "09:00", "end": "18:00"} for day in range(7)]})

    leads = {"rider_knights": [rider], "good_shops": [coffee]}
    for name, kind, description, policy in TEAMS:
        call("volunteers", "ensure_team", {"name": name, "kind": kind, "description": description,
                                           "join_policy": policy, "lead_ids": leads.get(kind, [])})
