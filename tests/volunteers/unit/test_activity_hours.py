"""An activity's hours credit is one work log per credit_id, however often it is applied (a scratch SQLite
database, the use-case called directly); a work log names an action or a credit."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.volunteers import activity_hours
from services.volunteers.models import WorkLog
from shared.db import Database
from shared.migrations import upgrade

ENDED = datetime(2026, 12, 15, 13, 0, tzinfo=UTC)
CREDIT = {"credit_id": "9f1c2d3e-0000-4000-8000-000000000001", "session_id": 501, "activity_id": 77,
          "user_id": 12, "minutes": 75, "title_zh": "新域夜校·手机摄影", "title_en": "Night school", "team_id": 3,
          "ended_at": ENDED}


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path}/volunteers.db"
    upgrade("volunteers", url)
    database = Database(url)
    yield database
    database.dispose()


def test_a_credit_is_recorded_once(db):
    with db.transaction() as session:
        assert activity_hours.credit(session, CREDIT) is True
    with db.transaction() as session:
        assert activity_hours.credit(session, {**CREDIT, "minutes": 500}) is False
    with db.read() as session:
        [log] = session.scalars(select(WorkLog)).all()
        assert (log.action_id, log.activity_id, log.activity_session_id, log.user_id, log.team_id) == \
            (None, 77, 501, 12, 3)
        assert log.minutes == 75 and log.title == "新域夜校·手机摄影"
        assert log.ended_at == ENDED and (log.ended_at - log.started_at).total_seconds() == 75 * 60


def test_a_work_log_names_an_action_or_a_credit(db):
    with pytest.raises(IntegrityError, match="ck_work_logs_action_or_credit|CHECK"):
        with db.transaction() as session:
            session.add(WorkLog(user_id=12, minutes=5, started_at=ENDED, ended_at=ENDED))
