"""Broadcast dispatch: twenty volunteers press "accept" at once and exactly one of them gets the action."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text

from tests.volunteers.integration.world import make_world


def test_twenty_concurrent_accepts_one_winner(any_suite):
    world = make_world(any_suite)
    with ThreadPoolExecutor(max_workers=5) as pool:
        riders = list(pool.map(lambda _: world.volunteer(), range(20)))
    action = world.report(any_suite.user())
    dispatched = world.gridworker.post(f"/actions/{action['id']}/dispatch", json={"broadcast": True})
    assert dispatched.status_code == 200, dispatched.text
    assert set(dispatched.json()["candidate_ids"]) == {r.id for r in riders}

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(lambda r: r.post(f"/actions/{action['id']}/accept"), riders))

    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * 19, [(r.status_code, r.text[:120]) for r in responses]
    winner = next(rider for rider, r in zip(riders, responses, strict=True) if r.status_code == 200)
    assert world.gridworker.get(f"/actions/{action['id']}").json()["accepted_by"] == winner.id
    with any_suite.database("volunteers").read() as session:
        accepts = session.execute(text("SELECT count(*) FROM action_timeline WHERE action_id = :i AND verb = 'accept'"),
                                  {"i": action["id"]}).scalar_one()
    assert accepts == 1
    assert len(world.outbox("action.accepted", action["id"])) == 1
