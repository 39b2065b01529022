"""shops may be rejected with a reason their owner reads

Revision ID: 9c3e5d7a2b41
Revises: 7a4f2b9c1e63
Create Date: 2026-11-30 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import shared.db


revision = '9c3e5d7a2b41'
down_revision = '7a4f2b9c1e63'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rejection_reason', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('rejected_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rejected_at', shared.db.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.drop_column('rejected_at')
        batch_op.drop_column('rejected_by')
        batch_op.drop_column('rejection_reason')
