"""Every event type in the contracts, published as its producer would, reaches its recipients' inboxes."""
from __future__ import annotations

import random

import pytest

from shared.events import REGISTRY
from tests.notifications.integration.conftest import entries, publish
from tests.notifications.samples import sample_payload
from tests.support.suite import wait_for

pytestmark = pytest.mark.integration

# The field that names the person concerned, per type (the rest of the payload is sample data).
PERSON = {
    "booking": "booker_id", "waitlist": "user_id", "team": "user_id", "pledge.published": "merchant_user_id",
    "pledge.exhausted": "merchant_user_id", "pledge": "claimant_id", "claim": "claimant_id",
    "wish.fulfilled": "adopter_id", "wish": "owner_id", "account": "user_id", "activity": "user_id",
}
ACTION_PERSON = {"action.reported": "coordinator_ids", "action.dispatched": "assignee_ids",
                 "action.accepted": "coordinator_ids", "action.declined": "coordinator_ids",
                 "action.escalated": "coordinator_ids", "action.resolved": "coordinator_ids",
                 "action.closed": "follower_ids", "action.reopened": "assignee_ids",
                 "action.cancelled": "follower_ids", "action.merged": "follower_ids",
                 "wish.submitted": "coordinator_ids", "merchant.registered": "coordinator_ids",
                 "activity.session_reminder": "user_ids", "activity.session_changed": "user_ids",
                 "activity.cancelled": "user_ids", "activity.venue_lost": "user_ids"}


def payload_for(type_name: str, user_id: int) -> dict:
    payload = sample_payload(type_name, actor_id=None) if type_name.startswith("action.") \
        else sample_payload(type_name)
    for key in ("decided_by", "cancelled_by", "submitted_by", "invited_by"):
        if key in payload:
            payload[key] = None
    if type_name in ACTION_PERSON:
        payload[ACTION_PERSON[type_name]] = [user_id]
        return payload
    field = PERSON.get(type_name) or PERSON[type_name.split(".")[0]]
    payload[field] = user_id
    if type_name.startswith("account."):
        payload.update(username=f"u{user_id}", display_name="新用户", roles=["resident"], groups=[], grids=[],
                       active=True)
    return payload


@pytest.fixture(scope="module")
def published(fast_suite) -> dict:
    """A fresh person id per event type, and that event published for them, all at once.

    The ids are far above the accounts of the suite: an inbox needs no account, and without a directory
    entry the person is addressed in zh-CN.
    """
    base = 50_000_000 + random.randrange(1_000_000) * 100
    return {type_name: (base + index, publish(fast_suite, type_name, payload_for(type_name, base + index)))
            for index, type_name in enumerate(sorted(REGISTRY))}


@pytest.mark.parametrize("type_name", sorted(REGISTRY))
def test_each_event_type_lands_in_the_inbox_of_the_person_concerned(fast_suite, published, type_name):
    person_id, envelope = published[type_name]
    found = wait_for(lambda: entries(fast_suite, person_id, envelope["event_id"]), timeout=10,
                     message=f"the {type_name} entry")
    assert found[0].type == type_name and found[0].title and found[0].body
    assert "{" not in found[0].title + found[0].body
