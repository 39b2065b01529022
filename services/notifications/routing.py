"""Who hears of an event: each event type mapped to the people concerned, by audience.

Pure: no database, no broker. An audience name picks a template variant (`booking.requested/manager`).
People are listed in priority order; someone in two audiences hears once, in the first. The actor (the
person whose own act caused the event) is not told of it, except where the message is their receipt.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from shared.events import REGISTRY

CATEGORIES = ("account", "bookings", "actions", "teams", "charity", "broadcasts")

CATEGORY_OF_PREFIX = {
    "account": "account", "booking": "bookings", "waitlist": "bookings", "action": "actions",
    "team": "teams", "pledge": "charity", "claim": "charity", "wish": "charity", "broadcast": "broadcasts",
}


def category_of(type_name: str) -> str:
    return CATEGORY_OF_PREFIX[type_name.split(".")[0]]


@dataclass
class Route:
    category: str
    critical: bool = False
    # (audience, user ids) in priority order.
    people: list[tuple[str, list[int]]] = field(default_factory=list)
    # (audience, directory filter) resolved against the recipient directory: {"role": r} or {"groups": [...]}.
    directory: list[tuple[str, dict]] = field(default_factory=list)
    # Group channels (owner kind, owner id) that also hear of it.
    groups: list[tuple[str, int]] = field(default_factory=list)
    # Ids never told (the actor).
    exclude: set[int] = field(default_factory=set)


def is_critical(type_name: str, payload: dict) -> bool:
    """Critical messages pass quiet hours and opt-outs: registered as such, or escalated to the command."""
    if REGISTRY.get(type_name) is not None and REGISTRY[type_name].critical:
        return True
    return type_name == "action.escalated" and (payload.get("to_level") or 0) >= 3


def _ids(*values) -> list[int]:
    out: list[int] = []
    for value in values:
        if value is None:
            continue
        for uid in value if isinstance(value, list | tuple | set) else [value]:
            if uid is not None and uid not in out:
                out.append(int(uid))
    return out


def route(type_name: str, payload: dict) -> Route:
    """Recipients of one event; KeyError for a type nobody mapped (a test walks the whole registry)."""
    p = payload
    r = Route(category=category_of(type_name), critical=is_critical(type_name, payload))
    prefix = type_name.split(".")[0]
    if prefix == "account":
        r.people = [("user", _ids(p["user_id"]))]
    elif type_name == "booking.requested":
        r.people = [("booker", _ids(p["booker_id"])), ("manager", _ids(p.get("manager_ids")))]
    elif type_name in ("booking.confirmed", "booking.rejected", "booking.reminder_due"):
        r.people = [("booker", _ids(p["booker_id"]))]
        r.exclude = set(_ids(p.get("decided_by"))) - {p["booker_id"]}
    elif type_name in ("booking.cancelled", "booking.expired", "booking.released"):
        r.people = [("booker", _ids(p["booker_id"])), ("manager", _ids(p.get("manager_ids")))]
        r.exclude = set(_ids(p.get("cancelled_by"), p.get("decided_by")))
    elif type_name == "waitlist.offered":
        r.people = [("user", _ids(p["user_id"]))]
    elif prefix == "action":
        r.people = _action_people(type_name, p)
        r.exclude = set(_ids(p.get("actor_id")))
        if type_name in ("action.reported", "action.escalated"):
            r.groups.append(("grid", p["grid_id"]))
        if p.get("team_id") and type_name in ("action.dispatched", "action.escalated"):
            r.groups.append(("team", p["team_id"]))
    elif type_name == "team.member_joined":
        r.people = [("member", _ids(p["user_id"])), ("lead", _ids(p.get("lead_ids")))]
        r.groups.append(("team", p["team_id"]))
    elif type_name == "pledge.published":
        r.people = [("merchant", _ids(p["merchant_user_id"]))]
        r.directory = [("beneficiary", {"groups": list(p.get("beneficiary_groups") or [])})]
    elif type_name == "pledge.claimed":
        r.people = [("claimant", _ids(p["claimant_id"])), ("merchant", _ids(p["merchant_user_id"]))]
    elif type_name in ("pledge.redeemed", "claim.expired"):
        r.people = [("claimant", _ids(p["claimant_id"]))]
    elif type_name == "pledge.exhausted":
        r.people = [("merchant", _ids(p["merchant_user_id"]))]
    elif type_name == "wish.published":
        r.people = [("owner", _ids(p["owner_id"]))]
        r.directory = [("merchant", {"role": "merchant"})]
    elif type_name == "wish.adopted":
        r.people = [("owner", _ids(p["owner_id"]))]
    elif type_name == "wish.fulfilled":
        r.people = [("adopter", _ids(p.get("adopter_id")))]
    else:
        raise KeyError(f"no recipients mapped for {type_name}")
    return r


def _action_people(type_name: str, p: dict) -> list[tuple[str, list[int]]]:
    followers = ("follower", _ids(p.get("reporter_id"), p.get("follower_ids")))
    coordinators = ("coordinator", _ids(p.get("coordinator_ids")))
    assignees = ("assignee", _ids(p.get("assignee_ids")))
    if type_name == "action.reported":
        # The reporter's receipt ("we got it") is for them even though they are the actor.
        return [coordinators, ("reporter", _ids(p.get("reporter_id"))), followers]
    if type_name == "action.dispatched":
        return [assignees, followers]
    if type_name in ("action.accepted", "action.declined"):
        return [coordinators, followers] if type_name == "action.accepted" else [coordinators]
    if type_name == "action.escalated":
        return [coordinators, assignees, followers]
    if type_name == "action.resolved":
        return [coordinators, followers]
    if type_name == "action.closed":
        return [followers, assignees]
    if type_name == "action.reopened":
        return [assignees, coordinators]
    if type_name == "action.deadline_near":
        return [assignees]
    raise KeyError(f"no recipients mapped for {type_name}")


def resolve(r: Route, directory_matches: dict[str, list[int]] | None = None) -> list[tuple[int, str]]:
    """(user id, audience) pairs: first audience wins, the actor is left out, the reporter's receipt kept."""
    seen: dict[int, str] = {}
    lists = list(r.people) + [(aud, (directory_matches or {}).get(aud, [])) for aud, _ in r.directory]
    for audience, ids in lists:
        for uid in ids:
            if uid in seen:
                continue
            if uid in r.exclude and audience != "reporter":
                continue
            seen[uid] = audience
    return list(seen.items())
