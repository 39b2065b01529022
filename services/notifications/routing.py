"""Who hears of an event: each event type mapped to the people concerned, by audience.

Pure: no database, no broker. An audience name picks a template variant (`booking.requested/manager`).
People are listed in priority order; someone in two audiences hears once, in the first. The actor (the
person whose own act caused the event) is not told of it, except where the message is their receipt.

Actions: the reporter and followers, the coordinators of the level now responsible, the coordinators of
every level the action passed through on its way up (`earlier_coordinator`), the people asked to act
(`assignee`) and those no longer asked (`released`: someone else accepted, it was dispatched elsewhere,
or it was cancelled or merged into another case). The checks of a mass action do not tell the one who ordered it of each step: they feed one
progress digest per NUANXIN_MASS_ACTION_DIGEST_MINUTES (`Route.digest`), and a check that closes itself
asks nobody to verify it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from shared.events import REGISTRY

CATEGORIES = ("account", "bookings", "actions", "teams", "charity", "broadcasts", "activities")

CATEGORY_OF_PREFIX = {
    "account": "account", "booking": "bookings", "waitlist": "bookings", "action": "actions",
    "team": "teams", "pledge": "charity", "claim": "charity", "wish": "charity", "merchant": "charity",
    "broadcast": "broadcasts", "activity": "activities",
}

# The answer a "please accept" entry waits for: open while its reader is still asked (InboxEntry.awaits).
AWAITING = {"action.dispatched": "assignee"}


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
    # A mass action's progress digest this event feeds: (mass action id, the people it is for).
    digest: tuple[int, list[int]] | None = None


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
    elif type_name == "activity.hours_credited":
        r.people = [("volunteer", _ids(p["user_id"]))]
    elif type_name == "activity.venue_lost":
        r.people = [("organiser", _ids(p.get("user_ids")))]
    elif prefix == "activity":
        # Sign-ups and offers name their one participant; reminders and changes list everyone signed up.
        r.people = [("participant", _ids(p.get("user_id"), p.get("user_ids")))]
    elif prefix == "action":
        r.people = _action_people(type_name, p)
        r.exclude = set(_ids(p.get("actor_id")))
        if p.get("parent_id") is not None and type_name in CHECK_DIGESTED:
            # A check of a mass action: whoever ordered it reads one digest, not a message per check.
            ordered = _ids(p.get("parent_reporter_id"), p.get("reporter_id"), p.get("follower_ids"))
            r.people = [(aud, [u for u in ids if u not in ordered]) for aud, ids in r.people
                        if aud in CHECK_DIGESTED[type_name]]
            r.digest = (int(p["parent_id"]), ordered)
        if type_name in ("action.reported", "action.escalated"):
            r.groups.append(("grid", p["grid_id"]))
        if p.get("team_id") and type_name in ("action.dispatched", "action.escalated", "action.cancelled",
                                              "action.merged"):
            r.groups.append(("team", p["team_id"]))
    elif type_name == "team.member_invited":
        r.people = [("invitee", _ids(p["user_id"]))]
    elif type_name in ("wish.submitted", "merchant.registered"):
        r.people = [("coordinator", _ids(p.get("coordinator_ids")))]
        r.exclude = set(_ids(p.get("submitted_by")))
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


# Per step of a mass action's check, who is still told of that one check (the rest read the digest): those
# no longer asked hear someone took it; a check closes itself when its list is ticked and resolved, so
# nobody is asked to verify it and its volunteer, who just did so, is not told again.
CHECK_DIGESTED = {"action.accepted": ("released",), "action.resolved": (), "action.closed": ()}


def _action_people(type_name: str, p: dict) -> list[tuple[str, list[int]]]:
    followers = ("follower", _ids(p.get("reporter_id"), p.get("follower_ids")))
    coordinators = ("coordinator", _ids(p.get("coordinator_ids")))
    earlier = ("earlier_coordinator", _ids(p.get("earlier_coordinator_ids")))
    assignees = ("assignee", _ids(p.get("assignee_ids")))
    released = ("released", _ids(p.get("released_ids")))
    if type_name == "action.reported":
        # The reporter's receipt ("we got it") is for them even though they are the actor.
        return [coordinators, ("reporter", _ids(p.get("reporter_id"))), followers]
    if type_name == "action.dispatched":
        return [assignees, released, followers, earlier]
    if type_name == "action.accepted":
        return [released, coordinators, earlier, followers]
    if type_name == "action.declined":
        return [coordinators]
    if type_name == "action.escalated":
        return [coordinators, earlier, assignees, followers]
    if type_name == "action.resolved":
        return [coordinators, earlier, followers]
    if type_name == "action.closed":
        return [followers, assignees, coordinators, earlier]
    if type_name == "action.reopened":
        return [assignees, coordinators, earlier]
    if type_name in ("action.cancelled", "action.merged"):
        # Everyone still asked (or who had taken it) is released; the reporter and followers hear where a
        # duplicate went (the actor, as ever, is not told of their own act).
        return [released, followers, coordinators, earlier]
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
