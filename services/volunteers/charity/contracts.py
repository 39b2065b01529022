"""The RPC and HTTP contract of merchants, charity items, claims, micro-wishes and their reports: the one
public module of charity's request and answer schemas.

The gateway validates requests with these schemas and forwards what they loaded, the volunteers service
loads it again with the same schema (every schema here loads its own output unchanged), and the OpenAPI
document is generated from them. The API's names of a charity item are its first ones, as the web app and
clients know them: paths `/pledges`, schemas `Pledge*`, fields `pledge_id` and `pledge_title`.
"""
from __future__ import annotations

from zoneinfo import available_timezones

from marshmallow import Schema, ValidationError, validate, validates, validates_schema

from services.volunteers.charity.rules import (
    ALL_WEEKDAYS,
    HHMM,
    ITEM_STATES,
    PERIODS,
    WISH_STATES,
    RedemptionHours,
)
from services.volunteers.contracts import TimelineEntrySchema
from shared import fields
from shared.identity import BENEFICIARY_GROUPS
from shared.inputs import FIRST_YEAR, LAST_YEAR, MONTH_PATTERN
from shared.paging import PageQuerySchema, page_of

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OPENING_RANGE = r"^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$"
MERCHANT_STATES = ("pending", "approved", "rejected", "suspended")
MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database
ID = validate.Range(min=1, max=MAX_ID)
CLAIM_STATES = ("claimed", "redeemed", "expired")


# ------------------------------------------------------------------------------ merchants

class MerchantRequestSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    address = fields.String(load_default="", validate=validate.Length(max=300))
    grid_id = fields.Integer(load_default=None, allow_none=True, validate=ID)
    category = fields.String(load_default="", validate=validate.Length(max=64),
                             metadata={"example": "cafe"})
    street_area = fields.String(load_default="", validate=validate.Length(max=64),
                                metadata={"description": "Commercial street, e.g. U巷 or 中潭一哩街区"})
    opening_hours = fields.Dict(
        keys=fields.String(validate=validate.OneOf(WEEKDAY_NAMES)),
        values=fields.String(validate=validate.Regexp(OPENING_RANGE, error="use HH:MM-HH:MM")),
        load_default=dict, metadata={"example": {"mon": "08:00-20:00"}})
    contact = fields.String(load_default="", validate=validate.Length(max=100))
    good_shop = fields.Boolean(load_default=False, metadata={"description": "Member of 新域好店家"})
    timezone = fields.String(load_default="Asia/Shanghai", validate=validate.Length(max=64),
                             metadata={"description": "an IANA time zone name (e.g. Asia/Shanghai)"})

    @validates("timezone")
    def _zone(self, value, **_):
        if value not in available_timezones():
            raise ValidationError("not an IANA time zone")


class MerchantSeedSchema(MerchantRequestSchema):
    """What the system may set when it records a shop (demo seed, visits): its owner and status."""

    user_id = fields.Integer(load_default=None, allow_none=True)
    status = fields.String(load_default="approved", validate=validate.OneOf(MERCHANT_STATES))


class MerchantSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer(allow_none=True)
    name = fields.String()
    address = fields.String()
    grid_id = fields.Integer(allow_none=True)
    category = fields.String()
    street_area = fields.String()
    opening_hours = fields.Dict()
    contact = fields.String()
    good_shop = fields.Boolean()
    status = fields.String()
    timezone = fields.String()
    approved_at = fields.AwareDateTime(allow_none=True)
    rejection_reason = fields.String(metadata={
        "description": "why a coordinator rejected the shop (status rejected); empty otherwise"})
    rejected_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()


class MerchantQuerySchema(PageQuerySchema):
    grid_id = fields.Integer(validate=ID, metadata={"description": "That grid's subtree"})
    status = fields.String(validate=validate.OneOf(MERCHANT_STATES))
    good_shop = fields.Boolean()
    category = fields.String(validate=validate.Length(max=64))
    street_area = fields.String(validate=validate.Length(max=64))
    mine = fields.Boolean(load_default=False, metadata={"description": "Only shops I own"})


MerchantPageSchema = page_of(MerchantSchema, "MerchantPageSchema")


class MerchantDecisionSchema(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=1000))


class MerchantRejectionSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000), metadata={
        "description": "why the shop is not approved; its owner reads it"})


# -------------------------------------------------------------------------- charity items

class RedemptionHoursSchema(Schema):
    start = fields.String(load_default="00:00", validate=validate.Regexp(HHMM, error="use HH:MM"))
    end = fields.String(load_default="24:00", validate=validate.Regexp(HHMM, error="use HH:MM (24:00 = midnight)"))
    weekdays = fields.List(fields.Integer(validate=validate.OneOf(ALL_WEEKDAYS)), load_default=lambda: list(ALL_WEEKDAYS),
                           validate=validate.Length(min=1, max=7), metadata={"description": "1 = Monday … 7 = Sunday"})

    @validates_schema
    def _order(self, data, **_):
        try:
            RedemptionHours.parse(data)
        except ValueError as exc:
            raise ValidationError(str(exc), "end") from None


class PledgeFieldsSchema(Schema):
    """The fields a merchant sets on an item (PATCH takes any subset of them)."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=200),
                          metadata={"example": "骑手免费咖啡一杯"})
    title_en = fields.String(load_default="", validate=validate.Length(max=200))
    description = fields.String(load_default="", validate=validate.Length(max=2000))
    description_en = fields.String(load_default="", validate=validate.Length(max=2000))
    beneficiary_groups = fields.List(
        fields.String(validate=validate.OneOf(BENEFICIARY_GROUPS)), required=True,
        validate=validate.Length(min=1, max=len(BENEFICIARY_GROUPS)),
        metadata={"description": "rider, courier, sanitation, elderly; outdoor = all outdoor workers"})
    stock = fields.Integer(required=True, validate=validate.Range(min=1, max=100000),
                           metadata={"description": "Units per stock period"})
    stock_period = fields.String(load_default="day", validate=validate.OneOf(PERIODS))
    per_person_limit = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100))
    per_person_period = fields.String(load_default="day", validate=validate.OneOf(PERIODS))
    valid_from = fields.Date(load_default=None, allow_none=True, metadata={"description": "Default: today"})
    valid_until = fields.Date(load_default=None, allow_none=True, metadata={"description": "Inclusive; none = open"})
    redemption_hours = fields.Nested(RedemptionHoursSchema, load_default=lambda: RedemptionHoursSchema().load({}))

    @validates_schema
    def _period(self, data, **_):
        if data.get("valid_from") and data.get("valid_until") and data["valid_until"] < data["valid_from"]:
            raise ValidationError("must not be before valid_from", "valid_until")


class PledgeUpdateSchema(PledgeFieldsSchema):
    """A change to an item (PATCH, every field optional): valid_from can be moved, not removed."""

    valid_from = fields.Date(metadata={"description": "Moved, never removed"})


class PledgeRequestSchema(PledgeFieldsSchema):
    merchant_id = fields.Integer(required=True, validate=ID)


class PledgeSchema(Schema):
    id = fields.Integer()
    merchant_id = fields.Integer()
    merchant_name = fields.String()
    grid_id = fields.Integer(allow_none=True)
    street_area = fields.String()
    title = fields.String()
    title_en = fields.String()
    description = fields.String()
    description_en = fields.String()
    beneficiary_groups = fields.List(fields.String())
    stock = fields.Integer()
    stock_period = fields.String()
    per_person_limit = fields.Integer()
    per_person_period = fields.String()
    valid_from = fields.Date()
    valid_until = fields.Date(allow_none=True)
    redemption_hours = fields.Dict()
    status = fields.String()
    status_note = fields.String()
    version = fields.Integer()
    remaining = fields.Integer(allow_none=True,
                               metadata={"description": "Left in the current stock period (today, this week)"})
    created_at = fields.AwareDateTime()


class PledgeQuerySchema(PageQuerySchema):
    grid_id = fields.Integer(validate=ID, metadata={"description": "That grid's subtree"})
    group = fields.String(validate=validate.OneOf(BENEFICIARY_GROUPS))
    merchant_id = fields.Integer(validate=ID)
    mine = fields.Boolean(load_default=False, metadata={"description": "My shops' items in every state"})
    status = fields.String(validate=validate.OneOf(ITEM_STATES), metadata={"description": "With mine=true"})


PledgePageSchema = page_of(PledgeSchema, "PledgePageSchema")


class PledgeStatusChangeSchema(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=1000))


# --------------------------------------------------------------------------------- claims

class ClaimSchema(Schema):
    id = fields.Integer()
    pledge_id = fields.Integer()
    pledge_title = fields.String()
    merchant_id = fields.Integer()
    merchant_name = fields.String()
    claimant_id = fields.Integer()
    code = fields.String(metadata={"description": "Only the claimant sees it"})
    qr_payload = fields.String()
    state = fields.String()
    window_starts_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime()
    claimed_at = fields.AwareDateTime()
    redeemed_at = fields.AwareDateTime(allow_none=True)
    expired_at = fields.AwareDateTime(allow_none=True)


class ClaimQuerySchema(PageQuerySchema):
    state = fields.String(validate=validate.OneOf(CLAIM_STATES))


ClaimPageSchema = page_of(ClaimSchema, "ClaimPageSchema")


# --------------------------------------------------------------------------------- wishes

class WishRequestSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={"example": "一台电饭煲"})
    story = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    estimated_value = fields.Integer(required=True, validate=validate.Range(min=1, max=5000),
                                     metadata={"description": "Yuan"})
    grid_id = fields.Integer(load_default=None, allow_none=True, validate=ID)


class WishTransitionSchema(TimelineEntrySchema):
    """A wish's timeline entry: the same record as an action's (lifecycle.Transition), without data."""

    class Meta:
        exclude = ("data",)


class WishSchema(Schema):
    id = fields.Integer()
    owner_id = fields.Integer()
    title = fields.String()
    story = fields.String()
    estimated_value = fields.Integer()
    grid_id = fields.Integer(allow_none=True)
    state = fields.String()
    adopter_id = fields.Integer(allow_none=True)
    adopter_name = fields.String()
    note = fields.String()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    timeline = fields.List(fields.Nested(WishTransitionSchema))


class WishQuerySchema(PageQuerySchema):
    state = fields.String(validate=validate.OneOf(WISH_STATES),
                          metadata={"description": "Default: published (open for adoption)"})
    grid_id = fields.Integer(validate=ID, metadata={"description": "That grid's subtree"})
    mine = fields.Boolean(load_default=False, metadata={"description": "Wishes I posted or adopted"})


WishPageSchema = page_of(WishSchema, "WishPageSchema")


class WishStepSchema(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=1000))


# -------------------------------------------------------------------------------- reports

class MonthQuerySchema(Schema):
    month = fields.String(required=True, validate=validate.Regexp(MONTH_PATTERN, error=f"use YYYY-MM, {FIRST_YEAR}..{LAST_YEAR}"),
                          metadata={"example": "2026-11"})


class MonthCountsSchema(Schema):
    claims = fields.Integer(metadata={"description": "Claims made in the month"})
    redemptions = fields.Integer(metadata={"description": "Of which redeemed"})
    expired = fields.Integer(metadata={"description": "Of which expired unredeemed"})
    open = fields.Integer(metadata={"description": "Of which still redeemable"})


class PledgeMonthSchema(MonthCountsSchema):
    pledge_id = fields.Integer()
    title = fields.String()
    status = fields.String()


class MerchantReportSchema(Schema):
    merchant_id = fields.Integer()
    merchant_name = fields.String()
    month = fields.String()
    items = fields.List(fields.Nested(PledgeMonthSchema))
    totals = fields.Nested(MonthCountsSchema)


class GridMerchantsReportSchema(Schema):
    grid_id = fields.Integer()
    grid_name = fields.String()
    merchants = fields.Integer(metadata={"description": "Approved shops in the subtree"})
    good_shops = fields.Integer(metadata={"description": "Of which members of 新域好店家"})
    with_live_items = fields.Integer()
    by_street_area = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_category = fields.Dict(keys=fields.String(), values=fields.Integer())


class WishSeedSchema(WishRequestSchema):
    """What the system may set when it records a wish (demo seed): its owner and whether it is vetted."""

    owner_id = fields.Integer(required=True, validate=ID)
    state = fields.String(load_default="published", validate=validate.OneOf(("submitted", "published")))
