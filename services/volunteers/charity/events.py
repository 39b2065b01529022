"""What charity's events tell the rest of the suite (the notifications service reads them). The event names
and keys are the suite's contract: a charity item is still `pledge.*` with a `pledge_id` there."""
from __future__ import annotations

from sqlalchemy.orm import Session

from services.volunteers.charity.models import CharityItem, Claim, Merchant
from services.volunteers.grids import Tree


def item_payload(item: CharityItem, merchant: Merchant) -> dict:
    return {"pledge_id": item.id, "title": item.title, "merchant_id": merchant.id,
            "merchant_name": merchant.name, "merchant_user_id": merchant.user_id, "grid_id": merchant.grid_id,
            "beneficiary_groups": list(item.beneficiary_groups or [])}


def claim_payload(claim: Claim, item: CharityItem, merchant: Merchant) -> dict:
    return {**item_payload(item, merchant), "claim_id": claim.id, "claimant_id": claim.claimant_id,
            "expires_at": claim.expires_at}


def vetting_payload(session: Session, grid_id: int | None, title: str, submitted_by: int | None) -> dict:
    """What the coordinators who vet a wish or a shop are told: the grid by name, and who they are (the
    nearest grid up the tree that names coordinators; every top grid's when the thing has no grid yet)."""
    tree = Tree.load(session)
    coordinators: list[int] = []
    if grid_id is not None and grid_id in tree.grids:
        current: int | None = grid_id
        while current is not None and not coordinators:
            coordinators = list(tree.grids[current].coordinator_ids or [])
            current = tree.grids[current].parent_id
    else:
        for grid in tree.grids.values():
            if grid.parent_id is None:
                coordinators.extend(u for u in grid.coordinator_ids or [] if u not in coordinators)
    grid = tree.grids.get(grid_id) if grid_id is not None else None
    return {"title": title, "grid_id": grid_id, "grid_name": grid.name if grid is not None else "",
            "coordinator_ids": sorted(set(coordinators)), "submitted_by": submitted_by}
