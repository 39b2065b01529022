"""RPC messages go out without confirms on pooled channels; after an unanswered call, on new ones.

A channel that sent its first message to a quorum queue whose leader had just died has every later message
to that queue held back (tests/e2e/test_cluster.py loses such a node under load). So after a timeout the
process's pooled connections each take a new channel when next used, and messages flow as before.
"""
from __future__ import annotations

import pytest
from kombu import Connection, Exchange, Queue
from kombu.pools import producers

from shared import amqp
from shared.amqp import RpcPublisher, renew_rpc_channels

pytestmark = pytest.mark.integration

EXCHANGE = Exchange("nameko-rpc", type="topic", durable=True)


def default_channel(publisher: RpcPublisher):
    """The channel the publisher's next message would go out on (the pooled connection's default channel)."""
    with producers[publisher._connection()].acquire(block=True) as producer:
        return producer.__connection__._default_channel


def test_an_unanswered_call_moves_the_next_messages_to_a_new_channel(amqp_uri):
    queue = Queue("rpc-renewal", exchange=EXCHANGE, routing_key="renewal.*", durable=False, auto_delete=False)
    with Connection(amqp_uri) as connection:
        queue.bind(connection.channel()).declare()
    publisher = RpcPublisher(amqp_uri, exchange=EXCHANGE, declare=[EXCHANGE])
    try:
        publisher.publish({"n": 1}, routing_key="renewal.ping")
        first = default_channel(publisher)
        publisher.publish({"n": 2}, routing_key="renewal.ping")
        assert default_channel(publisher) is first, "a healthy channel is reused"

        renew_rpc_channels()
        publisher.publish({"n": 3}, routing_key="renewal.ping")
        renewed = default_channel(publisher)
        assert renewed is not first and renewed.is_open
        assert not first.is_open, "the old channel is closed"
        publisher.publish({"n": 4}, routing_key="renewal.ping")
        assert default_channel(publisher) is renewed, "renewed once per unanswered call, not on every message"

        with Connection(amqp_uri) as connection, connection.SimpleQueue(queue) as simple:
            received = []
            for _ in range(4):
                message = simple.get(block=True, timeout=10)
                received.append(message.payload["n"])
                message.ack()
        assert received == [1, 2, 3, 4]
    finally:
        producers[publisher._connection()].force_close_all()
        amqp.RpcPublisher._connections.pop((amqp_uri, repr(None), None), None)
        with Connection(amqp_uri) as connection:
            queue.bind(connection.channel()).delete()
