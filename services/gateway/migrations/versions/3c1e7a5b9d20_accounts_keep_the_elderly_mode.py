"""accounts keep the web app's elderly mode (长辈版)

Revision ID: 3c1e7a5b9d20
Revises: dabf6c9a30dc
Create Date: 2026-11-30 05:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '3c1e7a5b9d20'
down_revision = 'dabf6c9a30dc'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('elderly_mode', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('elderly_mode')
