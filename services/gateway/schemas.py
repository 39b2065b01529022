"""Schemas the gateway owns: accounts and tokens."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.identity import BENEFICIARY_GROUPS, ROLES

LOCALES = ("zh-CN", "en")


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
    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()
    refresh_token = fields.String()


class RegisterSchema(Schema):
    username = fields.String(required=True, validate=[validate.Length(min=3, max=64),
                                                      validate.Regexp(r"^[A-Za-z0-9_.-]+$",
                                                                      error="letters, digits, _ . - only")])
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=10, max=256))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    locale = fields.String(load_default="zh-CN", validate=validate.OneOf(LOCALES))
    timezone = fields.String(load_default="Asia/Shanghai", validate=validate.Length(max=64))
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^\+?[0-9 -]{5,20}$"))


class AccountSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    locale = fields.String()
    timezone = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)))
    grids = fields.List(fields.Integer())
    groups = fields.List(fields.String(validate=validate.OneOf(BENEFICIARY_GROUPS)))
    created_at = fields.AwareDateTime()
