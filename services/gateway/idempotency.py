"""Idempotency-Key for every POST: a retried request gets the first answer back, never a second object.

Around every POST that carries the header: before the endpoint runs, the key — scoped by account, method
and path — is reserved in `idempotency_records` (committed, so a concurrent duplicate sees it and is
answered 409 while the first is in flight). A successful answer (2xx) is stored and replayed to retries.
A refused request (4xx) changed nothing: its key is released and may simply be tried again. An answer of
5xx (a service that did not answer in time, a broker outage) leaves the outcome in doubt: the service may
still have done the work. Such a key is kept, marked in doubt, and the retry is forwarded again with the
same key, which the services record with the change itself (shared/idempotency.py): the retry gets the
write that happened, or makes it once. Reusing a key with a different body is a client bug: 422. Records
live for a day; a reservation whose request died with its process is taken over after a while.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from services.gateway.models import IdempotencyRecord
from shared import config
from shared.db import Database, utcnow
from shared.errors import Conflict, Invalid

HEADER = "Idempotency-Key"
KEY = re.compile(r"^[\x21-\x7e]{1,200}$")  # visible ASCII, as the IETF draft suggests
IN_FLIGHT = 0
IN_DOUBT = -1


def ttl() -> timedelta:
    return timedelta(hours=config.env_int("NUANXIN_IDEMPOTENCY_TTL_HOURS", 24))


def stale_after() -> timedelta:
    # Longer than any request may take (gunicorn kills a worker after 60 s).
    return timedelta(seconds=config.env_int("NUANXIN_IDEMPOTENCY_STALE_SECONDS", 120))


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: str
    location: str | None


def scope_of(account: str, method: str, path: str, key: str) -> str:
    return hashlib.sha256(f"{account}\n{method}\n{path}\n{key}".encode()).hexdigest()


def fingerprint(raw: bytes) -> str:
    """The request body's hash; JSON is normalised so key order and spacing do not matter."""
    try:
        raw = json.dumps(json.loads(raw or b"null"), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        pass
    return hashlib.sha256(raw).hexdigest()


def validate_key(key: str) -> None:
    if not KEY.match(key):
        raise Invalid("Bad Idempotency-Key.", errors={HEADER: ["1 to 200 visible ASCII characters"]})


def reserve(db: Database, scope: str, request_hash: str) -> StoredAnswer | None:
    """Reserve the key for this request; returns the stored answer when the request was done before."""
    for _ in range(2):  # a lost insert race is retried once, then sees the winner's row
        try:
            return _reserve(db, scope, request_hash)
        except IntegrityError:
            continue
    raise Conflict("A request with this Idempotency-Key is in progress; retry shortly.")


def _reserve(db: Database, scope: str, request_hash: str) -> StoredAnswer | None:
    now = utcnow()
    with db.transaction() as session:
        row = session.scalars(select(IdempotencyRecord).where(IdempotencyRecord.key == scope)
                              .with_for_update()).first()
        if row is None:
            session.add(IdempotencyRecord(key=scope, request_hash=request_hash, status=IN_FLIGHT, body="",
                                          created_at=now))
            session.flush()
            return None
        expired = row.created_at + ttl() < now
        abandoned = row.status == IN_FLIGHT and row.created_at + stale_after() < now
        if expired or abandoned:
            row.request_hash, row.status, row.body, row.location, row.created_at = \
                request_hash, IN_FLIGHT, "", None, now
            return None
        if row.request_hash != request_hash:
            raise Invalid("This Idempotency-Key was used with a different request body.",
                          errors={HEADER: ["already used for a different request; use a new key"]})
        if row.status == IN_DOUBT:
            # Forwarded again with the same key: the service answers what it did, or does it once.
            row.status, row.created_at = IN_FLIGHT, now
            return None
        if row.status == IN_FLIGHT:
            raise Conflict("A request with this Idempotency-Key is in progress; retry shortly.")
        return StoredAnswer(row.status, row.body, row.location)


def complete(db: Database, scope: str, status: int, body: str, location: str | None) -> None:
    with db.transaction() as session:
        session.execute(update(IdempotencyRecord)
                        .where(IdempotencyRecord.key == scope, IdempotencyRecord.status == IN_FLIGHT)
                        .values(status=status, body=body, location=location))


def in_doubt(db: Database, scope: str) -> None:
    """The request may have taken effect: keep the key (and its body) for the retry."""
    with db.transaction() as session:
        session.execute(update(IdempotencyRecord)
                        .where(IdempotencyRecord.key == scope, IdempotencyRecord.status == IN_FLIGHT)
                        .values(status=IN_DOUBT))


def release(db: Database, scope: str) -> None:
    with db.transaction() as session:
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.key == scope,
                                                        IdempotencyRecord.status == IN_FLIGHT))


def purge_expired(db: Database) -> int:
    with db.transaction() as session:
        return session.execute(delete(IdempotencyRecord)
                               .where(IdempotencyRecord.created_at < utcnow() - ttl())).rowcount
