"""Broadcasts to 10 000 and 100 000 people: time from `POST /broadcasts` until every inbox entry is written.

    .venv/bin/python -m bench.notifications_broadcast [--recipients 10000 100000] [--backend postgres|sqlite]

Starts the suite (PostgreSQL by default) and, for each size in turn, fills the notifications directory with
merchants up to that many (as `account.registered` would: a recipient row and its role; one in five reads
English, one in fifty has quiet hours and one in a hundred has switched broadcasts off in the inbox), then an
admin broadcasts to the merchant role over HTTP. Records the HTTP answer time (the audience resolved and
stored), the time until the broadcast is `done`, and the inbox entries it wrote, checked against the people
who should have one. Prints one table and writes it to docs/PERFORMANCE.md.
"""
from __future__ import annotations

import argparse
import time

from sqlalchemy import func, insert, select

from bench.report import report
from bench.suite import running
from services.notifications.models import Broadcast, InboxEntry, Preference, Recipient, RecipientRole
from tests.support.suite import RunningSuite

FIRST = 80_000_000
BATCH = 5000
GOAL_SECONDS = {100_000: 10.0}


def fill_directory(db, start: int, stop: int) -> int:
    """Merchants start…stop-1 of the directory; answers how many should get a broadcast in their inbox."""
    with db.transaction() as session:
        for low in range(start, stop, BATCH):
            people = range(low, min(low + BATCH, stop))
            session.execute(insert(Recipient), [
                {"user_id": FIRST + i, "username": f"shop{i}", "display_name": f"好店家 {i}",
                 "locale": "en" if i % 5 == 0 else "zh-CN", "timezone": "Asia/Shanghai", "grids": [],
                 "active": True} for i in people])
            session.execute(insert(RecipientRole), [{"user_id": FIRST + i, "role": "merchant"} for i in people])
            prefs = [{"user_id": FIRST + i, "quiet_start": "00:00" if i % 50 == 0 else None,
                      "quiet_end": "23:59" if i % 50 == 0 else None, "timezone": None,
                      "rules": {"broadcasts": {"inbox": False}} if i % 100 == 1 else {}}
                     for i in people if i % 50 == 0 or i % 100 == 1]
            if prefs:
                session.execute(insert(Preference), prefs)
    return sum(1 for i in range(stop) if i % 100 != 1)


def broadcast(suite: RunningSuite, admin, severity: str) -> tuple[dict, float, float, int]:
    db = suite.database("notifications")
    started = time.perf_counter()
    response = admin.post("/broadcasts", json={
        "title": "台风“普拉桑”预警", "body": "请今晚 18:00 前检查店招、收起外摆,最近的避难点见附近驿站。",
        "title_en": "Typhoon Bolaven warning", "body_en": "Secure your signs and bring in outdoor seating by 18:00.",
        "severity": severity, "audience": [{"kind": "role", "role": "merchant"}]})
    answered = time.perf_counter() - started
    response.raise_for_status()
    sent = response.json()
    deadline = time.monotonic() + 120
    while True:
        with db.read() as session:
            state = session.scalar(select(Broadcast.state).where(Broadcast.id == sent["id"]))
        if state == "done":
            break
        if time.monotonic() > deadline:
            raise SystemExit("the fan-out did not finish within 2 minutes")
        time.sleep(0.02)
    finished = time.perf_counter() - started
    with db.read() as session:
        written = session.scalar(select(func.count()).select_from(InboxEntry)
                                 .where(InboxEntry.source_key == f"broadcast:{sent['id']}"))
    return sent, answered, finished, written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--backend", default="postgres", choices=["postgres", "sqlite"])
    parser.add_argument("--own-broker", action="store_true",
                        help="run a RabbitMQ node of the bench's own instead of a vhost on the shared broker")
    args = parser.parse_args()
    sizes = sorted(args.recipients)
    rows = []
    with running(private_broker=args.own_broker, backend=args.backend) as (suite, _rabbit):
        db = suite.database("notifications")
        admin = suite.user(roles=["admin"])
        filled = 0
        for size in sizes:
            started = time.perf_counter()
            expected = fill_directory(db, filled, size)
            filled = size
            print(f"directory filled to {size} merchants in {time.perf_counter() - started:.1f} s")
            # Warning, not critical: each person's switches and quiet hours are read and applied.
            sent, answered, finished, written = broadcast(suite, admin, "warning")
            goal = GOAL_SECONDS.get(size)
            rows.append([f"{sent['targeted']:,}".replace(",", " "), answered * 1000, finished,
                         f"{written:,}".replace(",", " "), "yes" if written == expected else f"no ({expected})",
                         f"≤ {goal:.0f} s" if goal else "—"])
            print(f"  {size}: answered in {answered * 1000:.0f} ms, done in {finished:.2f} s, {written} entries")
    report("broadcast", f"Broadcasts on {'PostgreSQL' if args.backend == 'postgres' else 'SQLite'}: from "
                        "`POST /broadcasts` until every inbox entry is written",
           ["recipients", "HTTP answer (ms)", "all entries written (s)", "entries", "every entry right",
            "goal"], rows,
           ["the audience is the merchant role; one person in five reads English, one in fifty has quiet hours "
            "(they hold channel messages, not the inbox), one in a hundred has switched broadcasts off in the "
            "inbox and gets no entry",
            "the HTTP answer covers resolving the audience and storing the broadcast; the fan-out starts then",
            "each size is one broadcast in the same suite; the directory grows from one size to the next"])


if __name__ == "__main__":
    main()
