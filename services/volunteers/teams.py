"""Teams (leads, membership by invitation, approval or open door) and volunteer profiles with their hours."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from services.volunteers.contracts import MemberSchema, TeamSchema, VolunteerSchema
from services.volunteers.dispatch import Candidate
from services.volunteers.grids import Tree
from services.volunteers.models import Action, Team, TeamMember, Volunteer, WorkLog
from shared.db import Database, utcnow
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.identity import Caller
from shared.paging import keyset

# An action counts against a volunteer's limit from acceptance until it is resolved.
BUSY_STATES = ("accepted", "in_progress")


# ------------------------------------------------------------------------------------------------ teams

def _team(session: Session, team_id: int, field: str | None = None, lock: bool = False) -> Team:
    # `lock` serialises changes to one team's members (a join racing an invitation would insert twice).
    team = session.get(Team, team_id, with_for_update=lock)
    if team is None:
        if field:
            raise Invalid("Unknown team.", errors={field: [f"team {team_id} does not exist"]})
        raise NotFound(f"Team {team_id} does not exist.")
    return team


def lead_ids(session: Session, team_id: int) -> list[int]:
    return sorted(session.scalars(select(TeamMember.user_id).where(
        TeamMember.team_id == team_id, TeamMember.role == "lead", TeamMember.status == "active")).all())


def active_member_ids(session: Session, team_id: int) -> list[int]:
    return sorted(session.scalars(select(TeamMember.user_id).where(
        TeamMember.team_id == team_id, TeamMember.status == "active")).all())


def team_dict(session: Session, team: Team) -> dict:
    members = session.scalar(select(func.count()).select_from(TeamMember).where(
        TeamMember.team_id == team.id, TeamMember.status == "active"))
    minutes = session.scalar(select(func.coalesce(func.sum(WorkLog.minutes), 0)).where(WorkLog.team_id == team.id))
    return TeamSchema().dump({
        "id": team.id, "name": team.name, "kind": team.kind, "description": team.description or "",
        "join_policy": team.join_policy, "lead_ids": lead_ids(session, team.id), "member_count": members,
        "hours_total": round((minutes or 0) / 60, 2),
    })


def list_teams(db: Database, caller: Caller, query: dict | None = None) -> list[dict]:
    """Every team, or with `mine` those the caller is an active member (or lead) of."""
    with db.read() as session:
        statement = select(Team).order_by(Team.id)
        if (query or {}).get("mine"):
            statement = statement.where(Team.id.in_(select(TeamMember.team_id).where(
                TeamMember.user_id == caller.user_id, TeamMember.status == "active")))
        return [team_dict(session, t) for t in session.scalars(statement).all()]


def get_team(db: Database, team_id: int) -> dict:
    with db.read() as session:
        return team_dict(session, _team(session, team_id))


def _add_member(session: Session, emit, team: Team, user_id: int, role: str, status: str,
                invited_by: int | None = None) -> TeamMember:
    member = session.scalars(select(TeamMember).where(TeamMember.team_id == team.id,
                                                      TeamMember.user_id == user_id)).first()
    if member is None:
        member = TeamMember(team_id=team.id, user_id=user_id, role=role, status=status, invited_by=invited_by)
        session.add(member)
    else:
        member.role = "lead" if "lead" in (role, member.role) else "member"
        if member.status != "active":
            member.status = status
    session.flush()
    if member.status == "active" and member.joined_at is None:
        member.joined_at = utcnow()
        session.flush()
        emit(session, "team.member_joined", {"team_id": team.id, "team_name": team.name, "user_id": user_id,
                                              "lead_ids": lead_ids(session, team.id)})
    return member


def ensure_team(db: Database, emit, caller: Caller, data: dict) -> dict:
    """Create a team of that name unless it exists; its named leads become active leads."""
    caller.require_role("admin")
    with db.transaction() as session:
        team = session.scalars(select(Team).where(Team.name == data["name"])).first()
        if team is None:
            team = Team(name=data["name"], kind=data["kind"], description=data.get("description", ""),
                        join_policy=data.get("join_policy", "approval"))
            session.add(team)
            session.flush()
        for user_id in data.get("lead_ids") or []:
            _add_member(session, emit, team, user_id, "lead", "active")
        return team_dict(session, team)


def create_team(db: Database, emit, caller: Caller, data: dict) -> dict:
    caller.require_role("coordinator", "admin")
    with db.transaction() as session:
        if session.scalars(select(Team).where(Team.name == data["name"])).first() is not None:
            raise Conflict("A team of that name exists.", errors={"name": ["already taken"]})
        team = Team(name=data["name"], kind=data["kind"], description=data.get("description", ""),
                    join_policy=data["join_policy"])
        session.add(team)
        session.flush()
        for user_id in data.get("lead_ids") or []:
            _add_member(session, emit, team, user_id, "lead", "active")
        return team_dict(session, team)


def _may_manage(session: Session, caller: Caller, team: Team) -> bool:
    return caller.has_role("coordinator", "admin") or caller.user_id in lead_ids(session, team.id)


def _member_dicts(session: Session, team_id: int) -> list[dict]:
    members = session.scalars(select(TeamMember).where(TeamMember.team_id == team_id)
                              .order_by(TeamMember.role, TeamMember.id)).all()
    names = {v.user_id: v.display_name for v in session.scalars(
        select(Volunteer).where(Volunteer.user_id.in_([m.user_id for m in members]))).all()}
    return MemberSchema(many=True).dump([
        {"user_id": m.user_id, "display_name": names.get(m.user_id, ""), "role": m.role, "status": m.status,
         "joined_at": m.joined_at} for m in members])


def list_members(db: Database, caller: Caller, team_id: int) -> list[dict]:
    caller.require()
    with db.read() as session:
        team = _team(session, team_id)
        members = _member_dicts(session, team.id)
        if _may_manage(session, caller, team):
            return members
        # Everyone else sees the active roster only (pending requests and invitations are the team's business).
        return [m for m in members if m["status"] == "active" or m["user_id"] == caller.user_id]


def _require_profile(session: Session, user_id: int, field: str = "user_id") -> Volunteer:
    volunteer = session.get(Volunteer, user_id)
    if volunteer is None:
        raise Invalid("No such volunteer.", errors={field: [f"user {user_id} has no volunteer profile"]})
    return volunteer


def join(db: Database, emit, caller: Caller, team_id: int) -> dict:
    """Join an open team, accept an invitation, or ask to join a team that approves its members."""
    caller.require()
    with db.transaction() as session:
        team = _team(session, team_id, lock=True)
        if session.get(Volunteer, caller.user_id) is None:
            raise Conflict("Register as a volunteer first (POST /api/v1/volunteers/me).")
        member = session.scalars(select(TeamMember).where(TeamMember.team_id == team.id,
                                                          TeamMember.user_id == caller.user_id)).first()
        if member is not None and member.status == "active":
            raise Conflict("You are a member already.")
        if member is not None and member.status == "invited" or team.join_policy == "open":
            status = "active"
        elif team.join_policy == "approval":
            status = "pending"
        else:
            raise Forbidden("This team takes members by invitation only.")
        member = _add_member(session, emit, team, caller.user_id, member.role if member else "member", status)
        return next(m for m in _member_dicts(session, team.id) if m["user_id"] == caller.user_id)


def invite(db: Database, emit, caller: Caller, team_id: int, data: dict) -> dict:
    caller.require()
    with db.transaction() as session:
        team = _team(session, team_id, lock=True)
        if not _may_manage(session, caller, team):
            raise Forbidden("Only the team's leads or a coordinator may invite.")
        _require_profile(session, data["user_id"])
        member = session.scalars(select(TeamMember).where(TeamMember.team_id == team.id,
                                                          TeamMember.user_id == data["user_id"])).first()
        if member is not None and member.status == "active":
            raise Conflict("Already a member.", errors={"user_id": ["already an active member"]})
        # Someone who asked to join and is now invited is simply in.
        status = "active" if member is not None and member.status == "pending" else "invited"
        added = _add_member(session, emit, team, data["user_id"], data["role"], status, invited_by=caller.user_id)
        if added.status == "invited":
            # Joined members hear team.member_joined; an invitation waits for the invitee, who is told.
            emit(session, "team.member_invited", {"team_id": team.id, "team_name": team.name,
                                                  "user_id": data["user_id"], "role": added.role,
                                                  "invited_by": caller.user_id,
                                                  "invited_by_name": caller.display_name or ""})
        return next(m for m in _member_dicts(session, team.id) if m["user_id"] == data["user_id"])


def approve(db: Database, emit, caller: Caller, team_id: int, user_id: int) -> dict:
    caller.require()
    with db.transaction() as session:
        team = _team(session, team_id, lock=True)
        if not _may_manage(session, caller, team):
            raise Forbidden("Only the team's leads or a coordinator may approve members.")
        member = session.scalars(select(TeamMember).where(TeamMember.team_id == team.id,
                                                          TeamMember.user_id == user_id)).first()
        if member is None or member.status != "pending":
            raise Conflict("There is no pending request from that user.",
                           extra={"membership_status": member.status if member else None})
        _add_member(session, emit, team, user_id, member.role, "active")
        return next(m for m in _member_dicts(session, team.id) if m["user_id"] == user_id)


def team_leads(db: Database, team_id: int) -> list[int]:
    with db.read() as session:
        _team(session, team_id)
        return lead_ids(session, team_id)


# ------------------------------------------------------------------------------------------- volunteers

def _jsonable(data: dict) -> dict:
    """Profile fields as stored (periods as ISO text in JSON columns)."""
    out = dict(data)
    if "grid_ids" in out:
        out["grid_ids"] = list(dict.fromkeys(out["grid_ids"] or []))
    if "unavailable" in out:
        out["unavailable"] = [{"starts_at": p["starts_at"].isoformat(), "ends_at": p["ends_at"].isoformat(),
                               "reason": p.get("reason", "")} for p in out["unavailable"]]
    return out


def _check_profile(session: Session, data: dict) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if data.get("grid_ids"):
        tree = Tree.load(session)
        unknown = [g for g in data["grid_ids"] if g not in tree.grids]
        if unknown:
            raise Invalid("Unknown grid.", errors={"grid_ids": [f"grid {g} does not exist" for g in unknown]})
    if "timezone" in data:
        try:
            ZoneInfo(data["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid("Unknown time zone.", errors={"timezone": ["not an IANA time zone"]}) from None


def volunteer_stats(session: Session, user_ids: list[int]) -> dict[int, dict]:
    stats: dict[int, dict] = defaultdict(lambda: {"team_ids": [], "open_actions": 0, "minutes": 0})
    for member in session.scalars(select(TeamMember).where(TeamMember.user_id.in_(user_ids),
                                                           TeamMember.status == "active")).all():
        stats[member.user_id]["team_ids"].append(member.team_id)
    for user_id, count in session.execute(select(Action.accepted_by, func.count()).where(
            Action.accepted_by.in_(user_ids), Action.state.in_(BUSY_STATES)).group_by(Action.accepted_by)).all():
        stats[user_id]["open_actions"] = count
    for user_id, minutes in session.execute(select(WorkLog.user_id, func.sum(WorkLog.minutes)).where(
            WorkLog.user_id.in_(user_ids)).group_by(WorkLog.user_id)).all():
        stats[user_id]["minutes"] = minutes or 0
    return stats


def _periods(stored: list[dict] | None) -> list[dict]:
    """Stored periods (ISO text) as datetimes again, for the schema to answer them in UTC."""
    return [{**p, "starts_at": datetime.fromisoformat(p["starts_at"]),
             "ends_at": datetime.fromisoformat(p["ends_at"])} for p in stored or []]


def volunteer_dicts(session: Session, volunteers: list[Volunteer]) -> list[dict]:
    stats = volunteer_stats(session, [v.user_id for v in volunteers])
    out = []
    for v in volunteers:
        s = stats[v.user_id]
        out.append(VolunteerSchema().dump({
            "user_id": v.user_id, "display_name": v.display_name, "phone": v.phone, "skills": v.skills or {},
            "grid_ids": list(v.grid_ids), "availability": v.availability or [], "unavailable": _periods(v.unavailable),
            "on_leave": v.on_leave, "max_open_actions": v.max_open_actions, "timezone": v.timezone,
            "team_ids": sorted(s["team_ids"]), "open_actions": s["open_actions"],
            "hours_total": round(s["minutes"] / 60, 2), "last_action_at": v.last_action_at}))
    return out


def candidate_of(volunteer: Volunteer, stats: dict) -> Candidate:
    """The dispatcher's view of a volunteer (pure dispatch rules work on these)."""

    def hhmm(text: str) -> time:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))

    return Candidate(
        volunteer_id=volunteer.user_id, display_name=volunteer.display_name, skills=volunteer.skills or {},
        grid_ids=frozenset(volunteer.grid_ids or []),
        availability=[(w["weekday"], hhmm(w["start"]), hhmm(w["end"])) for w in volunteer.availability or []],
        tz=volunteer.timezone or "Asia/Shanghai",
        unavailable=[(datetime.fromisoformat(p["starts_at"]), datetime.fromisoformat(p["ends_at"]))
                     for p in volunteer.unavailable or []],
        on_leave=volunteer.on_leave, open_actions=stats["open_actions"],
        max_open_actions=volunteer.max_open_actions, last_action_at=volunteer.last_action_at,
        team_ids=frozenset(stats["team_ids"]))


def create_profile(db: Database, caller: Caller, data: dict) -> dict:
    caller.require()
    if caller.user_id is None:
        raise Forbidden("Only a person has a volunteer profile.")
    try:
        with db.transaction() as session:
            if session.get(Volunteer, caller.user_id) is not None:
                raise Conflict("You have a volunteer profile already; change it with PATCH.")
            _check_profile(session, data)
            volunteer = Volunteer(user_id=caller.user_id, **_jsonable(data))
            session.add(volunteer)
            session.flush()
            return volunteer_dicts(session, [volunteer])[0]
    except IntegrityError:
        raise Conflict("You have a volunteer profile already; change it with PATCH.") from None


def ensure_profile(db: Database, caller: Caller, user_id: int, data: dict) -> dict:
    """Create or replace a volunteer's profile (admin; used by the demo seed and tests)."""
    caller.require_role("admin")
    with db.transaction() as session:
        _check_profile(session, data)
        volunteer = session.get(Volunteer, user_id)
        if volunteer is None:
            volunteer = Volunteer(user_id=user_id)
            session.add(volunteer)
        for name, value in _jsonable(data).items():
            setattr(volunteer, name, value)
        session.flush()
        return volunteer_dicts(session, [volunteer])[0]


def get_profile(db: Database, caller: Caller, user_id: int | None = None) -> dict:
    caller.require()
    user_id = user_id or caller.user_id
    if user_id != caller.user_id and not caller.has_role("coordinator"):
        raise Forbidden("Only coordinators see other volunteers' profiles.")
    with db.read() as session:
        volunteer = session.get(Volunteer, user_id)
        if volunteer is None:
            raise NotFound("No volunteer profile yet." if user_id == caller.user_id
                           else f"Volunteer {user_id} does not exist.")
        return volunteer_dicts(session, [volunteer])[0]


def update_profile(db: Database, caller: Caller, data: dict) -> dict:
    caller.require()
    with db.transaction() as session:
        volunteer = session.get(Volunteer, caller.user_id)
        if volunteer is None:
            raise NotFound("No volunteer profile yet; create it with POST /volunteers/me.")
        _check_profile(session, data)
        for name, value in _jsonable(data).items():
            setattr(volunteer, name, value)
        session.flush()
        return volunteer_dicts(session, [volunteer])[0]


def list_volunteers(db: Database, caller: Caller, query: dict) -> dict:
    caller.require_role("coordinator", "admin")
    with db.read() as session:
        statement = select(Volunteer).options(selectinload(Volunteer.grid_links))
        if query.get("team_id"):
            statement = statement.where(Volunteer.user_id.in_(active_member_ids(session, query["team_id"])))
        if query.get("grid_id"):
            statement = statement.where(Volunteer.in_grids(Tree.load(session).subtree(query["grid_id"])))
        if query.get("skill"):
            statement = statement.where(Volunteer.has_skill(query["skill"]))
        page = keyset(session, statement, Volunteer.user_id, query, newest_first=False)
        return page.answer(lambda rows: volunteer_dicts(session, rows))
