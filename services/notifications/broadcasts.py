"""Broadcasts: a coordinator's notice to an audience, fanned out to every inbox and channel.

Creating one resolves the audience (teams and grids by the volunteers service) and stores it; the fan-out
claims it with a guarded UPDATE (so it runs once across replicas; a lease lets another replica resume a
fan-out whose process died) and writes inbox entries in chunks with INSERT … ON CONFLICT DO NOTHING, so a
resumed fan-out adds nothing twice. Scheduled broadcasts (`send_at`) wait for the timer.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import or_, select, update

from services.notifications.contracts import BroadcastPreviewSchema, BroadcastSchema
from services.notifications.deliveries import progress, progress_by_scheme
from services.notifications.fanout import CHUNK, Notice, deliver, group_channel_ids, ids_in_directory
from services.notifications.models import Broadcast
from services.notifications.operations import CoordinatorScope
from shared.claims import claimed, work_through
from shared.db import Database, get_or_404, utcnow
from shared.errors import Forbidden, Invalid
from shared.identity import Caller
from shared.paging import keyset
from shared.scope import acts_in

# audience_members({"kind", "id", "only"}) → user ids, answered by the volunteers service.
Members = Callable[[dict], list[int]]
LEASE = timedelta(seconds=120)


def authorise(caller: Caller, audience: list[dict], scope: CoordinatorScope) -> None:
    """Admins address anyone; coordinators only grids within their scope (each grid covers its subtree),
    as the volunteers service's grid tree records it."""
    caller.require_role("coordinator")
    if caller.is_admin:
        return
    grids = functools.cache(scope)  # asked once, whatever the size of the audience
    for item in audience:
        if item["kind"] != "grid":
            raise Forbidden("Coordinators broadcast to grids within their scope; ask an admin for wider ones.")
        if not acts_in(caller, item["id"], grids):
            raise Forbidden(f"Grid {item['id']} is outside your scope.")


def check_expiry(data: dict, now=None) -> None:
    """A broadcast that would expire before it goes out reaches nobody: refused, not silently done
    (an expiry before `send_at` is refused by the request schema)."""
    if data.get("expires_at") is not None and data["expires_at"] <= (now or utcnow()):
        raise Invalid("The broadcast would expire before it is sent.",
                      errors={"expires_at": ["must be in the future"]})


def _resolve(db: Database, data: dict, members: Members) -> tuple[list[int], list[int], list[int]]:
    """Everyone the audience reaches (each once, in order), how many each item reaches, and the group
    channels it addresses. Reads only."""
    # Resolve before writing: the volunteers service answers outside our transaction.
    per_item: list[list[int]] = []
    for item in data["audience"]:
        if item["kind"] in ("team", "grid"):
            per_item.append([int(u) for u in members({"kind": item["kind"], "id": item["id"],
                                                       "only": item.get("only")})])
        else:
            per_item.append([])
    with db.read() as session:
        for index, item in enumerate(data["audience"]):
            if item["kind"] == "everyone":
                per_item[index] = list(ids_in_directory(session, everyone=True))
            elif item["kind"] == "role":
                per_item[index] = list(ids_in_directory(session, role=item["role"]))
        groups = group_channel_ids(session, [(i["kind"], i["id"]) for i in data["audience"]
                                             if i["kind"] in ("team", "grid") and not i.get("only")])
    recipients = list(dict.fromkeys(int(uid) for people in per_item for uid in people))
    return recipients, [len(set(people)) for people in per_item], groups


def preview_broadcast(db: Database, caller: Caller, data: dict, scope: CoordinatorScope,
                      members: Members) -> dict:
    """How many people a broadcast would reach, authorised and checked as sending it; writes nothing."""
    authorise(caller, data["audience"], scope)
    check_expiry(data)
    recipients, counts, groups = _resolve(db, data, members)
    audience = [{key: value for key, value in item.items() if value is not None} | {"people": count}
                for item, count in zip(data["audience"], counts, strict=True)]
    return BroadcastPreviewSchema().dump({"targeted": len(recipients), "audience": audience,
                                          "group_channels": len(groups)})


def create_broadcast(db: Database, caller: Caller, data: dict, scope: CoordinatorScope,
                     members: Members) -> dict:
    authorise(caller, data["audience"], scope)
    check_expiry(data)
    recipients, _counts, groups = _resolve(db, data, members)
    now = utcnow()
    with db.transaction() as session:
        broadcast = Broadcast(sender_id=caller.user_id, title=data["title"], body=data["body"],
                              title_en=data.get("title_en"), body_en=data.get("body_en"),
                              severity=data["severity"], audience=data["audience"], recipient_ids=recipients,
                              group_channel_ids=groups, send_at=data.get("send_at") or now,
                              expires_at=data.get("expires_at"), targeted=len(recipients), state="scheduled")
        session.add(broadcast)
        session.flush()
        return view(session, broadcast)


def view(session, broadcast: Broadcast) -> dict:
    channels = progress(session, broadcast.id)
    return BroadcastSchema().dump({
        "id": broadcast.id, "sender_id": broadcast.sender_id, "title": broadcast.title, "body": broadcast.body,
        "title_en": broadcast.title_en, "body_en": broadcast.body_en,
        "by_channel": progress_by_scheme(session, broadcast.id), "severity": broadcast.severity, "audience": broadcast.audience, "state": broadcast.state,
        "send_at": broadcast.send_at, "expires_at": broadcast.expires_at, "targeted": broadcast.targeted,
        "sent": broadcast.inboxed, "failed": channels["failed"], "channels": channels,
        "created_at": broadcast.created_at, "done_at": broadcast.done_at})


def get_broadcast(db: Database, caller: Caller, broadcast_id: int) -> dict:
    caller.require_role("coordinator")
    with db.read() as session:
        broadcast = get_or_404(session, Broadcast, broadcast_id, "Broadcast",
                               visible=lambda b: b.sender_id == caller.user_id or caller.is_admin)
        return view(session, broadcast)


def list_broadcasts(db: Database, caller: Caller, query: dict) -> dict:
    caller.require_role("coordinator")
    with db.read() as session:
        stmt = select(Broadcast)
        if not caller.is_admin or query.get("mine"):
            stmt = stmt.where(Broadcast.sender_id == caller.user_id)
        return keyset(session, stmt, Broadcast.id, query).answer(lambda rows: [view(session, b) for b in rows])


def _due(now):
    """Due for its fan-out: scheduled and its time has come, or claimed by a process whose lease ran out."""
    return or_((Broadcast.state == "scheduled") & (Broadcast.send_at <= now),
               (Broadcast.state == "sending") & (Broadcast.locked_until < now))


def claim(session, broadcast_id: int) -> bool:
    """Take a due broadcast's fan-out for LEASE (a guarded UPDATE whose WHERE repeats `_due`, so one
    replica wins; a lease that runs out lets another resume a fan-out whose process died)."""
    now = utcnow()
    return claimed(session, update(Broadcast).where(Broadcast.id == broadcast_id, _due(now))
                   .values(state="sending", locked_until=now + LEASE, fan_out_runs=Broadcast.fan_out_runs + 1))


def fan_out(db: Database, broadcast_id: int | None = None) -> int:
    """Fan out the broadcast `broadcast_id` if it is due, or else every due one, one after another: each is
    claimed (shared.claims), then written chunk by chunk in transactions of their own, renewing the lease.
    Answers how many this worker fanned out (0 when another one had it)."""
    done = 0
    taken: list[int] = []

    def take(session, key: int) -> bool:
        if claim(session, key):
            taken.append(key)
            return True
        return False

    while True:
        due = select(Broadcast.id).where(_due(utcnow())).order_by(Broadcast.send_at).limit(1)
        if broadcast_id is not None:
            due = due.where(Broadcast.id == broadcast_id)
        if not work_through(db, due, take):
            return done
        _write_out(db, taken.pop())
        done += 1
        if broadcast_id is not None:
            return done


def _write_out(db: Database, broadcast_id: int) -> None:
    """Write a claimed broadcast's inbox entries and queue its channels, CHUNK people per transaction
    (fanout.deliver: INSERT … SELECT … ON CONFLICT DO NOTHING, so a resumed fan-out adds nothing twice)."""
    with db.read() as session:
        b = session.get(Broadcast, broadcast_id)
        # In id order: every run cuts the same chunks, and each chunk reads one narrow range of the directory.
        recipients, groups = sorted(b.recipient_ids), list(b.group_channel_ids)
        notice = Notice(source_key=f"broadcast:{b.id}", type="broadcast", category="broadcasts",
                        payload={"title": b.title, "body": b.body, "title_en": b.title_en or b.title,
                                 "body_en": b.body_en or b.body}, severity=b.severity,
                        critical=b.severity == "critical", data={"broadcast_id": b.id},
                        broadcast_id=b.id, expires_at=b.expires_at)
    for index in range(0, max(len(recipients), 1), CHUNK):
        chunk = recipients[index:index + CHUNK]
        last = index + CHUNK >= len(recipients)
        with db.transaction() as session:
            outcome = deliver(session, notice, [(uid, None) for uid in chunk], groups if last else ())
            values = {"inboxed": Broadcast.inboxed + outcome.inboxed, "locked_until": utcnow() + LEASE}
            if last:
                values.update(state="done", done_at=utcnow(), locked_until=None)
            session.execute(update(Broadcast).where(Broadcast.id == broadcast_id).values(**values))
