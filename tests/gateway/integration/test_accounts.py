"""Accounts over HTTP: registration, tokens (rotation, reuse, logout, password change), roles and groups."""
from __future__ import annotations

import secrets
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from tests.support.suite import wait_for, within_session_bound

pytestmark = pytest.mark.integration


def _name(prefix: str = "r") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def _password() -> str:
    return "Plum-" + secrets.token_urlsafe(10)


def _sign_in(suite, username, password):
    return suite.client().post("/auth/token", json={"username": username, "password": password})


def _outbox_events(suite, user_id: int) -> list[str]:
    with suite.database("gateway").read() as session:
        rows = session.execute(text("SELECT type, envelope FROM outbox ORDER BY id")).all()
    return [t for t, envelope in rows if f'"user_id": {user_id},' in envelope]


def test_a_resident_registers_and_signs_in(suite):
    username, password = _name(), _password()
    response = suite.client().post("/accounts", json={
        "username": username, "password": password, "display_name": "林 小雨", "locale": "en",
        "timezone": "Europe/Berlin", "email": "lin@example.org", "phone": "+86 138 0000 0000"})
    assert response.status_code == 201, response.text
    account = response.json()
    assert response.headers["Location"] == f"/api/v1/accounts/{account['id']}"
    assert account["roles"] == ["resident"] and account["timezone"] == "Europe/Berlin"
    assert "password" not in account and "password_hash" not in account

    tokens = _sign_in(suite, username, password)
    assert tokens.status_code == 200, tokens.text
    me = suite.client(tokens.json()["access_token"]).get("/me")
    assert me.json()["username"] == username
    assert "account.registered" in _outbox_events(suite, account["id"])


@pytest.mark.parametrize("change, field", [
    ({"password": "Password123"}, "password"),
    ({"password": "short1!"}, "password"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"timezone": "../../etc/passwd"}, "timezone"),
    ({"locale": "fr"}, "locale"),
    ({"email": "not-an-address"}, "email"),
    ({"username": "has space"}, "username"),
    ({"is_admin": True}, "is_admin"),
])
def test_bad_registrations_name_the_field_and_create_nothing(suite, change, field):
    username = _name()
    body = {"username": username, "password": _password(), "display_name": "x", **change}
    response = suite.client().post("/accounts", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"]
    with suite.database("gateway").read() as session:
        assert session.execute(text("SELECT count(*) FROM accounts WHERE username = :u"),
                               {"u": body["username"]}).scalar() == 0


def test_a_password_containing_the_username_is_refused(suite):
    username = _name("mei")
    response = suite.client().post("/accounts", json={"username": username, "password": f"{username}-Tr7#x",
                                                      "display_name": "梅"})
    assert response.status_code == 422
    assert response.json()["errors"]["password"] == ["must not contain your username or name"]


def test_a_taken_username_is_a_conflict(suite):
    user = suite.user()
    response = suite.client().post("/accounts", json={"username": user.user["username"], "password": _password(),
                                                      "display_name": "again"})
    assert response.status_code == 409
    assert response.json()["errors"] == {"username": ["already taken"]}


def test_wrong_credentials_are_401_without_saying_which_part(suite):
    user = suite.user()
    wrong = _sign_in(suite, user.user["username"], "Not-the-password-1")
    unknown = _sign_in(suite, _name("ghost"), "Not-the-password-1")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_refresh_rotates_and_a_reused_refresh_token_ends_the_session(suite):
    user = suite.user()
    first_refresh = user.refresh_token
    rotated = suite.client().post("/auth/token", json={"grant_type": "refresh_token", "refresh_token": first_refresh})
    assert rotated.status_code == 200, rotated.text
    pair = rotated.json()
    assert pair["refresh_token"] != first_refresh
    assert suite.client(pair["access_token"]).get("/me").status_code == 200

    # The old refresh token shows up again: someone else holds a copy, so the session ends for both.
    replayed = suite.client().post("/auth/token", json={"grant_type": "refresh_token", "refresh_token": first_refresh})
    assert replayed.status_code == 401
    # A new connection may reach another gateway process, which learns of it within the session bound.
    within_session_bound(lambda: suite.client(pair["access_token"]).get("/me"), lambda r: r.status_code == 401)
    again = suite.client().post("/auth/token", json={"grant_type": "refresh_token",
                                                     "refresh_token": pair["refresh_token"]})
    assert again.status_code == 401


def test_concurrent_rotations_of_one_refresh_token_yield_at_most_one_pair(suite):
    user = suite.user()

    def rotate(_):
        return suite.client().post("/auth/token", json={"grant_type": "refresh_token",
                                                        "refresh_token": user.refresh_token}).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(rotate, range(4)))
    assert statuses.count(200) <= 1 and set(statuses) <= {200, 401}, statuses


def test_logout_revokes_access_and_refresh(suite):
    user = suite.user()
    assert user.post("/auth/logout").status_code == 204
    assert user.get("/me").status_code == 401
    refreshed = suite.client().post("/auth/token", json={"grant_type": "refresh_token",
                                                         "refresh_token": user.refresh_token})
    assert refreshed.status_code == 401


def test_a_password_change_ends_every_session(suite):
    user = suite.user()
    username, old = user.user["username"], user.user["password"]
    other_device = suite.client(_sign_in(suite, username, old).json()["access_token"])
    new = _password()
    wrong = user.post("/me/password", json={"current_password": "not-it-at-all", "new_password": new})
    assert wrong.status_code == 422 and "current_password" in wrong.json()["errors"]
    weak = user.post("/me/password", json={"current_password": old, "new_password": "qwertyuiop1"})
    assert weak.status_code == 422 and "new_password" in weak.json()["errors"]
    assert user.get("/me").status_code == 200  # failed attempts change nothing

    assert user.post("/me/password", json={"current_password": old, "new_password": new}).status_code == 204
    assert user.get("/me").status_code == 401  # at once where it was changed
    within_session_bound(lambda: other_device.get("/me"), lambda r: r.status_code == 401)
    assert _sign_in(suite, username, old).status_code == 401
    assert _sign_in(suite, username, new).status_code == 200


def test_profile_update_emits_account_updated(suite):
    user = suite.user()
    response = user.patch("/me", json={"display_name": "张 师傅", "locale": "en", "timezone": "Asia/Urumqi"})
    assert response.status_code == 200, response.text
    assert response.json()["locale"] == "en"
    assert "account.updated" in _outbox_events(suite, user.id)
    assert user.patch("/me", json={"roles": ["admin"]}).status_code == 422


def _recipient(suite, user_id):
    """The roles and beneficiary groups the notifications directory holds for an account (None if unknown)."""
    with suite.database("notifications").read() as session:
        if session.execute(text("SELECT 1 FROM recipients WHERE user_id = :u"), {"u": user_id}).first() is None:
            return None
        return (session.execute(text("SELECT role FROM recipient_roles WHERE user_id = :u"), {"u": user_id})
                .scalars().all(),
                session.execute(text("SELECT group_name FROM recipient_groups WHERE user_id = :u"), {"u": user_id})
                .scalars().all())


def _grid_with_coordinator(suite):
    """A new micro-grid and a coordinator named on it (the grid tree is the one record of scope)."""
    grid = suite.rpc("volunteers", "ensure_grid", {"name": _name("网格"), "level": 1})
    return grid["id"], suite.user(roles=["resident", "coordinator"], grids=[grid["id"]])


def _resident_of(suite, grid_id: int):
    """A resident who belongs to the grid through their volunteer profile."""
    person = suite.user()
    suite.rpc("volunteers", "ensure_volunteer", person.id, {"display_name": "居民", "grid_ids": [grid_id]})
    return person


def test_coordinators_grant_roles_and_the_notifications_directory_follows(suite):
    grid_id, coordinator = _grid_with_coordinator(suite)
    shop = _resident_of(suite, grid_id)
    granted = coordinator.post(f"/accounts/{shop.id}/roles", json={"role": "merchant"})
    assert granted.status_code == 200, granted.text
    assert granted.json()["roles"] == ["merchant", "resident"]
    groups = coordinator.put(f"/accounts/{shop.id}/groups", json={"groups": ["rider"]})
    assert groups.status_code == 200 and groups.json()["groups"] == ["rider"]

    def directory_has_it():
        row = _recipient(suite, shop.id)
        return row is not None and "merchant" in row[0] and "rider" in row[1]

    wait_for(directory_has_it, timeout=15, message="account.updated reaching the notifications directory")
    assert shop.get("/me").json()["roles"] == ["merchant", "resident"]

    revoked = coordinator.delete(f"/accounts/{shop.id}/roles/merchant")
    assert revoked.status_code == 200 and revoked.json()["roles"] == ["resident"]


def test_only_admins_grant_coordinator_and_admin(suite):
    grid_id, coordinator = _grid_with_coordinator(suite)
    other_grid, _ = _grid_with_coordinator(suite)
    admin = suite.user(roles=["resident", "admin"])
    target = _resident_of(suite, grid_id)
    for role in ("coordinator", "admin"):
        body = {"role": role, "grids": [grid_id]} if role == "coordinator" else {"role": role}
        assert coordinator.post(f"/accounts/{target.id}/roles", json=body).status_code == 403
    assert target.get("/me").json()["roles"] == ["resident"]
    missing_scope = admin.post(f"/accounts/{target.id}/roles", json={"role": "coordinator"})
    assert missing_scope.status_code == 422 and "grids" in missing_scope.json()["errors"]
    granted = admin.post(f"/accounts/{target.id}/roles", json={"role": "coordinator", "grids": [grid_id, other_grid]})
    assert granted.status_code == 200 and "coordinator" in granted.json()["roles"]
    # The grids are recorded on the grid tree, the one record of a coordinator's scope.
    assert sorted(g["id"] for g in admin.get("/grids").json()["items"] if target.id in g["coordinator_ids"]) == \
        sorted([grid_id, other_grid])
    assert admin.post(f"/accounts/{admin.id}/roles", json={"role": "merchant"}).status_code == 403


def test_concurrent_grants_keep_every_role(suite):
    grid_id, first = _grid_with_coordinator(suite)
    coordinators = [first] + [suite.user(roles=["resident", "coordinator"], grids=[grid_id]) for _ in range(2)]
    target = _resident_of(suite, grid_id)
    roles = ["merchant", "volunteer", "space_manager"]

    def grant(pair):
        coordinator, role = pair
        return coordinator.post(f"/accounts/{target.id}/roles", json={"role": role}).status_code

    with ThreadPoolExecutor(max_workers=3) as pool:
        assert list(pool.map(grant, zip(coordinators, roles, strict=True))) == [200, 200, 200]
    assert target.get("/me").json()["roles"] == sorted(roles + ["resident"])


def test_a_deactivated_account_is_signed_out_and_cannot_sign_in(suite):
    admin = suite.user(roles=["resident", "admin"])
    user = suite.user()
    assert admin.post(f"/accounts/{user.id}/deactivate").json()["active"] is False
    within_session_bound(lambda: user.get("/me"), lambda r: r.status_code == 401)
    assert _sign_in(suite, user.user["username"], user.user["password"]).status_code == 401
    assert admin.post(f"/accounts/{user.id}/activate").json()["active"] is True
    assert _sign_in(suite, user.user["username"], user.user["password"]).status_code == 200


def test_coordinators_list_and_filter_accounts_page_by_page(suite):
    coordinator = suite.user(roles=["resident", "coordinator"])
    marker = _name("pg")
    made = [suite.user(username=f"{marker}{i}") for i in range(3)]
    first = coordinator.get("/accounts", params={"q": marker, "limit": 2})
    assert first.status_code == 200, first.text
    page = first.json()
    assert [a["id"] for a in page["items"]] == [u.id for u in made[:2]] and page["next_cursor"]
    second = coordinator.get("/accounts", params={"q": marker, "limit": 2, "cursor": page["next_cursor"]}).json()
    assert [a["id"] for a in second["items"]] == [made[2].id] and second["next_cursor"] is None
    assert made[0].get("/accounts").status_code == 403
    assert made[0].get(f"/accounts/{made[1].id}").status_code == 403
    assert coordinator.get("/accounts/999999999").status_code == 404
