"""activity hours: work logs credited by the activities service

A volunteer who helps run an activity's session has the minutes credited (`activity.hours_credited`); they
are work logs like an action's, so a volunteer's and a team's hours count both. Such a log names the
activity, its session and the credit (unique: applied once), and has no action. Downgrading deletes the
activity hours (the old table cannot hold a log without an action).

Revision ID: 4b4a3d68ec65
Revises: d6a1f3c8b27e
Create Date: 2026-12-07 06:07:52.184505
"""
import sqlalchemy as sa
from alembic import op

revision = '4b4a3d68ec65'
down_revision = 'd6a1f3c8b27e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('work_logs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('activity_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('activity_session_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('credit_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('title', sa.String(length=200), server_default='', nullable=False))
        batch_op.alter_column('action_id', existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index(batch_op.f('ix_work_logs_activity_session_id'), ['activity_session_id'], unique=False)
        batch_op.create_unique_constraint('uq_work_logs_credit', ['credit_id'])
        batch_op.create_check_constraint('ck_work_logs_action_or_credit',
                                         'action_id IS NOT NULL OR credit_id IS NOT NULL')


def downgrade():
    op.execute("DELETE FROM work_logs WHERE action_id IS NULL")
    with op.batch_alter_table('work_logs', schema=None) as batch_op:
        batch_op.drop_constraint('ck_work_logs_action_or_credit', type_='check')
        batch_op.drop_constraint('uq_work_logs_credit', type_='unique')
        batch_op.drop_index(batch_op.f('ix_work_logs_activity_session_id'))
        batch_op.alter_column('action_id', existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column('title')
        batch_op.drop_column('credit_id')
        batch_op.drop_column('activity_session_id')
        batch_op.drop_column('activity_id')
