"""Use-cases of the notifications service: events to notices, the inbox, preferences and channels."""
from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from services.notifications import channels as addresses
from services.notifications.contracts import ChannelSchema, InboxEntrySchema, PreferencesSchema
from services.notifications.fanout import Notice, deliver, group_channel_ids, ids_in_directory
from services.notifications.models import (
    Channel,
    Delivery,
    InboxEntry,
    Preference,
    Recipient,
    RecipientGroup,
    RecipientRole,
    Reminder,
)
from services.notifications.routing import AWAITING, resolve, route
from shared import config
from shared.claims import claimed, work_through
from shared.db import Database, insert_ignoring, utcnow
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.identity import Caller
from shared.paging import keyset
from shared.scope import acts_in

# The grid ids a person coordinates (subtrees included), answered by the volunteers service, whose grid
# tree is the one record of coordinator scope; the caller's role is checked here.
CoordinatorScope = Callable[[int], list[int]]


def upsert_recipient(session, payload: dict) -> None:
    """Keep what an account event says of its account: its profile, and its roles and beneficiary groups
    (each replaced whole when the event names them)."""
    user_id = payload["user_id"]
    recipient = session.get(Recipient, user_id) or Recipient(user_id=user_id)
    for key in ("username", "display_name", "locale", "timezone", "grids", "active"):
        setattr(recipient, key, payload.get(key, getattr(recipient, key)))
    recipient.updated_at = utcnow()
    session.add(recipient)
    session.flush()
    for key, model, column in (("roles", RecipientRole, "role"), ("groups", RecipientGroup, "group_name")):
        if key in payload:
            session.execute(delete(model).where(model.user_id == user_id))
            rows = [{"user_id": user_id, column: value} for value in sorted(set(payload[key] or []))]
            if rows:
                session.execute(insert_ignoring(session, model, ["user_id", column]), rows)


# -- events --------------------------------------------------------------------------------------------
def _ids_of(payload: dict) -> dict:
    """What a client needs to link an entry to its subject: the payload's ids."""
    return {k: v for k, v in payload.items() if k.endswith("_id") and isinstance(v, int) and not isinstance(v, bool)}


def handle_event(session, event: dict) -> None:
    """Tell everyone an event concerns, in their language, on the channels they allowed."""
    type_name, payload = event["type"], event["payload"]
    if type_name.startswith("account."):
        upsert_recipient(session, payload)
    plan = route(type_name, payload)
    matches = {audience: ids_in_directory(session, **spec) for audience, spec in plan.directory}
    awaits = {AWAITING[type_name]: f"action:{payload['action_id']}"} if type_name in AWAITING else {}
    notice = Notice(source_key=event["event_id"], type=type_name, category=plan.category, payload=payload,
                    severity="critical" if plan.critical else "info", critical=plan.critical,
                    data=_ids_of(payload), awaits=awaits)
    deliver(session, notice, resolve(plan, matches), group_channel_ids(session, plan.groups))
    if type_name.startswith("action."):
        supersede_requests(session, payload)
        schedule_action_reminder(session, payload, type_name)
        if plan.digest is not None:
            schedule_mass_digest(session, plan.digest, payload)
        if type_name == "action.closed" and payload.get("kind") == "mass":
            close_mass_digest(session, payload["action_id"])


def supersede_requests(session, payload: dict, now: datetime | None = None) -> int:
    """Close the "please accept" entries of everyone no longer asked to take the action: while it is
    dispatched, those not among its candidates (released, declined); after that, everyone (someone took it,
    or it was settled). Their unsent channel copies are dropped too. Answers how many entries changed."""
    now = now or utcnow()
    still_asked = list(payload.get("assignee_ids") or []) if payload.get("state") == "dispatched" else []
    stmt = select(InboxEntry.id, InboxEntry.user_id, InboxEntry.source_key).where(
        InboxEntry.awaits == f"action:{payload['action_id']}", InboxEntry.superseded_at.is_(None))
    if still_asked:
        stmt = stmt.where(InboxEntry.user_id.notin_(still_asked))
    rows = session.execute(stmt).all()
    if not rows:
        return 0
    session.execute(update(InboxEntry).where(InboxEntry.id.in_([r.id for r in rows])).values(superseded_at=now))
    for row in rows:
        session.execute(update(Delivery).where(Delivery.source_key == row.source_key,
                                               Delivery.user_id == row.user_id, Delivery.status == "pending")
                        .values(status="expired", last_error="no longer asked"))
    return len(rows)


def digest_minutes() -> float:
    """How often whoever ordered a mass action hears of its progress (NUANXIN_MASS_ACTION_DIGEST_MINUTES)."""
    return max(config.env_float("NUANXIN_MASS_ACTION_DIGEST_MINUTES", 30.0), 0.001)


def close_mass_digest(session, parent_id: int) -> None:
    """The mass action closed: its closing message says every check is done, so a digest still waiting
    would only repeat it; a marker row keeps a check's late event from scheduling another."""
    session.execute(update(Reminder).where(Reminder.key.like(f"digest:{parent_id}:%"),
                                           Reminder.state == "scheduled").values(state="cancelled"))
    session.execute(insert_ignoring(session, Reminder, ["key"]).values(
        key=f"digest:{parent_id}:closed", type="action.mass_progress", state="cancelled", user_ids=[],
        payload={}, due_at=utcnow()))


def schedule_mass_digest(session, digest: tuple[int, list[int]], payload: dict, now: datetime | None = None) -> None:
    """Fold a check's step into its mass action's digest of the current period: one reminder row per mass
    action and period (a unique key, so concurrent checks share it), keeping the furthest progress seen
    (events may arrive out of order), sent when the period ends."""
    parent_id, people = digest
    if not people or session.scalar(select(Reminder.id).where(Reminder.key == f"digest:{parent_id}:closed")):
        return
    now = now or utcnow()
    period = timedelta(minutes=digest_minutes())
    window = int(now.timestamp() // period.total_seconds())
    key = f"digest:{parent_id}:{window}"
    progress = payload.get("progress") or {}
    states = progress.get("by_state") or {}
    total, done = int(progress.get("total") or 0), int(progress.get("done") or 0)
    working = sum(int(states.get(s) or 0) for s in ("accepted", "in_progress", "resolved", "verified"))
    body = {"action_id": parent_id, "title": payload.get("parent_title") or payload.get("title") or "",
            "total": total, "done": done, "working": working, "waiting": max(total - done - working, 0)}
    session.execute(insert_ignoring(session, Reminder, ["key"]).values(
        key=key, type="action.mass_progress", state="scheduled", user_ids=sorted(set(people)), payload=body,
        due_at=datetime.fromtimestamp((window + 1) * period.total_seconds(), UTC)))
    reminder = session.scalars(select(Reminder).where(Reminder.key == key).with_for_update()).first()
    if reminder is None or reminder.state != "scheduled":
        return
    seen = reminder.payload or {}
    if (done, working) >= (int(seen.get("done") or 0), int(seen.get("working") or 0)):
        reminder.payload = body
    reminder.user_ids = sorted(set(reminder.user_ids or []) | set(people))


def schedule_action_reminder(session, payload: dict, type_name: str) -> None:
    """Remind the assignees before an action's deadline; forget it once the action is handled."""
    action_id = payload["action_id"]
    stale = update(Reminder).where(Reminder.key.like(f"action:{action_id}:%"), Reminder.state == "scheduled")
    deadline: datetime | None = payload.get("deadline_at")
    if type_name in ("action.resolved", "action.closed") or not deadline or not payload.get("assignee_ids"):
        if type_name in ("action.resolved", "action.closed"):
            session.execute(stale.values(state="cancelled"))
        return
    key = f"action:{action_id}:{int(deadline.timestamp())}"
    session.execute(stale.where(Reminder.key != key).values(state="cancelled"))
    lead = timedelta(minutes=config.env_float("NUANXIN_ACTION_REMINDER_MINUTES", 30))
    reminder = session.scalars(select(Reminder).where(Reminder.key == key)).first()
    if reminder is None:
        reminder = Reminder(key=key, type="action.deadline_near", state="scheduled")
        session.add(reminder)
    if reminder.state == "scheduled":
        reminder.due_at = deadline - lead
        reminder.user_ids = list(payload["assignee_ids"])
        reminder.payload = {"action_id": action_id, "title": payload["title"], "grid_id": payload["grid_id"],
                            "deadline_at": deadline.isoformat()}


# Per kind of reminder: the audience its people are addressed as, and its severity.
REMINDER_STYLE = {"action.deadline_near": ("assignee", "warning"), "action.mass_progress": (None, "info")}


def fire_due_reminders(db: Database, limit: int = 100) -> int:
    """Send every reminder that is due, each once even with several replicas (guarded claim)."""
    now = utcnow()
    due = select(Reminder.id).where(Reminder.state == "scheduled", Reminder.due_at <= now) \
        .order_by(Reminder.due_at).limit(limit)
    return work_through(db, due, functools.partial(_fire_reminder, now=now))


def _fire_reminder(session, reminder_id: int, *, now: datetime) -> bool:
    """Claim one reminder (scheduled → fired) and tell its people; False when another replica fired it."""
    if not claimed(session, update(Reminder).where(Reminder.id == reminder_id, Reminder.state == "scheduled")
                   .values(state="fired", fired_at=now)):
        return False
    reminder = session.get(Reminder, reminder_id)
    audience, severity = REMINDER_STYLE.get(reminder.type, ("assignee", "warning"))
    notice = Notice(source_key=f"reminder:{reminder.id}", type=reminder.type, category="actions",
                    payload=dict(reminder.payload), severity=severity, data=_ids_of(reminder.payload))
    deliver(session, notice, [(uid, audience) for uid in reminder.user_ids])
    return True


# -- inbox ---------------------------------------------------------------------------------------------
def _unread(session, user_id: int) -> int:
    """Entries neither read nor superseded (a "please accept" someone else answered is not news to read)."""
    return session.scalar(select(func.count()).select_from(InboxEntry)
                          .where(InboxEntry.user_id == user_id, InboxEntry.read_at.is_(None),
                                 InboxEntry.superseded_at.is_(None)))


def list_inbox(db: Database, caller: Caller, query: dict) -> dict:
    caller.require()
    with db.read() as session:
        stmt = select(InboxEntry).where(InboxEntry.user_id == caller.user_id)
        if query.get("unread"):
            stmt = stmt.where(InboxEntry.read_at.is_(None), InboxEntry.superseded_at.is_(None))
        if query.get("category"):
            stmt = stmt.where(InboxEntry.category == query["category"])
        page = keyset(session, stmt, InboxEntry.id, query)
        return page.answer(InboxEntrySchema(many=True).dump, unread_count=_unread(session, caller.user_id))


def mark_read(db: Database, caller: Caller, entry_id: int) -> dict:
    caller.require()
    with db.transaction() as session:
        entry = session.get(InboxEntry, entry_id)
        if entry is None or entry.user_id != caller.user_id:
            # Someone else's entry is as good as missing: its existence is not for the caller to learn.
            raise NotFound(f"Notification {entry_id} does not exist.")
        marked = session.execute(update(InboxEntry).where(InboxEntry.id == entry_id, InboxEntry.read_at.is_(None))
                                 .values(read_at=utcnow())).rowcount
        return {"marked": marked, "unread_count": _unread(session, caller.user_id)}


def mark_all_read(db: Database, caller: Caller) -> dict:
    caller.require()
    with db.transaction() as session:
        marked = session.execute(update(InboxEntry).where(InboxEntry.user_id == caller.user_id,
                                                          InboxEntry.read_at.is_(None))
                                 .values(read_at=utcnow())).rowcount
        return {"marked": marked, "unread_count": 0}


def purge_inbox(db: Database, keep_days: float) -> int:
    """Forget inbox entries older than the retention period."""
    with db.transaction() as session:
        return session.execute(delete(InboxEntry).where(InboxEntry.created_at < utcnow() - timedelta(days=keep_days))
                               ).rowcount


# -- preferences ---------------------------------------------------------------------------------------
def _preferences_view(pref: Preference | None) -> dict:
    if pref is None:
        return {"quiet_hours": None, "timezone": None, "categories": {}}
    quiet = {"start": pref.quiet_start, "end": pref.quiet_end} if pref.quiet_start else None
    return PreferencesSchema().dump({"quiet_hours": quiet, "timezone": pref.timezone, "categories": pref.rules or {}})


def get_preferences(db: Database, caller: Caller) -> dict:
    caller.require()
    with db.read() as session:
        return _preferences_view(session.get(Preference, caller.user_id))


def put_preferences(db: Database, caller: Caller, data: dict) -> dict:
    """Replace the caller's preferences (absent categories and channels are on)."""
    caller.require()
    with db.transaction() as session:
        pref = session.get(Preference, caller.user_id) or Preference(user_id=caller.user_id)
        quiet = data.get("quiet_hours")
        pref.quiet_start, pref.quiet_end = (quiet["start"], quiet["end"]) if quiet else (None, None)
        pref.timezone = data.get("timezone")
        pref.rules = data.get("categories") or {}
        pref.updated_at = utcnow()
        session.add(pref)
        session.flush()
        return _preferences_view(pref)


# -- channels ------------------------------------------------------------------------------------------
def _owner(caller: Caller, data: dict, scope: CoordinatorScope, *, writing: bool) -> tuple[str, int]:
    """The channel owner the caller addresses, if they may; a person's own by default."""
    if data.get("team_id"):
        if writing and not caller.has_role("coordinator"):
            raise Forbidden("Only coordinators configure a team's channels.")
        return "team", data["team_id"]
    if data.get("grid_id"):
        if writing:
            caller.require_role("coordinator")
            if not acts_in(caller, data["grid_id"], scope):
                raise Forbidden("That grid is outside your scope.")
        return "grid", data["grid_id"]
    return "user", caller.user_id


def list_channels(db: Database, caller: Caller, query: dict, scope: CoordinatorScope) -> list[dict]:
    caller.require()
    kind, owner_id = _owner(caller, query, scope, writing=kind_is_group(query))
    with db.read() as session:
        rows = session.scalars(select(Channel).where(Channel.owner_kind == kind, Channel.owner_id == owner_id,
                                                     Channel.active.is_(True)).order_by(Channel.id)).all()
        return ChannelSchema(many=True).dump(rows)


def kind_is_group(data: dict) -> bool:
    return bool(data.get("team_id") or data.get("grid_id"))


def add_channel(db: Database, caller: Caller, data: dict, scope: CoordinatorScope) -> dict:
    """Register an address (kept encrypted); answers with it masked."""
    caller.require()
    problem = addresses.check(data["url"])
    if problem:
        raise Invalid("The channel address is not usable.", errors={"url": [problem]})
    kind, owner_id = _owner(caller, data, scope, writing=True)
    try:
        with db.transaction() as session:
            channel = Channel(owner_kind=kind, owner_id=owner_id, name=data["name"],
                              scheme=addresses.scheme_of(data["url"]), secret=addresses.encrypt(data["url"]),
                              masked=addresses.mask(data["url"]), locale=data.get("locale") or "zh-CN",
                              created_by=caller.user_id)
            # A removed channel's name may be reused: the old row is dropped with its history.
            session.execute(delete(Channel).where(Channel.owner_kind == kind, Channel.owner_id == owner_id,
                                                  Channel.name == data["name"], Channel.active.is_(False)))
            session.add(channel)
            session.flush()
            return ChannelSchema().dump(channel)
    except IntegrityError:
        raise Conflict(f"A channel named {data['name']} exists already.",
                       errors={"name": ["already used"]}) from None


def remove_channel(db: Database, caller: Caller, channel_id: int, scope: CoordinatorScope) -> None:
    caller.require()
    with db.transaction() as session:
        channel = session.get(Channel, channel_id)
        if channel is None or not channel.active:
            raise NotFound(f"Channel {channel_id} does not exist.")
        if channel.owner_kind == "user":
            if channel.owner_id != caller.user_id and not caller.is_admin:
                raise NotFound(f"Channel {channel_id} does not exist.")
        else:
            _owner(caller, {f"{channel.owner_kind}_id": channel.owner_id}, scope, writing=True)
        # Kept (inactive) so the delivery log still says where earlier messages went.
        channel.active = False
