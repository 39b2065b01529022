"""The caller as RPC context data: every field travels, and comes back as it was."""
from __future__ import annotations

from dataclasses import fields

from shared.identity import Caller


def test_the_context_carries_every_field_and_reads_back_the_same_caller():
    caller = Caller(user_id=7, roles=frozenset({"volunteer", "resident"}), groups=("rider",), locale="en",
                    timezone="Asia/Urumqi", display_name="林 小雨", extra={"note": ["x"]})
    context = caller.to_context()
    assert set(context) == {f.name for f in fields(Caller)}
    assert context["roles"] == ["resident", "volunteer"] and context["groups"] == ["rider"]
    back = Caller.from_context(context)
    assert (back.user_id, back.roles, back.groups, back.locale, back.timezone, back.display_name) == \
        (7, caller.roles, ("rider",), "en", "Asia/Urumqi", "林 小雨")
    context["extra"]["note"].append("y")
    assert caller.extra == {"note": ["x"]}  # the context is a copy
