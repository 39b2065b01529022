"""GET /actions filtered by several states and by level at once (repeat the parameter), with 422 field
messages for values outside the lists, over HTTP and over RPC."""
from __future__ import annotations

from tests.volunteers.integration.world import make_world


def _ids(client, **params) -> list[int]:
    response = client.get("/actions", params=params)
    assert response.status_code == 200, response.text
    return [a["id"] for a in response.json()["items"]]


def test_filter_by_several_states_and_levels(suite):
    world = make_world(suite)
    reporter = suite.user()
    rider = world.volunteer()
    waiting, dispatched, escalated, cancelled = (world.report(reporter)["id"] for _ in range(4))
    assert world.gridworker.post(f"/actions/{dispatched}/dispatch", json={"volunteer_ids": [rider.id]}).status_code == 200
    raised = world.gridworker.post(f"/actions/{escalated}/escalate", json={"reason": "需要支部协调"})
    assert raised.status_code == 200 and raised.json()["level"] == 2, raised.text
    assert reporter.post(f"/actions/{cancelled}/cancel", json={}).status_code == 200
    states = {a: world.secretary.get(f"/actions/{a}").json()["state"] for a in (waiting, escalated)}
    grid = world.micro["id"]
    secretary = world.secretary  # sees levels 1 and 2 of the micro-grid

    assert _ids(secretary, grid_id=grid, state=["dispatched", "cancelled"]) == [cancelled, dispatched]
    assert _ids(secretary, grid_id=grid, state="dispatched") == [dispatched]
    assert set(_ids(secretary, grid_id=grid, state=sorted(set(states.values())))) == {waiting, escalated}
    assert _ids(secretary, grid_id=grid, level=2) == [escalated]
    assert _ids(secretary, grid_id=grid, level=[1, 2]) == [cancelled, escalated, dispatched, waiting]
    assert _ids(secretary, grid_id=grid, level=1, state=["dispatched", "cancelled"]) == [cancelled, dispatched]
    assert _ids(secretary, grid_id=grid, level=3) == []

    # One page at a time, the filter kept.
    first = secretary.get("/actions", params={"grid_id": grid, "state": ["dispatched", "cancelled"], "limit": 1}).json()
    assert [a["id"] for a in first["items"]] == [cancelled] and first["next_cursor"]
    second = secretary.get("/actions", params={"grid_id": grid, "state": ["dispatched", "cancelled"], "limit": 1,
                                               "cursor": first["next_cursor"]}).json()
    assert [a["id"] for a in second["items"]] == [dispatched] and second["next_cursor"] is None

    # Over RPC, a state alone or a list.
    caller = suite.caller_of(world.secretary)
    assert [a["id"] for a in suite.rpc("volunteers", "list_actions", {"grid_id": grid, "state": "cancelled"},
                                       caller=caller)["items"]] == [cancelled]
    assert [a["id"] for a in suite.rpc("volunteers", "list_actions", {"grid_id": grid, "level": [2]},
                                       caller=caller)["items"]] == [escalated]


def test_values_outside_the_lists_are_422_with_field_messages(suite):
    world = make_world(suite)
    for params, field in (({"state": ["dispatched", "open"]}, "state"), ({"level": 4}, "level"),
                          ({"level": "high"}, "level"), ({"level": 0}, "level")):
        response = world.gridworker.get("/actions", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert field in response.json()["errors"], response.json()
