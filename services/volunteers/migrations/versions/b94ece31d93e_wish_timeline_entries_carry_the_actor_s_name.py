"""wish timeline entries carry the actor's name

Revision ID: b94ece31d93e
Revises: 67d3a3681b55
Create Date: 2026-11-30 05:55:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'b94ece31d93e'
down_revision = '67d3a3681b55'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('wish_transitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_name', sa.String(length=200), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('wish_transitions', schema=None) as batch_op:
        batch_op.drop_column('actor_name')
