"""A city's data, generated straight into fresh PostgreSQL databases of the services (set-based SQL).

    .venv/bin/python -m bench.city_seed [--scale demo|city] [--postgres URL] [--prefix nx_city]

Makes one database per service next to URL (`<prefix>_<scale>_<service>`, dropped first if it exists),
migrates each with the service's own Alembic migrations, and fills it with `INSERT ... SELECT FROM
generate_series`, one statement a table, then ANALYZE. The databases are left for the caller (bench/city.py
measures the screens on them and drops them).

Two sizes, the same shapes:

- `demo`: the demo seed's sizes (services/seed.py and each service's seed.py: 新华路街道 with 宜北 and 宜南,
  seven micro-grids, 18 accounts, 28 shops of which 3 have an owner account, 4 charity items, 7 rooms) with
  a few weeks of activity on them, enough that every screen measured lists a full page.
- `city`: 500 grids (a sub-district, 10 big grids of about 49 micro-grids each), 100 000 accounts, 5 000
  merchants with 10 000 charity items and 300 000 claims, 1 000 000 booking occurrences in 500 rooms,
  200 000 volunteer actions, 20 000 volunteers and 510 000 inbox entries (10 000 of them one person's).

Grid ids: 1 is the root, 2..1+B the big grids, then the micro-grids, micro-grid j below big grid j % B.
Account n coordinates grid n; the next accounts own the shops, then come the volunteers, then residents.
Of the actions, one in twenty is reported, one accepted and one resolved (the coordinator's live work, 15 %),
the rest closed; the reporter of each follows it and its first timeline entry says it was reported.
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from datetime import datetime

import psycopg2
from sqlalchemy import create_engine

from services.bookings.contracts import SpaceRulesSchema
from services.volunteers.seed import CATEGORIES
from shared.db import utcnow
from shared.migrations import upgrade

SERVICES = ("gateway", "volunteers", "notifications", "bookings")
POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Scale:
    name: str
    big_grids: int
    micro_grids: int
    accounts: int
    owners: int  # shops with an owner account (the first ones)
    merchants: int
    items: int
    claims: int
    hot_item_claims: int  # claims on item 1 (merchant 1's), the shop whose claims are measured
    actions: int
    volunteers: int
    inbox_each: int  # entries of every account
    hot_inbox: int  # entries of the last account, the inbox measured
    unread: int  # the newest entries of each inbox are unread
    spaces: int
    occurrences: int

    @property
    def grids(self) -> int:
        return 1 + self.big_grids + self.micro_grids


SCALES = {
    "demo": Scale("demo", big_grids=2, micro_grids=7, accounts=18, owners=3, merchants=28, items=4, claims=200,
                  hot_item_claims=100, actions=2_000, volunteers=5, inbox_each=5, hot_inbox=100, unread=15,
                  spaces=7, occurrences=1_400),
    "city": Scale("city", big_grids=10, micro_grids=489, accounts=100_000, owners=5_000, merchants=5_000,
                  items=10_000, claims=300_000, hot_item_claims=5_000, actions=200_000, volunteers=20_000,
                  inbox_each=5, hot_inbox=10_000, unread=15, spaces=500, occurrences=1_000_000),
}


@dataclass(frozen=True)
class People:
    """Who is who in a generated city (account ids)."""

    command: int  # coordinates the root: the whole colour map
    secretary: int  # coordinates big grid 2: the queue over its subtree
    merchant_owner: int  # owns merchant 1 and its item 1
    reader: int  # the inbox measured
    hot_item: int
    hot_space: int


def people(scale: Scale) -> People:
    return People(command=1, secretary=2, merchant_owner=scale.grids + 1, reader=scale.accounts, hot_item=1,
                  hot_space=1)


def database_url(base: str, prefix: str, scale: str, service: str) -> str:
    return base.rsplit("/", 1)[0] + f"/{prefix}_{scale}_{service}"


def _admin(base: str):
    return create_engine(base.replace("postgresql://", "postgresql+psycopg2://", 1), isolation_level="AUTOCOMMIT")


def create_databases(base: str, prefix: str, scale: str) -> dict[str, str]:
    engine = _admin(base)
    urls = {}
    with engine.connect() as conn:
        for service in SERVICES:
            url = urls[service] = database_url(base, prefix, scale, service)
            name = url.rsplit("/", 1)[1]
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    for service, url in urls.items():
        upgrade(service, url)
    return urls


def drop_databases(base: str, urls: dict[str, str]) -> None:
    engine = _admin(base)
    with engine.connect() as conn:
        for url in urls.values():
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    engine.dispose()


# -------------------------------------------------------------------------------------------------- tables

def _gateway(s: Scale) -> list[str]:
    owners_end = s.grids + s.owners
    return [
        f"""INSERT INTO accounts (id, username, password_hash, display_name, locale, timezone, email, phone, active,
                                  created_at, password_changed_at, elderly_mode)
            SELECT n, 'resident' || n, '$argon2id$v=19$m=65536,t=3,p=4$generated$generated', '居民 ' || n, 'zh-CN',
                   'Asia/Shanghai', NULL, NULL, true, %(now)s - n * interval '1 minute', %(now)s, false
            FROM generate_series(1, {s.accounts}) AS n""",
        f"INSERT INTO account_roles (account_id, role) SELECT n, 'resident' FROM generate_series(1, {s.accounts}) n",
        f"""INSERT INTO account_roles (account_id, role)
            SELECT n, 'coordinator' FROM generate_series(1, {min(s.grids, s.accounts)}) n""",
        f"""INSERT INTO account_roles (account_id, role)
            SELECT n, 'merchant' FROM generate_series({s.grids + 1}, {min(owners_end, s.accounts)}) n""",
        f"""INSERT INTO account_roles (account_id, role)
            SELECT n, 'volunteer' FROM generate_series({owners_end + 1}, {min(owners_end + s.volunteers,
                                                                               s.accounts)}) n""",
    ]


def _micro(expr: str, s: Scale) -> str:
    """The id of micro-grid number `expr` modulo their count."""
    return f"({2 + s.big_grids} + ({expr}) % {s.micro_grids})"


def _volunteers(s: Scale) -> list[str]:
    owners_end = s.grids + s.owners
    first_volunteer, last_volunteer = owners_end + 1, min(owners_end + s.volunteers, s.accounts)
    # One in twenty actions is reported, one accepted, one resolved; the rest are closed.
    state = "CASE n % 20 WHEN 0 THEN 'reported' WHEN 1 THEN 'accepted' WHEN 2 THEN 'resolved' ELSE 'closed' END"
    live = "n % 20 IN (0, 1)"
    reporter = f"(1 + (n::bigint * 7919) % {s.accounts})::int"
    acceptor = f"({first_volunteer} + n % {max(1, last_volunteer - first_volunteer + 1)})"
    created = f"%(now)s - ({s.actions} - n) * interval '2 minutes'"
    def literal(value) -> str:
        return "NULL" if value is None else "'" + str(value).replace("'", "''") + "'"

    categories = ", ".join(
        f"({literal(c['name'])}, {literal(c['label'])}, {literal(json.dumps(c['accept_within_minutes']))}, "
        f"{literal(json.dumps(c['resolve_within_minutes']))}, {literal(c.get('required_skill'))}, 1)"
        for c in CATEGORIES)
    names = [c["name"] for c in CATEGORIES]
    category = "(ARRAY[" + ", ".join(f"'{n}'" for n in names) + f"])[1 + n % {len(names)}]"
    return [
        f"""INSERT INTO grids (id, parent_id, name, level, created_at, outline)
            SELECT n, CASE WHEN n = 1 THEN NULL WHEN n <= {1 + s.big_grids} THEN 1
                           ELSE 2 + (n - {2 + s.big_grids}) % {s.big_grids} END,
                   CASE WHEN n = 1 THEN '街道' WHEN n <= {1 + s.big_grids} THEN '大网格 ' || n ELSE '微网格 ' || n END,
                   CASE WHEN n = 1 THEN 3 WHEN n <= {1 + s.big_grids} THEN 2 ELSE 1 END, %(now)s,
                   json_build_object('type', 'Polygon', 'coordinates', json_build_array(json_build_array(
                       json_build_array(121.4 + n * 0.001, 31.2), json_build_array(121.401 + n * 0.001, 31.2),
                       json_build_array(121.401 + n * 0.001, 31.201), json_build_array(121.4 + n * 0.001, 31.201),
                       json_build_array(121.4 + n * 0.001, 31.2))))
            FROM generate_series(1, {s.grids}) n""",
        f"INSERT INTO grid_coordinators (grid_id, user_id, position) SELECT n, n, 0 FROM generate_series(1, {s.grids}) n",
        f"""INSERT INTO action_categories (name, label, accept_within_minutes, resolve_within_minutes, required_skill,
                                           min_skill_level) VALUES {categories}""",
        f"""INSERT INTO volunteers (user_id, display_name, phone, skills, availability, unavailable, on_leave,
                                    max_open_actions, timezone, last_action_at, created_at)
            SELECT n, '志愿者 ' || n, '', '{{"repair": 2}}', '[]', '[]', false, 3, 'Asia/Shanghai', NULL, %(now)s
            FROM generate_series({first_volunteer}, {last_volunteer}) n""",
        f"""INSERT INTO volunteer_grids (user_id, grid_id, position)
            SELECT n, {_micro("n", s)}, 0 FROM generate_series({first_volunteer}, {last_volunteer}) n""",
        f"""INSERT INTO actions (id, kind, parent_id, title, category, description, location, latitude, longitude,
                                 photo_urls, grid_id, merchant_id, state, level, level_started_at, deadline_at,
                                 deadline_kind, escalations, reporter_id, reporter_name, team_id, accepted_by,
                                 accepted_at, accepted_by_name, outcome, resolved_by, resolved_at, rating, feedback,
                                 checklist, survivor_id, created_by, created_at, closed_at, version)
            SELECT n, 'single', NULL, '问题 ' || n, {category}, '', '', NULL, NULL, '[]', {_micro("n", s)}, NULL,
                   {state}, 1, {created},
                   CASE WHEN {live} THEN %(now)s + (n % 7 - 2) * interval '1 hour' END,
                   CASE n % 20 WHEN 0 THEN 'accept' WHEN 1 THEN 'resolve' END,
                   CASE WHEN {live} AND n % 3 = 0 THEN 1 ELSE 0 END, {reporter}, '居民 ' || {reporter}, NULL,
                   CASE WHEN n % 20 <> 0 THEN {acceptor} END, CASE WHEN n % 20 <> 0 THEN {created} END, '',
                   '', CASE WHEN n % 20 > 1 THEN {acceptor} END, CASE WHEN n % 20 > 1 THEN {created} END, NULL, '',
                   '[]', NULL, {reporter}, {created}, CASE WHEN n % 20 > 2 THEN {created} END, 1
            FROM generate_series(1, {s.actions}) n""",
        f"""INSERT INTO action_followers (action_id, user_id, position)
            SELECT n, {reporter}, 0 FROM generate_series(1, {s.actions}) n""",
        # The reported and accepted ones asked three volunteers; one of an accepted action's declined.
        f"""INSERT INTO action_candidates (action_id, user_id, position)
            SELECT n, {first_volunteer} + (n + k) % {max(1, last_volunteer - first_volunteer + 1)}, k
            FROM generate_series(1, {s.actions}) n, generate_series(0, 2) k WHERE {live}
            ON CONFLICT DO NOTHING""",
        f"""INSERT INTO action_declines (action_id, user_id, position)
            SELECT n, {first_volunteer} + (n + 1) % {max(1, last_volunteer - first_volunteer + 1)}, 0
            FROM generate_series(1, {s.actions}) n WHERE n % 20 = 1""",
        f"""INSERT INTO action_timeline (id, action_id, verb, from_state, to_state, actor_id, actor_name, at, note, data)
            SELECT n, n, 'report', '', 'reported', {reporter}, '居民 ' || {reporter}, {created}, '', '{{}}'
            FROM generate_series(1, {s.actions}) n""",
        f"""INSERT INTO merchants (id, user_id, name, address, grid_id, category, opening_hours, contact, good_shop,
                                   status, note, created_at, street_area, timezone, approved_by, approved_at,
                                   rejection_reason, rejected_by, rejected_at)
            SELECT n, CASE WHEN n <= {s.owners} THEN {s.grids} + n END, '小店 ' || n, '', {_micro("n - 1", s)},
                   'cafe', '{{}}', '', true, 'approved', '', %(now)s, '', 'Asia/Shanghai', 1, %(now)s, '', NULL, NULL
            FROM generate_series(1, {s.merchants}) n""",
        f"""INSERT INTO pledges (id, merchant_id, title, title_en, description, description_en, beneficiary_groups,
                                 stock, stock_period, per_person_limit, per_person_period, valid_from, valid_until,
                                 redemption_hours, status, status_note, version, created_at, updated_at)
            SELECT n, 1 + (n - 1) % {min(s.merchants, s.owners)}, '骑手免费咖啡 ' || n, '', '', '', '["rider"]', 10,
                   'day', 1, 'day', DATE '2026-01-01', NULL, '{{}}', 'active', '', 1, %(now)s, %(now)s
            FROM generate_series(1, {s.items}) n""",
        f"""INSERT INTO claims (id, pledge_id, merchant_id, claimant_id, code, state, stock_period_key,
                                person_period_key, slot, window_starts_at, expires_at, claimed_at, redeemed_at,
                                redeemed_by, expired_at)
            SELECT n, p, 1 + (p - 1) % {min(s.merchants, s.owners)}, (1 + (n::bigint * 104729) % {s.accounts})::int,
                   'C' || lpad(n::text, 10, '0'), CASE WHEN n > {s.claims} - 20 THEN 'claimed' ELSE 'redeemed' END,
                   'p' || n, 'p' || n, CASE WHEN n > {s.claims} - 20 THEN 1 END,
                   %(now)s - ({s.claims} - n) * interval '1 minute',
                   %(now)s - ({s.claims} - n) * interval '1 minute' + interval '3 hours',
                   %(now)s - ({s.claims} - n) * interval '1 minute',
                   CASE WHEN n <= {s.claims} - 20 THEN %(now)s - ({s.claims} - n) * interval '1 minute' END,
                   CASE WHEN n <= {s.claims} - 20 THEN {s.grids} + 1 END, NULL
            FROM (SELECT n, CASE WHEN n % {max(1, s.claims // s.hot_item_claims)} = 0 OR {s.items} = 1 THEN 1
                                 ELSE 2 + n % {max(1, s.items - 1)} END AS p
                  FROM generate_series(1, {s.claims}) n) AS c""",
    ]


def _notifications(s: Scale) -> list[str]:
    total = s.hot_inbox + s.accounts * s.inbox_each
    stride = total // s.hot_inbox
    # Entries arrive over time for everyone: every `stride`-th is the reader's (so theirs are spread among all the
    # others', as a busy person's are), the rest go round the other accounts. The newest are unread.
    reader = f"n % {stride} = 0 AND n > {total - s.hot_inbox * stride}"
    return [
        f"""INSERT INTO recipients (user_id, username, display_name, locale, timezone, grids, active, updated_at)
            SELECT n, 'resident' || n, '居民 ' || n, 'zh-CN', 'Asia/Shanghai', '[]', true, %(now)s
            FROM generate_series(1, {s.accounts}) n""",
        f"""INSERT INTO inbox_entries (id, user_id, source_key, type, category, severity, title, body, data,
                                       created_at, read_at, awaits, superseded_at)
            SELECT n, CASE WHEN {reader} THEN {s.accounts} ELSE 1 + n % {s.accounts - 1} END, 'event:' || n,
                   'action.reported', 'actions', 'info', '有人报了一个问题 ' || n, '', '{{"action_id": 1}}',
                   %(now)s - ({total} - n) * interval '10 seconds',
                   CASE WHEN n <= {total - s.unread * stride} THEN %(now)s END, NULL, NULL
            FROM generate_series(1, {total}) n""",
    ]


def _bookings(s: Scale) -> list[str]:
    per_space = s.occurrences // s.spaces
    per_booking = 100
    bookings = s.occurrences // per_booking
    sites = max(1, s.spaces // 10)
    # Occurrence k of a space starts 2k hours after the space's first one: one-hour meetings, never overlapping,
    # half of them in the past. Booking b holds the occurrences 100b .. 100b + 99 (all in one space).
    first = f"%(now)s - {per_space} * interval '1 hour'"
    return [
        f"""INSERT INTO sites (id, name, kind, address, timezone, created_at)
            SELECT n, '服务中心 ' || n, 'centre', '', 'Asia/Shanghai', %(now)s FROM generate_series(1, {sites}) n""",
        f"""INSERT INTO spaces (id, site_id, name, kind, capacity, units, timezone, equipment, rules, active, created_at,
                                max_block_minutes)
            SELECT n, 1 + (n - 1) % {sites}, '会议室 ' || n, 'room', 10, 1, 'Asia/Shanghai', '[]', %(rules)s, true,
                   %(now)s, 60
            FROM generate_series(1, {s.spaces}) n""",
        f"""INSERT INTO bookings (id, space_id, booker_id, team_id, title, status, units, starts_at, ends_at, rrule,
                                  exdates, reason, version, created_at, notes, timezone, decided_by, updated_at,
                                  reference)
            SELECT b + 1, 1 + b * {per_booking} / {per_space}, 1 + b % {s.accounts}, NULL, '例会 ' || b, 'confirmed', 1,
                   {first}, {first} + interval '1 hour', NULL, '[]', '', 1, %(now)s, '', 'Asia/Shanghai', NULL,
                   NULL, NULL
            FROM generate_series(0, {bookings - 1}) b""",
        f"""INSERT INTO occurrences (id, booking_id, space_id, unit, starts_at, ends_at, blocked_until, status,
                                     checked_in_at, release_at, reminded_at)
            SELECT n + 1, 1 + n / {per_booking}, 1 + n / {per_space}, 1,
                   {first} + (n % {per_space}) * interval '2 hours',
                   {first} + (n % {per_space}) * interval '2 hours' + interval '1 hour',
                   {first} + (n % {per_space}) * interval '2 hours' + interval '1 hour', 'confirmed', NULL, NULL, NULL
            FROM generate_series(0, {s.occurrences - 1}) n""",
    ]


TABLES = {"gateway": _gateway, "volunteers": _volunteers, "notifications": _notifications, "bookings": _bookings}


# Constraints and indexes are taken off while the rows go in and put back after: building each once is many times
# faster than keeping it up row by row (the exclusion constraint of occurrences above all). Primary keys and
# checks stay; putting the rest back checks every row against them as they were.
DEFERRED_CONSTRAINTS = """
    SELECT conrelid::regclass::text, conname, pg_get_constraintdef(c.oid), contype
    FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
    WHERE n.nspname = 'public' AND contype IN ('f', 'u', 'x')
    ORDER BY contype = 'f' DESC"""
DEFERRED_INDEXES = """
    SELECT pg_get_indexdef(i.indexrelid), i.indexrelid::regclass::text
    FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"""


def _fill(url: str, statements: list[str], literals: dict[str, str]) -> None:
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SET maintenance_work_mem = '256MB'")
            cur.execute(DEFERRED_CONSTRAINTS)
            constraints = cur.fetchall()
            cur.execute(DEFERRED_INDEXES)
            indexes = cur.fetchall()
            for table, name, _, _ in constraints:  # foreign keys first: they lean on the others
                cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for _, name in indexes:
                cur.execute(f"DROP INDEX {name}")
            for statement in statements:
                for name, literal in literals.items():
                    statement = statement.replace(f"%({name})s", literal)
                cur.execute(statement)
            for definition, _ in indexes:
                cur.execute(definition)
            for table, name, definition, _ in reversed(constraints):  # foreign keys last
                cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            # Ids were given: every sequence goes on after the largest one.
            cur.execute("""SELECT table_name, column_name FROM information_schema.columns
                           WHERE table_schema = 'public' AND column_default LIKE 'nextval%'""")
            for table, column in cur.fetchall():
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                            f"coalesce((SELECT max({column}) FROM {table}), 0) + 1, false)")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
    finally:
        conn.close()


def generate(base: str, prefix: str, scale: Scale, now: datetime | None = None) -> dict[str, str]:
    """Fresh, migrated databases of the four services filled at `scale`; their URLs by service."""
    urls = create_databases(base, prefix, scale.name)
    rules = json.dumps(SpaceRulesSchema().dump(SpaceRulesSchema().load({}))).replace("'", "''")
    literals = {"now": f"TIMESTAMPTZ '{(now or utcnow()).isoformat()}'", "rules": f"'{rules}'"}
    for service in SERVICES:
        began = time.monotonic()
        _fill(urls[service], TABLES[service](scale), literals)
        print(f"  {scale.name} {service}: {time.monotonic() - began:.1f} s", flush=True)
    return urls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", choices=sorted(SCALES), default="city")
    parser.add_argument("--postgres", default=POSTGRES)
    parser.add_argument("--prefix", default="nx_city")
    args = parser.parse_args()
    began = time.monotonic()
    urls = generate(args.postgres, args.prefix, SCALES[args.scale])
    print(f"generated {args.scale} in {time.monotonic() - began:.1f} s:")
    for service, url in urls.items():
        print(f"  {service.upper()}_DATABASE_URL={url}")


if __name__ == "__main__":
    main()
