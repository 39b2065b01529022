"""The gateway's pooled RPC proxies across a broker restart (on a private node: tests/support/rabbit.py).

A proxy's reply queue is transient: it is gone once its node restarts. An idle proxy whose broker closed
its connection meanwhile has that close waiting, unread, on its socket; reused, it would send a request
whose answer goes to a queue that no longer exists, and its caller would wait out the whole timeout.
So the pool must see the close and start a new proxy, and the first call after the restart is answered.
"""
from __future__ import annotations

import threading
import time

import pytest
from kombu import Connection, Exchange, Queue

from services.gateway.rpc import ProxyPool
from shared.amqp import idle_connection_usable
from shared.identity import Caller
from tests.support.rabbit import PrivateRabbit

pytestmark = pytest.mark.integration

EXCHANGE = Exchange("nameko-rpc", type="topic", durable=True)
SYSTEM = Caller(user_id=None, roles=frozenset({"admin"}), system=True)


class EchoService:
    """A peer answering `echo.ping` as a nameko service does: on the caller's reply queue, with its
    correlation id. It reconnects after the broker comes back, as the services do."""

    def __init__(self, amqp_uri: str):
        self.amqp_uri = amqp_uri
        self.queue = Queue("rpc-echo", exchange=EXCHANGE, routing_key="echo.*", durable=True)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> EchoService:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with Connection(self.amqp_uri) as connection:
                    self._serve(connection)
            except Exception:  # the broker is restarting: connect again shortly
                time.sleep(0.2)

    def _serve(self, connection: Connection) -> None:
        producer = connection.Producer(serializer="json")

        def answer(body, message):
            producer.publish({"result": body["args"], "error": None}, exchange=EXCHANGE,
                             routing_key=message.properties["reply_to"],
                             correlation_id=message.properties["correlation_id"])
            message.ack()

        with connection.Consumer(self.queue, callbacks=[answer], accept=["json"]):
            while not self._stop.is_set():
                try:
                    connection.drain_events(timeout=0.2)
                except TimeoutError:
                    pass


def test_the_first_call_after_a_broker_restart_is_answered():
    with PrivateRabbit() as rabbit, EchoService(rabbit.amqp_uri):
        pool = ProxyPool(rabbit.amqp_uri, timeout=10, size=2)
        try:
            # The echo service's queue exists once it has connected.
            deadline = time.monotonic() + 30
            while True:
                try:
                    assert pool.call("echo", "ping", "before", caller=SYSTEM) == ["before"]
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
            idle = pool._idle.queue[-1]
            connection = idle._reply_listener.queue_consumer.connection
            assert idle_connection_usable(connection)

            rabbit.stop_app()
            rabbit.start_app()
            assert not idle_connection_usable(connection), "a connection its broker closed is not taken for alive"
            time.sleep(1)  # the echo service reconnects

            started = time.monotonic()
            assert pool.call("echo", "ping", "after", caller=SYSTEM) == ["after"]
            print(f"first call after the restart answered in {time.monotonic() - started:.2f} s")
            assert idle not in pool._idle.queue, "the proxy from before the restart was discarded"
        finally:
            pool.close()
