"""Exactly-once RPC: a keyed request takes effect once, however often it is delivered or retried.

The gateway sends every state-changing request with an idempotency key in the RPC context (the client's
`Idempotency-Key`, or one it makes); each RPC call of one HTTP request gets its own key derived from it.
A service method decorated by `shared.rpc.rpc` then runs as one unit of work (`Database.unit_of_work`):
its first write transaction begins by inserting the key into `rpc_requests`, every later transaction of
the method joins that one transaction as a savepoint, and the answer is stored in the same row before the
single commit. So:

- a request redelivered after its service died — after or before the commit — or retried by a client
  after a 503, finds the stored answer and returns it, or (if nothing committed) runs as if new;
- two deliveries of one key at the same time serialise on the key's primary key (PostgreSQL waits for
  the first transaction; SQLite writers are serialised anyway), and the second returns the first answer;
- a request that failed (a domain error, a crash) stored nothing, because nothing it did was committed;
- a request whose caller has stopped waiting (the gateway answered 503) is not started, and one that could
  not commit before then is rolled back: a 503 hides no write, except one committed in the instant
  before the deadline whose answer was then lost — which the client's retry with its key gets back.

A method that never writes records nothing. Rows are forgotten after `NUANXIN_IDEMPOTENCY_TTL_HOURS`.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from datetime import timedelta

from nameko.extensions import DependencyProvider
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared import config
from shared.db import Database, Infrastructure, database_for, utcnow
from shared.errors import Unavailable
from shared.identity import DEADLINE_KEY, IDEMPOTENCY_KEY

log = logging.getLogger(__name__)

# Time kept for the answer to travel back before the caller's deadline (seconds).
REPLY_MARGIN = 0.5


def ttl() -> timedelta:
    return timedelta(hours=config.env_int("NUANXIN_IDEMPOTENCY_TTL_HOURS", 24))


def derive(key: str, *parts) -> str:
    """A sub-key for one of several calls made on behalf of one keyed request (stable across retries)."""
    return hashlib.sha256("\n".join([key, *map(str, parts)]).encode()).hexdigest()


class _AnsweredBefore(BaseException):
    """Raised from inside the method when its key turns out to be committed already (a concurrent
    duplicate won). A BaseException so that no `except Exception` in a use case swallows it."""


class RequestLog:
    """The answered-requests table of one service, for the current worker's key."""

    def __init__(self, db: Database, model, key: str | None, deadline: float | None = None):
        self.db = db
        self.model = model
        self.key = key
        self.deadline = deadline

    def _check_deadline(self, method_name: str, stage: str) -> None:
        if self.deadline and time.time() > self.deadline - REPLY_MARGIN:
            log.warning("request %s %s after its caller stopped waiting; nothing was done", method_name, stage)
            raise Unavailable("The request reached the service too late and was not carried out; try again.")

    def row_key(self, method: str) -> str:
        return derive(self.key, method)

    def stored(self, row_key: str) -> str | None:
        """The stored answer (JSON text) of this request, or None."""
        with self.db.read() as session:
            return session.scalar(select(self.model.result).where(self.model.key == row_key))

    def run(self, method_name: str, call):
        """Run `call()` once for this key: the stored answer if it ran before, else its own answer."""
        if not self.key:
            return call()
        row_key = self.row_key(method_name)
        stored = self.stored(row_key)
        if stored is not None:
            log.info("request %s.%s answered before; returning its first answer", method_name, row_key[:12])
            return json.loads(stored)
        self._check_deadline(method_name, "arrived")

        def begin(session: Session) -> None:
            session.add(self.model(key=row_key, method=method_name, result=None, created_at=utcnow()))
            try:
                session.flush()
            except IntegrityError:
                raise _AnsweredBefore() from None

        try:
            with self.db.unit_of_work(begin) as unit:
                result = call()
                if unit.session is not None:
                    row = unit.session.get(self.model, row_key)
                    row.result = json.dumps(result, default=str)
                    self._check_deadline(method_name, "finished")
                    unit.commit()
                return result
        except _AnsweredBefore:
            stored = self.stored(row_key)
            if stored is None:  # pragma: no cover - the winner committed its row with its answer
                raise RuntimeError("an answered request has no stored answer") from None
            log.info("request %s.%s answered concurrently; returning that answer", method_name, row_key[:12])
            return json.loads(stored)

    def purge(self) -> int:
        with self.db.transaction() as session:
            return session.execute(delete(self.model).where(self.model.created_at < utcnow() - ttl())).rowcount


class RequestLogProvider(DependencyProvider):
    """Injects the `RequestLog` for the worker's idempotency key (None outside keyed requests)."""

    def __init__(self, service: str, infra: Infrastructure):
        self.service = service
        self.infra = infra
        self.database: Database | None = None

    def setup(self):
        self.database = database_for(self.service)

    def get_dependency(self, worker_ctx):
        return RequestLog(self.database, self.infra.RpcRequest, worker_ctx.data.get(IDEMPOTENCY_KEY),
                          worker_ctx.data.get(DEADLINE_KEY))


def exactly_once(method):
    """Wrap an RPC method so that a keyed request takes effect once (see the module docstring)."""

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        request_log = getattr(self, "request_log", None)
        if not isinstance(request_log, RequestLog):
            return method(self, *args, **kwargs)
        return request_log.run(method.__name__, lambda: method(self, *args, **kwargs))

    return run

