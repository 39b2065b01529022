"""Accounts and tokens: /accounts, /auth/token, /auth/logout, /me."""
from __future__ import annotations

from flask import g, request
from flask_smorest import Blueprint
from marshmallow import Schema

from services.gateway import accounts, auth, throttle
from services.gateway.api import SECURED, call, created, current_caller, db, respond
from services.gateway.schemas import (
    GRANTABLE,
    AccountPageSchema,
    AccountQuerySchema,
    AccountSchema,
    GroupsSchema,
    PasswordChangeSchema,
    ProfileUpdateSchema,
    RegisterSchema,
    RoleGrantSchema,
    TokenRequestSchema,
    TokenSchema,
)
from shared import fields
from shared.errors import Unauthenticated

blp = Blueprint("accounts", __name__, description="Accounts, sign-in, tokens and roles")


def _volunteers(method: str, *args):
    """The volunteers service, asked on behalf of the caller (its grid tree holds coordinator scope)."""
    return call("volunteers", method, *args)


@blp.post("/accounts")
@blp.arguments(RegisterSchema)
@blp.response(201, AccountSchema)
@blp.alt_response(409, description="Username taken")
def register(data):
    """Register a resident account (anyone may; other roles are granted by coordinators and admins)."""
    account = accounts.create_account(db(), data)
    return created(account, f"/api/v1/accounts/{account['id']}")


@blp.get("/accounts")
@blp.arguments(AccountQuerySchema, location="query")
@blp.response(200, AccountPageSchema)
@blp.doc(security=SECURED)
def list_accounts(query):
    """Accounts, oldest first, filtered by role, beneficiary group or name (coordinators and admins)."""
    return respond(accounts.list_accounts(db(), current_caller(), query))


@blp.get("/accounts/<int:account_id>")
@blp.response(200, AccountSchema)
@blp.doc(security=SECURED)
def get_account(account_id):
    """One account: your own, or anyone's for coordinators and admins."""
    return respond(accounts.get_account(db(), account_id, current_caller()))


@blp.post("/accounts/<int:account_id>/roles")
@blp.arguments(RoleGrantSchema)
@blp.response(200, AccountSchema)
@blp.doc(security=SECURED)
def grant_role(data, account_id):
    """Grant a role. Coordinators grant merchant, volunteer and space_manager to people inside their grids
    (not to coordinators or admins); admins grant anything, also coordinator (with the grids it covers,
    recorded on the grid tree, replacing any earlier ones) and admin. Nobody changes their own roles.

    grids is required (existing grids) with the coordinator role and refused with any other (422)."""
    return respond(accounts.grant_role(db(), current_caller(), account_id, data, _volunteers))


@blp.delete(f"/accounts/<int:account_id>/roles/<any({', '.join(GRANTABLE)}):role>")
@blp.response(200, AccountSchema)
@blp.doc(security=SECURED)
def revoke_role(account_id, role):
    """Revoke a role (same rules as granting); revoking a role the account lacks changes nothing. The roles
    that can be revoked are the ones that can be granted; any other name in the path is 404."""
    return respond(accounts.revoke_role(db(), current_caller(), account_id, role, _volunteers))


@blp.put("/accounts/<int:account_id>/groups")
@blp.arguments(GroupsSchema)
@blp.response(200, AccountSchema)
@blp.doc(security=SECURED)
def set_groups(data, account_id):
    """Confirm the beneficiary groups of an account, e.g. rider; replaces the list. Coordinators: people
    inside their grids, never their own account or a coordinator's; admins: anyone."""
    return respond(accounts.set_groups(db(), current_caller(), account_id, data, _volunteers))


@blp.post("/accounts/<int:account_id>/deactivate")
@blp.response(200, AccountSchema)
@blp.doc(security=SECURED)
def deactivate(account_id):
    """Deactivate an account: its sessions end at once and it cannot sign in (admins)."""
    return respond(accounts.set_active(db(), current_caller(), account_id, False))


@blp.post("/accounts/<int:account_id>/activate")
@blp.response(200, AccountSchema)
@blp.doc(security=SECURED)
def activate(account_id):
    """Reactivate an account (admins)."""
    return respond(accounts.set_active(db(), current_caller(), account_id, True))


@blp.post("/auth/token")
@blp.arguments(TokenRequestSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(401, description="Wrong credentials, or a refresh token that is not valid (a reused "
                                    "refresh token also ends its session)")
def token(data):
    """Sign in with a password, or rotate a refresh token. Repeated failures of one account from one
    address, or of many from one address, make that address wait (429 with Retry-After); the account
    signing in from elsewhere is not held up.

    The password grant (the default) needs username and password, the refresh_token grant a
    refresh_token (else 422 naming the missing field)."""
    if data.get("grant_type") == "refresh_token":
        return respond(auth.rotate(db(), data["refresh_token"]))
    attempt = throttle.Attempt(accounts.normalise_username(data["username"]), request.remote_addr)
    throttle.check(db(), attempt)
    try:
        tokens = accounts.sign_in(db(), data)
    except Unauthenticated:
        throttle.record_failure(db(), attempt)
        raise
    throttle.record_success(db(), attempt)
    return respond(tokens)


@blp.post("/auth/logout")
@blp.response(204)
@blp.doc(security=SECURED)
def logout():
    """End this sign-in session: its access and refresh tokens stop working."""
    current_caller()
    auth.revoke_session(db(), g.session_id)


class ScopeGridSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    level = fields.Integer(metadata={"description": "1 micro-grid, 2 big grid, 3 sub-district"})


class MeSchema(AccountSchema):
    grids = fields.List(fields.Nested(ScopeGridSchema), metadata={
        "description": "the grids you coordinate, each with the grids below it (the volunteers service's grid "
                       "tree); empty unless you are a coordinator or an admin named on a grid"})


def _scope_grids(caller) -> list[dict]:
    """The caller's coordinator scope with the grids' names, highest level first."""
    if not caller.has_role("coordinator"):  # admins too: an admin may be named on a grid
        return []
    scope = set(_volunteers("coordinator_scope", caller.user_id))
    if not scope:
        return []
    listed = _volunteers("list_grids")
    listed = listed["items"] if isinstance(listed, dict) else listed
    found, stack = [], list(listed)
    while stack:
        grid = stack.pop()
        stack.extend(grid.get("children") or [])
        if grid["id"] in scope:
            found.append({"id": grid["id"], "name": grid["name"], "level": grid["level"]})
    return sorted(found, key=lambda grid: (-grid["level"], grid["id"]))


@blp.get("/me")
@blp.response(200, MeSchema)
@blp.doc(security=SECURED)
def me():
    """The signed-in account, with the grids you coordinate (`grids`)."""
    caller = current_caller()
    account = accounts.get_account(db(), caller.user_id)
    return respond({**account, "grids": _scope_grids(caller)})


@blp.patch("/me")
@blp.arguments(ProfileUpdateSchema)
@blp.response(200, AccountSchema)
@blp.doc(security=SECURED)
def update_me(data):
    """Change your display name, language (zh-CN, en), time zone, elderly mode, e-mail or phone."""
    return respond(accounts.update_profile(db(), current_caller(), data))


@blp.post("/me/password")
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
@blp.doc(security=SECURED)
def change_password(data):
    """Change your password; every session (this one too) ends, so sign in again with the new one."""
    caller = current_caller()
    attempt = throttle.Attempt(f"#{caller.user_id}", request.remote_addr)
    throttle.check(db(), attempt)
    try:
        accounts.change_password(db(), caller, data)
    except accounts.WrongPassword:
        # A stolen access token must not become a way to guess the password.
        throttle.record_failure(db(), attempt)
        raise
