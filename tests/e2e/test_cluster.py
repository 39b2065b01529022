"""The suite on a three-node RabbitMQ cluster of its own, losing the node that leads the bookings queue.

Three private nodes (tests/support/rabbit.py) are clustered; the suite runs with two replicas of every
service on PostgreSQL, `AMQP_URI` naming all three nodes. Its RPC and event queues are quorum queues
(shared/amqp.py). Under booking load the node leading `rpc-bookings` is killed with SIGKILL. What a user must
be able to rely on: no 500, every 201 is one booking with one "confirmed" inbox entry, no booking its client
was not given, every event published once and handled once, every reminder (a bookings timer) sent once,
and 201s again by themselves. The figures are printed: requests, 201s, 503s and the time to recover.
"""
from __future__ import annotations

import importlib
import json
import time
import uuid
from collections import Counter

import pytest
from kombu import Connection, Consumer, Exchange, Producer, Queue
from sqlalchemy import func, select

from shared.amqp import PARKING_EXCHANGE, parking_queue, queue_arguments
from shared.config import BACKENDS
from tests.e2e.test_faults import (
    CLIENTS,
    RPC_TIMEOUT,
    BookingLoad,
    assert_every_201_is_one_booking_with_one_inbox_entry,
    assert_no_500,
    booking_answers,
)
from tests.support.rabbit import PrivateCluster
from tests.support.suite import RunningSuite, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

DELIVERY_LIMIT = 3


@pytest.fixture(scope="module")
def cluster():
    nodes = PrivateCluster(3).start()
    yield nodes
    nodes.stop()


@pytest.fixture(scope="module")
def cluster_suite(cluster):
    running = RunningSuite("postgres", amqp_uri=cluster.amqp_uri, replicas={s: 2 for s in BACKENDS},
                           env={"NUANXIN_RPC_TIMEOUT": str(RPC_TIMEOUT), "NUANXIN_DELIVERY_LIMIT": str(DELIVERY_LIMIT),
                                # Every booking of the load is within the reminder lead: each is reminded once.
                                "BOOKINGS_TIMER_SECONDS": "1", "BOOKINGS_REMINDER_MINUTES": str(60 * 24 * 60)})
    try:
        yield running.start()
    finally:
        running.stop()


def queues(node) -> dict[str, tuple[str, str]]:
    """{queue: (type, leader)} as a live node sees them."""
    lines = node.ctl("list_queues", "name", "type", "leader", "--no-table-headers", "--quiet").splitlines()
    return {parts[0]: (parts[1], parts[2] if len(parts) > 2 else "") for parts in (line.split("\t") for line in lines)
            if parts and parts[0]}


def connections(cluster) -> dict[str, int]:
    """How many client connections each node holds (a dead node none)."""
    ports = Counter(line.strip() for line in cluster.alive()[0].ctl(
        "list_connections", "port", "--no-table-headers", "--quiet").splitlines() if line.strip())
    return {node.name.split("@")[0]: ports.get(str(node.port), 0) for node in cluster.nodes}


def test_the_services_declare_quorum_queues_and_keep_reply_queues_classic(cluster, cluster_suite):
    seen = queues(cluster.nodes[0])
    for service in BACKENDS:
        assert seen[f"rpc-{service}"][0] == "quorum"
        assert seen[f"parked-{service}"][0] == "quorum"
    events = {name: kind for name, (kind, _leader) in seen.items() if name.startswith("evt-")}
    assert events and set(events.values()) == {"quorum"}
    replies = {kind for name, (kind, _leader) in seen.items() if name.startswith("rpc.reply-")}
    assert replies == {"classic"}


def test_a_message_past_its_delivery_limit_is_dead_lettered_to_the_parking_queue(cluster, monkeypatch):
    """The broker side: a quorum queue declared as the services declare theirs hands a message out
    `NUANXIN_DELIVERY_LIMIT` + 1 times, then moves it to `parked-<service>`, saying where from and why."""
    # This process declares as the suite's processes do (tests/conftest.py makes its default classic).
    monkeypatch.setenv("NUANXIN_QUEUE_TYPE", "quorum")
    monkeypatch.setenv("NUANXIN_DELIVERY_LIMIT", "2")
    exchange = Exchange("poison.events", type="topic", durable=True)
    name = f"evt-poison-thing.happened--poisoned.on_thing_{uuid.uuid4().hex[:6]}"
    with Connection(cluster.amqp_uri) as connection:
        channel = connection.channel()
        parked = parking_queue("poisoned").bind(channel)
        parked.declare()
        queue = Queue(name, exchange=exchange, routing_key="thing.happened", durable=True,
                      queue_arguments=queue_arguments("poisoned")).bind(channel)
        queue.declare()
        Producer(channel).publish({"event_id": "e1"}, exchange=exchange, routing_key="thing.happened",
                                  serializer="json")
        deliveries, message = [], None

        def never_finishes(_body, delivered):  # its handler gives it back every time
            deliveries.append(delivered.headers.get("x-delivery-count", 0))
            delivered.requeue()

        deadline = time.monotonic() + 30
        with Consumer(channel, [queue], callbacks=[never_finishes], accept=["json"], prefetch_count=1):
            while message is None and time.monotonic() < deadline:
                try:
                    connection.drain_events(timeout=0.2)
                except TimeoutError:
                    message = parked.get(no_ack=False)
        queue.delete()
    assert message is not None, f"nothing reached the parking queue after {len(deliveries)} deliveries"
    assert deliveries == [0, 1, 2]
    assert json.loads(message.body) == {"event_id": "e1"}
    assert message.headers["x-first-death-queue"] == name
    assert message.headers["x-first-death-reason"] == "delivery_limit"


def test_losing_the_node_that_leads_the_bookings_queue_loses_and_repeats_nothing(cluster, cluster_suite, capsys):
    from services.bookings.models import Occurrence
    from services.notifications.models import InboxEntry

    with BookingLoad(cluster_suite, "node lost", max_seconds=60, settle_seconds=45) as load:
        assert booking_answers(load, timeout=30, since=load.started)
        leader = queues(cluster.alive()[0])["rpc-bookings"][1]
        before = connections(cluster)
        cluster.node(leader).kill()
        killed = time.monotonic()
        recovered = booking_answers(load, timeout=60, since=killed)
        back = time.monotonic()
        time.sleep(3)
    after = [o for o in load.outcomes if o.at > killed]
    unavailable = [o.at - killed for o in after if o.status == 503]
    with capsys.disabled():  # the figures go to the run's output, passed or not
        figures = load.report(f"the node leading rpc-bookings ({leader}) killed with SIGKILL under load")
        print(f"time to recover (every client answered 201 again): {back - killed:.1f} s; 503s after the kill: "
              f"{len(unavailable)}, the last {max(unavailable, default=0):.1f} s after it; processes that died: "
              f"{cluster_suite.suite.dead()}; new leader: {queues(cluster.alive()[0])['rpc-bookings'][1]}; "
              f"connections per node before → after: {before} → {connections(cluster)}")
    assert recovered, "bookings did not answer 201 again within 60 s of the node's loss"
    # 503 at most briefly: each pooled channel the node's loss spoiled costs one timeout, then no more.
    assert max(unavailable, default=0) <= 5 * RPC_TIMEOUT, "bookings were answered 503 long after the node's loss"
    assert cluster_suite.suite.dead() == []
    assert_no_500(figures)
    assert_every_201_is_one_booking_with_one_inbox_entry(cluster_suite, load)

    # Every event was published once and handled once: nothing left in an outbox, nothing failed or parked.
    for service in BACKENDS:
        database = cluster_suite.database(service)
        infra = importlib.import_module(f"services.{service}.models").infra
        wait_for(lambda database=database, infra=infra: _unsent(database, infra) == 0, timeout=60, interval=1,
                 message=f"{service}'s outbox to be published")
        with database.read() as session:
            stuck = session.execute(select(infra.InboundEvent.status, func.count()).where(
                infra.InboundEvent.status != "done").group_by(infra.InboundEvent.status)).all()
        assert stuck == [], f"{service} has events not handled: {stuck}"

    # The reminders timer (two bookings replicas, ticking every second) reminded every booking once.
    booked = [o.booking_id for o in load.outcomes if o.status == 201]
    owner = {o.booking_id: load.clients[o.client].id for o in load.outcomes if o.status == 201}

    def reminders() -> Counter:
        with cluster_suite.database("notifications").read() as session:
            rows = session.execute(select(InboxEntry.user_id, InboxEntry.data).where(
                InboxEntry.user_id.in_(list(set(owner.values()))), InboxEntry.type == "booking.reminder_due")).all()
        return Counter((row.user_id, (row.data or {}).get("booking_id")) for row in rows)

    wait_for(lambda: {(owner[b], b) for b in booked} <= set(reminders()), timeout=60, interval=1,
             message="a reminder for every booking")
    assert {key: n for key, n in reminders().items() if n != 1} == {}, "a booking was reminded twice"
    with cluster_suite.database("bookings").read() as session:
        reminded = session.scalar(select(func.count()).select_from(Occurrence).where(
            Occurrence.booking_id.in_(booked), Occurrence.reminded_at.is_not(None)))
    assert reminded == len(booked)
    with capsys.disabled():
        print(f"{len(booked)} bookings answered 201 ({CLIENTS} clients), each confirmed and reminded once")


def _unsent(database, infra) -> int:
    with database.read() as session:
        return session.scalar(select(func.count()).select_from(infra.Outbox).where(infra.Outbox.sent_at.is_(None)))


def test_a_parked_event_reaches_its_handler_once_through_the_inbox(cluster, cluster_suite):
    """The service side: what comes to `parked-notifications` is handed to the inbox as a failed attempt, which
    the retry timer runs; an event handled already is not handled again."""
    from services.notifications.models import InboxEntry, infra
    from shared.events import make_event

    resident = cluster_suite.user()
    payload = {"booking_id": 10**9 + 7, "space_id": 1, "space_name": "parked room", "booker_id": resident.id,
               "starts_at": "2030-01-01T10:00:00+00:00", "ends_at": "2030-01-01T11:00:00+00:00", "status": "confirmed"}
    envelope = make_event("booking.confirmed", payload)
    queue = "evt-bookings-booking.confirmed--notifications.on_booking_confirmed"
    with Connection(cluster.alive()[0].amqp_uri) as connection:
        producer = Producer(connection.channel())
        for _ in range(2):  # the second is a duplicate
            producer.publish(envelope, exchange=PARKING_EXCHANGE, routing_key="notifications", serializer="json",
                             headers={"x-first-death-queue": queue, "x-first-death-reason": "delivery_limit"})

    def entries() -> int:
        with cluster_suite.database("notifications").read() as session:
            return session.scalar(select(func.count()).select_from(InboxEntry).where(
                InboxEntry.user_id == resident.id, InboxEntry.type == "booking.confirmed"))

    wait_for(entries, timeout=30, interval=0.5, message="the parked event's inbox entry")
    time.sleep(3)  # a second handling would show by now
    assert entries() == 1
    with cluster_suite.database("notifications").read() as session:
        row = session.get(infra.InboundEvent, envelope["event_id"])
        assert (row.status, row.handler) == ("done", "on_booking_confirmed")
        assert "gave up on it" in (row.last_error or "")
