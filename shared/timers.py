"""`@timer`: nameko's timer entrypoint for the services' periodic work, quiet while a dependency is away.

A tick that finds the database or another service unavailable (`shared.errors.Unavailable`, which the
database layer raises for a lost connection) logs one line and leaves the work to the next tick; every
timer's work is claimed row by row in the database, so a skipped tick loses nothing.
"""
from __future__ import annotations

import functools
import logging

from nameko.timer import timer as nameko_timer

from shared.errors import Unavailable

log = logging.getLogger(__name__)


def timer(interval: float, **options):
    def decorate(method):
        @functools.wraps(method)
        def tick(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except Unavailable as exc:
                log.warning("%s: skipped this tick: %s", method.__name__, exc)
                return None

        return nameko_timer(interval=interval, **options)(tick)

    return decorate
