"""Every time in an answer is RFC 3339 in UTC written `+00:00`, whatever offset it was given or reckoned in
(docs/api.md, "Conventions"): bookings, claims, actions, volunteer profiles, notifications, conflicts."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.charity.support import open_shop, register_pledge, unique
from tests.support.suite import wait_for
from tests.volunteers.integration.world import make_world

pytestmark = pytest.mark.integration

SHANGHAI = timezone(timedelta(hours=8))
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def times(body) -> list[str]:
    """Every date-time string anywhere in a JSON answer."""
    if isinstance(body, dict):
        return [t for value in body.values() for t in times(value)]
    if isinstance(body, list):
        return [t for value in body for t in times(value)]
    return [body] if isinstance(body, str) and DATETIME.match(body) else []


def assert_utc(what: str, answer, at_least: int = 1) -> None:
    """Every date-time of `answer` (a response, or JSON already read) is in UTC, and there are some."""
    if hasattr(answer, "status_code"):
        assert answer.status_code < 500, f"{what}: {answer.status_code} {answer.text[:300]}"
        answer = answer.json()
    found = times(answer)
    assert len(found) >= at_least, f"{what}: expected date-times in {str(answer)[:300]}"
    for value in found:
        assert value.endswith("+00:00"), f"{what}: {value} is not in UTC written +00:00"
        assert datetime.fromisoformat(value).utcoffset() == timedelta(0)


def test_times_given_in_shanghai_are_answered_in_utc(suite):
    world = make_world(suite)
    start = datetime.now(SHANGHAI).replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=3)
    volunteer = world.volunteer(unavailable=[{"starts_at": (start + timedelta(days=30)).isoformat(),
                                              "ends_at": (start + timedelta(days=31)).isoformat()}])
    assert_utc("GET /volunteers/me", volunteer.get("/volunteers/me"), at_least=2)

    site = suite.rpc("bookings", "create_site", {"name": unique("时间中心")})
    space = suite.rpc("bookings", "create_space", {"site_id": site["id"], "name": unique("议事厅"), "kind": "room",
                                                   "units": 1})
    period = {"space_id": space["id"], "starts_at": start.isoformat(),
              "ends_at": (start + timedelta(hours=1)).isoformat()}
    booked = volunteer.post("/bookings", json=period)
    assert booked.status_code == 201, booked.text
    assert_utc("POST /bookings", booked, at_least=3)
    assert booked.json()["starts_at"] == start.astimezone(UTC).isoformat()
    assert_utc("GET /bookings/{id}", volunteer.get(f"/bookings/{booked.json()['id']}"), at_least=3)
    assert_utc("GET /bookings", volunteer.get("/bookings", params={"mine": "true"}), at_least=3)
    clash = suite.user().post("/bookings", json=period)
    assert clash.status_code == 409, clash.text
    assert_utc("409 on POST /bookings", clash, at_least=2)

    owner = suite.user(roles=["resident", "merchant"])
    shop = open_shop(suite, owner, world.micro["id"], world.gridworker)
    pledge = register_pledge(owner, shop["id"])
    rider = suite.user(groups=["rider"])
    claimed = rider.post(f"/pledges/{pledge['id']}/claims")
    assert claimed.status_code == 201, claimed.text
    assert_utc("POST /pledges/{id}/claims", claimed, at_least=3)
    assert_utc("GET /claims", rider.get("/claims"), at_least=3)
    assert_utc("GET /pledges/{id}", rider.get(f"/pledges/{pledge['id']}"))

    courier = suite.user(groups=["courier"])
    action = world.report(courier)
    dispatched = world.gridworker.post(f"/actions/{action['id']}/dispatch", json={"volunteer_ids": [volunteer.id]})
    assert_utc("POST /actions/{id}/dispatch", dispatched, at_least=2)
    assert_utc("GET /actions/{id}", courier.get(f"/actions/{action['id']}"), at_least=2)
    assert_utc("GET /actions", courier.get("/actions", params={"mine": "true"}), at_least=2)
    assert_utc("GET /actions/{id}/timeline", courier.get(f"/actions/{action['id']}/timeline"), at_least=2)

    def told(type_name):
        return [i for i in volunteer.get("/notifications").json()["items"] if i["type"] == type_name]

    wait_for(lambda: told("action.dispatched") and told("booking.confirmed"), message="the volunteer's notices")
    assert_utc("GET /notifications", volunteer.get("/notifications"), at_least=2)
