"""Who is told what, in which words: every level an action passed through, people released from a job, a
mass action's one digest, invitations and vetting queues, occurrences named as occurrences.

Routing and templates are pure; the inbox rules (a superseded "please accept", the digest) run against a
SQLite file migrated like the service's own database.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from services.notifications import operations
from services.notifications.broadcasts import check_expiry
from services.notifications.models import Delivery, InboxEntry, Reminder
from services.notifications.routing import resolve, route
from services.notifications.templates import render
from shared.db import database_for
from shared.errors import Invalid
from shared.events import make_event, parse_event
from shared.migrations import upgrade
from tests.notifications.samples import sample_payload

GRID_WORKER, SECRETARY, COMMAND = 20, 21, 22
RIDER, FIXER, OTHER_FIXER, COURIER = 30, 31, 32, 40


def action(type_name: str, **overrides) -> dict:
    """A story-3 action after escalation to 宜北: the secretary handles it, the grid worker passed it up."""
    base = {"action_id": 12, "title": "店招松动", "category": "shop_sign", "category_label": "店招松动",
            "grid_id": 10, "grid_name": "第7微网格", "level": 2, "level_grid_name": "宜北", "state": "accepted",
            "reporter_id": COURIER, "follower_ids": [COURIER], "coordinator_ids": [SECRETARY],
            "earlier_coordinator_ids": [GRID_WORKER], "assignee_ids": [FIXER], "released_ids": [],
            "actor_id": FIXER, "actor_name": "行动队 老王", "note": "", "team_id": None, "parent_id": None,
            "parent_reporter_id": None}
    return {**sample_payload(type_name), **base, **overrides}


def told(type_name: str, payload: dict) -> dict[int, str]:
    return dict(resolve(route(type_name, payload)))


# -- every level, every step ----------------------------------------------------------------------------
@pytest.mark.parametrize("type_name", ["action.accepted", "action.resolved", "action.closed"])
def test_after_escalation_the_grid_worker_still_hears_of_each_step(type_name):
    actor = {"action.closed": {"actor_id": COURIER}}.get(type_name, {})
    people = told(type_name, action(type_name, **actor))
    assert people[GRID_WORKER] == "earlier_coordinator"
    assert SECRETARY in people and (COURIER in people) == (type_name != "action.closed")


def test_the_earlier_level_is_not_asked_to_verify_but_told_by_whom_and_where():
    payload = action("action.resolved", note="招牌已重新固定")
    title, body = render("action.resolved", payload, "zh-CN", audience="earlier_coordinator")
    assert "请核查" not in title + body
    assert "宜北" in body and "行动队 老王" in body and "招牌已重新固定" in body
    assert "请核查" in render("action.resolved", payload, "zh-CN", audience="follower")[0]


def test_escalation_names_the_grid_it_rose_to_and_labels_the_category():
    payload = action("action.escalated", from_level=1, to_level=2, reason="30 分钟内无人接单", actor_id=None,
                     earlier_coordinator_ids=[GRID_WORKER])
    assert told("action.escalated", payload)[GRID_WORKER] == "earlier_coordinator"
    for audience in ("coordinator", "follower"):
        title, body = render("action.escalated", payload, "zh-CN", audience=audience)
        assert "宜北" in title + body and "第 2 级(第7微网格)" not in body
    title, body = render("action.escalated", payload, "zh-CN", audience="coordinator")
    assert "店招松动" in body
    reported = render("action.reported", action("action.reported"), "zh-CN", audience="coordinator")[1]
    assert "店招松动" in reported and "shop_sign" not in reported


def test_the_timers_escalation_says_why_in_the_readers_words():
    payload = action("action.escalated", from_level=1, to_level=2, automatic=True, actor_id=None,
                     reason="not accepted within 30 min at level 1")
    for audience in ("coordinator", "follower"):
        title, body = render("action.escalated", payload, "zh-CN", audience=audience)
        assert "未在时限内处置" in body and "not accepted" not in body and "宜北" in body
    assert "not accepted within 30 min" in render("action.escalated", payload, "en", audience="coordinator")[1]


def test_an_older_event_without_labels_still_reads():
    payload = action("action.reported", category_label="", level_grid_name="")
    assert "shop_sign" in render("action.reported", payload, "en", audience="coordinator")[1]
    assert "第7微网格" in render("action.reported", payload, "zh-CN", audience="reporter")[1]


# -- released ---------------------------------------------------------------------------------------------
def test_when_one_accepts_the_others_asked_are_released_by_name():
    payload = action("action.accepted", released_ids=[RIDER, OTHER_FIXER])
    people = told("action.accepted", payload)
    assert people[RIDER] == people[OTHER_FIXER] == "released" and FIXER not in people
    title, body = render("action.accepted", payload, "zh-CN", audience="released")
    assert "无需" in title and "行动队 老王" in body
    assert "need not" in render("action.accepted", payload, "en", audience="released")[1]


def test_a_dispatch_elsewhere_releases_those_asked_before():
    payload = action("action.dispatched", state="dispatched", assignee_ids=[FIXER, OTHER_FIXER],
                     released_ids=[RIDER], actor_id=SECRETARY, actor_name="楊國華")
    people = told("action.dispatched", payload)
    assert people[RIDER] == "released" and people[FIXER] == "assignee" and people[GRID_WORKER]
    title, body = render("action.dispatched", payload, "zh-CN", audience="released")
    assert "改派" in title and "楊國華" in body


# -- mass actions ---------------------------------------------------------------------------------------
def check(type_name: str, **overrides) -> dict:
    return action(type_name, **{
        "parent_id": 99, "parent_reporter_id": COMMAND, "parent_title": "台风店招检查", "reporter_id": COMMAND,
        "follower_ids": [COMMAND], "coordinator_ids": [GRID_WORKER], "earlier_coordinator_ids": [], "level": 1,
        "level_grid_name": "第7微网格",
        "progress": {"total": 14, "done": 3, "by_state": {"closed": 3, "accepted": 2, "dispatched": 9}},
        **overrides})


@pytest.mark.parametrize("type_name", ["action.accepted", "action.resolved", "action.closed"])
def test_a_check_tells_the_command_nothing_by_itself_and_feeds_its_digest(type_name):
    plan = route(type_name, check(type_name, actor_id=None if type_name == "action.closed" else FIXER))
    assert COMMAND not in dict(resolve(plan))
    assert plan.digest == (99, [COMMAND])


def test_a_check_that_closes_itself_asks_nobody_to_verify():
    assert resolve(route("action.resolved", check("action.resolved"))) == []
    # Whoever else was asked still hears that it is taken.
    assert told("action.accepted", check("action.accepted", released_ids=[RIDER])) == {RIDER: "released"}


# -- invitations, vetting -------------------------------------------------------------------------------
def test_an_invitation_tells_the_invitee_who_invited_them():
    payload = {**sample_payload("team.member_invited"), "user_id": FIXER, "team_name": "行动队",
               "invited_by": SECRETARY, "invited_by_name": "楊國華"}
    assert told("team.member_invited", payload) == {FIXER: "invitee"}
    title, body = render("team.member_invited", payload, "zh-CN", audience="invitee")
    assert "行动队" in title and "楊國華" in body


@pytest.mark.parametrize("type_name", ["wish.submitted", "merchant.registered"])
def test_a_vetting_queue_tells_the_coordinators_of_the_grid(type_name):
    payload = {**sample_payload(type_name), "coordinator_ids": [GRID_WORKER, SECRETARY], "grid_name": "第7微网格",
               "submitted_by": SECRETARY, "title": "一台助听器"}
    assert told(type_name, payload) == {GRID_WORKER: "coordinator"}  # the one who posted it knows
    assert "第7微网格" in render(type_name, payload, "zh-CN", audience="coordinator")[1]
    assert "no grid yet" in render(type_name, {**payload, "grid_name": ""}, "en")[1]


# -- occurrences ---------------------------------------------------------------------------------------
def cancelled(scope: str, occurrences: int) -> dict:
    return {**sample_payload("booking.cancelled"), "space_name": "烘焙教室", "scope": scope,
            "occurrences": occurrences, "reason": "", "timezone": "Asia/Shanghai",
            "starts_at": datetime(2026, 12, 5, 1, tzinfo=UTC), "ends_at": datetime(2026, 12, 5, 3, tzinfo=UTC),
            "cancelled_starts_at": datetime(2026, 12, 19, 1, tzinfo=UTC),
            "cancelled_ends_at": datetime(2026, 12, 19, 3, tzinfo=UTC)}


def test_cancelling_one_occurrence_names_that_occurrence_not_the_series():
    title, body = render("booking.cancelled", cancelled("occurrence", 11), "zh-CN", audience="manager")
    assert "2026-12-19 09:00 – 2026-12-19 11:00 这一次已取消" in body and "12-05" not in body
    assert "其余 11 次" in body and "一次" in title
    assert "This occurrence of the series" in render("booking.cancelled", cancelled("occurrence", 11), "en")[1]
    assert "自 2026-12-19 09:00 起" in render("booking.cancelled", cancelled("following", 3), "zh-CN")[1]
    # The whole series, or the only occurrence: the booking itself is gone, and says so.
    for scope, left in (("series", 0), ("occurrence", 0)):
        body = render("booking.cancelled", cancelled(scope, left), "zh-CN")[1]
        assert "整个预订已取消" in body and "2026-12-05 09:00" in body


# -- broadcasts -----------------------------------------------------------------------------------------
def test_a_broadcast_expiring_before_it_is_sent_is_refused_with_the_field():
    now = datetime(2026, 9, 15, 12, tzinfo=UTC)
    with pytest.raises(Invalid) as refused:
        check_expiry({"expires_at": now - timedelta(minutes=1)}, now)
    assert refused.value.errors == {"expires_at": ["must be in the future"]}
    check_expiry({"expires_at": now + timedelta(hours=1)}, now)
    check_expiry({"expires_at": None}, now)


# -- the inbox: superseded requests and the digest, on a real database -----------------------------------
@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'notifications.db'}"
    upgrade("notifications", url)
    return database_for("notifications", url)


def handle(db, type_name: str, payload: dict) -> None:
    with db.transaction() as session:
        operations.handle_event(session, parse_event(make_event(type_name, payload)))


def entries(db, user_id: int) -> list[SimpleNamespace]:
    with db.read() as session:
        rows = session.scalars(select(InboxEntry).where(InboxEntry.user_id == user_id).order_by(InboxEntry.id))
        return [SimpleNamespace(**{c.key: getattr(row, c.key) for c in InboxEntry.__table__.columns})
                for row in rows]


def unread(db, user_id: int) -> int:
    with db.read() as session:
        return operations._unread(session, user_id)


def test_the_first_rider_asked_is_released_and_his_request_no_longer_counts(db):
    asked = action("action.dispatched", state="dispatched", assignee_ids=[RIDER], accepted_by=None,
                   actor_id=GRID_WORKER, actor_name="网格员 陈丽", level=1, level_grid_name="第7微网格",
                   coordinator_ids=[GRID_WORKER], earlier_coordinator_ids=[])
    handle(db, "action.dispatched", {k: v for k, v in asked.items() if k != "accepted_by"})
    [request] = entries(db, RIDER)
    assert request.title == "请接单:店招松动" and request.awaits == "action:12" and request.superseded_at is None
    assert unread(db, RIDER) == 1
    # Escalated: still asked (he may yet accept), so still open.
    handle(db, "action.escalated", action("action.escalated", state="dispatched", assignee_ids=[RIDER],
                                          from_level=1, to_level=2, reason="无人接单", actor_id=None))
    assert entries(db, RIDER)[0].superseded_at is None
    # The secretary sends the action team instead: the rider is released and told so.
    handle(db, "action.dispatched", action("action.dispatched", state="dispatched",
                                           assignee_ids=[FIXER, OTHER_FIXER], released_ids=[RIDER],
                                           actor_id=SECRETARY, actor_name="楊國華"))
    request, escalated, released = entries(db, RIDER)
    assert request.superseded_at is not None and released.title.startswith("已改派他人")
    assert unread(db, RIDER) == 2  # the escalation and the release; the old request is not news
    # 老王 accepts: the other fixer is released, and 老王's own request is answered.
    handle(db, "action.accepted", action("action.accepted", released_ids=[OTHER_FIXER]))
    assert [e.superseded_at is not None for e in entries(db, OTHER_FIXER)] == [True, False]
    assert entries(db, OTHER_FIXER)[1].title.startswith("已由他人接单")
    assert entries(db, FIXER)[0].superseded_at is not None
    with db.read() as session:
        assert not session.scalars(select(Delivery).where(Delivery.status == "pending")).all()


def test_a_mass_action_gives_its_command_one_digest_per_period(db, monkeypatch):
    monkeypatch.setenv("NUANXIN_MASS_ACTION_DIGEST_MINUTES", "60")
    for done in range(14):
        progress = {"total": 14, "done": done + 1, "by_state": {"closed": done + 1, "dispatched": 13 - done}}
        for type_name in ("action.accepted", "action.resolved", "action.closed"):
            handle(db, type_name, check(type_name, action_id=100 + done, progress=progress,
                                        actor_id=None if type_name == "action.closed" else FIXER))
    assert entries(db, COMMAND) == []
    with db.read() as session:
        digests = [SimpleNamespace(user_ids=r.user_ids, payload=r.payload) for r in session.scalars(
            select(Reminder).where(Reminder.type == "action.mass_progress"))]
    # Fourteen checks, three steps each: one digest per period (two if the test straddles an hour's end).
    assert 1 <= len(digests) <= 2 and all(d.user_ids == [COMMAND] for d in digests)
    assert max(d.payload["done"] for d in digests) == 14
    with db.transaction() as session:
        session.execute(Reminder.__table__.update().values(due_at=datetime(2000, 1, 1, tzinfo=UTC)))
    assert operations.fire_due_reminders(db) == len(digests)
    latest = entries(db, COMMAND)[-1]
    assert latest.type == "action.mass_progress" and latest.title == "检查进度:台风店招检查"
    assert "共 14 项检查:已完成 14 项" in latest.body and latest.data["action_id"] == 99


def test_a_mass_action_that_closes_drops_its_pending_digest(db):
    handle(db, "action.accepted", check("action.accepted"))
    closed = action("action.closed", action_id=99, kind="mass", title="台风店招检查", reporter_id=COMMAND,
                    follower_ids=[COMMAND], actor_id=None, state="closed")
    handle(db, "action.closed", closed)
    with db.read() as session:
        assert {r.state for r in session.scalars(select(Reminder).where(Reminder.type == "action.mass_progress"))} \
            == {"cancelled"}
    assert [e.title for e in entries(db, COMMAND)] == ["已结案:台风店招检查"]
    # A check's step that arrives after the close schedules nothing more.
    handle(db, "action.resolved", check("action.resolved", action_id=13))
    with db.read() as session:
        assert not session.scalars(select(Reminder).where(Reminder.type == "action.mass_progress",
                                                          Reminder.state == "scheduled")).all()
