"""Demo spaces of the Xinhua Road service centre and the Pengpu charging pool."""
from __future__ import annotations

SITE = "新华路街道党群服务中心"
ROOMS = [
    {"name": "治理议事厅", "kind": "room", "capacity": 30, "equipment": ["projector", "microphone"]},
    {"name": "烘焙教室", "kind": "room", "capacity": 12, "equipment": ["oven"]},
    {"name": "党建图书室", "kind": "room", "capacity": 20, "equipment": []},
    {"name": "三会实训室", "kind": "room", "capacity": 16, "equipment": ["projector"]},
    {"name": "共享家会议室", "kind": "room", "capacity": 10, "equipment": ["screen"]},
]
CHARGING = {"name": "彭浦新村电瓶车充电桩", "kind": "pool", "capacity": 1, "units": 20, "equipment": ["charger"]}


def seed(call, people: dict) -> None:
    manager = people["manager"]["id"]
    for room in ROOMS:
        call("bookings", "ensure_space", SITE, {**room, "manager_ids": [manager]})
    call("bookings", "ensure_space", "彭浦新村", {**CHARGING, "manager_ids": [manager]})
