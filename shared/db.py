"""The database layer every service uses: one engine per service database, one way to open a transaction.

PostgreSQL is the production database; SQLite is the zero-setup default. Writers on SQLite are serialised:
a process-wide lock (green under eventlet) plus `BEGIN IMMEDIATE` across processes, so "check then write"
inside one transaction cannot race. On PostgreSQL exclusivity is enforced by constraints and row locks.

A lost or refused database connection (a restart, a terminated backend) surfaces from `transaction()` and
`read()` as `DatabaseUnavailable`, a 503 with Retry-After for the client, logged as one line. Pooled
connections are pinged before use, so a dead one is replaced instead of failing a request. A fault before
anything committed rolled everything back: the RPC entrypoint (shared/amqp.py) then runs the request once
more (`retry_is_safe`).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, String, Text, create_engine, event, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.types import TypeDecorator

from shared import config
from shared.errors import NotFound, Unavailable

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


def get_or_404(session: Session, model, key, what: str, *, lock: bool = False,
               visible: Callable[[object], bool] | None = None, options=()):
    """The row of `model` whose primary key is `key` (locked FOR UPDATE with `lock`), or NotFound naming it,
    "<what> <key> does not exist.", also when `visible(row)` says the caller may not know it is there.
    `options` are loader options (e.g. a relationship read in the same query)."""
    row = session.get(model, key, with_for_update=lock or None, options=options)
    if row is None or (visible is not None and not visible(row)):
        raise NotFound(f"{what} {key} does not exist.")
    return row


@contextmanager
def versioned(db: Database, stale: Exception) -> Iterator[Session]:
    """A write transaction in which a lost version race — a row's version counter moved between its read and
    its UPDATE (SQLAlchemy's StaleDataError, at any flush, even an automatic one) — raises `stale` instead: a
    409 or 412 saying what changed meanwhile."""
    try:
        with db.transaction() as session:
            yield session
    except StaleDataError:
        raise stale from None


def insert_ignoring(session: Session, model, conflict: list[str]):
    """`INSERT … ON CONFLICT (conflict) DO NOTHING` for the session's database (PostgreSQL or SQLite): the
    one way to record something once however often it is offered. Add `.values(...)` (and `.returning`)."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model).on_conflict_do_nothing(index_elements=conflict)


def owned_rows(link: str, order_by: str):
    """The rows of a link table owned by their parent: they go with it, and are read with it (one more query
    for a whole page of parents, not one per parent), in `order_by`'s order."""
    return relationship(link, cascade="all, delete-orphan", order_by=f"{link}.{order_by}", lazy="selectin")


class ValueList:
    """A list of plain values (ids, role names) kept as the rows of a link table, so queries filter on them
    in SQL, and read and assigned as a list. Assigning keeps the rows of the values still held, adds rows
    for new ones and drops the rest; the values are distinct, in the order given (recorded in the rows'
    `position` where they have one) or sorted with `sort`. `rows` names the `owned_rows` relationship."""

    def __init__(self, rows: str, column: str, *, sort: bool = False):
        self.rows, self.column, self.sort = rows, column, sort

    def __get__(self, parent, owner=None):
        if parent is None:
            return self
        return [getattr(row, self.column) for row in getattr(parent, self.rows)]

    def __set__(self, parent, values) -> None:
        wanted = list(dict.fromkeys(values or ()))
        if self.sort:
            wanted.sort()
        link = sa_inspect(type(parent)).relationships[self.rows].mapper.class_
        held = {getattr(row, self.column): row for row in getattr(parent, self.rows)}
        rows = [held.get(value) or link(**{self.column: value}) for value in wanted]
        if hasattr(link, "position"):
            for position, row in enumerate(rows):
                row.position = position
        setattr(parent, self.rows, rows)


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
        # Connections per process stay small: N replicas x 5 processes share max_connections (100 by default).
        # NUANXIN_DB_POOL_SIZE connections are kept open when idle; a burst may open NUANXIN_DB_MAX_OVERFLOW
        # more, closed after use; past both, a request waits for a connection to come back.
        return create_engine(url, pool_pre_ping=True, pool_size=config.env_int("NUANXIN_DB_POOL_SIZE", 5),
                             max_overflow=config.env_int("NUANXIN_DB_MAX_OVERFLOW", 10), pool_recycle=1800)
    return create_engine(url, pool_pre_ping=True)


class DatabaseUnavailable(Unavailable):
    """The service's database could not be reached, or dropped the connection (503, Retry-After)."""

    def __init__(self, detail: str = "", errors=None, extra=None, *, rolled_back: bool = False):
        super().__init__(detail or "The database is unavailable; try again shortly.", errors, extra)
        # True when the fault came before a commit was attempted: nothing of the transaction was kept.
        self.rolled_back = rolled_back


def is_connection_fault(exc: BaseException) -> bool:
    """A DBAPI error that means the connection is gone or the server refuses work, not a bad statement."""
    return isinstance(exc, DBAPIError) and (
        exc.connection_invalidated or isinstance(exc, (OperationalError, InterfaceError)))


# What the current worker (a green thread under eventlet) did that a rollback cannot undo.
_work = threading.local()


def record_effect() -> None:
    """Note that the current worker committed something, or asked another service to act."""
    _work.effects = True


def forget_work() -> None:
    _work.effects = False


def retry_is_safe(exc: BaseException) -> bool:
    """True when `exc` is a database fault that rolled back everything the current worker did."""
    return isinstance(exc, DatabaseUnavailable) and exc.rolled_back and not getattr(_work, "effects", False)


@contextmanager
def _faults_unavailable(*, committing: bool = False) -> Iterator[None]:
    try:
        yield
    except DBAPIError as exc:
        if not is_connection_fault(exc):
            raise
        cause = str(exc.orig or exc).strip().splitlines()[0] if str(exc.orig or exc).strip() else type(exc).__name__
        log.warning("database unavailable%s: %s: %s", " at commit" if committing else "",
                    type(exc.orig or exc).__name__, cause)
        raise DatabaseUnavailable(rolled_back=not committing) from exc


def _rollback_quietly(session: Session) -> None:
    try:
        session.rollback()
    except DBAPIError:  # the connection is gone: nothing to roll back on the server
        log.debug("rollback on a lost connection", exc_info=True)


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
        # The unit of work of the current worker (green-thread local under eventlet).
        self._units = threading.local()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A read-write transaction: committed on success, rolled back on any error.

        Inside a unit of work (`unit_of_work`) it is a savepoint of the unit's one transaction instead:
        rolled back alone on error, committed with the unit.
        """
        unit = getattr(self._units, "current", None)
        if unit is not None:
            with _faults_unavailable(), unit.savepoint() as session:
                yield session
            return
        lock = self._write_lock
        if lock is not None:
            lock.acquire()
        try:
            session = self._write_sessions()
            try:
                with _faults_unavailable():
                    yield session
                with _faults_unavailable(committing=True):
                    session.commit()
            except BaseException:
                _rollback_quietly(session)
                raise
            finally:
                session.close()
        finally:
            if lock is not None:
                lock.release()
        record_effect()
        self._committed(session)

    def _committed(self, session: Session) -> None:
        if session.info.get("emitted"):
            for callback in self.after_commit:
                callback()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (never commits); inside a unit of work that has written, its session."""
        unit = getattr(self._units, "current", None)
        if unit is not None and unit.session is not None:
            with _faults_unavailable():
                yield unit.session
            return
        session = self._read_sessions()
        try:
            with _faults_unavailable():
                yield session
        finally:
            _rollback_quietly(session)
            session.close()

    @contextmanager
    def unit_of_work(self, on_begin: Callable[[Session], None]) -> Iterator[UnitOfWork]:
        """Every `transaction()` of this worker until the block ends becomes one database transaction.

        The transaction begins at the first `transaction()`, which first calls `on_begin(session)`;
        `UnitOfWork.commit()` ends it. Leaving the block without committing rolls everything back.
        """
        unit = UnitOfWork(self, on_begin)
        self._units.current = unit
        try:
            with _faults_unavailable():  # the unit's own queries too (its session is used directly)
                yield unit
        finally:
            self._units.current = None
            unit.close()

    def ping(self) -> bool:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True

    def dispose(self) -> None:
        self.engine.dispose()
        if self.write_engine is not self.engine:
            self.write_engine.dispose()


class UnitOfWork:
    """One transaction spanning several `Database.transaction()` blocks (see `Database.unit_of_work`)."""

    def __init__(self, db: Database, on_begin: Callable[[Session], None]):
        self.db = db
        self.on_begin = on_begin
        self.session: Session | None = None
        self._locked = False

    @contextmanager
    def savepoint(self) -> Iterator[Session]:
        if self.session is None:
            if self.db._write_lock is not None:
                self.db._write_lock.acquire()
                self._locked = True
            self.session = self.db._write_sessions()
            self.on_begin(self.session)
        with self.session.begin_nested():
            yield self.session

    def commit(self) -> None:
        """Commit what the unit wrote (nothing to do if it never wrote)."""
        session = self.session
        if session is None:
            return
        with _faults_unavailable(committing=True):
            session.commit()
        record_effect()
        self.close()
        self.db._committed(session)

    def close(self) -> None:
        if self.session is not None:
            _rollback_quietly(self.session)
            self.session.close()
            self.session = None
        if self._locked:
            self._locked = False
            self.db._write_lock.release()


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


class Infrastructure:
    """The outbox, inbound-event and answered-request tables, declared on a service's own metadata."""

    def __init__(self, Outbox, InboundEvent, RpcRequest=None):
        self.Outbox = Outbox
        self.InboundEvent = InboundEvent
        self.RpcRequest = RpcRequest


def declare_infrastructure(Base: type[DeclarativeBase], *, request_log: bool = False) -> Infrastructure:
    """Declare `outbox` and `inbound_events` on a service's declarative base, and with `request_log`
    the `rpc_requests` table that makes keyed RPC requests take effect once (shared/idempotency.py)."""

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

    if not request_log:
        return Infrastructure(Outbox, InboundEvent)

    class RpcRequest(Base):
        __tablename__ = "rpc_requests"
        # sha256 of the caller's idempotency key and the method it was sent to.
        key: Mapped[str] = mapped_column(String(64), primary_key=True)
        method: Mapped[str] = mapped_column(String(128))
        result: Mapped[str | None] = mapped_column(Text, nullable=True)
        created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    return Infrastructure(Outbox, InboundEvent, RpcRequest)
