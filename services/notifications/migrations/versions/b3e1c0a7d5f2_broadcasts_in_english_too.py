"""broadcasts carry an English text too

Revision ID: b3e1c0a7d5f2
Revises: 7025088c97d9
Create Date: 2026-11-30 08:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'b3e1c0a7d5f2'
down_revision = '7025088c97d9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_en', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('body_en', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.drop_column('body_en')
        batch_op.drop_column('title_en')
