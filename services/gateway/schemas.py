"""Schemas the gateway owns: accounts, tokens, roles and the problem document."""
from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

from marshmallow import INCLUDE, Schema, ValidationError, validate, validates_schema

from shared import fields
from shared.identity import BENEFICIARY_GROUPS, ROLES
from shared.paging import PageQuerySchema, page_of

LOCALES = ("zh-CN", "en")
# Roles a coordinator may hand out; admin and coordinator are granted by admins only.
COORDINATOR_GRANTS = ("merchant", "volunteer", "space_manager")
ADMIN_GRANTS = ("coordinator", "admin")
GRANTABLE = COORDINATOR_GRANTS + ADMIN_GRANTS
USERNAME = validate.Regexp(r"^[A-Za-z0-9_.-]+$", error="letters, digits, _ . - only")


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _valid_timezone(name: str) -> None:
    if name not in _zones():
        raise ValidationError("not an IANA time zone (e.g. Asia/Shanghai)")


class TokenRequestSchema(Schema):
    grant_type = fields.String(load_default="password", validate=validate.OneOf(["password", "refresh_token"]))
    username = fields.String(validate=validate.Length(min=1, max=64))
    password = fields.String(validate=validate.Length(min=1, max=256), load_only=True)
    refresh_token = fields.String(validate=validate.Length(min=1, max=200), load_only=True)

    @validates_schema
    def _grant_fields(self, data, **_):
        if data.get("grant_type", "password") == "password":
            missing = {f: ["required for the password grant"] for f in ("username", "password") if not data.get(f)}
            if missing:
                raise ValidationError(missing)
        elif not data.get("refresh_token"):
            raise ValidationError({"refresh_token": ["required for the refresh_token grant"]})


class TokenSchema(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_in = fields.Integer(required=True, metadata={"description": "seconds the access token lives"})
    refresh_token = fields.String(required=True)


class RegisterSchema(Schema):
    username = fields.String(required=True, validate=[validate.Length(min=3, max=64), USERNAME])
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=10, max=256),
                             metadata={"description": "10+ characters, not a commonly used password"})
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    locale = fields.String(load_default="zh-CN", validate=validate.OneOf(LOCALES))
    timezone = fields.String(load_default="Asia/Shanghai", validate=[validate.Length(max=64), _valid_timezone],
                             metadata={"description": "an IANA time zone name (e.g. Asia/Shanghai)"})
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^\+?[0-9 -]{5,20}$"))


class ProfileUpdateSchema(Schema):
    display_name = fields.String(validate=validate.Length(min=1, max=100))
    locale = fields.String(validate=validate.OneOf(LOCALES))
    timezone = fields.String(validate=[validate.Length(max=64), _valid_timezone],
                             metadata={"description": "an IANA time zone name (e.g. Asia/Shanghai)"})
    elderly_mode = fields.Boolean(metadata={"description": "the web app's elderly mode (长辈版): larger text "
                                                           "and tap targets"})
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(allow_none=True, validate=validate.Regexp(r"^\+?[0-9 -]{5,20}$"))


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))
    new_password = fields.String(required=True, load_only=True, validate=validate.Length(min=10, max=256))


class RoleGrantSchema(Schema):
    role = fields.String(required=True, validate=validate.OneOf(GRANTABLE))
    grids = fields.List(fields.Integer(validate=validate.Range(min=1, max=2**31 - 1)), load_default=list,
                        validate=[validate.Length(max=50), fields.Unique()],
                        metadata={"description": "the grids a coordinator is responsible for (coordinator only)"})

    @validates_schema
    def _scope(self, data, **_):
        if data["role"] == "coordinator" and not data["grids"]:
            raise ValidationError("a coordinator needs at least one grid", "grids")
        if data["role"] != "coordinator" and data["grids"]:
            raise ValidationError("only the coordinator role has a grid scope", "grids")


class GroupsSchema(Schema):
    groups = fields.List(fields.String(validate=validate.OneOf(BENEFICIARY_GROUPS)), required=True,
                         validate=fields.Unique())


class AccountQuerySchema(PageQuerySchema):
    role = fields.String(validate=validate.OneOf(ROLES))
    group = fields.String(validate=validate.OneOf(BENEFICIARY_GROUPS))
    q = fields.String(validate=validate.Length(min=1, max=64),
                      metadata={"description": "part of the username or display name"})


class AccountSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    locale = fields.String()
    timezone = fields.String()
    elderly_mode = fields.Boolean()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)))
    groups = fields.List(fields.String(validate=validate.OneOf(BENEFICIARY_GROUPS)))
    active = fields.Boolean()
    created_at = fields.AwareDateTime()


AccountPageSchema = page_of(AccountSchema, "AccountPageSchema")


class UnreadSchema(Schema):
    """What a badge needs: answered with an ETag, 304 to an If-None-Match while nothing changed."""

    unread_count = fields.Integer(required=True)
    latest_id = fields.Integer(allow_none=True, required=True,
                               metadata={"description": "the newest entry of the inbox (null when empty)"})


class ProblemSchema(Schema):
    """RFC 9457 problem details; 422 adds `errors` (field -> messages), 409 may add the conflicting items."""

    class Meta:
        # RFC 9457 extension members (`conflicts`, `state`, `allowed`…) are part of the contract: documented
        # as allowed rather than forbidden.
        unknown = INCLUDE

    type = fields.String(metadata={"example": "about:blank"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    instance = fields.String()
    request_id = fields.String(metadata={"description": "quote it when reporting a problem"})
    errors = fields.Dict(metadata={"description": "field name -> list of messages (nested for nested fields)"})
