"""Authentication: argon2id password hashes, short-lived signed access tokens, rotating refresh tokens.

An access token names its sign-in session. Each request verifies the token's signature and expiry, then asks
`CheckedSessions` (this process's memory of sessions it read from the database in the last
`NUANXIN_SESSION_CHECK_SECONDS`, 1 s by default) for its caller; only a session not seen that recently is read
again. So logout, a password change, a role or group change and a deactivation take effect within that bound
in every gateway process, and at once in the process that made the change (it forgets the account's sessions
after committing).
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update

from services.gateway.models import Account, SignInSession
from shared import config
from shared.db import Database, utcnow
from shared.errors import Unauthenticated
from shared.identity import Caller
from shared.inputs import MAX_ID

ACCESS_TTL = timedelta(seconds=config.env_int("NUANXIN_ACCESS_TOKEN_SECONDS", 900))
REFRESH_TTL = timedelta(days=config.env_int("NUANXIN_REFRESH_TOKEN_DAYS", 14))
# How stale a caller checked against the database may be when a request uses it (seconds; 0: every request
# reads the session). Revocations and account changes made elsewhere take effect within this bound.
SESSION_CHECK_SECONDS = config.env_float("NUANXIN_SESSION_CHECK_SECONDS", 1.0)
ALGORITHM = "HS256"
SESSION_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
log = logging.getLogger(__name__)

hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        # Verify against a dummy hash for unknown users so timing does not reveal which names exist.
        return hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def access_token(account: Account, session_id: str) -> str:
    now = utcnow()
    claims = {"sub": str(account.id), "sid": session_id, "iat": now, "exp": now + ACCESS_TTL, "typ": "access"}
    return jwt.encode(claims, config.secret_key(), algorithm=ALGORITHM)


def new_refresh_token(session_id: str) -> str:
    """`<session id>.<secret>`: naming the session lets a replayed, already-rotated token end it."""
    return f"{session_id}.{secrets.token_urlsafe(32)}"


def start_session(db_session, account: Account) -> dict:
    """A new sign-in session; returns the token pair."""
    sid = str(uuid.uuid4())
    refresh = new_refresh_token(sid)
    db_session.add(SignInSession(id=sid, account_id=account.id, refresh_hash=_digest(refresh),
                                 refresh_expires_at=utcnow() + REFRESH_TTL))
    return token_pair(account, sid, refresh)


def token_pair(account: Account, sid: str, refresh: str) -> dict:
    return {"access_token": access_token(account, sid), "token_type": "Bearer",
            "expires_in": int(ACCESS_TTL.total_seconds()), "refresh_token": refresh}


def rotate(db: Database, refresh: str) -> dict:
    """Exchange a refresh token for a new pair; the old refresh token stops working.

    Presenting a refresh token that was already rotated means two parties hold the session's tokens
    (one of them stole it): the whole session is revoked, so both must sign in again.
    """
    sid = refresh.partition(".")[0]
    reused = False
    with db.transaction() as session:
        # The row lock makes two concurrent rotations of one token serial: the second sees it reused.
        signin = session.scalars(select(SignInSession).where(SignInSession.id == sid).with_for_update()).first() \
            if len(sid) == 36 else None
        if signin is None or signin.revoked_at is not None or signin.refresh_expires_at < utcnow():
            raise Unauthenticated("The refresh token is not valid.")
        if not hmac.compare_digest(signin.refresh_hash, _digest(refresh)):
            signin.revoked_at = utcnow()
            reused = True
        else:
            account = session.get(Account, signin.account_id)
            if account is None or not account.active:
                raise Unauthenticated("The account is not active.")
            new_refresh = new_refresh_token(signin.id)
            signin.refresh_hash = _digest(new_refresh)
            signin.refresh_expires_at = utcnow() + REFRESH_TTL
            pair = token_pair(account, signin.id, new_refresh)
    if reused:
        CHECKED.forget_session(sid)
        log.warning("refresh token reused for session %s; session revoked", sid)
        raise Unauthenticated("This refresh token was already used; the session has been ended. Sign in again.")
    return pair


def revoke_session(db: Database, session_id: str) -> None:
    with db.transaction() as session:
        session.execute(update(SignInSession).where(SignInSession.id == session_id)
                        .values(revoked_at=utcnow()))
    CHECKED.forget_session(session_id)


@contextmanager
def changing(account_id: int):
    """Around a transaction that ends an account's sessions or changes what its caller holds (roles, groups,
    locale…): once the transaction is over, this process reads the account's sessions afresh."""
    try:
        yield
    finally:
        CHECKED.forget_account(account_id)


def revoke_all(session, account_id: int) -> None:
    session.execute(update(SignInSession).where(SignInSession.account_id == account_id,
                                                SignInSession.revoked_at.is_(None)).values(revoked_at=utcnow()))


def authenticate(db: Database, header: str | None) -> tuple[Caller, str]:
    """The caller named by an `Authorization: Bearer` header, and its session id."""
    if not header or not header.startswith("Bearer "):
        raise Unauthenticated("Send an access token: Authorization: Bearer <token>.")
    sid, account_id, expires = _verified(header[7:].strip(), config.secret_key())
    if expires <= time.time():  # a token verified earlier has expired since
        raise Unauthenticated("The access token has expired.")
    caller = CHECKED.get(sid, account_id)
    if caller is None:
        checked_at = time.monotonic()  # before the read: what it finds is at least this fresh
        with db.read() as session:
            signin = session.get(SignInSession, sid)
            account = session.get(Account, account_id)
            if signin is None or signin.revoked_at is not None or account is None or not account.active \
                    or signin.account_id != account.id:
                raise Unauthenticated("The session has ended; sign in again.")
            caller = caller_of(account)
        CHECKED.put(sid, account_id, caller, checked_at)
    return caller, sid


@functools.lru_cache(maxsize=4096)
def _verified(token: str, key: str) -> tuple[str, int, float]:
    """A token's session id, account id and expiry, once its signature, expiry and claims are checked.

    Remembered per token and key (a client sends the same token until it expires): the same bytes signed
    with the same key verify the same way; only the expiry is checked again on each use. What fails is not
    remembered."""
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "sid"]})
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("The access token has expired.") from None
    except jwt.PyJWTError:
        raise Unauthenticated("The access token is not valid.") from None
    sid, sub = claims.get("sid"), claims.get("sub")
    # Signed by us, yet its claims are checked like any input: a session id and an account id.
    if claims.get("typ") != "access" or not isinstance(sid, str) or not SESSION_ID.match(sid) \
            or not isinstance(sub, str) or not sub.isascii() or not sub.isdigit() \
            or not 1 <= int(sub) <= MAX_ID:
        raise Unauthenticated("The access token is not valid.")
    return sid, int(sub), float(claims["exp"])


def caller_of(account: Account) -> Caller:
    return Caller(user_id=account.id, roles=frozenset(account.roles or ()),
                  groups=tuple(account.groups or ()), locale=account.locale, timezone=account.timezone,
                  display_name=account.display_name)


class CheckedSessions:
    """Callers of sessions this process read from the database, each used for at most `ttl` seconds after
    the read began; at most `size` of them (the oldest go first). Thread-safe.

    A session revoked or an account changed by another process is therefore seen within `ttl`; the process
    that makes such a change calls `forget_session` / `forget_account` after committing it."""

    def __init__(self, ttl: float = SESSION_CHECK_SECONDS, size: int = 10_000, clock=time.monotonic):
        self.ttl = ttl
        self.size = size
        self.clock = clock
        self._entries: dict[str, tuple[float, int, Caller]] = {}
        self._lock = threading.Lock()

    def get(self, sid: str, account_id: int) -> Caller | None:
        entry = self._entries.get(sid)
        if entry is None:
            return None
        checked_at, owner, caller = entry
        if owner != account_id or self.clock() - checked_at >= self.ttl:
            return None
        return caller

    def put(self, sid: str, account_id: int, caller: Caller, checked_at: float) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._entries) >= self.size:
                now = self.clock()
                self._entries = {k: v for k, v in self._entries.items() if now - v[0] < self.ttl}
                while len(self._entries) >= self.size:  # still full of fresh entries: the oldest go
                    del self._entries[next(iter(self._entries))]
            self._entries.pop(sid, None)  # re-inserted last: the dict's order is the age order
            self._entries[sid] = (checked_at, account_id, caller)

    def forget_session(self, sid: str) -> None:
        with self._lock:
            self._entries.pop(sid, None)

    def forget_account(self, account_id: int) -> None:
        with self._lock:
            self._entries = {k: v for k, v in self._entries.items() if v[1] != account_id}

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# This process's memory of checked sessions (each gunicorn worker has its own).
CHECKED = CheckedSessions()
