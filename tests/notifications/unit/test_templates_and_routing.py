"""Every event type in the contracts has recipients and a message in both languages."""
from __future__ import annotations

import pytest

from services.notifications import routing
from services.notifications.routing import Route, resolve, route
from services.notifications.service import NotificationsService
from services.notifications.templates import LOCALES, TEMPLATES, pick_locale, render
from shared.events import REGISTRY
from tests.notifications.samples import sample_payload

ALL_TYPES = sorted(REGISTRY)


@pytest.mark.parametrize("type_name", ALL_TYPES)
@pytest.mark.parametrize("locale", LOCALES)
def test_every_event_type_renders_in_both_languages_for_every_audience(type_name, locale):
    payload = sample_payload(type_name)
    plan = route(type_name, payload)
    audiences = [aud for aud, _ in plan.people] + [aud for aud, _ in plan.directory] + [None]
    for audience in audiences:
        title, body = render(type_name, payload, locale, audience=audience)
        assert title.strip() and body.strip(), (type_name, locale, audience)
        assert "{" not in title + body, "a placeholder was left unfilled"
    # Strings from the payload reach the reader (the template is not a constant).
    texts = " ".join(render(type_name, payload, locale, audience=a)[0] + render(type_name, payload, locale,
                                                                                 audience=a)[1] for a in audiences)
    assert "«" in texts or "2026-09-15" in texts


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_every_event_type_reaches_someone(type_name):
    payload = sample_payload(type_name)
    plan = route(type_name, payload)
    people = resolve(plan, {aud: [99] for aud, _ in plan.directory})
    assert people, f"{type_name} reaches nobody"
    assert plan.category in routing.CATEGORIES


def test_every_event_type_has_a_handler():
    handlers = {name for name in dir(NotificationsService) if name.startswith("on_")}
    assert handlers == {"on_" + t.replace(".", "_") for t in REGISTRY}


def test_every_template_exists_in_every_locale_and_formats_times_in_the_places_zone():
    for key, texts in TEMPLATES.items():
        assert set(texts) == set(LOCALES), key
    title, body = render("booking.confirmed", {**sample_payload("booking.confirmed"), "timezone": "Asia/Shanghai"},
                         "en")
    assert "2026-09-15 19:30" in body  # 11:30 UTC is 19:30 in Shanghai
    assert title.startswith("Booking confirmed")


def test_locale_falls_back_to_chinese():
    assert pick_locale("fr") == "zh-CN"
    assert pick_locale(None) == "zh-CN"
    assert pick_locale("en-GB") == "en"
    assert render("wish.adopted", sample_payload("wish.adopted"), "ja")[0].startswith("微心愿被认领")


def test_a_missing_template_is_an_error_not_a_blank_message():
    with pytest.raises(KeyError):
        render("no.such_type", {}, "zh-CN")
    with pytest.raises(KeyError):
        render("booking.confirmed", {"space_name": "烘焙教室"}, "zh-CN")  # placeholders missing


def test_critical_severity_is_prefixed():
    title, _ = render("broadcast", {"title": "台风预警", "body": "请加固招牌"}, "zh-CN", severity="critical")
    assert title == "【紧急】台风预警"


def test_a_broadcast_speaks_english_to_english_readers_when_it_has_an_english_text():
    both = {"title": "台风预警", "body": "请加固招牌", "title_en": "Typhoon warning", "body_en": "Secure signs"}
    assert render("broadcast", both, "en") == ("Typhoon warning", "Secure signs")
    assert render("broadcast", both, "zh-CN") == ("台风预警", "请加固招牌")
    assert render("broadcast", {"title": "台风预警", "body": "请加固招牌"}, "en") == ("台风预警", "请加固招牌")


def test_escalation_to_the_command_is_critical_and_lower_ones_are_not():
    payload = sample_payload("action.escalated")
    assert route("action.escalated", {**payload, "to_level": 3}).critical
    assert not route("action.escalated", {**payload, "to_level": 2}).critical
    assert not route("action.dispatched", sample_payload("action.dispatched")).critical


def test_booking_request_tells_the_booker_and_asks_the_managers():
    payload = {**sample_payload("booking.requested"), "booker_id": 1, "manager_ids": [2, 3]}
    assert resolve(route("booking.requested", payload)) == [(1, "booker"), (2, "manager"), (3, "manager")]


def test_the_actor_is_not_told_of_their_own_act_but_a_reporter_gets_a_receipt():
    accepted = {**sample_payload("action.accepted"), "actor_id": 11, "coordinator_ids": [20],
                "reporter_id": 30, "follower_ids": [30, 31, 11]}
    assert resolve(route("action.accepted", accepted)) == [(20, "coordinator"), (30, "follower"), (31, "follower")]
    reported = {**sample_payload("action.reported"), "actor_id": 30, "reporter_id": 30, "coordinator_ids": [20],
                "follower_ids": [30]}
    assert resolve(route("action.reported", reported)) == [(20, "coordinator"), (30, "reporter")]


def test_escalation_reaches_the_next_levels_coordinators_first():
    payload = {**sample_payload("action.escalated"), "coordinator_ids": [40], "assignee_ids": [41],
               "reporter_id": 42, "follower_ids": [], "actor_id": None}
    assert resolve(route("action.escalated", payload)) == [(40, "coordinator"), (41, "assignee"),
                                                           (42, "follower")]
    assert ("grid", payload["grid_id"]) in route("action.escalated", payload).groups


def test_someone_in_two_audiences_hears_once_in_the_first():
    plan = Route(category="charity", people=[("claimant", [5]), ("merchant", [5, 6])])
    assert resolve(plan) == [(5, "claimant"), (6, "merchant")]


def test_pledges_reach_eligible_beneficiaries_from_the_directory():
    payload = {**sample_payload("pledge.published"), "merchant_user_id": 9, "beneficiary_groups": ["rider"]}
    plan = route("pledge.published", payload)
    assert plan.directory == [("beneficiary", {"groups": ["rider"]})]
    assert resolve(plan, {"beneficiary": [1, 9]}) == [(9, "merchant"), (1, "beneficiary")]
