"""Who hears that an action was cancelled or merged, in which words: those still asked, or who had taken it,
are released; the reporter and followers hear it (of a merge, which case it joined); the actor is not told."""
from __future__ import annotations

from services.notifications.routing import resolve, route
from services.notifications.templates import render
from tests.notifications.unit.test_who_is_told import COURIER, GRID_WORKER, RIDER, SECRETARY, action

TEAM = 5


def test_a_cancel_releases_those_asked_and_tells_the_reporter_but_not_the_one_who_cancelled():
    payload = action("action.cancelled", state="cancelled", assignee_ids=[], released_ids=[RIDER, 31],
                     actor_id=SECRETARY, actor_name="楊國華", note="已自行修好", team_id=TEAM)
    plan = route("action.cancelled", payload)
    told = dict(resolve(plan))
    assert told == {RIDER: "released", 31: "released", COURIER: "follower", GRID_WORKER: "earlier_coordinator"}
    assert ("team", TEAM) in plan.groups
    title, body = render("action.cancelled", payload, "zh-CN", audience="released")
    assert title == "已取消,无需处理:店招松动" and "楊國華" in body
    title, body = render("action.cancelled", payload, "zh-CN", audience="follower")
    assert title == "已取消:店招松动" and "已自行修好" in body


def test_a_merge_releases_those_asked_and_names_the_case_the_duplicate_joined():
    payload = action("action.merged", state="duplicate", assignee_ids=[], released_ids=[RIDER],
                     actor_id=GRID_WORKER, actor_name="网格员 陈丽", survivor_id=9, survivor_title="店招要掉了")
    told = dict(resolve(route("action.merged", payload)))
    assert told[RIDER] == "released" and told[COURIER] == "follower" and GRID_WORKER not in told
    assert render("action.merged", payload, "zh-CN", audience="released")[0] == "已合并,无需处理:店招松动"
    title, body = render("action.merged", payload, "zh-CN", audience="follower")
    assert title == "已合并:店招松动" and "“店招要掉了”(#9)" in body
    assert "the same case as “店招要掉了” (#9)" in render("action.merged", payload, "en", audience="follower")[1]
