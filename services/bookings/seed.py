"""Demo spaces of the Xinhua Road service centre, a grid station, and the Pengpu charging pool."""
from __future__ import annotations

WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CENTRE_HOURS = {day: [["08:30", "21:00"]] for day in WEEK}

SITE = "新华路街道党群服务中心"
ROOMS = [
    {"name": "治理议事厅", "kind": "room", "capacity": 30, "equipment": ["projector", "microphone"],
     "rules": {"opening_hours": CENTRE_HOURS, "approval_required": True, "buffer_minutes": 15,
               "max_duration_minutes": 240}},
    {"name": "烘焙教室", "kind": "room", "capacity": 12, "equipment": ["oven"],
     "rules": {"opening_hours": CENTRE_HOURS, "buffer_minutes": 30, "quota_hours_per_week": 12}},
    {"name": "党建图书室", "kind": "room", "capacity": 20, "equipment": [],
     "rules": {"opening_hours": CENTRE_HOURS, "checkin_required": True, "auto_release_minutes": 15}},
    {"name": "三会实训室", "kind": "room", "capacity": 16, "equipment": ["projector"],
     "rules": {"opening_hours": CENTRE_HOURS}},
    {"name": "共享家会议室", "kind": "room", "capacity": 10, "equipment": ["screen"],
     "rules": {"opening_hours": CENTRE_HOURS, "min_notice_minutes": 60}},
]
STATION = "宜北暖新驿站"
CHARGING_SITE = "彭浦新村"
STATION_ROOMS = [
    {"name": "骑士休息室", "kind": "room", "capacity": 8, "equipment": ["microwave", "fridge", "charger"],
     "rules": {"opening_hours": {day: [["00:00", "24:00"]] for day in WEEK}, "max_duration_minutes": 120}},
]
CHARGING = {"name": "彭浦新村电瓶车充电桩", "kind": "pool", "capacity": 1, "units": 20, "equipment": ["charger"],
            "rules": {"max_duration_minutes": 12 * 60, "quota_bookings_per_week": 14}}


def seed(call, people: dict) -> None:
    manager = people["manager"]["id"]
    for room in ROOMS:
        call("bookings", "ensure_space", SITE, {**room, "manager_ids": [manager]})
    for room in STATION_ROOMS:
        call("bookings", "ensure_space", STATION, {**room, "manager_ids": [manager]})
    call("bookings", "ensure_space", CHARGING_SITE, {**CHARGING, "manager_ids": [manager]})
