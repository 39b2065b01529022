"""actions carry the reporter's and the acceptor's names (taken from their timeline entries for existing ones)

Revision ID: 7a4f2b9c1e63
Revises: 5d2c8e1f4a90
Create Date: 2026-11-30 08:50:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '7a4f2b9c1e63'
down_revision = '5d2c8e1f4a90'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reporter_name', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('accepted_by_name', sa.String(length=200), server_default='',
                                      nullable=False))
    # The names the timeline recorded: the report's actor, and the latest accept by whoever holds it now.
    op.execute("""
        UPDATE actions SET reporter_name = COALESCE((
            SELECT t.actor_name FROM action_timeline t
            WHERE t.action_id = actions.id AND t.verb = 'report' ORDER BY t.id LIMIT 1), '')
    """)
    op.execute("""
        UPDATE actions SET accepted_by_name = COALESCE((
            SELECT t.actor_name FROM action_timeline t
            WHERE t.action_id = actions.id AND t.verb = 'accept' AND t.actor_id = actions.accepted_by
            ORDER BY t.id DESC LIMIT 1), '')
        WHERE accepted_by IS NOT NULL
    """)


def downgrade():
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_column('accepted_by_name')
        batch_op.drop_column('reporter_name')
