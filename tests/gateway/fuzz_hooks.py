"""schemathesis hooks for tests/gateway/test_fuzz.py (loaded through SCHEMATHESIS_HOOKS).

What is sent:
- A generated account id that names one of the fuzzers' own accounts is sent to a sacrificial account
  instead: deactivating the fuzzer, or taking its roles, would turn every later case into a 401 and test
  nothing.
- A valid generated Idempotency-Key gets a unique suffix: the generator repeats short keys, and a key sent
  again with another body is refused by design (422, as the Idempotency-Key draft says). Invalid keys are
  sent as generated.
Every other generated value, invalid ones included, is sent as generated.

What is judged (`refusal_names_a_stated_rule`): a schema-valid request refused with 422 must name, in the
problem's `errors`, only fields whose rule the OpenAPI document cannot state as a schema and states in
words instead — RULES below. Any other 422 to schema-valid input is an unstated limit: a failure.
"""
from __future__ import annotations

import os
import re
import uuid

import schemathesis

# schemathesis imports its ASGI transport lazily, when a case is first sent; CPython 3.11 can fail a
# compilation racing another, so it is imported here, before any case is made.
import schemathesis.transport.asgi  # noqa: F401

PROTECTED = {int(i) for i in os.environ.get("NUANXIN_FUZZ_PROTECTED_IDS", "").split(",") if i}
SACRIFICE = os.environ.get("NUANXIN_FUZZ_SACRIFICE_ID")
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")

ZONE = "an IANA time zone name (about 600 of them; the document says so in words)"
EXISTS = "must name an existing object (the schema cannot know which ids exist)"
AFTER = "must be after the start given in the same request"
OUTLINE = ("a closed ring of [longitude, latitude] within their ranges, at most 0.5 degrees across, enclosing an "
           "area, not crossing itself (the document says so in words)")

# A booking or a waitlist entry within the space's rules, named by the rule broken.
SPACE_RULES = {
    "starts_at": "notice and advance", "duration": "minimum and maximum duration",
    "opening_hours": "inside opening hours", "blackout": "outside blackouts", "quota": "the weekly quota",
    "units": "at most the space's units", "rrule": "the RRULE subset", "exdates": "dates or local times"}
VOLUNTEER = {"timezone": ZONE, "unavailable.*.ends_at": AFTER, "grid_ids": EXISTS,
             "availability.*.end": "differs from start (a window past midnight ends earlier)",
             "skills.*.key": "a skill name: lower-case letters, digits and _ (no key pattern in OpenAPI 3.0)"}

# An activity's sessions: as a booking's (their room's rules, named by bookings), and within the sign-up window.
WINDOW = "the sign-up window closes after it opens, opens before the last session and closes by its start"
SESSIONS = {"timezone": ZONE, "starts_at": "a local time that exists in the zone (not in a DST gap)",
            "ends_at": AFTER, "space_id": EXISTS, "signup_opens_at": WINDOW, "signup_closes_at": WINDOW,
            **SPACE_RULES}
ACTIVITY = {**SESSIONS, "organiser_team_id": EXISTS, "sessions.*.ends_at": AFTER, "sessions.*.timezone": ZONE}

# Per operation, the fields (dotted paths; `*` stands for one key or list index) a schema-valid request
# may be refused for with 422, and why the schema cannot say it. Cross-field rules are also stated in the
# operation's description.
RULES: dict[str, dict[str, str]] = {
    "POST /api/v1/accounts": {
        "password": "not on lists of leaked passwords, not containing the username or name", "timezone": ZONE},
    "POST /api/v1/auth/token": {
        "username": "required by the password grant", "password": "required by the password grant",
        "refresh_token": "required by the refresh_token grant"},
    "PATCH /api/v1/me": {"timezone": ZONE},
    "POST /api/v1/accounts/{account_id}/roles": {
        "grids": "the coordinator role needs grids (existing ones), every other role none"},
    "GET /api/v1/actions": {"grid_id": EXISTS},
    "GET /api/v1/reports/grids/{grid_id}": {"to": "not before from, at most 366 days after it"},
    "GET /api/v1/visits": {"grid_id": EXISTS},
    "GET /api/v1/visits/overdue": {"grid_id": EXISTS},
    "GET /api/v1/bookings": {"mine": "mine=true and scope=managed exclude each other"},
    "GET /api/v1/spaces": {"free_to": AFTER},
    "GET /api/v1/spaces/{space_id}/availability": {"to": AFTER},
    "POST /api/v1/sites": {"timezone": ZONE},
    "POST /api/v1/spaces": {
        "timezone": ZONE, "site_id": EXISTS, "rules.opening_hours": "windows whose end follows their start",
        "rules.max_duration_minutes": "not shorter than min_duration_minutes",
        "rules.allowed_team_ids": EXISTS},
    "PATCH /api/v1/spaces/{space_id}": {
        "timezone": ZONE, "rules.opening_hours": "windows whose end follows their start",
        "rules.max_duration_minutes": "not shorter than min_duration_minutes",
        "rules.allowed_team_ids": EXISTS},
    "POST /api/v1/spaces/{space_id}/blackouts": {"ends_at": AFTER},
    "POST /api/v1/bookings": {"timezone": ZONE, "ends_at": AFTER, "team_id": EXISTS, **SPACE_RULES},
    "POST /api/v1/bookings/preview": {"timezone": ZONE, "ends_at": AFTER, "team_id": EXISTS, **SPACE_RULES},
    "POST /api/v1/bookings/{booking_id}/cancel": {"occurrence_id": "required by scope=occurrence, of this booking"},
    "POST /api/v1/waitlist": {"timezone": ZONE, "ends_at": AFTER, **SPACE_RULES},
    "POST /api/v1/volunteers/me": VOLUNTEER,
    "PATCH /api/v1/volunteers/me": VOLUNTEER,
    "POST /api/v1/grids": {"parent_id": "an existing grid of a higher level", "outline.coordinates": OUTLINE},
    "PATCH /api/v1/grids/{grid_id}": {"outline.coordinates": OUTLINE},
    "POST /api/v1/teams/{team_id}/invite": {"user_id": "someone with a volunteer profile"},
    "POST /api/v1/actions": {
        "category": "a category with time limits (GET /action-categories)", "grid_id": EXISTS,
        "merchant_id": EXISTS, "latitude": "latitude and longitude together", "longitude": "together"},
    "POST /api/v1/actions/mass": {
        "category": "a category with time limits (GET /action-categories)", "grid_ids": EXISTS,
        "team_id": EXISTS},
    "POST /api/v1/actions/{action_id}/dispatch": {
        "volunteer_ids": "volunteers, a team or a broadcast — one of them; volunteers who can take it",
        "team_id": "an existing team with active members", "broadcast": "volunteers, a team or a broadcast"},
    "POST /api/v1/actions/{action_id}/merge": {"survivor_id": "another open action"},
    "POST /api/v1/visits": {"merchant_id": "an existing merchant placed in a grid",
                            "category": "follow_up_category: a category with time limits"},
    "POST /api/v1/wishes": {"grid_id": EXISTS},
    "POST /api/v1/merchants": {"timezone": ZONE, "grid_id": EXISTS},
    "POST /api/v1/pledges": {"valid_until": "not before valid_from, not in the past", "merchant_id": EXISTS,
                             "redemption_hours.end": AFTER},
    "PATCH /api/v1/pledges/{pledge_id}": {"valid_until": "not before valid_from, not in the past",
                                          "redemption_hours.end": AFTER},
    "POST /api/v1/broadcasts": {
        "audience.*.id": "a grid, team or person audience names one that exists",
        "audience.*.role": "a role audience names the role",
        "expires_at": "after send_at", "title_en": "with body_en", "body_en": "with title_en"},
    "POST /api/v1/broadcasts/preview": {
        "audience.*.id": "a grid, team or person audience names one that exists",
        "audience.*.role": "a role audience names the role",
        "expires_at": "after send_at", "title_en": "with body_en", "body_en": "with title_en"},
    "POST /api/v1/notification-channels": {
        "grid_id": "team_id or grid_id, not both", "team_id": "team_id or grid_id, not both",
        "url": "an address the suite may send to (no private networks)"},
    "PUT /api/v1/notification-preferences": {
        "timezone": ZONE,
        "categories.*.value.*.key": "a channel name: lower-case letters, digits, - and _ (no key pattern in 3.0)"},
    "POST /api/v1/activity-sessions/{session_id}/check-in": {
        "code": "exactly one of code, ticket, user_id; the session's code of now or the period before (else "
                "expired or wrong)",
        "ticket": "a ticket this service signed, for this activity, of a sign-up that holds a place",
        "user_id": "someone with a confirmed place in the activity, or a helper of the session"},
    "DELETE /api/v1/activity-sessions/{session_id}/helpers/{user_id}": {"user_id": "a helper of the session"},
    "GET /api/v1/activities/reports": {"to": "not before from, at most 366 days after it"},
    "GET /api/v1/activities": {"to": AFTER},
    "POST /api/v1/activities": ACTIVITY,
    "PATCH /api/v1/activities/{activity_id}": {
        "capacity": "not below the places already taken", "signup_closes_at": WINDOW, "signup_opens_at": WINDOW},
    "POST /api/v1/activities/{activity_id}/sessions": SESSIONS,
    "PATCH /api/v1/activity-sessions/{session_id}": SESSIONS,
    "POST /api/v1/activities/{activity_id}/signups": {
        "places": "at most the activity's max_places_per_person",
        "household": "needed when the activity takes one sign-up per household"},
}


@schemathesis.hook
def before_call(context, case, **kwargs):
    parameters = case.path_parameters or {}
    value = parameters.get("account_id")
    if SACRIFICE and isinstance(value, int) and not isinstance(value, bool) and value in PROTECTED:
        parameters["account_id"] = int(SACRIFICE)
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and IDEMPOTENCY_KEY.match(key):
        headers["Idempotency-Key"] = f"{key[:160]}.{uuid.uuid4().hex}"


def _paths(errors, prefix: tuple = ()):
    """The fields a problem's `errors` names, each as its path (`{"a": {"0": {"b": [...]}}}` → a, 0, b)."""
    if not isinstance(errors, dict) or not errors:
        yield prefix or ("(no field)",)
        return
    for name, value in errors.items():
        path = (*prefix, str(name))
        if isinstance(value, dict):
            yield from _paths(value, path)
        else:
            yield path


def _stated(path: tuple, rules: dict[str, str]) -> bool:
    return any(len(parts := rule.split(".")) == len(path) and all(r in ("*", p) for r, p in zip(parts, path, strict=True))
               for rule in rules)


@schemathesis.check
def refusal_names_a_stated_rule(ctx, response, case):
    """Schema-valid input refused with 422 only for a rule the document states in words (RULES)."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        errors = None
    rules = RULES.get(case.operation.label, {})
    unstated = sorted({" → ".join(path) for path in _paths(errors) if not _stated(path, rules)})
    if unstated:
        raise AssertionError(f"Schema-valid input refused (422) for {'; '.join(unstated)}: a limit the "
                             f"OpenAPI document does not state. Answer: {response.text[:500]}")
    return None
