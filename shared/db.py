"""The database layer every service uses: one engine per service database, one way to open a transaction.

PostgreSQL is the production database; SQLite is the zero-setup default. Writers on SQLite are serialised:
a process-wide lock (green under eventlet) plus `BEGIN IMMEDIATE` across processes, so "check then write"
inside one transaction cannot race. On PostgreSQL exclusivity is enforced by constraints and row locks.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from nameko.extensions import DependencyProvider
from sqlalchemy import DateTime, Integer, String, Text, create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from shared import config

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both databases (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _green_postgres() -> None:
    """Make psycopg2 cooperative when the process runs under eventlet (nameko services do)."""
    try:
        import eventlet.patcher
    except ImportError:  # pragma: no cover
        return
    if eventlet.patcher.is_monkey_patched("socket"):
        from psycogreen.eventlet import patch_psycopg

        patch_psycopg()


def make_engine(url: str, *, immediate: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # Take over transaction control from the driver so BEGIN is ours to emit.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    if url.startswith("postgresql"):
        _green_postgres()
        url = url.replace("postgresql://", "postgresql+psycopg2://", 1)
        # Connections per process stay small: N replicas x 4 processes share max_connections (100 by default).
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, pool_recycle=1800)
    return create_engine(url, pool_pre_ping=True)


class Database:
    """Engines and sessions of one service's database."""

    def __init__(self, url: str):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine = make_engine(url)
        # SQLite writers take the database lock when they begin, not at their first write.
        self.write_engine = make_engine(url, immediate=True) if self.is_sqlite else self.engine
        self._read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self.write_engine, expire_on_commit=False)
        self._write_lock = threading.RLock() if self.is_sqlite else None
        self.after_commit: list[Callable[[], None]] = []

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A read-write transaction: committed on success, rolled back on any error."""
        lock = self._write_lock
        if lock is not None:
            lock.acquire()
        try:
            session = self._write_sessions()
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()
        finally:
            if lock is not None:
                lock.release()
        if session.info.get("emitted"):
            for callback in self.after_commit:
                callback()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (never commits)."""
        session = self._read_sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def ping(self) -> bool:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True

    def dispose(self) -> None:
        self.engine.dispose()
        if self.write_engine is not self.engine:
            self.write_engine.dispose()


_databases: dict[str, Database] = {}
_databases_lock = threading.Lock()


def database_for(service: str, url: str | None = None) -> Database:
    """The process-wide `Database` of a service (one engine and pool per process)."""
    url = url or config.database_url(service)
    with _databases_lock:
        db = _databases.get(url)
        if db is None:
            db = _databases[url] = Database(url)
        return db


class DatabaseProvider(DependencyProvider):
    """Injects the service's `Database`; the URL comes from `<SERVICE>_DATABASE_URL`."""

    def __init__(self, service: str):
        self.service = service
        self.database: Database | None = None

    def setup(self):
        self.database = database_for(self.service)

    def get_dependency(self, worker_ctx):
        return self.database


class Infrastructure:
    """The outbox and inbound-event tables, declared on a service's own metadata."""

    def __init__(self, Outbox, InboundEvent):
        self.Outbox = Outbox
        self.InboundEvent = InboundEvent


def declare_infrastructure(Base: type[DeclarativeBase]) -> Infrastructure:
    """Declare `outbox` and `inbound_events` on a service's declarative base."""

    class Outbox(Base):
        __tablename__ = "outbox"
        id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
        event_id: Mapped[str] = mapped_column(String(36), unique=True)
        type: Mapped[str] = mapped_column(String(64))
        envelope: Mapped[str] = mapped_column(Text)
        created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
        sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
        attempts: Mapped[int] = mapped_column(Integer, default=0)
        last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    class InboundEvent(Base):
        __tablename__ = "inbound_events"
        event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
        type: Mapped[str] = mapped_column(String(64))
        handler: Mapped[str] = mapped_column(String(128))
        # done | failed (will retry) | parked (gave up; an operator replays it)
        status: Mapped[str] = mapped_column(String(16), index=True)
        attempts: Mapped[int] = mapped_column(Integer, default=0)
        envelope: Mapped[str | None] = mapped_column(Text, nullable=True)
        last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
        received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
        next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
        locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    return Infrastructure(Outbox, InboundEvent)
