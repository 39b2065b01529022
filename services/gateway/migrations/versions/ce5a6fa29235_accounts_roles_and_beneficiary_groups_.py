"""accounts' roles and beneficiary groups are rows

The accounts list filters by role and by beneficiary group in SQL, so the JSON lists `accounts.roles` and
`accounts.groups` become the tables account_roles and account_groups (one row per account and value). Every
account's roles and groups are carried over (distinct, anything that is not a string left out), and back on a
downgrade as sorted lists.

Revision ID: ce5a6fa29235
Revises: 3c1e7a5b9d20
Create Date: 2026-12-07 03:35:23.265272
"""
import json

import sqlalchemy as sa
from alembic import op

revision = 'ce5a6fa29235'
down_revision = '3c1e7a5b9d20'
branch_labels = None
depends_on = None

# (list column on accounts, its table, the table's value column)
LISTS = (("roles", "account_roles", "role"), ("groups", "account_groups", "group_name"))


def _items(value) -> list:
    """A JSON list as stored (text on SQLite, already parsed on PostgreSQL); anything else is empty."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def upgrade():
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, roles, groups FROM accounts ORDER BY id")).all()
    for column, table, value in LISTS:
        op.create_table(table,
            sa.Column('account_id', sa.Integer(), nullable=False),
            sa.Column(value, sa.String(length=32), nullable=False),
            sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
            sa.PrimaryKeyConstraint('account_id', value),
        )
        op.create_index(op.f(f'ix_{table}_{value}'), table, [value], unique=False)
        items = [{"account_id": row.id, "value": item} for row in rows
                 for item in sorted(set(_items(getattr(row, column))))]
        if items:
            bind.execute(sa.text(f"INSERT INTO {table} (account_id, {value}) VALUES (:account_id, :value)"), items)
        # A plain ALTER TABLE … DROP COLUMN (SQLite 3.35+ too): a batch copy of `accounts` would drop the table
        # that sign_in_sessions and the new link tables point at.
        op.drop_column('accounts', column)


def downgrade():
    bind = op.get_bind()
    for column, table, value in reversed(LISTS):
        op.add_column('accounts', sa.Column(column, sa.JSON(), nullable=False, server_default='[]'))
        held: dict[int, list[str]] = {}
        for account_id, item in bind.execute(sa.text(
                f"SELECT account_id, {value} FROM {table} ORDER BY account_id, {value}")):
            held.setdefault(account_id, []).append(item)
        if held:
            bind.execute(sa.text(f"UPDATE accounts SET {column} = :items WHERE id = :account_id"),
                         [{"items": json.dumps(items), "account_id": account_id} for account_id, items in held.items()])
        op.drop_index(op.f(f'ix_{table}_{value}'), table_name=table)
        op.drop_table(table)
