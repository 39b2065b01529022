"""Story 2 over HTTP: a resident books the governance council hall for Tuesday 19:00–21:00; a partner team
books the baking classroom every Saturday morning for three months; neither can ever be double-booked,
even when two people press "book" in the same millisecond."""
from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services.bookings.models import LIVE_STATES, Occurrence
from tests.support.suite import wait_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
EVENINGS = {day: [["08:00", "22:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def next_weekday(weekday: int, hour: int, minute: int = 0) -> datetime:
    """The next such weekday at least two days away, at a Shanghai wall-clock time."""
    day = datetime.now(SHANGHAI).date() + timedelta(days=2)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def press_together(clients, path: str, body: dict) -> list:
    """Every client presses "book" at the same instant (released by one barrier)."""
    barrier = threading.Barrier(len(clients))

    def press(client):
        barrier.wait()
        return client.post(path, json=body)

    with ThreadPoolExecutor(len(clients)) as pool:
        return list(pool.map(press, clients))


def live_overlaps(suite, space_id: int) -> list[tuple[int, int]]:
    """Pairs of live occurrences of one unit that overlap: must always be empty."""
    with suite.database("bookings").read() as session:
        rows = session.scalars(select(Occurrence).where(Occurrence.space_id == space_id,
                                                        Occurrence.status.in_(LIVE_STATES))
                               .order_by(Occurrence.unit, Occurrence.starts_at)).all()
        return [(a.id, b.id) for a, b in zip(rows, rows[1:], strict=False)
                if a.unit == b.unit and b.starts_at < a.blocked_until]


def test_story2_council_hall_and_a_saturday_series_never_double_booked(any_suite):
    suite = any_suite
    site = f"新华路街道党群服务中心 {uuid.uuid4().hex[:6]}"
    hall = suite.rpc("bookings", "ensure_space", site, {
        "name": "治理议事厅", "capacity": 30, "equipment": ["projector"], "rules": {"opening_hours": EVENINGS}})
    kitchen = suite.rpc("bookings", "ensure_space", site, {
        "name": "烘焙教室", "capacity": 12, "equipment": ["oven"], "rules": {"opening_hours": EVENINGS}})

    # A resident books the council hall for Tuesday evening, and is told.
    resident = suite.user()
    tuesday = next_weekday(1, 19)
    booked = resident.post("/bookings", json={"space_id": hall["id"], "title": "居民议事会",
                                              "starts_at": tuesday.isoformat(),
                                              "ends_at": (tuesday + timedelta(hours=2)).isoformat()})
    assert booked.status_code == 201, booked.text

    # Two neighbours press "book" for an overlapping slot at the same instant: both are refused, the
    # conflict names the resident's occurrence.
    rivals = [suite.user(), suite.user()]
    clash = press_together(rivals, "/bookings", {"space_id": hall["id"],
                                                 "starts_at": (tuesday + timedelta(hours=1)).isoformat(),
                                                 "ends_at": (tuesday + timedelta(hours=3)).isoformat()})
    assert [r.status_code for r in clash] == [409, 409]
    busy = clash[0].json()["conflicts"][0]  # the resident's booking, shown only as busy
    assert busy["starts_at"] == booked.json()["occurrences"][0]["starts_at"] and "occurrence_id" not in busy

    # ...and for a free slot at the same instant: exactly one of them gets it.
    wednesday = tuesday + timedelta(days=1)
    race = press_together(rivals, "/bookings", {"space_id": hall["id"], "starts_at": wednesday.isoformat(),
                                                "ends_at": (wednesday + timedelta(hours=2)).isoformat()})
    assert sorted(r.status_code for r in race) == [201, 409]

    # A partner team's lead books the baking classroom every Saturday morning for three months.
    lead = suite.user(roles=["resident", "volunteer"])
    team = suite.rpc("volunteers", "ensure_team", {"name": f"好店家 {uuid.uuid4().hex[:6]}", "kind": "good_shops",
                                                   "lead_ids": [lead.id]})
    saturday = next_weekday(5, 9)
    until = (saturday + timedelta(days=91)).strftime("%Y%m%d")
    series = lead.post("/bookings", json={
        "space_id": kitchen["id"], "team_id": team["id"], "title": "好店家烘焙课",
        "starts_at": saturday.isoformat(), "ends_at": (saturday + timedelta(hours=2, minutes=30)).isoformat(),
        "rrule": f"FREQ=WEEKLY;BYDAY=SA;UNTIL={until}"})
    assert series.status_code == 201, series.text
    occurrences = series.json()["occurrences"]
    assert 13 <= len(occurrences) <= 14
    assert all(datetime.fromisoformat(o["starts_at"]).astimezone(SHANGHAI).strftime("%a %H:%M") == "Sat 09:00"
               for o in occurrences)

    # Nobody can take one of those Saturday mornings, however many press at once.
    sixth = datetime.fromisoformat(occurrences[5]["starts_at"])
    grab = press_together([suite.user() for _ in range(4)], "/bookings", {
        "space_id": kitchen["id"], "starts_at": sixth.isoformat(), "ends_at": (sixth + timedelta(hours=1)).isoformat()})
    assert [r.status_code for r in grab] == [409] * 4

    assert live_overlaps(suite, hall["id"]) == [] and live_overlaps(suite, kitchen["id"]) == []

    # Both bookers were told in their inbox.
    for client, booking_id in ((resident, booked.json()["id"]), (lead, series.json()["id"])):
        wait_for(lambda c=client, b=booking_id: any(
            i["data"].get("booking_id") == b for i in c.get("/notifications").json()["items"]),
            timeout=15, message=f"the confirmation of booking {booking_id}")
