"""Due work, claimed row by row: the one way a timer acts on the rows whose time has come.

A tick reads the keys of the due rows (a plain read, no lock), then handles each key in a transaction of
its own. The handler claims its row with a guarded UPDATE (`claimed`) whose WHERE repeats the row's due
condition, and acts only when that UPDATE changed the row. With two replicas ticking at once, each row is
claimed by one of them and acted on once; a row another replica took meanwhile is skipped; a tick that
fails midway leaves the rest for the next tick.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Select, Update
from sqlalchemy.orm import Session

from shared.db import Database


def claimed(session: Session, statement: Update) -> bool:
    """Run a guarded UPDATE; True when it changed a row (this process owns the work), else False."""
    return session.execute(statement).rowcount > 0


def work_through(db: Database, due: Select, handle: Callable[..., bool | int | None]) -> int:
    """Handle each row of `due` (a select of key columns) in its own transaction:
    `handle(session, *key)` claims it and acts, returning whether it did. The count of rows acted on."""
    with db.read() as session:
        keys = session.execute(due).all()
    done = 0
    for key in keys:
        with db.transaction() as session:
            done += int(bool(handle(session, *key)))
    return done
