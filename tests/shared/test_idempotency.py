"""Exactly-once RPC: a keyed method takes effect once, all its transactions commit together or not at all."""
from __future__ import annotations

import threading
import uuid
from datetime import datetime

import pytest
from sqlalchemy import Integer, String, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import Database, UTCDateTime, declare_infrastructure
from shared.errors import Conflict
from shared.idempotency import RequestLog, exactly_once
from tests.support.infra import PostgresDatabases

pytestmark = pytest.mark.integration


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


infra = declare_infrastructure(Base, request_log=True)


class Thing(Base):
    __tablename__ = "things"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)


class FakeService:
    """What a nameko worker's service instance holds: its database and the worker's request log."""

    def __init__(self, db: Database, key: str | None):
        self.db = db
        self.request_log = RequestLog(db, infra.RpcRequest, key)
        self.runs = 0

    @exactly_once
    def create(self, name: str) -> dict:
        self.runs += 1
        with self.db.transaction() as session:
            thing = Thing(name=name)
            session.add(thing)
            session.flush()
            thing_id = thing.id
        # A second transaction of the same method, and a read that must see the first one.
        with self.db.transaction() as session:
            session.get(Thing, thing_id).name = name + "!"
        with self.db.read() as session:
            return {"id": thing_id, "name": session.get(Thing, thing_id).name}

    @exactly_once
    def create_then_fail(self, name: str) -> dict:
        with self.db.transaction() as session:
            session.add(Thing(name=name))
        with self.db.transaction():
            raise Conflict("the second step is refused")

    @exactly_once
    def create_with_retry(self, name: str) -> dict:
        """A use case that catches an IntegrityError of one transaction and tries another (a savepoint)."""
        for candidate in (name, name + "-2"):
            try:
                with self.db.transaction() as session:
                    session.add(Thing(name=candidate))
                    session.flush()
                    return {"name": candidate}
            except IntegrityError:
                continue
        raise Conflict("no name left")


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, tmp_path):
    pg = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'things.db'}"
    else:
        pg = PostgresDatabases()
        url = pg.create()["bookings"]
    database = Database(url)
    Base.metadata.create_all(database.engine)
    yield database
    database.dispose()
    if pg is not None:
        pg.drop()


def count(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(Thing))


def test_the_same_key_takes_effect_once_and_returns_the_first_answer(db):
    key = uuid.uuid4().hex
    first = FakeService(db, key).create("a")
    again = FakeService(db, key)
    assert again.create("a") == first == {"id": first["id"], "name": "a!"}
    assert again.runs == 0
    assert count(db) == 1


def test_without_a_key_every_call_acts(db):
    FakeService(db, None).create("a")
    FakeService(db, None).create("b")
    assert count(db) == 2


def test_a_failure_in_a_later_transaction_undoes_the_earlier_ones_and_keeps_the_key_free(db):
    key = uuid.uuid4().hex
    with pytest.raises(Conflict):
        FakeService(db, key).create_then_fail("a")
    assert count(db) == 0
    # Nothing was done, so the same key may do it now.
    assert FakeService(db, key).create("a")["name"] == "a!"
    assert count(db) == 1


def test_an_integrity_error_in_one_transaction_rolls_back_only_that_savepoint(db):
    FakeService(db, None).create_with_retry("taken")
    answer = FakeService(db, uuid.uuid4().hex).create_with_retry("taken")
    assert answer == {"name": "taken-2"}
    assert count(db) == 2


def test_concurrent_deliveries_of_one_key_act_once(db):
    key = uuid.uuid4().hex
    answers, errors = [], []

    def deliver():
        try:
            answers.append(FakeService(db, key).create("same"))
        except Exception as exc:  # collected: the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(answers) == 6 and all(a == answers[0] for a in answers)
    assert count(db) == 1


def test_different_methods_with_one_key_are_separate_requests(db):
    key = uuid.uuid4().hex
    service = FakeService(db, key)
    service.create("a")
    assert service.create_with_retry("b") == {"name": "b"}
    assert count(db) == 2
