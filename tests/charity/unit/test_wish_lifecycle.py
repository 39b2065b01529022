"""The lifecycle of a micro-wish: its states, the verbs (the API's) between them, and who may do each."""
from __future__ import annotations

import pytest

from services.volunteers.charity.rules import (
    WISH_STATES,
    WISH_VERBS,
    wish_allowed_verbs,
    wish_may,
    wish_next_state,
)
from shared.lifecycle import IllegalTransition

LEGAL_WISH = [
    ("draft", "submit", "submitted"),
    ("draft", "publish", "published"),
    ("submitted", "publish", "published"),
    ("draft", "reject", "rejected"),
    ("submitted", "reject", "rejected"),
    ("published", "adopt", "adopted"),
    ("adopted", "deliver", "delivered"),
    ("delivered", "fulfil", "fulfilled"),
    ("draft", "withdraw", "withdrawn"),
    ("submitted", "withdraw", "withdrawn"),
    ("published", "withdraw", "withdrawn"),
]
LEGAL_WISH_PAIRS = {(s, v) for s, v, _ in LEGAL_WISH}
ILLEGAL_WISH = [(s, v) for s in WISH_STATES for v in WISH_VERBS if (s, v) not in LEGAL_WISH_PAIRS]


class TestWishes:
    def test_states(self):
        assert set(WISH_STATES) == {
            "draft",
            "submitted",
            "published",
            "rejected",
            "adopted",
            "delivered",
            "fulfilled",
            "withdrawn",
        }

    @pytest.mark.parametrize(("state", "verb", "expected"), LEGAL_WISH)
    def test_legal(self, state, verb, expected):
        assert wish_next_state(state, verb) == expected

    @pytest.mark.parametrize(("state", "verb"), ILLEGAL_WISH)
    def test_illegal(self, state, verb):
        with pytest.raises(IllegalTransition) as excinfo:
            wish_next_state(state, verb)
        assert excinfo.value.allowed == wish_allowed_verbs(state)

    def test_exactly_one_adopter(self):
        state = wish_next_state("published", "adopt")
        with pytest.raises(IllegalTransition, match="The wish is adopted; it cannot adopt. Possible from adopted: deliver."):
            wish_next_state(state, "adopt")

    def test_no_withdraw_after_adoption(self):
        for state in ("adopted", "delivered", "fulfilled"):
            with pytest.raises(IllegalTransition):
                wish_next_state(state, "withdraw")

    def test_reject_and_withdraw_take_reason(self):
        assert wish_next_state("submitted", "reject", reason="not a wish, a complaint") == "rejected"
        assert wish_next_state("published", "withdraw", reason="got it from family") == "withdrawn"

    def test_other_flags_refused(self):
        with pytest.raises(TypeError):
            wish_next_state("published", "adopt", reason="x")

    def test_unknown_state(self):
        with pytest.raises(ValueError):
            wish_next_state("lost", "adopt")
        with pytest.raises(ValueError):
            wish_allowed_verbs("lost")

    @pytest.mark.parametrize(
        ("state", "expected"),
        [
            ("draft", ["submit", "publish", "reject", "withdraw"]),
            ("submitted", ["publish", "reject", "withdraw"]),
            ("published", ["adopt", "withdraw"]),
            ("adopted", ["deliver"]),
            ("delivered", ["fulfil"]),
            ("rejected", []),
            ("fulfilled", []),
            ("withdrawn", []),
        ],
    )
    def test_allowed(self, state, expected):
        assert wish_allowed_verbs(state) == expected

    @pytest.mark.parametrize(
        ("verb", "allowed_role"),
        [
            ("submit", "owner"),
            ("publish", "coordinator"),
            ("reject", "coordinator"),
            ("adopt", "volunteer"),
            ("deliver", "adopter"),
            ("fulfil", "beneficiary"),
            ("withdraw", "owner"),
        ],
    )
    def test_roles(self, verb, allowed_role):
        roles = ["owner", "beneficiary", "coordinator", "volunteer", "adopter"]
        for role in roles:
            assert wish_may(verb, {role}) is (role == allowed_role)

    def test_unknown_wish_verb(self):
        with pytest.raises(ValueError):
            wish_may("steal", {"owner"})

    def test_full_walk(self):
        state = "draft"
        for verb in ("submit", "publish", "adopt", "deliver", "fulfil"):
            state = wish_next_state(state, verb)
        assert state == "fulfilled"
