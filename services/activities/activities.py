"""Use-cases of activities themselves: create (with its first sessions and route), change, cancel, list, read.

Who creates: coordinators, space managers, admins, and the leads of the volunteers team that will run it
(asked of the volunteers service). Its organisers are the creator and that team's leads; coordinators and
admins organise every activity. Rooms are booked through the venue saga (sessions.py, venue.py).

A creation takes effect once per idempotency key, though the saga commits step by step: the activity records
its request's key (`request_key`, unique), written in one transaction with the holds of its first sessions'
rooms, whose references are made from the key and the activity (venue.reference_for). A retry (a client's after
a 503, a redelivery, a duplicate at the same time) finds that activity and answers it as it is now; while one
of those holds is still `booking`, or `releasing` after the first attempt failed, it answers 503 (try again), as
the first attempt does. A first attempt that failed deleted its activity, so the retry creates it anew (its
holds get new references: the activity is new); one that failed without undoing itself (its process died, and
the venue timer gave its rooms back) is undone by the retry first.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.activities import places, venue
from services.activities.access import (
    activity_of,
    first_start,
    organised,
    organises,
    participants,
    shown,
    signup_view,
    titles,
)
from services.activities.contracts import (
    ActivityDetailSchema,
    ActivitySchema,
    SessionSchema,
)
from services.activities.models import (
    Activity,
    ActivityGroup,
    ActivityRole,
    ActivitySession,
    RouteStop,
    SignUp,
    VenueHold,
)
from services.activities.planning import check_plans, finish_plan, insert_plain, invalid, open_plan, plan
from services.activities.rules import ACTIVITY, LIVE, SESSION, SIGNUP, Window, check_window, eligible
from services.activities.venue import Bookings
from shared.db import Database, utcnow, versioned
from shared.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed, Unavailable
from shared.identity import Caller
from shared.lifecycle import as_conflict
from shared.paging import keyset
from shared.recurrence import RuleViolation

TeamLeads = Callable[[int], list[int]]
CREATORS = ("coordinator", "space_manager")
STALE = "The activity changed meanwhile; reload it and try again."


def writing(db: Database, stale: type[Conflict] | type[PreconditionFailed] = Conflict):
    """A write transaction whose lost version race on the activity answers `stale` (409 or 412)."""
    return versioned(db, stale(STALE))


def leads_of(team_id: int | None, team_leads: TeamLeads) -> list[int]:
    if team_id is None:
        return []
    try:
        return list(team_leads(team_id))
    except NotFound:
        raise Invalid("No such team.", errors={"organiser_team_id": [f"team {team_id} does not exist"]}) from None


def may_create(caller: Caller, leads: list[int]) -> None:
    caller.require()
    if caller.has_role(*CREATORS) or (caller.user_id is not None and caller.user_id in leads):
        return
    raise Forbidden("Coordinators, space managers, admins and the leads of the organising team create activities.")


def _route(activity: Activity, stops: list[dict] | None) -> None:
    activity.route = [RouteStop(position=i, name=stop["name"], note=stop.get("note", ""))
                      for i, stop in enumerate(stops or ())]


def new_activity(session: Session, caller: Caller, data: dict, leads: list[int]) -> Activity:
    """Insert the activity with its eligibility, organisers and route (no sessions)."""
    organisers = ([caller.user_id] if caller.user_id is not None else []) + leads
    activity = Activity(
        title_zh=data["title_zh"], title_en=data["title_en"], description_zh=data["description_zh"],
        description_en=data["description_en"], kind=data["kind"], organiser_team_id=data.get("organiser_team_id"),
        site_id=data.get("site_id"), site_name=data.get("site_name", ""), capacity=data["capacity"], taken=0,
        signup_opens_at=data.get("signup_opens_at"), signup_closes_at=data.get("signup_closes_at"),
        cancel_before_minutes=data["cancel_before_minutes"], max_places_per_person=data["max_places_per_person"],
        one_per_household=data["one_per_household"], hold_minutes=data["hold_minutes"], state="open",
        timezone=data["timezone"], created_by=caller.user_id or 0, created_at=utcnow(), updated_at=utcnow())
    activity.groups = data["groups"]
    activity.roles = data["roles"]
    activity.organiser_ids = organisers
    _route(activity, data.get("route"))
    session.add(activity)
    session.flush()
    return activity


def create_activity(db: Database, caller: Caller, data: dict, *, team_leads: TeamLeads,
                    bookings: Bookings, request_key: str | None = None) -> dict:
    """Create an activity with its route and first sessions. Every session is checked before anything is
    written (422 naming the field); rooms are booked through the venue saga, and if one cannot be had the
    activity is undone (409 with the conflicts, 503 when bookings does not answer), rooms already had given back.
    A keyed request (`request_key`, its idempotency key) creates one activity however often it is retried
    (`created_before`).
    """
    caller.require()
    if request_key:
        made = created_before(db, caller, request_key, data)
        if made is not None:
            return made
    leads = leads_of(data.get("organiser_team_id"), team_leads)
    may_create(caller, leads)
    if data.get("site_id") is not None:
        data = {**data, "site_name": site_name(bookings, data["site_id"])}
    plans = [plan(bookings, request, data["timezone"]) for request in data.get("sessions") or ()]
    check_plans(data.get("signup_opens_at"), data.get("signup_closes_at"), plans)
    asking = []  # (plan, hold id, bookings' request): the holds are written with the activity (tx1)
    try:
        with db.transaction() as session:
            activity = new_activity(session, caller, data, leads)
            activity.request_key = request_key
            session.flush()
            activity_id = activity.id
            for index, each in enumerate(plans):
                if each.space is None:
                    insert_plain(session, activity_id, each)
                else:
                    reference = creation_reference(request_key, activity, index)
                    asking.append((each, *open_plan(session, activity, each, reference)))
    except IntegrityError:
        if not request_key:
            raise
        # A duplicate of this request (its key) created the activity meanwhile: answer what it made.
        made = created_before(db, caller, request_key, data)
        if made is None:
            raise Unavailable(venue.BUSY) from None
        return made
    asked = 0
    try:
        for each, hold_id, request in asking:
            asked += 1
            finish_plan(db, bookings, activity_id, each, hold_id, request)
    except BaseException:
        venue.not_asked(db, [hold_id for _plan, hold_id, _request in asking[asked:]])
        delete_activity(db, activity_id)
        raise
    with db.read() as session:
        return detail(session, caller, session.get(Activity, activity_id))


def creation_reference(request_key: str | None, activity: Activity, index: int) -> str | None:
    """The reference of the hold for a keyed creation's `index`-th session request (None: a fresh one). Made
    from the activity too, so an attempt after one that failed (its activity deleted) has references of its
    own; its instant as well as its id, as SQLite may give a deleted row's id again."""
    if not request_key:
        return None
    return venue.reference_for(request_key, "create_activity", activity.id, activity.created_at.isoformat(), index)


def created_before(db: Database, caller: Caller, request_key: str, data: dict) -> dict | None:
    """A retried creation (its idempotency key) answers the activity its first attempt made, as it is now;
    while that attempt's rooms are still being booked, or given back after it failed, 503 (try again) — as the
    first attempt answers; None when it left nothing, and the retry creates it anew. A first attempt that
    failed without undoing itself (its process died; the venue timer gave its rooms back) is undone here."""
    with db.read() as session:
        activity = session.scalar(select(Activity).where(Activity.request_key == request_key))
        if activity is None:
            return None
        references = [creation_reference(request_key, activity, index)
                      for index in range(len(data.get("sessions") or ()))]
        states = set(session.scalars(select(VenueHold.state).where(VenueHold.reference.in_(references))))
        if activity.state != "open" or states <= {"held"}:
            return detail(session, caller, activity)
        if states & {"booking", "releasing"}:
            raise Unavailable("The activity is being set up (its rooms are being booked); try again shortly.")
        activity_id = activity.id
    delete_activity(db, activity_id)  # a room refused or given back: the first attempt failed
    return None


def site_name(bookings: Bookings, site_id: int) -> str:
    """The name of the bookings site an activity belongs to; a site that does not exist is refused."""
    try:
        return bookings.site(site_id)["name"]
    except NotFound:
        raise Invalid("No such site.", errors={"site_id": [f"site {site_id} does not exist"]}) from None


def delete_activity(db: Database, activity_id: int) -> None:
    """Undo a creation whose rooms could not be had (it has no sign-up yet): the activity and its sessions
    go, and the rooms it had already are given back (the venue timer)."""
    with db.transaction() as session:
        activity = session.get(Activity, activity_id)
        if activity is None:
            return
        for row in session.scalars(select(ActivitySession).where(ActivitySession.activity_id == activity_id)):
            if row.hold is not None and row.hold.state == "held":
                venue.release_hold(row.hold)
            session.delete(row)
        session.flush()
        session.delete(activity)


# --------------------------------------------------------------------------- read


def detail(session: Session, caller: Caller, activity: Activity) -> dict:
    """The activity as GET /activities/{id} shows it to the caller."""
    session.refresh(activity)
    view = ActivityDetailSchema().dump(activity)
    sessions = session.scalars(select(ActivitySession).where(
        ActivitySession.activity_id == activity.id, shown()).order_by(ActivitySession.starts_at)).all()
    view["sessions"] = SessionSchema(many=True).dump(sessions)
    mine = None
    if caller.user_id is not None:
        mine = session.scalars(select(SignUp).where(SignUp.activity_id == activity.id,
                                                    SignUp.user_id == caller.user_id)
                               .order_by(SignUp.state.in_(LIVE).desc(), SignUp.id.desc()).limit(1)).first()
    view["my_signup"] = signup_view(session, mine, activity) if mine is not None else None
    view["waitlist_length"] = session.scalar(select(func.count()).select_from(SignUp).where(
        SignUp.activity_id == activity.id, SignUp.state == "waitlisted"))
    view["eligible"] = eligible(activity.groups, activity.roles, caller.groups, caller.roles) or caller.is_admin
    start = first_start(session, activity.id)
    view["signup_window"] = (Window(activity.signup_opens_at, activity.signup_closes_at).state(utcnow(), start)
                             if activity.state == "open" else "closed")
    view["organiser"] = organises(caller, activity)
    return view


def get_activity(db: Database, caller: Caller, activity_id: int) -> dict:
    with db.read() as session:
        return detail(session, caller, activity_of(session, caller, activity_id))


def list_activities(db: Database, caller: Caller, query: dict) -> dict:
    """Activities, newest first, by kind, site, state, a period with a session in it, those the caller may
    sign up for (`eligible`) or organises (`mine`)."""
    caller.require()
    stmt = select(Activity)
    for name in ("kind", "site_id", "state"):
        if query.get(name) is not None:
            stmt = stmt.where(getattr(Activity, name) == query[name])
    if query.get("from") or query.get("to"):
        held = select(ActivitySession.id).where(ActivitySession.activity_id == Activity.id, shown(),
                                                ActivitySession.state != "cancelled")
        if query.get("from"):
            held = held.where(ActivitySession.ends_at > query["from"])
        if query.get("to"):
            held = held.where(ActivitySession.starts_at < query["to"])
        stmt = stmt.where(exists(held))
    if query.get("eligible") and not caller.is_admin:
        no_groups = ~exists(select(ActivityGroup.activity_id).where(ActivityGroup.activity_id == Activity.id))
        no_roles = ~exists(select(ActivityRole.activity_id).where(ActivityRole.activity_id == Activity.id))
        stmt = stmt.where(or_(
            and_(no_groups, no_roles),
            exists(select(ActivityGroup.activity_id).where(ActivityGroup.activity_id == Activity.id,
                                                           ActivityGroup.group_name.in_(list(caller.groups)))),
            exists(select(ActivityRole.activity_id).where(ActivityRole.activity_id == Activity.id,
                                                          ActivityRole.role.in_(sorted(caller.roles))))))
    if query.get("mine"):
        if not caller.has_role("coordinator"):
            stmt = stmt.where(Activity.organised_by(caller.user_id))
    with db.read() as session:
        page = keyset(session, stmt, Activity.id, query)
        when = _when(session, [activity.id for activity in page.rows])
        return page.answer(lambda rows: [{**item, **when.get(item["id"], NO_SESSIONS)}
                                         for item in ActivitySchema(many=True).dump(rows)])


NO_SESSIONS = {"first_starts_at": None, "last_ends_at": None, "session_count": 0}


def _when(session, activity_ids: list[int]) -> dict[int, dict]:
    """For a page of activities, in one query: when their sessions (shown, not cancelled) begin and end, and
    how many there are, for the list's cards."""
    if not activity_ids:
        return {}
    rows = session.execute(
        select(ActivitySession.activity_id, func.min(ActivitySession.starts_at), func.max(ActivitySession.ends_at),
               func.count(ActivitySession.id))
        .where(ActivitySession.activity_id.in_(activity_ids), shown(), ActivitySession.state != "cancelled")
        .group_by(ActivitySession.activity_id))
    return {activity_id: {"first_starts_at": first.isoformat(), "last_ends_at": last.isoformat(),
                          "session_count": count}
            for activity_id, first, last, count in rows}


# --------------------------------------------------------------------------- change


def update_activity(db: Database, emit, caller: Caller, activity_id: int, data: dict,
                    expected_version: int | None = None) -> dict:
    """Change texts, capacity (not below the places taken), the window, limits, eligibility, the route;
    `expected_version` (If-Match) must be the current version (412). Places freed by a larger capacity go to
    the waitlist."""
    with writing(db, PreconditionFailed) as session:
        activity = organised(session, caller, activity_id, lock=True)
        if expected_version is not None and expected_version != activity.version:
            raise PreconditionFailed(f"The activity changed (now version {activity.version}); reload it.")
        if activity.state != "open":
            raise ACTIVITY.refuse(activity.state, "cancel", "only an open activity changes").conflict()
        if "capacity" in data and data["capacity"] < activity.taken:
            raise Invalid("Capacity below the places taken.", errors={
                "capacity": [f"{activity.taken} places are taken already; capacity must be at least that"]})
        opens = data.get("signup_opens_at", activity.signup_opens_at)
        closes = data.get("signup_closes_at", activity.signup_closes_at)
        starts = session.scalars(select(ActivitySession.starts_at).where(
            ActivitySession.activity_id == activity.id, ActivitySession.state == "scheduled", shown())).all()
        try:
            check_window(opens, closes, starts)
        except RuleViolation as violation:
            raise invalid(violation) from None
        for name in ("title_zh", "title_en", "description_zh", "description_en", "capacity", "signup_opens_at",
                     "signup_closes_at", "cancel_before_minutes", "max_places_per_person", "one_per_household",
                     "hold_minutes", "groups", "roles"):
            if name in data:
                setattr(activity, name, data[name])
        if "route" in data:
            _route(activity, data["route"])
        activity.updated_at = utcnow()
        session.flush()
        if "capacity" in data:
            places.offer_freed(session, emit, activity.id)
        return detail(session, caller, activity)


@as_conflict()
def cancel_activity(db: Database, emit, caller: Caller, activity_id: int, data: dict) -> dict:
    """Cancel the activity: its sessions are cancelled, its rooms given back (the venue timer, as the system),
    every live sign-up cancelled and its people told."""
    with writing(db) as session:
        activity = organised(session, caller, activity_id, lock=True)
        ACTIVITY.move(activity, "cancel", attr="state")
        activity.cancel_reason = data.get("reason", "")
        told = set(participants(session, activity.id))
        live = session.scalars(select(SignUp).where(SignUp.activity_id == activity.id, SignUp.state.in_(LIVE))).all()
        for signup in live:
            told.add(signup.user_id)
            SIGNUP.move(signup, "cancel", attr="state")
            signup.live_key = signup.household_key = None
            signup.decided_at = utcnow()
        activity.taken = 0
        rows = session.scalars(select(ActivitySession).where(ActivitySession.activity_id == activity.id,
                                                             ActivitySession.state == "scheduled")).all()
        holds = set()
        for row in rows:
            SESSION.move(row, "cancel", attr="state")
            row.cancel_reason = activity.cancel_reason
            if row.hold is not None and row.hold.state == "held":
                holds.add(row.hold)
        for hold in holds:
            venue.release_hold(hold)
        activity.updated_at = utcnow()
        session.flush()
        emit(session, "activity.cancelled", {**titles(activity), "user_ids": sorted(told),
                                             "reason": activity.cancel_reason})
        return detail(session, caller, activity)
