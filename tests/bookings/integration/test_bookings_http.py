"""Booking a room and a recurring series over HTTP: rules, conflicts, cancel scopes, approval, calendars."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from dateutil.rrule import rrulestr

from tests.bookings.integration.conftest import counts, day_at, make_space, outbox, period

SATURDAY_MORNINGS = {"sat": [["08:00", "12:00"]], "tue": [["09:00", "21:00"]]}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def ics_instants(content: bytes) -> list[datetime]:
    """Starts of the first VEVENT as any RFC 5545 reader expands them (RRULE minus EXDATE)."""
    event = next(iter(icalendar.Calendar.from_ical(content).walk("VEVENT")))
    start = event["DTSTART"].dt
    if "RRULE" not in event:
        return [start]
    excluded = set()
    for group in event.get("EXDATE", []) if isinstance(event.get("EXDATE"), list) else [event.get("EXDATE")]:
        if group is not None:
            excluded.update(d.dt for d in group.dts)
    return [d for d in rrulestr(event["RRULE"].to_ical().decode(), dtstart=start) if d not in excluded]


def _next_weekday(weekday: int, hour: int, min_days: int = 2):
    for days in range(min_days, min_days + 7):
        start = day_at(days, hour)
        if start.weekday() == weekday:
            return start
    raise AssertionError


def test_a_resident_books_the_council_hall_and_sees_it(suite):
    hall = make_space(suite, name="治理议事厅", capacity=30, equipment=["projector"],
                      rules={"opening_hours": SATURDAY_MORNINGS})
    resident = suite.user()
    tuesday = _next_weekday(1, 19)
    response = resident.post("/bookings", json={"space_id": hall["id"], "title": "居民议事会", **period(tuesday, 2)})
    assert response.status_code == 201, response.text
    booking = response.json()
    assert booking["status"] == "confirmed" and len(booking["occurrences"]) == 1
    assert response.headers["ETag"] == f'"{booking["version"]}"'
    got = resident.get(f"/bookings/{booking['id']}")
    assert got.status_code == 200 and got.json()["title"] == "居民议事会"
    assert outbox(suite, "booking.confirmed", booking_id=booking["id"])
    mine = resident.get("/bookings").json()
    assert [b["id"] for b in mine["items"]] == [booking["id"]] and mine["next_cursor"] is None
    # Someone else: the booking does not exist for them, and availability shows only "busy".
    stranger = suite.user()
    assert stranger.get(f"/bookings/{booking['id']}").status_code == 404
    assert stranger.get(f"/bookings/{booking['id']}.ics").status_code == 404
    day = stranger.get(f"/spaces/{hall['id']}/availability",
                       params={"from": tuesday.replace(hour=0).isoformat(),
                               "to": (tuesday.replace(hour=0) + timedelta(days=1)).isoformat()}).json()
    assert day["busy"] == [{"starts_at": booking["starts_at"], "ends_at": booking["ends_at"], "units": 1,
                            "booking_id": None, "title": None}]
    assert [(at(f["starts_at"]), at(f["ends_at"])) for f in day["free"]] == \
        [(tuesday.replace(hour=9), at(booking["starts_at"]))]
    own = resident.get(f"/spaces/{hall['id']}/availability",
                       params={"from": tuesday.isoformat(), "to": (tuesday + timedelta(hours=2)).isoformat()}).json()
    assert own["busy"][0]["booking_id"] == booking["id"] and own["free"] == []


def test_every_saturday_morning_for_three_months_at_the_baking_classroom(suite):
    classroom = make_space(suite, name="烘焙教室", capacity=12, rules={"opening_hours": SATURDAY_MORNINGS})
    lead = suite.user()
    saturday = _next_weekday(5, 9)
    until = (saturday + timedelta(days=90)).strftime("%Y%m%d")
    response = lead.post("/bookings", json={
        "space_id": classroom["id"], "title": "烘焙课", "rrule": f"FREQ=WEEKLY;BYDAY=SA;UNTIL={until}",
        **period(saturday, 2.5)})
    assert response.status_code == 201, response.text
    series = response.json()
    starts = [o["starts_at"] for o in series["occurrences"]]
    assert len(starts) == 13
    assert all(o["status"] == "confirmed" for o in series["occurrences"])
    # The calendar export is generated from the same rule: an RFC 5545 expander agrees with the rows.
    ics = lead.get(f"/bookings/{series['id']}.ics")
    assert ics.status_code == 200 and ics.headers["Content-Type"].startswith("text/calendar")
    assert ics_instants(ics.content) == [at(s) for s in starts]

    # A single booking on one of those Saturdays conflicts and is told which occurrence is in the way.
    other = suite.user()
    clash = other.post("/bookings", json={"space_id": classroom["id"], **period(saturday + timedelta(days=14), 1)})
    assert clash.status_code == 409
    [busy] = clash.json()["conflicts"]
    third = series["occurrences"][2]
    assert "occurrence_id" not in busy and not busy["mine"]  # someone else's: a busy time range only
    assert (at(busy["starts_at"]), at(busy["ends_at"])) == (at(third["starts_at"]), at(third["ends_at"]))

    # A second series over the same mornings: 409 listing every conflict, or skip them when asked.
    twice = {"space_id": classroom["id"], "rrule": "FREQ=WEEKLY;BYDAY=SA;COUNT=4",
             **period(saturday + timedelta(hours=1, weeks=11), 1)}
    refused = other.post("/bookings", json=twice)
    assert refused.status_code == 409 and len(refused.json()["conflicts"]) == 2
    skipped = other.post("/bookings", json={**twice, "on_conflict": "skip"})
    assert skipped.status_code == 201, skipped.text
    assert len(skipped.json()["occurrences"]) == 2

    # Cancel one occurrence, then this-and-following, then the rest of the series.
    occ = series["occurrences"]
    one = lead.post(f"/bookings/{series['id']}/cancel", json={"scope": "occurrence", "occurrence_id": occ[1]["id"]})
    assert one.status_code == 200
    assert [o["status"] for o in one.json()["occurrences"]][:3] == ["confirmed", "cancelled", "confirmed"]
    following = lead.post(f"/bookings/{series['id']}/cancel",
                          json={"scope": "following", "occurrence_id": occ[10]["id"]})
    assert [o["status"] for o in following.json()["occurrences"]][9:] == ["confirmed"] + ["cancelled"] * 3
    live = [at(o["starts_at"]) for o in following.json()["occurrences"] if o["status"] == "confirmed"]
    assert ics_instants(lead.get(f"/bookings/{series['id']}.ics").content) == live
    cancelled = outbox(suite, "booking.cancelled", booking_id=series["id"])
    assert sorted(p["scope"] for p in cancelled) == ["following", "occurrence"]
    rest = lead.post(f"/bookings/{series['id']}/cancel", json={"scope": "series"})
    assert rest.json()["status"] == "cancelled"
    again = lead.post(f"/bookings/{series['id']}/cancel", json={"scope": "series"})
    assert again.status_code == 409


def test_patch_needs_the_current_version(suite):
    space = make_space(suite)
    resident = suite.user()
    booking = resident.post("/bookings", json={"space_id": space["id"], **period(day_at(4, 10))}).json()
    tag = resident.get(f"/bookings/{booking['id']}").headers["ETag"]
    changed = resident.patch(f"/bookings/{booking['id']}", json={"title": "新标题", "notes": "带投影仪"},
                             headers={"If-Match": tag})
    assert changed.status_code == 200 and changed.json()["title"] == "新标题"
    assert changed.headers["ETag"] != tag
    stale = resident.patch(f"/bookings/{booking['id']}", json={"title": "旧的"}, headers={"If-Match": tag})
    assert stale.status_code == 412
    assert resident.get(f"/bookings/{booking['id']}").json()["title"] == "新标题"
    assert suite.user().patch(f"/bookings/{booking['id']}", json={"title": "x"}).status_code == 404


def test_approval_pending_then_approved_or_rejected_by_a_space_manager(suite):
    manager = suite.user(roles=["space_manager"])
    space = make_space(suite, manager_ids=[manager.id], rules={"approval_required": True})
    resident = suite.user()
    first = resident.post("/bookings", json={"space_id": space["id"], **period(day_at(3, 14))}).json()
    assert first["status"] == "pending" and first["occurrences"][0]["status"] == "pending"
    assert outbox(suite, "booking.requested", booking_id=first["id"], manager_ids=[manager.id])
    # A pending booking holds its slot.
    assert suite.user().post("/bookings", json={"space_id": space["id"],
                                                **period(day_at(3, 14))}).status_code == 409
    assert resident.post(f"/bookings/{first['id']}/approve", json={}).status_code == 403
    assert suite.user(roles=["space_manager"]).post(f"/bookings/{first['id']}/approve",
                                                    json={}).status_code == 404
    approved = manager.post(f"/bookings/{first['id']}/approve", json={})
    assert approved.status_code == 200 and approved.json()["status"] == "confirmed"
    assert manager.post(f"/bookings/{first['id']}/approve", json={}).status_code == 409
    second = resident.post("/bookings", json={"space_id": space["id"], **period(day_at(3, 16))}).json()
    assert manager.post(f"/bookings/{second['id']}/reject", json={}).status_code == 422
    rejected = manager.post(f"/bookings/{second['id']}/reject", json={"reason": "当天有活动"})
    assert rejected.json()["status"] == "rejected" and rejected.json()["reason"] == "当天有活动"
    assert outbox(suite, "booking.rejected", booking_id=second["id"], reason="当天有活动")
    # The slot is free again.
    assert resident.post("/bookings", json={"space_id": space["id"], **period(day_at(3, 16))}).status_code == 201
    managed = manager.get("/bookings", params={"scope": "managed"}).json()["items"]
    assert {b["id"] for b in managed} >= {first["id"], second["id"]}


def test_pool_booking_takes_k_units_and_availability_counts_free_units(suite):
    pool = make_space(suite, kind="pool", units=4, name="彭浦新村充电桩", equipment=["charger"])
    rider = suite.user(roles=["volunteer"])
    start = day_at(2, 21)
    booking = rider.post("/bookings", json={"space_id": pool["id"], "units": 3, **period(start, 8)}).json()
    assert sorted(o["unit"] for o in booking["occurrences"]) == [1, 2, 3]
    free = rider.get(f"/spaces/{pool['id']}/availability",
                     params={"from": start.isoformat(), "to": (start + timedelta(hours=8)).isoformat()}).json()
    assert free["free"] == [{"starts_at": booking["starts_at"], "ends_at": booking["ends_at"], "free_units": 1}]
    too_many = suite.user().post("/bookings", json={"space_id": pool["id"], "units": 2, **period(start, 1)})
    assert too_many.status_code == 409 and len(too_many.json()["conflicts"]) == 3
    more_than_exist = rider.post("/bookings", json={"space_id": pool["id"], "units": 5, **period(start, 1)})
    assert more_than_exist.status_code == 422 and "units" in more_than_exist.json()["errors"]
    found = rider.get("/spaces", params={"equipment": "charger", "free_from": start.isoformat(),
                                         "free_to": (start + timedelta(hours=1)).isoformat(), "units": 1}).json()
    assert pool["id"] in [s["id"] for s in found["items"]]
    found = rider.get("/spaces", params={"equipment": "charger", "free_from": start.isoformat(),
                                         "free_to": (start + timedelta(hours=1)).isoformat(), "units": 2}).json()
    assert pool["id"] not in [s["id"] for s in found["items"]]


def test_catalogue_is_kept_by_admins_and_coordinators(suite):
    resident = suite.user()
    assert resident.post("/sites", json={"name": "暖新巢"}).status_code == 403
    coordinator = suite.user(roles=["coordinator"])
    site = coordinator.post("/sites", json={"name": "宜北暖新驿站", "kind": "grid_station"})
    assert site.status_code == 201
    bad = coordinator.post("/spaces", json={"site_id": site.json()["id"], "name": "x", "timezone": "Mars/Olympus"})
    assert bad.status_code == 422 and "timezone" in bad.json()["errors"]
    space = coordinator.post("/spaces", json={"site_id": site.json()["id"], "name": "三会实训室", "capacity": 16,
                                              "equipment": ["projector"],
                                              "rules": {"opening_hours": {"mon": [["09:00", "17:00"]]}}})
    assert space.status_code == 201, space.text
    listed = resident.get("/spaces", params={"site_id": site.json()["id"], "min_capacity": 10}).json()
    assert [s["name"] for s in listed["items"]] == ["三会实训室"]
    assert resident.get("/spaces", params={"site_id": site.json()["id"], "min_capacity": 20}).json()["items"] == []
    calendar = resident.get(f"/spaces/{space.json()['id']}/calendar.ics")
    assert calendar.status_code == 200 and calendar.text.startswith("BEGIN:VCALENDAR")


def test_a_blackout_closes_the_space(suite):
    manager = suite.user(roles=["space_manager"])
    space = make_space(suite, manager_ids=[manager.id])
    start = day_at(8, 9)
    assert suite.user().post(f"/spaces/{space['id']}/blackouts",
                             json={**period(start, 24), "reason": "维修"}).status_code == 403
    added = manager.post(f"/spaces/{space['id']}/blackouts", json={**period(start, 24), "reason": "维修"})
    assert added.status_code == 201
    before = counts(suite)
    refused = suite.user().post("/bookings", json={"space_id": space["id"], **period(start + timedelta(hours=2))})
    assert refused.status_code == 422 and "维修" in refused.json()["errors"]["blackout"][0]
    assert counts(suite) == before
    listed = manager.get(f"/spaces/{space['id']}/blackouts").json()["items"]
    assert [b["reason"] for b in listed] == ["维修"]


@pytest.mark.parametrize("change, broken", [
    (lambda s, b: {**b, "ends_at": b["starts_at"]}, ("ends_at", "after")),
    (lambda s, b: {**b, "starts_at": b["ends_at"], "ends_at": b["starts_at"]}, ("ends_at", "after")),
    (lambda s, b: {**b, **period(day_at(3, 7))}, ("opening_hours", "outside opening hours")),
    (lambda s, b: {**b, **period(day_at(400, 10))}, ("starts_at", "too far ahead")),
    (lambda s, b: {**b, **period(day_at(-2, 10))}, ("starts_at", "in the past")),
    (lambda s, b: {**b, **period(day_at(3, 10), 0.1)}, ("duration", "shorter than the minimum")),
    (lambda s, b: {**b, "rrule": "FREQ=HOURLY;COUNT=3"}, ("rrule", "not supported")),
    (lambda s, b: {**b, "rrule": "FREQ=DAILY;COUNT=900"}, ("rrule", "more than 500 occurrences")),
    (lambda s, b: {**b, "rrule": "FREQ=DAILY"}, ("rrule", "no end")),
    (lambda s, b: {**b, "timezone": "Asia/Nowhere"}, ("timezone", "unknown timezone")),
    (lambda s, b: {**b, "starts_at": "2027-03-28T02:30:00", "ends_at": "2027-03-28T04:00:00",
                   "timezone": "Europe/Berlin"}, ("starts_at", "does not exist")),
    (lambda s, b: {**b, "title": "长" * 201}, ("title", "")),
    (lambda s, b: {**b, "unknown": 1}, ("unknown", "Unknown field")),
])
def test_bad_input_is_a_422_naming_the_rule_and_writes_nothing(suite, change, broken):
    field, message = broken
    space = make_space(suite, rules={"opening_hours": {d: [["08:00", "22:00"]] for d in
                                                        ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
                                     "max_advance_days": 90, "min_duration_minutes": 30})
    client = suite.user()
    base = {"space_id": space["id"], **period(day_at(3, 10))}
    before = counts(suite)
    response = client.post("/bookings", json=change(space, base))
    assert response.status_code == 422, response.text
    assert message in " ".join(response.json()["errors"][field]), response.json()
    assert counts(suite) == before


def test_weekly_quota_counts_every_occurrence_of_a_series(suite):
    space = make_space(suite, rules={"quota_bookings_per_week": 2})
    resident = suite.user()
    monday = _next_weekday(0, 10, min_days=7)
    ok = resident.post("/bookings", json={"space_id": space["id"], "rrule": "FREQ=DAILY;COUNT=2", **period(monday)})
    assert ok.status_code == 201, ok.text
    before = counts(suite)
    over = resident.post("/bookings", json={"space_id": space["id"], **period(monday + timedelta(days=3))})
    assert over.status_code == 422 and "quota" in over.json()["errors"]
    assert counts(suite) == before
    assert suite.user().post("/bookings", json={"space_id": space["id"],
                                                **period(monday + timedelta(days=3))}).status_code == 201


def test_check_in_opens_shortly_before_the_start(suite):
    space = make_space(suite, rules={"checkin_required": True, "auto_release_minutes": 15})
    resident = suite.user()
    later = resident.post("/bookings", json={"space_id": space["id"], **period(day_at(2, 10))}).json()
    early = resident.post(f"/bookings/{later['id']}/check-in", json={"occurrence_id": later["occurrences"][0]["id"]})
    assert early.status_code == 409 and "opens_at" in early.json()
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    booking = resident.post("/bookings", json={"space_id": space["id"], **period(soon)}).json()
    occurrence = booking["occurrences"][0]["id"]
    assert suite.user().post(f"/bookings/{booking['id']}/check-in",
                             json={"occurrence_id": occurrence}).status_code == 404
    done = resident.post(f"/bookings/{booking['id']}/check-in", json={"occurrence_id": occurrence})
    assert done.status_code == 200 and done.json()["occurrences"][0]["status"] == "checked_in"
    assert resident.post(f"/bookings/{booking['id']}/check-in",
                         json={"occurrence_id": occurrence}).status_code == 409


def test_waitlist_offer_and_accept(suite):
    space = make_space(suite)
    holder, waiter = suite.user(), suite.user()
    slot = period(day_at(6, 15))
    booking = holder.post("/bookings", json={"space_id": space["id"], **slot}).json()
    free_slot = waiter.post("/waitlist", json={"space_id": space["id"], **period(day_at(6, 17))})
    assert free_slot.status_code == 409
    entry = waiter.post("/waitlist", json={"space_id": space["id"], **slot})
    assert entry.status_code == 201 and entry.json()["position"] == 1
    holder.post(f"/bookings/{booking['id']}/cancel", json={"scope": "series"})
    offered = waiter.get("/waitlist").json()["items"][0]
    assert offered["status"] == "offered" and offered["hold_until"]
    assert outbox(suite, "waitlist.offered", waitlist_id=offered["id"], user_id=waiter.id)
    # The held slot is exclusive.
    assert holder.post("/bookings", json={"space_id": space["id"], **slot}).status_code == 409
    accepted = waiter.post(f"/waitlist/{offered['id']}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    mine = waiter.get(f"/bookings/{offered['booking_id']}").json()
    assert mine["status"] == "confirmed" and mine["booker_id"] == waiter.id
    assert waiter.delete(f"/waitlist/{offered['id']}").status_code == 409
