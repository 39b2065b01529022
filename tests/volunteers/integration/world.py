"""A small grid tree of its own for each test: a sub-district, a big grid, two micro-grids, their coordinators."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

from sqlalchemy import text

from services.volunteers.seed import AROUND_THE_CLOCK

EVERY_DAY = AROUND_THE_CLOCK  # a volunteer available whenever a test runs
# Minutes per level; long enough that nothing escalates during an ordinary test.
SLOW = {"accept_within_minutes": {"1": 600, "2": 600, "3": 600},
        "resolve_within_minutes": {"1": 600, "2": 600, "3": 600}}


@dataclass
class World:
    suite: object
    tag: str
    root: dict
    big: dict
    micro: dict
    other_micro: dict
    command: object
    secretary: object
    gridworker: object
    other_gridworker: object
    category: str
    volunteers: list = field(default_factory=list)

    def volunteer(self, skills=None, grid_ids=None, **profile):
        """A new signed-in account with a volunteer profile serving the micro-grid."""
        client = self.suite.user(roles=["resident", "volunteer"])
        response = client.post("/volunteers/me", json={
            "display_name": f"志愿者 {client.id}", "skills": {"repair": 2} if skills is None else skills,
            "grid_ids": [self.micro["id"]] if grid_ids is None else grid_ids,
            "availability": EVERY_DAY, **profile})
        assert response.status_code == 201, response.text
        self.volunteers.append(client)
        return client

    def report(self, client, **fields):
        body = {"title": f"店招松动 {self.tag}", "category": self.category, "grid_id": self.micro["id"],
                "location": "新华路 211 号", **fields}
        response = client.post("/actions", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def outbox(self, type_name: str, action_id: int) -> list[dict]:
        """Payloads of this action's events of one type in the volunteers outbox."""
        with self.suite.database("volunteers").read() as session:
            rows = session.execute(text("SELECT envelope FROM outbox WHERE type = :t ORDER BY id"),
                                   {"t": type_name}).scalars().all()
        payloads = [json.loads(r)["payload"] for r in rows]
        return [p for p in payloads if p["action_id"] == action_id]


def make_world(suite, category_limits: dict | None = None, required_skill: str | None = "repair") -> World:
    tag = uuid.uuid4().hex[:8]
    command = suite.user(roles=["resident", "coordinator"])
    secretary = suite.user(roles=["resident", "coordinator"])
    gridworker = suite.user(roles=["resident", "coordinator"])
    other_gridworker = suite.user(roles=["resident", "coordinator"])
    root = suite.rpc("volunteers", "ensure_grid", {"name": f"街道 {tag}", "level": 3,
                                                   "coordinator_ids": [command.id]})
    big = suite.rpc("volunteers", "ensure_grid", {"name": f"宜北 {tag}", "level": 2, "parent_id": root["id"],
                                                  "coordinator_ids": [secretary.id]})
    micro = suite.rpc("volunteers", "ensure_grid", {"name": f"第7微网格 {tag}", "level": 1,
                                                    "parent_id": big["id"], "coordinator_ids": [gridworker.id]})
    other = suite.rpc("volunteers", "ensure_grid", {"name": f"第6微网格 {tag}", "level": 1,
                                                    "parent_id": big["id"], "coordinator_ids": [other_gridworker.id]})
    category = f"sign_{tag}"
    suite.rpc("volunteers", "ensure_category", {"name": category, "label": "店招松动",
                                                "required_skill": required_skill, **(category_limits or SLOW)})
    return World(suite, tag, root, big, micro, other, command, secretary, gridworker, other_gridworker, category)
