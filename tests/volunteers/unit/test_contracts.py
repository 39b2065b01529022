"""The gateway forwards the data it validated with a contract schema; the service loads that data again with
the same schema. Each request and query schema must load its own loaded output unchanged."""
from __future__ import annotations

from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from services.volunteers import contracts as c

RING = [[121.42, 31.20], [121.43, 31.20], [121.43, 31.21], [121.42, 31.21], [121.42, 31.20]]

SAMPLES = [
    (c.GridRequestSchema, {"name": "宜北", "level": 2, "parent_id": 1, "coordinator_ids": [3, 4],
                           "outline": {"type": "Polygon", "coordinates": [RING]}}),
    (c.GridRequestSchema, {"name": "第1微网格", "level": 1}),
    (c.GridPatchSchema, {"outline": None}),
    (c.GridPatchSchema, {"outline": {"type": "Polygon", "coordinates": [RING]}}),
    (c.GridReportQuerySchema, {"from": "2026-11-01", "to": "2026-11-30", "format": "csv"}),
    (c.AudienceSchema, {"kind": "grid", "id": 2, "only": "volunteers"}),
    (c.TeamRequestSchema, {"name": "骑士", "kind": "rider_knights", "lead_ids": [5]}),
    (c.TeamQuerySchema, {"mine": "true"}),
    (c.InviteSchema, {"user_id": 9, "role": "lead"}),
    (c.VolunteerRequestSchema, {
        "display_name": "老马", "skills": {"repair": 3}, "grid_ids": [2, 7],
        "availability": [{"weekday": 0, "start": "18:00", "end": "22:00"}],
        "unavailable": [{"starts_at": "2026-12-01T08:00:00+08:00", "ends_at": "2026-12-02T08:00:00Z"}]}),
    (c.VolunteerPatchSchema, {"on_leave": True, "grid_ids": [3]}),
    (c.VolunteerQuerySchema, {"grid_id": "2", "skill": "repair", "limit": "5", "cursor": "17"}),
    (c.CategoryRequestSchema, {"name": "shop_sign", "accept_within_minutes": {"1": 30, "2": 60, "3": 120},
                               "resolve_within_minutes": {"1": 240, "2": 480, "3": 960}}),
    (c.ActionReportSchema, {"title": "招牌松了", "category": "shop_sign", "grid_id": 7, "latitude": 31.2,
                            "longitude": 121.42, "photo_urls": ["https://img.example/sign.jpg"]}),
    (c.NoteSchema, {}),
    (c.DispatchSchema, {"volunteer_ids": [5, 6], "checklist": ["看一看"]}),
    (c.DispatchSchema, {"team_id": 3, "broadcast": True}),
    (c.DeclineSchema, {"reason": "出差"}),
    (c.ResolveSchema, {"outcome": "修好了"}),
    (c.VerifySchema, {"rating": 5}),
    (c.ReasonSchema, {"reason": "太慢"}),
    (c.CancelSchema, {}),
    (c.MergeSchema, {"survivor_id": 4}),
    (c.ChecklistTickSchema, {"index": 0, "done": False}),
    (c.HoursEditSchema, {"minutes": 90, "reason": "少记了"}),
    (c.SuggestionQuerySchema, {"limit": "3"}),
    (c.MassActionSchema, {"title": "台风检查", "category": "typhoon", "grid_ids": [2], "checklist": ["招牌"]}),
    (c.VisitRequestSchema, {"merchant_id": 3, "visited_at": "2026-12-01T10:00:00+08:00", "needs_follow_up": True,
                            "follow_up_category": "shop_sign"}),
    (c.VisitQuerySchema, {"mine": "true", "merchant_id": "3"}),
    (c.OverdueQuerySchema, {"days": "10"}),
]


@pytest.mark.parametrize(("schema", "body"), SAMPLES, ids=lambda v: v.__name__ if isinstance(v, type) else "")
def test_loaded_data_loads_again_unchanged(schema, body):
    loaded = schema().load(body)
    assert schema().load(loaded) == loaded


def test_a_repeated_query_parameter_loads_again_as_its_list():
    from flask import Flask
    from flask_smorest import Blueprint  # noqa: F401 - the gateway's parser reads repeated parameters
    from webargs.flaskparser import parser

    app = Flask(__name__)
    with app.test_request_context("/?state=dispatched&state=accepted&level=2&limit=3"):
        loaded = parser.parse(c.ActionQuerySchema, location="query")
    assert loaded["state"] == ["dispatched", "accepted"] and loaded["level"] == [2]
    assert c.ActionQuerySchema().load(loaded) == loaded


def test_the_report_period_is_loaded_under_its_public_name():
    loaded = c.GridReportQuerySchema().load(MultiDict({"from": "2026-11-01", "to": "2026-11-02"}))
    assert loaded["from"] == date(2026, 11, 1) and "from_" not in loaded
