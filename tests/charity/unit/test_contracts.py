"""Charity's contract schemas load their own loaded output unchanged: the gateway forwards what it loaded
(dates and all, as RPC JSON carries them) and the service loads it again with the same schema."""
from __future__ import annotations

from datetime import date

import pytest

from services.volunteers.charity.contracts import (
    ClaimQuerySchema,
    MerchantDecisionSchema,
    MerchantQuerySchema,
    MerchantRejectionSchema,
    MerchantRequestSchema,
    MerchantSeedSchema,
    MonthQuerySchema,
    PledgeFieldsSchema,
    PledgeQuerySchema,
    PledgeRequestSchema,
    PledgeStatusChangeSchema,
    PledgeUpdateSchema,
    WishQuerySchema,
    WishRequestSchema,
    WishSeedSchema,
    WishStepSchema,
)

ITEM = {"merchant_id": 3, "title": "骑手免费咖啡一杯", "beneficiary_groups": ["rider", "outdoor"], "stock": 10,
        "stock_period": "day", "valid_from": "2026-12-01", "valid_until": "2026-12-31",
        "redemption_hours": {"start": "08:00", "end": "11:00", "weekdays": [1, 2, 3]}}

BODIES = [
    (MerchantRequestSchema, {"name": "U巷咖啡", "grid_id": 7, "opening_hours": {"mon": "08:00-20:00"},
                             "good_shop": True, "timezone": "Asia/Shanghai"}),
    (MerchantRequestSchema, {"name": "一哩早餐铺"}),
    (MerchantSeedSchema, {"name": "中潭五金", "street_area": "中潭一哩街区", "user_id": None, "status": "approved"}),
    (MerchantQuerySchema, {"limit": "5", "cursor": "12", "grid_id": "3", "good_shop": "true", "mine": "false"}),
    (MerchantQuerySchema, {}),
    (MerchantDecisionSchema, {}),
    (MerchantDecisionSchema, {"note": "checked on a visit"}),
    (MerchantRejectionSchema, {"reason": "not on the street"}),
    (PledgeRequestSchema, ITEM),
    (PledgeRequestSchema, {"merchant_id": 1, "title": "雨伞", "beneficiary_groups": ["outdoor"], "stock": 20}),
    (PledgeQuerySchema, {"group": "rider", "grid_id": "2", "limit": "20"}),
    (PledgeQuerySchema, {"mine": "true", "status": "paused"}),
    (PledgeStatusChangeSchema, {}),
    (PledgeStatusChangeSchema, {"note": "closed for a week"}),
    (ClaimQuerySchema, {"state": "redeemed", "cursor": "40"}),
    (WishRequestSchema, {"title": "一台电饭煲", "story": "家里的坏了", "estimated_value": 300, "grid_id": None}),
    (WishSeedSchema, {"title": "一台电饭煲", "story": "家里的坏了", "estimated_value": 300, "owner_id": 4}),
    (WishQuerySchema, {"state": "submitted", "grid_id": "5", "mine": "false"}),
    (WishStepSchema, {"note": "got it from family"}),
    (MonthQuerySchema, {"month": "2026-11"}),
]


@pytest.mark.parametrize(("schema", "body"), BODIES, ids=lambda v: v.__name__ if isinstance(v, type) else "")
def test_a_loaded_body_loads_again_unchanged(schema, body):
    loaded = schema().load(body)
    assert schema().load(loaded) == loaded


@pytest.mark.parametrize("body", [{"stock": 5}, {"valid_until": None}, {"valid_from": "2026-12-02"},
                                  {"redemption_hours": {"start": "06:00", "end": "09:00"}}])
def test_a_partial_change_loads_again_unchanged_at_the_gateway_and_the_service(body):
    at_gateway = PledgeUpdateSchema(partial=True).load(body)
    assert PledgeUpdateSchema(partial=True).load(at_gateway) == at_gateway
    assert PledgeFieldsSchema().load(at_gateway, partial=True) == at_gateway
    assert set(at_gateway) == set(body)  # a change carries only what was sent


def test_dates_travel_as_dates():
    loaded = PledgeRequestSchema().load(ITEM)
    assert loaded["valid_from"] == date(2026, 12, 1)
    assert PledgeRequestSchema().load(loaded)["valid_until"] == date(2026, 12, 31)
