"""Domain errors as problem documents, and across the RPC wire."""
from __future__ import annotations

from nameko.exceptions import deserialize, serialize

from shared.errors import Conflict, Invalid


def test_extra_problem_members_never_overwrite_the_standard_ones():
    problem = Conflict("taken", extra={"status": "pending", "title": "x", "conflicts": [1]}).to_problem()
    assert problem["status"] == 409 and problem["title"] == "Conflict"
    assert problem["conflicts"] == [1]


def test_errors_cross_rpc_as_themselves_with_structured_members():
    original = Invalid("bad", errors={"units": ["only 2 free"]}, extra={"conflicts": [{"occurrence_id": 4}]})
    received = deserialize(serialize(original))
    assert type(received) is Invalid
    assert received.errors == {"units": ["only 2 free"]}
    assert received.extra == {"conflicts": [{"occurrence_id": 4}]}  # ints stay ints
