"""the id lists that are filtered become link tables: volunteers' grids, grids' coordinators, actions'
followers, candidates and declines (rows carried over in list order; the downgrade puts the lists back)

Revision ID: d6a1f3c8b27e
Revises: 9c3e5d7a2b41
Create Date: 2026-12-07 03:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'd6a1f3c8b27e'
down_revision = '9c3e5d7a2b41'
branch_labels = None
depends_on = None

# (link table, owner table, owner key, owner's link column, id column, old JSON list column)
LINKS = [
    ('volunteer_grids', 'volunteers', 'user_id', 'user_id', 'grid_id', 'grid_ids'),
    ('grid_coordinators', 'grids', 'id', 'grid_id', 'user_id', 'coordinator_ids'),
    ('action_followers', 'actions', 'id', 'action_id', 'user_id', 'follower_ids'),
    ('action_candidates', 'actions', 'id', 'action_id', 'user_id', 'candidate_ids'),
    ('action_declines', 'actions', 'id', 'action_id', 'user_id', 'declined_ids'),
]


def _create(name, owner, key, link, member):
    target = {'user_id': None, 'grid_id': 'grids.id'}
    columns = [sa.Column(link, sa.Integer(), sa.ForeignKey(f'{owner}.{key}', ondelete='CASCADE'), nullable=False),
               sa.Column(member, sa.Integer(), nullable=False),
               sa.Column('position', sa.Integer(), nullable=False)]
    constraints = []
    if target.get(member):
        constraints.append(sa.ForeignKeyConstraint([member], [target[member]], ondelete='CASCADE'))
    op.create_table(name, *columns, *constraints, sa.PrimaryKeyConstraint(link, member))
    op.create_index(op.f(f'ix_{name}_{member}'), name, [member], unique=False)


def upgrade():
    bind = op.get_bind()
    for name, owner, key, link, member, old in LINKS:
        _create(name, owner, key, link, member)
        source = sa.table(owner, sa.column(key, sa.Integer()), sa.column(old, sa.JSON()))
        target = sa.table(name, sa.column(link, sa.Integer()), sa.column(member, sa.Integer()),
                          sa.column('position', sa.Integer()))
        rows = []
        for owner_id, ids in bind.execute(sa.select(source.c[key], source.c[old])).all():
            seen = []
            for value in ids or []:
                if isinstance(value, int) and not isinstance(value, bool) and value not in seen:
                    seen.append(value)
            rows.extend({link: owner_id, member: value, 'position': i} for i, value in enumerate(seen))
        if member == 'grid_id' and rows:  # a volunteer's grid that is gone is not carried over
            grids = set(bind.execute(sa.text('SELECT id FROM grids')).scalars().all())
            rows = [row for row in rows if row['grid_id'] in grids]
        if rows:
            op.bulk_insert(target, rows)
        # A plain ALTER TABLE … DROP COLUMN (SQLite 3.35+ too): a batch copy of `grids` would break the
        # foreign keys that point at it.
        op.drop_column(owner, old)


def downgrade():
    bind = op.get_bind()
    for name, owner, key, link, member, old in reversed(LINKS):
        op.add_column(owner, sa.Column(old, sa.JSON(), nullable=False, server_default='[]'))
        lists: dict = {}
        for owner_id, value in bind.execute(sa.text(
                f'SELECT {link}, {member} FROM {name} ORDER BY {link}, position')).all():
            lists.setdefault(owner_id, []).append(value)
        source = sa.table(owner, sa.column(key, sa.Integer()), sa.column(old, sa.JSON()))
        for owner_id, ids in lists.items():
            bind.execute(sa.update(source).where(source.c[key] == owner_id).values({old: ids}))
        if bind.dialect.name != 'sqlite':
            op.alter_column(owner, old, existing_type=sa.JSON(), server_default=None)
        op.drop_index(op.f(f'ix_{name}_{member}'), table_name=name)
        op.drop_table(name)
