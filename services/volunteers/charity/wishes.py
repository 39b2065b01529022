"""Use-cases of micro-wishes (微心愿): post, vet, adopt (exactly one adopter), deliver, confirm receipt.

The states and who may move them live in `rules` (WISH_VERBS, the API's verbs); every move is a guarded UPDATE on
the state the caller saw, so of many concurrent adopters exactly one wins and the others get 409.
"""
from __future__ import annotations

from sqlalchemy import false, or_, select, update
from sqlalchemy.orm import Session

from services.volunteers.charity.access import Emit, check_grid, coordinated, coordinates, in_subtree
from services.volunteers.charity.contracts import WishSchema
from services.volunteers.charity.events import vetting_payload
from services.volunteers.charity.models import Wish, WishTransition
from services.volunteers.charity.rules import WISHES, wish_may, wish_next_state
from shared.claims import claimed
from shared.db import Database, get_or_404, utcnow
from shared.errors import Forbidden
from shared.identity import Caller, actor_name
from shared.lifecycle import IllegalTransition
from shared.paging import keyset

# What each state change tells the rest of the suite.
EVENTS = {"published": "wish.published", "adopted": "wish.adopted", "fulfilled": "wish.fulfilled"}
# Timelines recorded before the verbs were the API's name the owner's confirmation of receipt "confirm".
RECORDED_AS = {"confirm": "fulfil"}
PUBLIC_STATES = frozenset({"published", "adopted", "delivered", "fulfilled"})
ADOPTER_ROLES = ("merchant", "volunteer")


def _payload(wish: Wish) -> dict:
    return {"wish_id": wish.id, "title": wish.title, "owner_id": wish.owner_id, "grid_id": wish.grid_id,
            "adopter_id": wish.adopter_id}


def _dump(session: Session, wish: Wish) -> dict:
    timeline = session.scalars(select(WishTransition).where(WishTransition.wish_id == wish.id)
                               .order_by(WishTransition.id)).all()
    body = {c.key: getattr(wish, c.key) for c in Wish.__table__.columns}
    body["timeline"] = [{"verb": RECORDED_AS.get(t.verb, t.verb), "from_state": t.from_state, "to_state": t.to_state,
                         "actor_id": t.actor_id, "actor_name": t.actor_name, "at": t.at,
                         "note": t.note} for t in timeline]
    return WishSchema().dump(body)


def _relations(session: Session, caller: Caller, wish: Wish) -> set[str]:
    relations = set()
    if caller.user_id is not None and wish.owner_id == caller.user_id:
        # The poster is the beneficiary here (a coordinator posting on someone's behalf is both).
        relations |= {"owner", "beneficiary"}
    if caller.user_id is not None and wish.adopter_id == caller.user_id:
        relations.add("adopter")
    if caller.has_role("coordinator") and coordinates(session, caller, wish.grid_id):
        relations.add("coordinator")
    if caller.has_role(*ADOPTER_ROLES) and wish.owner_id != caller.user_id:
        relations.add("volunteer")
    return relations


def _visible(session: Session, caller: Caller, wish: Wish | None) -> bool:
    if wish is None:
        return False
    return wish.state in PUBLIC_STATES or bool(_relations(session, caller, wish) - {"volunteer"})


def post_wish(db: Database, caller: Caller, data: dict, emit: Emit | None = None) -> dict:
    """A confirmed beneficiary (or a coordinator on someone's behalf) posts a wish; it awaits vetting by the
    coordinators of its grid, who are told."""
    caller.require()
    if not caller.groups and not caller.has_role("coordinator"):
        raise Forbidden("Only people whose beneficiary group a coordinator confirmed can post a micro-wish.")
    now = utcnow()
    with db.transaction() as session:
        check_grid(session, data.get("grid_id"))
        wish = Wish(owner_id=caller.user_id, state=wish_next_state("draft", "submit"), created_at=now,
                    updated_at=now, **data)
        session.add(wish)
        session.flush()
        session.add(WishTransition(wish_id=wish.id, verb="submit", from_state="draft", to_state=wish.state,
                                   actor_id=caller.user_id, actor_name=actor_name(caller), at=now))
        session.flush()
        if emit is not None:
            emit(session, "wish.submitted", {"wish_id": wish.id, **vetting_payload(session, wish.grid_id, wish.title,
                                                                                 caller.user_id)})
        return _dump(session, wish)


def ensure_wish(db: Database, emit: Emit, caller: Caller, data: dict) -> dict:
    """Record a wish for `owner_id` unless they have one of that title (system; demo seed)."""
    caller.require_role("admin")
    data = dict(data)
    owner_id, state = data.pop("owner_id"), data.pop("state")
    now = utcnow()
    with db.transaction() as session:
        check_grid(session, data.get("grid_id"))
        wish = session.scalars(select(Wish).where(Wish.owner_id == owner_id, Wish.title == data["title"])).first()
        if wish is None:
            wish = Wish(owner_id=owner_id, state=state, created_at=now, updated_at=now, **data)
            session.add(wish)
            session.flush()
            steps = [("submit", "draft", "submitted")] + ([("publish", "submitted", "published")]
                                                          if state == "published" else [])
            for verb, source, target in steps:
                session.add(WishTransition(wish_id=wish.id, verb=verb, from_state=source, to_state=target,
                                           actor_id=None, actor_name="", at=now))
            if state in EVENTS:
                emit(session, EVENTS[state], _payload(wish))
            session.flush()
        return _dump(session, wish)


def get_wish(db: Database, caller: Caller, wish_id: int) -> dict:
    with db.read() as session:
        wish = get_or_404(session, Wish, wish_id, "Wish", visible=lambda wish: _visible(session, caller, wish))
        return _dump(session, wish)


def move_wish(db: Database, emit: Emit, caller: Caller, wish_id: int, verb: str, note: str = "") -> dict:
    """Apply a lifecycle verb (publish, reject, adopt, deliver, fulfil, withdraw) if the caller may."""
    caller.require()
    now = utcnow()
    with db.transaction() as session:
        wish = get_or_404(session, Wish, wish_id, "Wish", visible=lambda wish: _visible(session, caller, wish))
        seen = wish.state
        flags = {"reason": note} if verb in ("reject", "withdraw") and note else {}
        try:
            target = wish_next_state(seen, verb, **flags)
        except IllegalTransition as exc:
            raise exc.conflict() from None
        relations = _relations(session, caller, wish)
        if not wish_may(verb, relations):
            raise Forbidden(f"You may not {verb} this wish.")
        values = {"state": target, "updated_at": now}
        if verb == "adopt":
            values.update(adopter_id=caller.user_id, adopter_name=caller.display_name)
        if verb == "reject" and note:
            values["note"] = note
        # Guarded on the state we saw: a concurrent move makes this match nothing.
        if not claimed(session, update(Wish).where(Wish.id == wish.id, Wish.state == seen).values(**values)):
            current = session.scalar(select(Wish.state).where(Wish.id == wish_id))
            raise WISHES.refuse(current, verb, detail="someone else moved it first").conflict()
        session.add(WishTransition(wish_id=wish.id, verb=verb, from_state=seen, to_state=target,
                                   actor_id=caller.user_id, actor_name=actor_name(caller), at=now, note=note))
        session.flush()
        session.refresh(wish)
        if target in EVENTS:
            emit(session, EVENTS[target], _payload(wish))
        return _dump(session, wish)


def list_wishes(db: Database, caller: Caller, query: dict) -> dict:
    """Open wishes (published) by default; `mine` for wishes I posted or adopted; other states for the
    coordinators who vet them (within their grids) and for their owners. Newest first."""
    with db.read() as session:
        stmt = select(Wish)
        if query.get("mine"):
            caller.require()
            stmt = stmt.where(or_(Wish.owner_id == caller.user_id, Wish.adopter_id == caller.user_id))
            if query.get("state"):
                stmt = stmt.where(Wish.state == query["state"])
        else:
            stmt = stmt.where(Wish.state == (query.get("state") or "published"))
        if query.get("grid_id") is not None:
            stmt = stmt.where(Wish.grid_id.in_(in_subtree(session, query["grid_id"])))
        # What the caller may see (as `_visible`): public states, their own and adopted wishes, and those
        # of the grids they coordinate.
        own = (or_(Wish.owner_id == caller.user_id, Wish.adopter_id == caller.user_id)
               if caller.user_id is not None else false())
        stmt = stmt.where(or_(Wish.state.in_(sorted(PUBLIC_STATES)), own, coordinated(session, caller, Wish.grid_id)))
        return keyset(session, stmt, Wish.id, query).answer(lambda rows: [_dump(session, w) for w in rows])
