"""The suite a benchmark runs against: on PostgreSQL, with a RabbitMQ node of its own or the machine's broker.

A node of its own (tests.support.rabbit.PrivateRabbit) keeps other work on the machine's broker out of the
figures, and lets a benchmark count the broker's own cost. On the way out the suite's databases are dropped
whatever else fails (a busy broker's management API can time out deleting a vhost).
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.suite import RunningSuite


@contextmanager
def running(private_broker: bool = True, backend: str = "postgres",
            **options) -> Iterator[tuple[RunningSuite, object | None]]:
    """`(suite, rabbit)`: a started RunningSuite(backend) and its private RabbitMQ node (None if shared)."""
    rabbit = None
    if private_broker:
        from tests.support.rabbit import PrivateRabbit

        rabbit = PrivateRabbit().start()
    suite = RunningSuite(backend, amqp_uri=rabbit.amqp_uri if rabbit else None, **options)
    try:
        suite.start()
        yield suite, rabbit
    finally:
        stop(suite)
        if rabbit is not None:
            rabbit.stop()


def stop(suite: RunningSuite) -> None:
    """`suite.stop()`; if it fails part way, the suite's PostgreSQL databases are dropped all the same."""
    try:
        suite.stop()
    except Exception as exc:  # noqa: BLE001 - reported, and the databases are dropped below
        print(f"stopping the suite: {type(exc).__name__}: {exc}", file=sys.stderr)
        if suite.pg is not None:
            suite.pg.drop()
