"""What an RPC costs, layer by layer: a bare kombu request/reply, a nameko RPC, a gateway HTTP call.

    .venv/bin/python -m bench.rpc_overhead [--rounds 300]

Starts the suite on SQLite against a fresh vhost of the local broker, then measures sequential round
trips on loopback and prints each median and its ratio to the bare kombu round trip (the floor), as a table
also written to docs/PERFORMANCE.md:
- kombu: publish to a queue, an echo consumer replies to `reply_to`; nothing else.
- nameko: `bookings.ping` through a standalone ClusterRpcProxy (the service also runs `SELECT 1`).
- gateway, no endpoint: `GET /api/v1/no-such-path`, a 404 from gunicorn and Flask (no token, no RPC).
- gateway: `GET /api/v1/spaces` over HTTP: token check, one RPC (`bookings.search_spaces`), JSON.
"""
from __future__ import annotations

import argparse
import statistics
import threading
import time
import uuid

import requests
from kombu import Connection, Consumer, Producer, Queue

from bench.report import report
from shared.identity import SYSTEM
from tests.support.suite import RunningSuite

GOALS = {"nameko RPC (bookings.ping)": "≤ 2.5×", "gateway HTTP (GET /spaces, 1 RPC)": "≤ 4×",
         "gateway HTTP, no endpoint (404)": "—"}


def timed(fn, rounds: int, warmup: int = 20) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def kombu_round_trips(amqp_uri: str, rounds: int) -> list[float]:
    queue_name = f"bench-echo-{uuid.uuid4().hex[:8]}"
    ready, stop = threading.Event(), threading.Event()

    def echo():
        with Connection(amqp_uri) as conn:
            producer = Producer(conn.channel())

            def on_message(body, message):
                producer.publish(body, routing_key=message.properties["reply_to"],
                                 correlation_id=message.properties["correlation_id"], serializer="json")
                message.ack()

            with Consumer(conn.channel(), [Queue(queue_name, auto_delete=True)], callbacks=[on_message]):
                ready.set()
                while not stop.is_set():
                    try:
                        conn.drain_events(timeout=0.2)
                    except TimeoutError:
                        pass

    thread = threading.Thread(target=echo, daemon=True)
    thread.start()
    ready.wait(10)
    with Connection(amqp_uri) as conn:
        reply_queue = Queue(f"bench-reply-{uuid.uuid4().hex[:8]}", exclusive=True, auto_delete=True)
        producer = Producer(conn.channel())
        replies: dict[str, object] = {}

        def on_reply(body, message):
            replies[message.properties["correlation_id"]] = body
            message.ack()

        with Consumer(conn.channel(), [reply_queue], callbacks=[on_reply]):
            def call():
                correlation_id = uuid.uuid4().hex
                producer.publish({"ping": 1}, routing_key=queue_name, reply_to=reply_queue.name,
                                 correlation_id=correlation_id, serializer="json")
                while correlation_id not in replies:
                    conn.drain_events(timeout=5)
                replies.pop(correlation_id)

            samples = timed(call, rounds)
    stop.set()
    thread.join(5)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    running = RunningSuite("sqlite").start()
    try:
        figures = {"kombu request/reply": kombu_round_trips(running.amqp_uri, args.rounds)}
        from services.gateway.rpc import ProxyPool

        pool = ProxyPool(running.amqp_uri, timeout=10, size=1)
        figures["nameko RPC (bookings.ping)"] = timed(lambda: pool.call("bookings", "ping", caller=SYSTEM),
                                                      args.rounds)
        pool.close()
        client = running.user()
        session = requests.Session()
        headers = {"Authorization": f"Bearer {client.token}"}
        url = running.base_url + "/api/v1/spaces"
        # What the HTTP server and Flask cost before any endpoint runs: a path nothing serves.
        figures["gateway HTTP, no endpoint (404)"] = timed(
            lambda: session.get(running.base_url + "/api/v1/no-such-path", timeout=10), args.rounds)
        figures["gateway HTTP (GET /spaces, 1 RPC)"] = timed(
            lambda: session.get(url, headers=headers, timeout=10).raise_for_status(), args.rounds)
    finally:
        running.stop()
    base = statistics.median(figures["kombu request/reply"])
    rows = []
    for name, samples in figures.items():
        median = statistics.median(samples)
        rows.append([name, median, statistics.quantiles(samples, n=100)[98], f"{median / base:.1f}×",
                     GOALS.get(name, "the floor")])
    report("rpc-ladder", f"The RPC ladder: sequential round trips on loopback, {args.rounds} each (milliseconds)",
           ["layer", "median", "p99", "× floor", "goal"], rows)


if __name__ == "__main__":
    main()
