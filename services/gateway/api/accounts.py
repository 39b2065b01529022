"""Accounts and tokens: /accounts, /auth/token, /auth/logout, /me."""
from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from services.gateway import accounts, auth
from services.gateway.api import SECURED, created, current_caller, db, respond
from services.gateway.schemas import AccountSchema, RegisterSchema, TokenRequestSchema, TokenSchema

blp = Blueprint("accounts", __name__, description="Accounts, sign-in and tokens")


@blp.post("/accounts")
@blp.arguments(RegisterSchema)
@blp.response(201, AccountSchema)
@blp.alt_response(409, description="Username taken")
def register(data):
    """Register a resident account."""
    account = accounts.create_account(db(), data)
    return created(account, f"/api/v1/accounts/{account['id']}")


@blp.post("/auth/token")
@blp.arguments(TokenRequestSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(401, description="Wrong credentials or refresh token")
def token(data):
    """Sign in with a password, or rotate a refresh token."""
    if data.get("grant_type") == "refresh_token":
        return auth.rotate(db(), data["refresh_token"])
    return accounts.sign_in(db(), data["username"], data["password"])


@blp.post("/auth/logout")
@blp.response(204)
@blp.doc(security=SECURED)
def logout():
    """End this sign-in session: its access and refresh tokens stop working."""
    current_caller()
    auth.revoke_session(db(), g.session_id)


@blp.get("/me")
@blp.response(200, AccountSchema)
@blp.doc(security=SECURED)
def me():
    """The signed-in account."""
    return respond(accounts.get_account(db(), current_caller().user_id))
