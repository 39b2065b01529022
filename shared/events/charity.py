"""Events of merchants' charity items (pledges), their claims, and micro-wishes (volunteers service)."""
from marshmallow import Schema, fields

from shared.events import register


class PledgePayload(Schema):
    pledge_id = fields.Integer(required=True)
    title = fields.String(required=True)
    merchant_id = fields.Integer(required=True)
    merchant_name = fields.String(required=True)
    merchant_user_id = fields.Integer(required=True)
    grid_id = fields.Integer(allow_none=True, load_default=None)
    beneficiary_groups = fields.List(fields.String(), load_default=list)


class ClaimPayload(PledgePayload):
    claim_id = fields.Integer(required=True)
    claimant_id = fields.Integer(required=True)
    expires_at = fields.AwareDateTime(allow_none=True, load_default=None)


class WishPayload(Schema):
    wish_id = fields.Integer(required=True)
    title = fields.String(required=True)
    owner_id = fields.Integer(required=True)
    grid_id = fields.Integer(allow_none=True, load_default=None)
    adopter_id = fields.Integer(allow_none=True, load_default=None)


class VettingPayload(Schema):
    """Something waits for a coordinator's vetting: a wish or a merchant's shop."""

    title = fields.String(required=True)
    grid_id = fields.Integer(allow_none=True, load_default=None)
    grid_name = fields.String(load_default="")
    # The coordinators of the grid (the nearest grid up the tree that names any).
    coordinator_ids = fields.List(fields.Integer(), load_default=list)
    submitted_by = fields.Integer(allow_none=True, load_default=None)


class WishVettingPayload(VettingPayload):
    wish_id = fields.Integer(required=True)


class MerchantVettingPayload(VettingPayload):
    merchant_id = fields.Integer(required=True)


register("pledge.published", "volunteers", PledgePayload, description="A merchant's item went public.")
register("pledge.claimed", "volunteers", ClaimPayload, description="A beneficiary claimed an item.")
register("pledge.redeemed", "volunteers", ClaimPayload, description="The merchant redeemed a claim.")
register("pledge.exhausted", "volunteers", PledgePayload, description="An item's stock ran out.")
register("claim.expired", "volunteers", ClaimPayload, description="A claim was not redeemed in time.")
register("wish.submitted", "volunteers", WishVettingPayload,
         description="A micro-wish waits for its grid's coordinators to vet it.")
register("merchant.registered", "volunteers", MerchantVettingPayload,
         description="A shop registered and waits for its grid's coordinators to approve it.")
register("wish.published", "volunteers", WishPayload, description="A micro-wish was vetted and published.")
register("wish.adopted", "volunteers", WishPayload, description="A merchant or partner adopted a wish.")
register("wish.fulfilled", "volunteers", WishPayload, description="The owner confirmed receipt.")
