"""Actions: report, dispatch, accept, resolve, verify (the closed loop) and the three-level escalation.

Every change runs in one transaction that also writes the timeline entry and the outbox event. Rows of
`actions` carry a version that SQLAlchemy checks in each UPDATE (`WHERE id = :id AND version = :seen`), so
of two writers that read the same version exactly one succeeds: the other gets a 409 (or, for the timer,
silently leaves the row to the replica that won).
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import false, or_, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from services.volunteers import dispatch, escalation, lifecycle
from services.volunteers.charity.models import Merchant
from services.volunteers.contracts import (
    ActionSchema,
    CategorySchema,
    SuggestionSchema,
    TimelineEntrySchema,
    WorkLogSchema,
)
from services.volunteers.grids import Tree
from services.volunteers.models import Action, Category, Team, TimelineEntry, Volunteer, WorkLog
from services.volunteers.teams import BUSY_STATES, active_member_ids, candidate_of, volunteer_stats
from shared import config
from shared.claims import claimed, work_through
from shared.db import Database, get_or_404, utcnow, versioned
from shared.errors import Conflict, Forbidden, Invalid
from shared.identity import Caller, actor_name
from shared.paging import keyset

# States after which a check no longer holds its mass action open.
DONE_STATES = ("closed", "cancelled", "duplicate")


STALE = "The action changed at the same moment (someone else was quicker); reload it."


def writing(db: Database):
    """A write transaction whose lost version race (at any flush, even an automatic one) answers 409."""
    return versioned(db, Conflict(STALE, extra={"allowed": []}))


# ------------------------------------------------------------------------------------------- categories

def time_scale() -> float:
    """Multiplier for every category limit; below 1 only in drills and tests (e.g. 0.001: 30 min -> 1.8 s)."""
    return config.env_float("NUANXIN_ESCALATION_TIME_SCALE", 1.0)


def limits_of(category: Category) -> escalation.CategoryLimits:
    scale = time_scale()
    return escalation.CategoryLimits.from_json({
        "accept_within_minutes": {k: v * scale for k, v in (category.accept_within_minutes or {}).items()},
        "resolve_within_minutes": {k: v * scale for k, v in (category.resolve_within_minutes or {}).items()},
    }, category=category.name)


def _category(session: Session, name: str, field: str = "category") -> Category:
    category = session.get(Category, name)
    if category is None:
        raise Invalid("Unknown category.", errors={field: [f"no category {name!r} with time limits"]})
    try:
        limits_of(category)
    except (escalation.MissingLimits, ValueError) as exc:
        raise Invalid("The category has no usable time limits.", errors={field: [str(exc)]}) from None
    return category


def ensure_category(db: Database, caller: Caller, data: dict) -> dict:
    caller.require_role("admin")
    with writing(db) as session:
        category = session.get(Category, data["name"]) or Category(name=data["name"])
        for field in ("label", "accept_within_minutes", "resolve_within_minutes", "required_skill",
                      "min_skill_level"):
            setattr(category, field, data[field])
        session.add(category)
        session.flush()
        return CategorySchema().dump(category)


def list_categories(db: Database) -> list[dict]:
    with db.read() as session:
        return CategorySchema(many=True).dump(session.scalars(select(Category).order_by(Category.name)).all())


# ------------------------------------------------------------------------------------------- relations

def relations(action: Action, caller: Caller, tree: Tree) -> set[str]:
    """How the caller relates to this action, in the words of `lifecycle.ROLES`."""
    found: set[str] = set()
    if caller.system:
        found |= {"system", "coordinator"}
    elif tree.acts_in(caller, action.grid_id):
        found.add("coordinator")
    if caller.user_id is not None:
        if caller.user_id == action.reporter_id:
            found.add("reporter")
        if action.state == "dispatched":
            if caller.user_id in _waiting(action):
                found.add("assignee")
        elif action.accepted_by == caller.user_id:
            found.add("assignee")
    return found


def _waiting(action: Action) -> list[int]:
    """Candidates who have not declined."""
    declined = set(action.declined_ids or [])
    return [c for c in action.candidate_ids or [] if c not in declined]


def _may_see(action: Action, caller: Caller, tree: Tree) -> bool:
    if relations(action, caller, tree):
        return True
    uid = caller.user_id
    return uid is not None and (uid in (action.follower_ids or []) or uid in (action.candidate_ids or [])
                                or uid == action.accepted_by)


def _load(session: Session, action_id: int, caller: Caller, tree: Tree) -> Action:
    action = get_or_404(session, Action, action_id, "Action")
    if not _may_see(action, caller, tree):
        raise Forbidden("This action is neither yours nor in your grids.")
    return action


# ------------------------------------------------------------------------------------------- transitions

def _transition(session: Session, action: Action, verb: str, caller: Caller, tree: Tree, *, note: str = "",
                data: dict | None = None, check_roles: bool = True, **flags) -> str:
    """Move the action by `verb` (409 naming the allowed verbs when impossible) and write the timeline."""
    before = action.state
    if action.kind == "mass" and verb != "close":
        raise Conflict("A mass action closes by itself when all its checks do; act on the checks.",
                       extra={"state": before, "allowed": []})
    rels = relations(action, caller, tree)
    try:
        after = lifecycle.next_state(before, verb, **flags)
    except lifecycle.IllegalTransition as exc:
        raise exc.conflict() from None
    except (ValueError, TypeError) as exc:
        raise Invalid(str(exc)) from None
    if check_roles and not lifecycle.may(verb, rels, state=before):
        raise Forbidden(_denial(verb))
    action.state = after
    session.add(TimelineEntry(action_id=action.id, verb=verb, from_state=before, to_state=after,
                              actor_id=caller.user_id, actor_name=actor_name(caller), at=utcnow(), note=note or "",
                              data=data or {}))
    return after


def _denial(verb: str) -> str:
    if verb in ("accept", "decline", "start"):
        return "Only a volunteer this action was dispatched to may do this."
    if verb in ("dispatch", "escalate", "merge", "triage"):
        return "Only a coordinator of the action's grid (or a grid above it) may do this."
    return "You may not do this to this action."


def _refresh_deadline(session: Session, action: Action) -> None:
    if action.kind == "mass":
        action.deadline_at, action.deadline_kind = None, None
        return
    due = escalation.deadline(action.state, action.level, action.level_started_at, action.accepted_at,
                              limits_of(session.get(Category, action.category)))
    action.deadline_at, action.deadline_kind = (due.at, due.kind) if due else (None, None)


def _save(session: Session, action: Action) -> None:
    """Flush the guarded UPDATE; a concurrent change of the same version is a conflict, not a lost update.
    The row is updated (its version checked and bumped) even when only its people changed (a decline)."""
    _refresh_deadline(session, action)
    flag_modified(action, "state")
    try:
        session.flush()
    except StaleDataError:
        raise Conflict(STALE, extra={"allowed": []}) from None


def earlier_coordinators(tree: Tree, action: Action) -> list[int]:
    """Coordinators of the levels below the action's current one that it passed through on its way up."""
    start = max(lifecycle.MIN_LEVEL, min(tree.grids[action.grid_id].level, lifecycle.MAX_LEVEL))
    current = set(tree.handling_grid(action.grid_id, action.level).coordinator_ids or [])
    found: list[int] = []
    for level in range(start, action.level):
        for uid in tree.handling_grid(action.grid_id, level).coordinator_ids or []:
            if uid not in current and uid not in found:
                found.append(uid)
    return found


def payload(session: Session, tree: Tree, action: Action, actor: Caller | None = None, note: str = "",
            released: list[int] | None = None) -> dict:
    """The event payload: ids for programs, names and labels for the messages people read."""
    handling = tree.handling_grid(action.grid_id, action.level)
    grid = tree.grids[action.grid_id]
    assignees = [action.accepted_by] if action.accepted_by else _waiting(action)
    followers = set(action.follower_ids or [])
    if action.reporter_id is not None:
        followers.add(action.reporter_id)
    category = session.get(Category, action.category)
    body = {"action_id": action.id, "title": action.title, "category": action.category,
            "category_label": (category.label if category is not None else "") or action.category,
            "grid_id": grid.id, "grid_name": grid.name, "level": action.level, "level_grid_name": handling.name,
            "state": action.state, "reporter_id": action.reporter_id, "assignee_ids": sorted(set(assignees)),
            "team_id": action.team_id, "coordinator_ids": sorted(handling.coordinator_ids or []),
            "earlier_coordinator_ids": earlier_coordinators(tree, action),
            "released_ids": sorted(set(released or []) - set(assignees)), "follower_ids": sorted(followers),
            "actor_id": actor.user_id if actor else None, "actor_name": actor_name(actor), "note": note or "",
            "deadline_at": action.deadline_at, "deadline_kind": action.deadline_kind, "parent_id": action.parent_id,
            "merchant_id": action.merchant_id, "kind": action.kind}
    if action.parent_id is not None:
        parent = session.get(Action, action.parent_id)
        if parent is not None:
            session.flush()  # the check's own change counts in its mass action's progress
            progress = _progress(session, parent)
            body.update(parent_title=parent.title, parent_reporter_id=parent.reporter_id,
                        progress={"total": progress["total"], "done": progress["done"],
                                  "by_state": progress["by_state"]})
    return body


def volunteer_names(session: Session, user_ids) -> dict[int, str]:
    """Volunteers' display names by user id (one query for a page of actions)."""
    wanted = {uid for uid in user_ids if uid is not None}
    if not wanted:
        return {}
    return dict(session.execute(select(Volunteer.user_id, Volunteer.display_name)
                                .where(Volunteer.user_id.in_(wanted))).all())


def _assignee_ids(action: Action) -> list[int]:
    return list(dict.fromkeys([*(action.candidate_ids or []), *([action.accepted_by] if action.accepted_by else [])]))


def assignees(action: Action, caller: Caller, related: set[str], names: dict[int, str]) -> list[dict]:
    """Who was asked to take the action and how each stands, by name, as far as the caller may see them:
    coordinators of its grid (and the system) see everyone asked; anyone else who may see the action sees
    the one who accepted (the timeline names them too) and themselves."""
    declined = set(action.declined_ids or [])
    rows = []
    for uid in _assignee_ids(action):
        if "coordinator" not in related and uid not in (caller.user_id, action.accepted_by):
            continue
        status = "accepted" if uid == action.accepted_by else "declined" if uid in declined else "asked"
        name = action.accepted_by_name if uid == action.accepted_by and action.accepted_by_name else names.get(uid, "")
        rows.append({"user_id": uid, "display_name": name, "status": status})
    return rows


# Made once: a schema instance copies its declared fields when made, and a queue page dumps a hundred actions.
ACTION_SCHEMA = ActionSchema()


def action_dict(session: Session, action: Action, caller: Caller, tree: Tree,
                names: dict[int, str] | None = None) -> dict:
    """An action as the caller sees it; `names`: volunteers' names prefetched for a page (else looked up)."""
    related = relations(action, caller, tree)
    if names is None:
        names = volunteer_names(session, _assignee_ids(action))
    data = ACTION_SCHEMA.dump({**{c.name: getattr(action, c.name) for c in Action.__table__.columns},
                                "follower_ids": list(action.follower_ids), "candidate_ids": list(action.candidate_ids),
                                "accepted_by_name": action.accepted_by_name or names.get(action.accepted_by, "")
                                if action.accepted_by else None,
                                "assignees": assignees(action, caller, related, names),
                                "allowed": [] if action.kind == "mass" else
                                lifecycle.available_verbs(action.state, related),
                                "progress": _progress(session, action) if action.kind == "mass" else {}})
    return data


def _progress(session: Session, parent: Action) -> dict:
    children = session.scalars(select(Action).where(Action.parent_id == parent.id)).all()
    states = Counter(c.state for c in children)
    items = [item for c in children for item in c.checklist or []]
    return {"total": len(children), "done": sum(states[s] for s in DONE_STATES), "by_state": dict(states),
            "checklist_items": len(items), "checklist_done": sum(1 for i in items if i.get("done"))}


# ------------------------------------------------------------------------------------------------ report

def new_action(session: Session, tree: Tree, caller: Caller, data: dict, **extra) -> Action:
    grid = tree.get(data["grid_id"])
    category = _category(session, data["category"])
    if data.get("merchant_id") is not None and session.get(Merchant, data["merchant_id"]) is None:
        raise Invalid("Unknown merchant.", errors={"merchant_id": [f"merchant {data['merchant_id']} does not exist"]})
    now = utcnow()
    reporter = caller.user_id
    action = Action(title=data["title"], category=category.name, description=data.get("description", ""),
                    location=data.get("location", ""), latitude=data.get("latitude"),
                    longitude=data.get("longitude"), photo_urls=list(data.get("photo_urls") or []),
                    grid_id=grid.id, merchant_id=data.get("merchant_id"), state="reported",
                    level=max(lifecycle.MIN_LEVEL, min(grid.level, lifecycle.MAX_LEVEL)), level_started_at=now,
                    reporter_id=reporter, reporter_name=actor_name(caller), follower_ids=[reporter] if reporter is not None else [],
                    candidate_ids=[], declined_ids=[], checklist=[], created_by=reporter, created_at=now, **extra)
    session.add(action)
    session.flush()
    session.add(TimelineEntry(action_id=action.id, verb="report", from_state="reported", to_state="reported",
                              actor_id=reporter, actor_name=actor_name(caller), at=now, note=data.get("description", "")[:500], data={}))
    _save(session, action)
    return action


def report(db: Database, emit, caller: Caller, data: dict) -> dict:
    """Anyone signed in reports a problem (or a coordinator creates a task) in a grid."""
    caller.require()
    with writing(db) as session:
        tree = Tree.load(session)
        action = new_action(session, tree, caller, data)
        emit(session, "action.reported", payload(session, tree, action, caller))
        return action_dict(session, action, caller, tree)


def get_action(db: Database, caller: Caller, action_id: int) -> dict:
    caller.require()
    with db.read() as session:
        tree = Tree.load(session)
        return action_dict(session, _load(session, action_id, caller, tree), caller, tree)


def timeline(db: Database, caller: Caller, action_id: int) -> list[dict]:
    caller.require()
    with db.read() as session:
        tree = Tree.load(session)
        _load(session, action_id, caller, tree)
        entries = session.scalars(select(TimelineEntry).where(TimelineEntry.action_id == action_id)
                                  .order_by(TimelineEntry.id)).all()
        return TimelineEntrySchema(many=True).dump(entries)


def list_actions(db: Database, caller: Caller, query: dict) -> dict:
    caller.require()
    with db.read() as session:
        tree = Tree.load(session)
        statement = select(Action).options(selectinload(Action.follower_links), selectinload(Action.candidate_links),
                                           selectinload(Action.declined_links))
        if query.get("grid_id"):
            tree.get(query["grid_id"])
            statement = statement.where(Action.grid_id.in_(tree.subtree(query["grid_id"])))
        for field in ("category", "parent_id"):
            if query.get(field):
                statement = statement.where(getattr(Action, field) == query[field])
        for field in ("state", "level"):  # any of the values given
            if query.get(field):
                statement = statement.where(getattr(Action, field).in_(sorted(set(query[field]))))
        uid = caller.user_id
        mine = Action.seen_by(uid) if uid is not None else false()
        if query.get("mine"):
            statement = statement.where(mine)
        elif not caller.system:
            # What the caller may see: their own (reported, followed, asked, accepted) and their grids'.
            statement = statement.where(or_(mine, Action.grid_id.in_(tree.coordinated_by(caller))))
        page = keyset(session, statement, Action.id, query)
        names = volunteer_names(session, [uid for action in page.rows for uid in _assignee_ids(action)])
        return page.answer(lambda rows: [action_dict(session, action, caller, tree, names) for action in rows])


# ---------------------------------------------------------------------------------------------- dispatch

def _candidates(session: Session, user_ids: list[int] | None = None) -> list[dispatch.Candidate]:
    statement = select(Volunteer)
    if user_ids is not None:
        statement = statement.where(Volunteer.user_id.in_(user_ids))
    volunteers = session.scalars(statement).all()
    stats = volunteer_stats(session, [v.user_id for v in volunteers])
    return [candidate_of(v, stats[v.user_id]) for v in volunteers]


def _local(candidates: list[dispatch.Candidate], action: Action, tree: Tree) -> list[dispatch.Candidate]:
    local = dispatch.local_grids(action.grid_id, tree.parents)
    return [c for c in candidates if c.grid_ids & local]


def suggestions(db: Database, caller: Caller, action_id: int, limit: int = 5) -> list[dict]:
    """Ranked volunteers for the action with the reasons of each score, then those filtered out and why."""
    caller.require()
    with db.read() as session:
        tree = Tree.load(session)
        action = _load(session, action_id, caller, tree)
        if "coordinator" not in relations(action, caller, tree):
            raise Forbidden(_denial("dispatch"))
        category = session.get(Category, action.category)
        found = dispatch.suggest(_local(_candidates(session), action, tree),
                                 required_skill=category.required_skill, min_level=category.min_skill_level,
                                 action_grid_id=action.grid_id, grid_ancestors=tree.parents, now=utcnow(),
                                 limit=limit)
        return SuggestionSchema(many=True).dump([
            {"volunteer_id": s.volunteer_id, "display_name": s.display_name, "score": s.score,
             "eligible": s.eligible, "reasons": s.reasons,
             "rejections": [{"field": r.field, "message": r.message} for r in s.rejections]} for s in found])


def _choose(session: Session, action: Action, tree: Tree, data: dict) -> tuple[list[int], int | None, str]:
    """The candidates of a dispatch request, validated against the hard rules; (ids, team_id, how)."""
    category = session.get(Category, action.category)
    team_id = data.get("team_id")
    if team_id is not None:
        team = session.get(Team, team_id)
        if team is None:
            raise Invalid("Unknown team.", errors={"team_id": [f"team {team_id} does not exist"]})
    if data.get("volunteer_ids"):
        ids = list(dict.fromkeys(data["volunteer_ids"]))
        known = {c.volunteer_id: c for c in _candidates(session, ids)}
        errors = [f"volunteer {i} does not exist" for i in ids if i not in known]
        for candidate in known.values():
            try:
                dispatch.check_assignable(candidate, required_skill=category.required_skill,
                                          min_level=category.min_skill_level, action_grid_id=action.grid_id,
                                          grid_ancestors=tree.parents)
            except dispatch.NotAssignable as exc:
                errors.append(str(exc))
        if errors:
            raise Invalid("These volunteers cannot take this action.", errors={"volunteer_ids": errors})
        return ids, None, "named"
    members = active_member_ids(session, team_id) if team_id is not None else None
    if not data.get("broadcast"):
        if not members:
            raise Invalid("The team has nobody to ask.", errors={"team_id": ["the team has no active members"]})
        return members, team_id, "team"
    pool = _candidates(session, members) if members is not None else _local(_candidates(session), action, tree)
    verdicts = dispatch.suggest(pool, required_skill=category.required_skill, min_level=category.min_skill_level,
                                action_grid_id=action.grid_id, grid_ancestors=tree.parents, now=utcnow(),
                                limit=len(pool))
    eligible = [s.volunteer_id for s in verdicts if s.eligible]
    if not eligible:
        raise Conflict("Nobody passes the hard filters right now; name volunteers or a team instead.",
                       extra={"rejections": {s.volunteer_id: s.reasons for s in verdicts}})
    return eligible, team_id, "broadcast"


def dispatch_action(db: Database, emit, caller: Caller, action_id: int, data: dict) -> dict:
    """Ask named volunteers, a whole team, or everyone eligible (broadcast); the first to accept takes it."""
    caller.require()
    with writing(db) as session:
        tree = Tree.load(session)
        action = _load(session, action_id, caller, tree)
        if "coordinator" not in relations(action, caller, tree):
            raise Forbidden(_denial("dispatch"))
        # Check the transition first so a closed action answers 409 before any candidate is judged.
        try:
            lifecycle.next_state(action.state, "dispatch")
        except lifecycle.IllegalTransition as exc:
            raise exc.conflict() from None
        ids, team_id, how = _choose(session, action, tree, data)
        # Those asked before and not asked again are told the job went elsewhere.
        released = [c for c in _waiting(action) if c not in ids] if action.state == "dispatched" else []
        _transition(session, action, "dispatch", caller, tree, note=data.get("note", ""),
                    data={"candidate_ids": ids, "team_id": team_id, "mode": how})
        action.candidate_ids, action.declined_ids, action.team_id = ids, [], team_id
        action.accepted_by, action.accepted_at, action.accepted_by_name = None, None, ""
        if data.get("checklist") is not None:
            action.checklist = [{"item": item, "done": False} for item in data["checklist"]]
        _save(session, action)
        emit(session, "action.dispatched", payload(session, tree, action, caller, data.get("note", ""),
                                                   released=released))
        return action_dict(session, action, caller, tree)


def accept(db: Database, emit, caller: Caller, action_id: int) -> dict:
    """The first candidate to accept takes the action; everyone else gets 409."""
    caller.require()
    with writing(db) as session:
        tree = Tree.load(session)
        action = _load(session, action_id, caller, tree)
        volunteer = session.get(Volunteer, caller.user_id) if caller.user_id else None
        # Everyone else still asked is released: someone took it.
        released = [c for c in _waiting(action) if c != caller.user_id]
        _transition(session, action, "accept", caller, tree)
        if volunteer is not None:
            busy = volunteer_stats(session, [volunteer.user_id])[volunteer.user_id]["open_actions"]
            if busy >= volunteer.max_open_actions:
                raise Conflict(f"You have {busy} open actions, your limit is {volunteer.max_open_actions}.",
                               extra={"state": "dispatched", "allowed": ["decline"]})
            volunteer.last_action_at = utcnow()
        action.accepted_by, action.accepted_at, action.accepted_by_name = caller.user_id, utcnow(), actor_name(caller)
        _save(session, action)
        emit(session, "action.accepted", payload(session, tree, action, caller, released=released))
        return action_dict(session, action, caller, tree)


def decline(db: Database, emit, caller: Caller, action_id: int, reason: str = "") -> dict:
    caller.require()
    with writing(db) as session:
        tree = Tree.load(session)
        action = _load(session, action_id, caller, tree)
        others = [c for c in _waiting(action) if c != caller.user_id]
        _transition(session, action, "decline", caller, tree, note=reason, others_remaining=bool(others),
                    reason=reason or None)
        action.declined_ids = sorted(set(action.declined_ids or []) | {caller.user_id})
        _save(session, action)
        emit(session, "action.declined", payload(session, tree, action, caller, reason))
        return action_dict(session, action, caller, tree)


def start(db: Database, caller: Caller, action_id: int) -> dict:
    caller.require()
    with writing(db) as session:
        tree = Tree.load(session)
        action = _load(session, action_id, caller, tree)
        _transition(session, action, "start", caller, tree)
        _save(session, action)
        return action_dict(session, action, caller, tree)


def tick(db: Database, caller: Caller, action_id: int, data: dict) -> dict:
    """Tick (or untick) one checklist item; the volunteer who accepted or a coordinator may."""
    caller.require()
    with writing(db) as session:
        tree = Tree.load(session)
        action = _load(session, action_id, caller, tree)
        rels = relations(action, caller, tree)
        if not ("coordinator" in rels or ("assignee" in rels and action.state in BUSY_STATES)):
            raise Forbidden("Only the volunteer who accepted the check (or a coordinator) ticks its list.")
        if action.state not in lifecycle.OPEN_STATES:
            raise Conflict("The checklist of a finished action is final.", extra={"state": action.state,
                                                                               "allowed": []})
        items = [dict(i) for i in action.checklist or []]
        if data["index"] >= len(items):
            raise Invalid("No such checklist item.", errors={"index": [f"the list has {len(items)} items"]})
        items[data["index"]]["done"] = data["done"]
        action.checklist = items
        session.add(TimelineEntry(action_id=action.id, verb="tick", from_state=action.state, to_state=action.state,
                                  actor_id=caller.user_id, actor_name=actor_name(caller), at=utcnow(), note=items[data["index"]]["item"],
                                  data={"index": data["index"], "done": data["done"]}))
        _save(session, action)
        return action_dict(session, action, caller, tree)


def _log_hours(session: Session, action: Action, now: datetime) -> None:
    if action.accepted_by is None or action.accepted_at is None:
        return
    minutes = max(0, int((now - action.accepted_at).total_seconds() // 60))
    log = session.scalars(select(WorkLog).where(WorkLog.action_id == action.id,
                                                WorkLog.user_id == action.accepted_by)).first()
    if log is None:
        session.add(WorkLog(action_id=action.id, user_id=action.accepted_by, team_id=action.team_id,
                            minutes=minutes, started_at=action.accepted_at, ended_at=now))
    else:  # resolved again after a reopen: the new stretch adds up
        log.minutes += minutes
        log.ended_at = now


def resolve(db: Database, emit, caller: Caller, action_id: int, outcome: str) -> dict:
    caller.require()
    with writing(db) as session:
        tree = Tree.load(session)
        action = _load(session, action_id, caller, tree)
        if any(not item.get("done") for item in action.checklist or []):
            # Named as the API names it: POST /actions/{id}/checklist ticks an item.
            raise Conflict("Tick every checklist item (POST /actions/{id}/checklist) before resolving.",
                           extra={"state": action.state, "allowed": ["checklist"]})
        _transition(session, action, "resolve", caller, tree, note=outcome, outcome=outcome)
        now = utcnow()
        action.outcome, action.resolved_by, action.resolved_at = outcome, caller.user_id, now
        _log_hours(session, action, now)
        _save(session, action)
        emit(session, "action.resolved", payload(session, tree, action, caller, outcome))
        if action.parent_id is not None:
            # A check's ticked list is its verification: the system closes it for the coordinator who issued it.
            _verify_and_close(session, emit, action, _system_for(caller), tree, "checklist complete")
        return action_dict(session, action, caller, tree)


def _system_for(caller: Caller) -> Caller:
    from shared.identity import SYSTEM

    return SYSTEM


def _verify_and_close(session: Session, emit, action: Action, caller: Caller, tree: Tree, note: str) -> None:
    _transition(session, action, "verify", caller, tree, note=note)
    follow = lifecycle.follow_up(action.state)
    if follow:
        _transition(session, action, follow, caller, tree, check_roles=False)
    action.closed_at = utcnow()
    _save(session, action)
    emit(session, "action.closed", payload(session, tree, action, caller, note))
    _close_parent_if_done(session, emit, action, tree)


def _close_parent_if_done(session: Session, emit, action: Action, tree: Tree) -> None:
    if action.parent_id is None:
        return
    parent = session.get(Action, action.parent_id)
    if parent is None or parent.state == "closed":
        return
    open_children = session.scalars(select(Action.id).where(Action.parent_id == parent.id,
                                                            Action.state.notin_(DONE_STATES))).first()
    if open_children is not None:
        return
    from shared.identity import SYSTEM

    before = parent.state
    parent.state, parent.closed_at = "closed", utcnow()
    session.add(TimelineEntry(action_id=parent.id, verb="close", from_state=before, to_state="closed",
                              actor_id=None, at=utcnow(), note="every check is done", data={}))
    _save(session, parent)
    emit(session, "action.closed", payload(session, tree, parent, SYSTEM, "every check is done"))


def verify(db: Database, emit, caller: Caller, action_id: int, data: dict) -> dict:
    """The reporter (or a coordinator) confirms the outcome: verified, then closed; an optional rating."""
    caller.require()
    with writing(db) as session:
        tree = Tree.load(session)
        action = _load(session, action_id, caller, tree)
        if data.get("rating") is not None:
            if caller.user_id != action.reporter_id:
                raise Invalid("Only the reporter rates the outcome.", errors={"rating": ["reporter only"]})
            action.rating = data["rating"]
        action.feedback = data.get("feedback") or action.feedback
        _verify_and_close(session, emit, action, caller, tree, data.get("feedback", ""))
        return action_dict(session, action, caller, tree)


def reopen(db: Database, emit, caller: Caller, action_id: int, reason: str) -> dict:
    """The reporter (or a coordinator) disputes the outcome; the action goes back to be dispatched."""
    caller.require()
    with writing(db) as session:
        tree = Tree.load(session)
        action = _load(session, action_id, caller, tree)
        _transition(session, action, "reopen", caller, tree, note=reason, reason=reason)
        # A fresh clock at the same level: the old one ran out long ago while the action looked done.
        action.level_started_at = utcnow()
        previous = action.accepted_by
        action.accepted_by = action.accepted_at = action.closed_at = None
        action.accepted_by_name = ""
        action.candidate_ids, action.declined_ids = [], []
        _save(session, action)
        # The one who did the work hears that it was disputed, though nobody is assigned any more.
        emit(session, "action.reopened", {**payload(session, tree, action, caller, reason),
                                          "assignee_ids": [previous] if previous else []})
        return action_dict(session, action, caller, tree)


def _settled(session: Session, tree: Tree, action: Action, caller: Caller, note: str, asked: list[int]) -> dict:
    """The payload of an action settled without being done (cancelled, merged): everyone still asked to take
    it, and whoever had taken it, is released; nobody is asked any more."""
    taken = [action.accepted_by] if action.accepted_by else []
    return {**payload(session, tree, action, caller, note), "assignee_ids": [],
            "released_ids": sorted(set(asked) | set(taken))}


def _still_asked(action: Action) -> list[int]:
    return _waiting(action) if action.state == "dispatched" else []


def cancel(db: Database, emit, caller: Caller, action_id: int, reason: str = "") -> dict:
    """Call the action off; whoever is still asked to take it (or had taken it) is told it is not needed."""
    caller.require()
    with writing(db) as session:
        tree = Tree.load(session)
        action = _load(session, action_id, caller, tree)
        asked = _still_asked(action)
        _transition(session, action, "cancel", caller, tree, note=reason, reason=reason or None)
        _save(session, action)
        emit(session, "action.cancelled", _settled(session, tree, action, caller, reason, asked))
        return action_dict(session, action, caller, tree)


def merge(db: Database, emit, caller: Caller, action_id: int, survivor_id: int, note: str = "") -> dict:
    """Merge a duplicate report into the surviving action; its reporter and followers follow the survivor."""
    caller.require()
    with writing(db) as session:
        tree = Tree.load(session)
        action = _load(session, action_id, caller, tree)
        survivor = session.get(Action, survivor_id)
        if survivor is None or survivor_id == action_id:
            raise Invalid("Unknown survivor.", errors={"survivor_id": [
                "an action cannot be merged into itself" if survivor_id == action_id
                else f"action {survivor_id} does not exist"]})
        if "coordinator" not in relations(survivor, caller, tree):
            raise Forbidden(_denial("merge"))
        if survivor.state in lifecycle.FINAL_STATES:
            raise Invalid("The survivor is itself closed out.",
                          errors={"survivor_id": [f"action {survivor_id} is {survivor.state}"]})
        asked = _still_asked(action)
        _transition(session, action, "merge", caller, tree, note=note, data={"survivor_id": survivor_id},
                    survivor_id=survivor_id, action_id=action_id)
        action.survivor_id = survivor_id
        followers = set(survivor.follower_ids or []) | set(action.follower_ids or [])
        if action.reporter_id is not None:
            followers.add(action.reporter_id)
        survivor.follower_ids = sorted(followers)
        session.add(TimelineEntry(action_id=survivor.id, verb="absorb", from_state=survivor.state,
                                  to_state=survivor.state, actor_id=caller.user_id, actor_name=actor_name(caller),
                                  at=utcnow(),
                                  note=note or f"#{action_id} merged in", data={"duplicate_id": action_id}))
        _save(session, action)
        _save(session, survivor)
        emit(session, "action.merged", {**_settled(session, tree, action, caller, note, asked),
                                        "survivor_id": survivor.id, "survivor_title": survivor.title})
        return action_dict(session, action, caller, tree)


def edit_hours(db: Database, caller: Caller, action_id: int, data: dict) -> dict:
    """Correct the hours logged on an action, with a reason (the volunteer themselves or a coordinator)."""
    caller.require()
    with writing(db) as session:
        tree = Tree.load(session)
        action = _load(session, action_id, caller, tree)
        user_id = data.get("user_id") or action.accepted_by
        log = session.scalars(select(WorkLog).where(WorkLog.action_id == action.id,
                                                    WorkLog.user_id == user_id)).first()
        if log is None:
            raise Conflict("No hours are logged on this action for that volunteer yet (they come on resolve).")
        if caller.user_id != user_id and "coordinator" not in relations(action, caller, tree):
            raise Forbidden("Only the volunteer or a coordinator of the grid may correct hours.")
        log.minutes, log.edit_reason, log.edited_by = data["minutes"], data["reason"], caller.user_id
        session.add(TimelineEntry(action_id=action.id, verb="hours", from_state=action.state,
                                  to_state=action.state, actor_id=caller.user_id, actor_name=actor_name(caller),
                                  at=utcnow(), note=data["reason"],
                                  data={"user_id": user_id, "minutes": data["minutes"]}))
        session.flush()
        return WorkLogSchema().dump(log)


# -------------------------------------------------------------------------------------------- escalation

def _escalate(session: Session, emit, action: Action, caller: Caller, tree: Tree, reason: str,
              automatic: bool) -> None:
    from_level = action.level
    _transition(session, action, "escalate", caller, tree, note=reason, check_roles=not automatic,
                data={"from_level": from_level, "to_level": from_level + 1, "automatic": automatic},
                level=from_level, reason=reason)
    action.level, action.level_started_at = from_level + 1, utcnow()
    action.escalations += 1
    _save(session, action)
    emit(session, "action.escalated", {**payload(session, tree, action, caller, reason), "from_level": from_level,
                                       "to_level": action.level, "reason": reason, "automatic": automatic})


def escalate(db: Database, emit, caller: Caller, action_id: int, reason: str) -> dict:
    """A coordinator moves the action one level up (micro-grid -> big grid -> command), with a reason."""
    caller.require()
    with writing(db) as session:
        tree = Tree.load(session)
        action = _load(session, action_id, caller, tree)
        if "coordinator" not in relations(action, caller, tree):
            raise Forbidden(_denial("escalate"))
        _escalate(session, emit, action, caller, tree, reason, automatic=False)
        return action_dict(session, action, caller, tree)


def escalate_overdue(db: Database, emit, now: datetime | None = None, batch: int = 100) -> int:
    """Escalate every action whose time limit passed; safe with several replicas (each row is claimed)."""
    from shared.identity import SYSTEM

    now = now or utcnow()
    due = (Action.state.in_(lifecycle.OPEN_STATES), Action.deadline_at <= now, Action.level < lifecycle.MAX_LEVEL)

    def handle(session: Session, action_id: int) -> bool:
        # The claim: clear the deadline of a row still due; a replica that took it first changed the row.
        if not claimed(session, update(Action).where(Action.id == action_id, *due).values(deadline_at=None)
                       .execution_options(synchronize_session=False)):
            return False
        action = session.get(Action, action_id)
        decision = escalation.due_escalation(escalation.ActionSnapshot(
            action.id, action.state, action.level, action.level_started_at, action.accepted_at,
            action.category), limits_of(session.get(Category, action.category)), now)
        if decision is None or not decision.escalate:
            _save(session, action)  # not due by the rules after all: its deadline again
            return False
        _escalate(session, emit, action, SYSTEM, Tree.load(session), decision.reason, automatic=True)
        return True

    return work_through(db, select(Action.id).where(*due).order_by(Action.deadline_at).limit(batch), handle)


# ------------------------------------------------------------------------------------------ mass actions

def create_mass_action(db: Database, emit, caller: Caller, data: dict) -> dict:
    """One command, one check per approved merchant in the grids, each with the checklist (e.g. typhoon)."""
    caller.require()
    with writing(db) as session:
        tree = Tree.load(session)
        for grid_id in data["grid_ids"]:
            tree.get(grid_id, "grid_ids")
        for grid_id in data["grid_ids"]:
            tree.require_scope(caller, grid_id, f"grid {grid_id}")
        _category(session, data["category"])
        team_id = data.get("team_id")
        members: list[int] = []
        if team_id is not None:
            if session.get(Team, team_id) is None:
                raise Invalid("Unknown team.", errors={"team_id": [f"team {team_id} does not exist"]})
            members = active_member_ids(session, team_id)
            if not members:
                raise Invalid("The team has nobody to ask.", errors={"team_id": ["the team has no active members"]})
        area: set[int] = set()
        for grid_id in data["grid_ids"]:
            area |= tree.subtree(grid_id)
        merchants = session.scalars(select(Merchant).where(Merchant.grid_id.in_(area), Merchant.status == "approved")
                                    .order_by(Merchant.grid_id, Merchant.id)).all()
        if not merchants:
            raise Invalid("Nothing to check.", errors={"grid_ids": ["no approved merchants in these grids"]})
        checklist = [{"item": item, "done": False} for item in data.get("checklist") or []]
        parent = new_action(session, tree, caller, {
            "title": data["title"], "category": data["category"], "description": data.get("description", ""),
            "grid_id": tree.common_ancestor(list(data["grid_ids"]))}, kind="mass")
        parent.state = "in_progress"
        for merchant in merchants:
            child = new_action(session, tree, caller, {
                "title": f"{data['title']} · {merchant.name}"[:200], "category": data["category"],
                "description": data.get("description", ""), "grid_id": merchant.grid_id,
                "merchant_id": merchant.id, "location": merchant.address or merchant.name},
                parent_id=parent.id)
            child.checklist = [dict(item) for item in checklist]
            if members:
                _transition(session, child, "dispatch", caller, tree, data={"candidate_ids": members,
                                                                           "team_id": team_id, "mode": "team"})
                child.candidate_ids, child.team_id = members, team_id
            _save(session, child)
        parent.candidate_ids, parent.team_id = members, team_id
        _save(session, parent)
        # One event for the command, not one per shop: a team of twenty is not sent two hundred notices.
        emit(session, "action.reported", payload(session, tree, parent, caller))
        if members:
            emit(session, "action.dispatched", payload(session, tree, parent, caller,
                                                       f"{len(merchants)} checks"))
        return action_dict(session, parent, caller, tree)
