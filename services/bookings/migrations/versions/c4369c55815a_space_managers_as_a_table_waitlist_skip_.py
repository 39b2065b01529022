"""space managers are rows; a waitlist entry says why it was skipped

Bookings of the spaces someone manages are chosen in SQL, so the JSON list `spaces.manager_ids` becomes the
table space_managers; every space's managers are carried over, and back on a downgrade. A waitlist entry
skipped because its person broke a rule of the space when the slot freed up keeps the rule in
`waitlist.reason`.

Revision ID: c4369c55815a
Revises: 7fb6a31b62fc
Create Date: 2026-12-07 02:57:01.973832
"""
import json

import sqlalchemy as sa
from alembic import op

revision = 'c4369c55815a'
down_revision = '7fb6a31b62fc'
branch_labels = None
depends_on = None

# Written out (not imported from models) so this revision means the same thing forever.
SPACES = sa.table("spaces", sa.column("id", sa.Integer()), sa.column("manager_ids", sa.JSON()))
MANAGERS = sa.table("space_managers", sa.column("space_id", sa.Integer()), sa.column("user_id", sa.Integer()))


def _ids(value) -> list[int]:
    """A JSON list of user ids as stored (parsed by the JSON type; text if anything bypassed it)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    if not isinstance(value, list):
        return []
    return list(dict.fromkeys(int(item) for item in value
                              if isinstance(item, int) or (isinstance(item, str) and item.isdigit())))


def upgrade():
    bind = op.get_bind()
    rows = bind.execute(sa.select(SPACES.c.id, SPACES.c.manager_ids).order_by(SPACES.c.id)).all()
    # The column goes before the table comes: on SQLite the batch rebuild of `spaces` drops the table,
    # which would take rows already referencing it along.
    with op.batch_alter_table('spaces', schema=None) as batch_op:
        batch_op.drop_column('manager_ids')

    op.create_table('space_managers',
    sa.Column('space_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['space_id'], ['spaces.id'], ),
    sa.PrimaryKeyConstraint('space_id', 'user_id')
    )
    with op.batch_alter_table('space_managers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_space_managers_user_id'), ['user_id'], unique=False)

    managers = [{"space_id": row.id, "user_id": user_id} for row in rows for user_id in _ids(row.manager_ids)]
    if managers:
        bind.execute(MANAGERS.insert(), managers)

    with op.batch_alter_table('waitlist', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=500), server_default='', nullable=False))


def downgrade():
    bind = op.get_bind()
    held: dict[int, list[int]] = {}
    for space_id, user_id in bind.execute(sa.select(MANAGERS.c.space_id, MANAGERS.c.user_id)
                                          .order_by(MANAGERS.c.space_id, MANAGERS.c.user_id)):
        held.setdefault(space_id, []).append(user_id)

    with op.batch_alter_table('waitlist', schema=None) as batch_op:
        batch_op.drop_column('reason')

    with op.batch_alter_table('space_managers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_space_managers_user_id'))
    op.drop_table('space_managers')

    with op.batch_alter_table('spaces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('manager_ids', sa.JSON(), nullable=False, server_default='[]'))

    for space_id, user_ids in held.items():
        bind.execute(SPACES.update().where(SPACES.c.id == space_id).values(manager_ids=user_ids))
