"""recipients' roles and beneficiary groups are rows

Audiences are chosen by role ("every merchant") and by beneficiary group ("riders and couriers") in SQL, so
the JSON lists `recipients.roles` and `recipients.groups` become the tables recipient_roles and
recipient_groups; every recipient's roles and groups are carried over, and back on a downgrade.

Revision ID: 73ff77fde91a
Revises: b3e1c0a7d5f2
Create Date: 2026-12-07 02:55:10.502676
"""
import json

import sqlalchemy as sa
from alembic import op

revision = '73ff77fde91a'
down_revision = 'b3e1c0a7d5f2'
branch_labels = None
depends_on = None

# (list column on recipients, its table, the table's value column)
LISTS = (("roles", "recipient_roles", "role"), ("groups", "recipient_groups", "group_name"))


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
    rows = bind.execute(sa.text("SELECT user_id, roles, groups FROM recipients ORDER BY user_id")).all()
    # The columns go before the tables come: on SQLite the batch rebuild of `recipients` drops the table,
    # which would cascade to rows already referencing it.
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.drop_column('groups')
        batch_op.drop_column('roles')

    op.create_table('recipient_groups',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('group_name', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['recipients.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'group_name')
    )
    with op.batch_alter_table('recipient_groups', schema=None) as batch_op:
        batch_op.create_index('ix_recipient_groups_group', ['group_name'], unique=False)

    op.create_table('recipient_roles',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['recipients.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'role')
    )
    with op.batch_alter_table('recipient_roles', schema=None) as batch_op:
        batch_op.create_index('ix_recipient_roles_role', ['role'], unique=False)

    for column, table, value in LISTS:
        items = [{"user_id": row.user_id, "value": item} for row in rows
                 for item in sorted(set(_items(getattr(row, column))))]
        if items:
            bind.execute(sa.text(f"INSERT INTO {table} (user_id, {value}) VALUES (:user_id, :value)"), items)


def downgrade():
    bind = op.get_bind()
    held = {column: {} for column, _table, _value in LISTS}
    for column, table, value in LISTS:
        for user_id, item in bind.execute(sa.text(f"SELECT user_id, {value} FROM {table} ORDER BY user_id, {value}")):
            held[column].setdefault(user_id, []).append(item)

    with op.batch_alter_table('recipient_roles', schema=None) as batch_op:
        batch_op.drop_index('ix_recipient_roles_role')

    op.drop_table('recipient_roles')
    with op.batch_alter_table('recipient_groups', schema=None) as batch_op:
        batch_op.drop_index('ix_recipient_groups_group')

    op.drop_table('recipient_groups')

    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('roles', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('groups', sa.JSON(), nullable=False, server_default='[]'))

    for column, by_user in held.items():
        for user_id, items in by_user.items():
            bind.execute(sa.text(f"UPDATE recipients SET {column} = :items WHERE user_id = :user_id"),
                         {"items": json.dumps(items), "user_id": user_id})
