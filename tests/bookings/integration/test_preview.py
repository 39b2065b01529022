"""POST /bookings/preview: what a booking would be — every occurrence, expanded by the server in the space's
zone (DST included), with the bookings in its way — and nothing written. Checked and authorised as booking."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.bookings.integration.conftest import counts, day_at, make_space, period

SATURDAYS = {"sat": [["08:00", "12:00"]], "tue": [["09:00", "21:00"]]}


def _next_weekday(weekday: int, hour: int, min_days: int = 2) -> datetime:
    for days in range(min_days, min_days + 7):
        start = day_at(days, hour)
        if start.weekday() == weekday:
            return start
    raise AssertionError


def test_a_series_is_previewed_with_its_conflicts_and_nothing_is_written(suite):
    classroom = make_space(suite, name="烘焙教室", rules={"opening_hours": SATURDAYS, "buffer_minutes": 30})
    lead, neighbour = suite.user(), suite.user()
    saturday = _next_weekday(5, 9)
    # The neighbour already has the third Saturday, 10:00–11:00.
    taken = neighbour.post("/bookings", json={"space_id": classroom["id"],
                                              **period(saturday + timedelta(days=14, hours=1))})
    assert taken.status_code == 201, taken.text
    body = {"space_id": classroom["id"], "title": "烘焙课", "rrule": "FREQ=WEEKLY;BYDAY=SA;COUNT=5",
            "exdates": [(saturday + timedelta(days=7)).date().isoformat()], **period(saturday, 2)}
    before = counts(suite)
    answer = lead.post("/bookings/preview", json=body)
    assert answer.status_code == 200, answer.text
    preview = answer.json()
    assert counts(suite) == before, "a preview writes nothing"
    assert preview["status"] == "confirmed" and preview["timezone"] == "Asia/Shanghai"
    assert preview["rrule"] == "FREQ=WEEKLY;BYDAY=SA;COUNT=5"
    # COUNT counts the skipped Saturday too (RFC 5545): four occurrences remain.
    starts = [datetime.fromisoformat(o["starts_at"]) for o in preview["occurrences"]]
    assert starts == [saturday + timedelta(days=d) for d in (0, 14, 21, 28)]
    assert all(o["starts_at"].endswith("+00:00") for o in preview["occurrences"])
    assert [o["local_date"] for o in preview["occurrences"]] == \
        [(saturday + timedelta(days=d)).date().isoformat() for d in (0, 14, 21, 28)]
    assert preview["occurrences"][0]["local_start"] == saturday.replace(tzinfo=None).isoformat()
    assert [o["free"] for o in preview["occurrences"]] == [True, False, True, True]
    # Someone else's booking is only a busy time range: no ids.
    assert preview["occurrences"][1]["conflicts"] == [{
        "unit": 1, "mine": False, "starts_at": taken.json()["starts_at"], "ends_at": taken.json()["ends_at"]}]
    assert (preview["free"], preview["conflicting"], preview["bookable"]) == (3, 1, False)

    # The same body books exactly what was previewed: a 409 naming the conflict, or, skipping it, the rest.
    refused = lead.post("/bookings", json=body)
    assert refused.status_code == 409
    assert [c["starts_at"] for c in refused.json()["conflicts"]] == [taken.json()["starts_at"]]
    assert counts(suite) == before
    skipping = {**body, "on_conflict": "skip"}
    assert lead.post("/bookings/preview", json=skipping).json()["bookable"] is True
    booked = lead.post("/bookings", json=skipping)
    assert booked.status_code == 201, booked.text
    free_starts = [o["starts_at"] for o in preview["occurrences"] if o["free"]]
    assert [o["starts_at"] for o in booked.json()["occurrences"]] == free_starts
    # Previewed again, the lead's own occurrences are in the way, with their ids.
    again = lead.post("/bookings/preview", json=body).json()
    assert again["bookable"] is False and again["free"] == 0
    mine = again["occurrences"][0]["conflicts"][0]
    assert mine["mine"] is True and mine["booking_id"] == booked.json()["id"] and mine["occurrence_id"]


def test_a_weekly_series_keeps_its_wall_clock_time_across_a_dst_change(suite):
    berlin = make_space(suite, name="Gemeinschaftsraum", timezone="Europe/Berlin",
                        rules={"max_advance_days": 3 * 365})
    person = suite.user()
    # The last Saturday before the clocks go forward at the end of March (next year, or the one after).
    year = datetime.now(UTC).year + 1
    last_sunday = max(date(year, 3, d) for d in range(25, 32) if date(year, 3, d).weekday() == 6)
    saturday = last_sunday - timedelta(days=8)
    body = {"space_id": berlin["id"], "starts_at": f"{saturday}T10:00:00", "ends_at": f"{saturday}T11:00:00",
            "rrule": "FREQ=WEEKLY;BYDAY=SA;COUNT=3"}
    preview = person.post("/bookings/preview", json=body)
    assert preview.status_code == 200, preview.text
    occurrences = preview.json()["occurrences"]
    assert [o["local_start"][11:] for o in occurrences] == ["10:00:00"] * 3
    assert [datetime.fromisoformat(o["starts_at"]).hour for o in occurrences] == [9, 9, 8]  # CET, CET, CEST
    assert preview.json()["timezone"] == "Europe/Berlin"


def test_bad_input_is_a_422_naming_the_field_and_others_spaces_are_refused(suite):
    hall = make_space(suite, name="治理议事厅", rules={"opening_hours": SATURDAYS, "approval_required": True})
    reserved = make_space(suite, name="骑士休息室", rules={"allowed_roles": ["volunteer"]})
    resident = suite.user()
    tuesday = _next_weekday(1, 19)
    ok = resident.post("/bookings/preview", json={"space_id": hall["id"], **period(tuesday, 2)})
    assert ok.status_code == 200 and ok.json()["status"] == "pending" and ok.json()["rrule"] is None
    assert [o["free"] for o in ok.json()["occurrences"]] == [True]
    cases = [
        ({"space_id": hall["id"], "starts_at": tuesday.isoformat(), "ends_at": tuesday.isoformat()}, "ends_at"),
        ({"space_id": hall["id"], **period(tuesday, 2), "rrule": "FREQ=HOURLY"}, "rrule"),
        ({"space_id": hall["id"], **period(tuesday, 2), "on_conflict": "maybe"}, "on_conflict"),
        ({"space_id": hall["id"], **period(tuesday.replace(hour=21), 1)}, "opening_hours"),
        ({"space_id": hall["id"], **period(tuesday, 2), "rrule": "FREQ=WEEKLY;COUNT=2", "exdates": ["next week"]},
         "exdates"),
        ({"space_id": hall["id"], **period(tuesday, 2), "timezone": "Mars/Olympus"}, "timezone"),
        ({"space_id": hall["id"]}, "starts_at"),
    ]
    before = counts(suite)
    for body, field in cases:
        answer = resident.post("/bookings/preview", json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert field in answer.json()["errors"], (body, answer.json())
    assert resident.post("/bookings/preview", json={"space_id": 987654321, **period(tuesday)}).status_code == 404
    assert resident.post("/bookings/preview", json={"space_id": reserved["id"], **period(tuesday)}).status_code == 403
    assert suite.client().post("/bookings/preview", json={"space_id": hall["id"], **period(tuesday)}).status_code == 401
    assert counts(suite) == before
