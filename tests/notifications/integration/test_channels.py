"""Channel deliveries against real peers: e-mail over SMTP, JSON webhooks; retries, parking, replay,
never twice, preferences and quiet hours. Two notifications replicas run throughout."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from services.notifications.deliveries import parked_deliveries, replay_deliveries
from services.notifications.models import Channel, Delivery
from tests.notifications.integration.conftest import (
    add_channel,
    attempts_of,
    deliveries_of,
    entries,
    known,
    publish,
)
from tests.notifications.samples import sample_payload
from tests.support.peers import SmtpPeer, WebhookPeer
from tests.support.suite import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def smtp():
    with SmtpPeer() as peer:
        yield peer


def _booking(user_id: int, **extra) -> dict:
    return sample_payload("booking.confirmed", booker_id=user_id, manager_ids=[], space_name="烘焙教室",
                          site_name="新华路街道党群服务中心", **extra)


def test_an_event_reaches_inbox_email_and_webhook_once_even_when_delivered_twice(fast_suite, smtp):
    resident = fast_suite.user(locale="en")
    known(fast_suite, resident)
    address = f"{resident.user['username']}@example.org"
    with WebhookPeer() as hook:
        mail = add_channel(resident, "email", smtp.url(address))
        add_channel(resident, "hook", hook.url("/booked"))
        envelope = publish(fast_suite, "booking.confirmed", _booking(resident.id))
        publish(fast_suite, "booking.confirmed", {}, envelope=envelope)  # the broker redelivers it

        wait_for(lambda: smtp.received_for(address), timeout=15, message="the e-mail")
        wait_for(lambda: hook.received("/booked"), timeout=15, message="the webhook")
        rows = wait_for(lambda: [d for d in deliveries_of(fast_suite, envelope["event_id"]) if d.status == "sent"]
                        if len(deliveries_of(fast_suite, envelope["event_id"])) == 2 else None, timeout=15,
                        message="both deliveries sent")
        assert {r.status for r in rows} == {"sent"}
        # A second delivery of the same event neither adds an inbox entry nor sends again.
        assert len(entries(fast_suite, resident.id, envelope["event_id"])) == 1
        assert len(smtp.received_for(address)) == 1
        assert len(hook.received("/booked")) == 1

    message = smtp.received_for(address)[0]
    assert message["Subject"] == "Booking confirmed: 烘焙教室"  # the recipient's locale
    assert "2026-09-15 19:30" in SmtpPeer.text(message)  # shown in the space's timezone
    assert hook.received("/booked")[0]["body"]["title"] == "Booking confirmed: 烘焙教室"
    inbox = resident.get("/notifications").json()
    assert inbox["items"][0]["title"] == "Booking confirmed: 烘焙教室"
    assert inbox["items"][0]["data"]["booking_id"] == 5
    # The address is a secret: stored encrypted, shown masked.
    assert mail["address"] == f"mailto://…{smtp.url(address)[-4:]}"
    listed = resident.get("/notification-channels").json()["items"]
    assert address not in str(listed) and {c["name"] for c in listed} == {"email", "hook"}
    with fast_suite.database("notifications").read() as session:
        secret = session.get(Channel, mail["id"]).secret
    assert address not in secret and "127.0.0.1" not in secret


def test_a_peer_failing_twice_is_retried_with_backoff_and_every_attempt_is_logged(fast_suite):
    rider = fast_suite.user(roles=["resident", "volunteer"])
    known(fast_suite, rider)
    with WebhookPeer(fail_first=2) as hook:
        add_channel(rider, "hook", hook.url("/flaky"))
        envelope = publish(fast_suite, "waitlist.offered",
                           sample_payload("waitlist.offered", user_id=rider.id, space_name="三会实训室"))
        wait_for(lambda: hook.received("/flaky"), timeout=20, message="the third attempt to succeed")
        times = hook.attempts_at("/flaky")
    assert len(times) == 3
    # Backoff 0.3 s then 0.6 s (with timer ticks of 0.2 s on top).
    assert times[1] - times[0] >= 0.25 and times[2] - times[1] >= 0.55
    delivery = wait_for(lambda: [d for d in deliveries_of(fast_suite, envelope["event_id"]) if d.status == "sent"],
                        timeout=5, message="the delivery marked sent")[0]
    log = attempts_of(fast_suite, delivery.id)
    assert [(a.attempt, a.status) for a in log] == [(1, "failed"), (2, "failed"), (3, "sent")]
    assert "500" in log[0].error and log[0].channel.startswith("json://…")


def test_a_peer_that_always_fails_is_parked_without_blocking_the_inbox_or_other_channels(fast_suite, smtp):
    merchant = fast_suite.user(roles=["resident", "merchant"])
    known(fast_suite, merchant)
    address = f"{merchant.user['username']}@example.org"
    admin = fast_suite.user(roles=["admin"])
    with WebhookPeer(always_fail=True) as dead:
        add_channel(merchant, "dead", dead.url("/down"))
        add_channel(merchant, "email", smtp.url(address))
        envelope = publish(fast_suite, "pledge.claimed", sample_payload(
            "pledge.claimed", merchant_user_id=merchant.id, claimant_id=10_000_001, title="一杯咖啡"))
        # The inbox and the e-mail do not wait for the dead peer.
        assert entries(fast_suite, merchant.id, envelope["event_id"]) or wait_for(
            lambda: entries(fast_suite, merchant.id, envelope["event_id"]), timeout=10, message="inbox")
        wait_for(lambda: smtp.received_for(address), timeout=10, message="the e-mail")

        def parked():
            return [d for d in deliveries_of(fast_suite, envelope["event_id"]) if d.status == "parked"]

        row = wait_for(parked, timeout=20, message="the dead channel's message parked")[0]
        assert row.attempts == 3 and "500" in row.last_error
        assert len(dead.attempts_at("/down")) == 3

        # Operators see it with its reason, over HTTP and from the command line's functions.
        listed = admin.get("/notification-deliveries", params={"status": "parked"}).json()["items"]
        mine = [d for d in listed if d["id"] == row.id]
        assert mine and [a["status"] for a in mine[0]["log"]] == ["failed"] * 3
        assert merchant.get("/notification-deliveries").status_code == 403
        assert row.id in {d["id"] for d in parked_deliveries(fast_suite.database("notifications"))}

        # Replaying sends it again (the peer still fails, so it parks again after three more tries).
        assert replay_deliveries([row.id], fast_suite.database("notifications")) == 1
        wait_for(lambda: len(dead.attempts_at("/down")) == 6, timeout=20, message="three more attempts")
        wait_for(parked, timeout=10, message="parked again")
    response = admin.post("/notification-deliveries/replay", json={"ids": [row.id]})
    assert response.status_code == 200 and response.json() == {"replayed": 1}


def test_preferences_switch_channels_and_the_inbox_per_category_but_not_critical_notices(fast_suite):
    volunteer = fast_suite.user(roles=["resident", "volunteer"])
    known(fast_suite, volunteer)
    with WebhookPeer() as hook:
        add_channel(volunteer, "hook", hook.url("/prefs"))
        response = volunteer.put("/notification-preferences", json={
            "categories": {"bookings": {"hook": False}, "charity": {"inbox": False}}})
        assert response.status_code == 200, response.text
        assert volunteer.get("/notification-preferences").json()["categories"]["bookings"] == {"hook": False}

        booking = publish(fast_suite, "booking.confirmed", _booking(volunteer.id))
        wish = publish(fast_suite, "wish.adopted", sample_payload("wish.adopted", owner_id=volunteer.id))
        urgent = publish(fast_suite, "action.escalated", sample_payload(
            "action.escalated", to_level=3, from_level=2, coordinator_ids=[volunteer.id], assignee_ids=[],
            follower_ids=[], reporter_id=None, actor_id=None, team_id=None, title="招牌松动"))
        wait_for(lambda: entries(fast_suite, volunteer.id, urgent["event_id"]), timeout=10, message="escalation")
        wait_for(lambda: len(hook.received("/prefs")) >= 2, timeout=10, message="two webhooks")
    titles = [r["body"]["title"] for r in hook.received("/prefs")]
    assert any(t.startswith("【紧急】") for t in titles), titles  # critical passes any switch
    assert entries(fast_suite, volunteer.id, booking["event_id"])  # inbox on for bookings
    assert not deliveries_of(fast_suite, booking["event_id"])  # bookings → hook off
    assert not entries(fast_suite, volunteer.id, wish["event_id"])  # charity → inbox off
    assert len(titles) == 2  # the wish went to the hook (only its inbox was off), the booking did not


def test_bad_preferences_and_channels_change_nothing(fast_suite):
    person = fast_suite.user()
    before = person.get("/notification-preferences").json()
    bad = person.put("/notification-preferences", json={"quiet_hours": {"start": "7pm", "end": "07:00"}})
    assert bad.status_code == 422 and "quiet_hours" in bad.json()["errors"]
    assert person.get("/notification-preferences").json() == before
    for body in ({"name": "mail", "url": "file:///etc/passwd"}, {"name": "mail", "url": "nosuch://x"},
                 {"name": "Mail Box", "url": "json://127.0.0.1/x"}, {"name": "m", "url": "json://h/x", "extra": 1}):
        response = person.post("/notification-channels", json=body)
        assert response.status_code == 422, (body, response.text)
    assert person.get("/notification-channels").json()["items"] == []
    add_channel(person, "mail", "json://127.0.0.1:9/x")
    again = person.post("/notification-channels", json={"name": "mail", "url": "json://127.0.0.1:9/y"})
    assert again.status_code == 409
    other = fast_suite.user()
    channel_id = person.get("/notification-channels").json()["items"][0]["id"]
    assert other.delete(f"/notification-channels/{channel_id}").status_code == 404
    assert person.delete(f"/notification-channels/{channel_id}").status_code == 204
    assert person.get("/notification-channels").json()["items"] == []


def test_quiet_hours_hold_channel_messages_until_they_end_and_critical_ones_go_through(fast_suite):
    night_owl = fast_suite.user()
    known(fast_suite, night_owl)
    with WebhookPeer() as hook:
        add_channel(night_owl, "hook", hook.url("/quiet"))
        # A window that always contains "now" (00:00–23:59 in Shanghai) holds until 23:59 local time.
        assert night_owl.put("/notification-preferences", json={
            "quiet_hours": {"start": "00:00", "end": "23:59"}, "timezone": "Asia/Shanghai"}).status_code == 200
        calm = publish(fast_suite, "booking.reminder_due", sample_payload(
            "booking.reminder_due", booker_id=night_owl.id, space_name="治理议事厅"))
        storm = publish(fast_suite, "action.escalated", sample_payload(
            "action.escalated", to_level=3, coordinator_ids=[night_owl.id], assignee_ids=[], follower_ids=[],
            reporter_id=None, actor_id=None, team_id=None))
        wait_for(lambda: hook.received("/quiet"), timeout=10, message="the critical message")
        held = wait_for(lambda: deliveries_of(fast_suite, calm["event_id"]), timeout=10, message="held row")[0]
        assert held.status == "pending" and held.held_reason == "quiet_hours"
        local_end = held.next_attempt_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
        assert (local_end.hour, local_end.minute) == (23, 59)
        assert entries(fast_suite, night_owl.id, calm["event_id"])  # the inbox is not held
        assert len(hook.received("/quiet")) == 1 and deliveries_of(fast_suite, storm["event_id"])[0].status == "sent"

        # When the window ends the message goes out: move its due time to now, as the clock would.
        with fast_suite.database("notifications").transaction() as session:
            session.execute(update(Delivery).where(Delivery.id == held.id)
                            .values(next_attempt_at=held.created_at - timedelta(seconds=1)))
        wait_for(lambda: len(hook.received("/quiet")) == 2, timeout=10, message="the held message")
    assert "治理议事厅" in hook.received("/quiet")[1]["body"]["title"]
    assert deliveries_of(fast_suite, calm["event_id"])[0].held_reason is None


def test_two_replicas_send_each_due_message_once(fast_suite):
    people = [fast_suite.user() for _ in range(3)]
    for person in people:
        known(fast_suite, person)
    tag = uuid.uuid4().hex[:8]
    with WebhookPeer() as hook:
        for person in people:
            add_channel(person, "hook", hook.url(f"/{tag}/{person.id}"))
        sent = [publish(fast_suite, "booking.reminder_due", sample_payload("booking.reminder_due",
                                                                            booker_id=p.id)) for p in people]
        for envelope in sent:
            publish(fast_suite, "booking.reminder_due", {}, envelope=envelope)
        wait_for(lambda: len(hook.received()) >= 3, timeout=15, message="three webhooks")
        import time

        time.sleep(1.0)  # give a duplicate every chance to show up
        assert sorted(r["path"] for r in hook.received()) == sorted(f"/{tag}/{p.id}" for p in people)
