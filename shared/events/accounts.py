"""Events of the gateway's accounts: the notifications service keeps its directory of recipients from them."""
from marshmallow import Schema, fields

from shared.events import register


class AccountPayload(Schema):
    user_id = fields.Integer(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    locale = fields.String(load_default="zh-CN")
    timezone = fields.String(load_default="Asia/Shanghai")
    roles = fields.List(fields.String(), load_default=list)
    grids = fields.List(fields.Integer(), load_default=list)
    groups = fields.List(fields.String(), load_default=list)
    email = fields.String(allow_none=True, load_default=None)
    active = fields.Boolean(load_default=True)


register("account.registered", "gateway", AccountPayload, description="A new account.")
register("account.updated", "gateway", AccountPayload,
         description="An account's profile, roles or groups changed.")
