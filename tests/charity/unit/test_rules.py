"""The pure rules of charity items: periods, windows, eligibility, codes and item states."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from services.volunteers.charity.rules import (
    CODE_ALPHABET,
    RedemptionHours,
    claim_window,
    eligible,
    item_may,
    item_next_state,
    new_code,
    normalise_code,
    period_key,
    qr_payload,
)
from shared.lifecycle import IllegalTransition

SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def test_period_keys_are_local_days_iso_weeks_or_total():
    assert period_key("day", date(2026, 11, 23)) == "2026-11-23"
    assert period_key("week", date(2026, 11, 23)) == "2026-W48"
    assert period_key("week", date(2026, 11, 29)) == "2026-W48"  # Sunday closes the ISO week
    assert period_key("week", date(2027, 1, 1)) == "2026-W53"
    assert period_key("total", date(2026, 11, 23)) == "total"
    with pytest.raises(ValueError):
        period_key("month", date(2026, 11, 23))


def test_window_open_now_is_todays():
    hours = RedemptionHours.parse({"start": "08:00", "end": "11:00"})
    assert claim_window(hours, date(2026, 1, 1), None, at(2026, 11, 23, 9, 30)) == (
        at(2026, 11, 23, 8), at(2026, 11, 23, 11))


def test_before_opening_the_window_is_todays_and_after_closing_tomorrows():
    hours = RedemptionHours.parse({"start": "08:00", "end": "11:00"})
    assert claim_window(hours, date(2026, 1, 1), None, at(2026, 11, 23, 6))[0] == at(2026, 11, 23, 8)
    assert claim_window(hours, date(2026, 1, 1), None, at(2026, 11, 23, 11, 0))[0] == at(2026, 11, 24, 8)


def test_all_day_window_ends_at_local_midnight():
    hours = RedemptionHours.parse({})
    start, end = claim_window(hours, date(2026, 1, 1), None, at(2026, 11, 23, 23, 59))
    assert (start, end) == (at(2026, 11, 23), at(2026, 11, 24))


def test_weekdays_and_valid_period_bound_the_window():
    weekends = RedemptionHours.parse({"weekdays": [6, 7]})
    # Monday 23 Nov 2026: the next window is Saturday 28th.
    assert claim_window(weekends, date(2026, 1, 1), None, at(2026, 11, 23, 12))[0] == at(2026, 11, 28)
    assert claim_window(weekends, date(2026, 1, 1), date(2026, 11, 27), at(2026, 11, 23, 12)) is None
    # Not started yet: the first window is on valid_from.
    assert claim_window(RedemptionHours.parse({}), date(2026, 12, 1), None, at(2026, 11, 23, 12))[0] == at(2026, 12, 1)


def test_hours_must_make_sense():
    with pytest.raises(ValueError):
        RedemptionHours.parse({"start": "11:00", "end": "08:00"})
    with pytest.raises(ValueError):
        RedemptionHours.parse({"start": "25:00"})
    with pytest.raises(ValueError):
        RedemptionHours.parse({"weekdays": [0]})
    assert RedemptionHours.parse({"start": "07:30", "end": "24:00"}).describe() == "07:30–24:00"


@pytest.mark.parametrize(("item", "person", "ok"), [
    (["rider"], ["rider"], True),
    (["rider"], ["courier"], False),
    (["outdoor"], ["sanitation"], True),
    (["outdoor"], ["courier", "elderly"], True),
    (["outdoor"], ["elderly"], False),
    (["elderly", "sanitation"], ["elderly"], True),
    (["rider"], [], False),
])
def test_eligibility(item, person, ok):
    assert eligible(item, person) is ok


def test_codes_are_eight_unambiguous_characters():
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert len(code) == 8 and set(code) <= set(CODE_ALPHABET)
    assert not set("01OIL") & set(CODE_ALPHABET)


def test_codes_typed_at_the_counter_are_normalised():
    code = new_code()
    assert normalise_code(code.lower()) == code
    assert normalise_code(f"{code[:4]} - {code[4:]}") == code
    assert normalise_code(qr_payload(code)) == code
    assert normalise_code("ABCD1234") is None  # 1 is never in a code
    assert normalise_code("SHORT") is None
    assert normalise_code("") is None


def test_item_states_and_who_moves_them():
    assert item_next_state("active", "pause") == "paused"
    assert item_next_state("paused", "resume") == "active"
    assert item_next_state("active", "suspend") == "suspended"
    assert item_next_state("suspended", "end") == "ended"
    with pytest.raises(IllegalTransition) as failure:
        item_next_state("ended", "resume")
    assert failure.value.allowed == []
    with pytest.raises(IllegalTransition) as failure:
        item_next_state("paused", "pause")
    assert set(failure.value.allowed) == {"resume", "end", "suspend"}
    assert item_may("pause", {"owner"}, "active")
    assert not item_may("suspend", {"owner"}, "active")
    assert item_may("resume", {"owner"}, "paused")
    assert not item_may("resume", {"owner"}, "suspended")  # only a coordinator lifts a suspension
    assert item_may("resume", {"coordinator"}, "suspended")
