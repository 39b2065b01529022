"""the unread count reads a person's unread entries alone (ix_inbox_unread, partial)

Revision ID: 5e2b9c7d1a40
Revises: 73ff77fde91a
Create Date: 2026-12-07 09:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '5e2b9c7d1a40'
down_revision = '73ff77fde91a'
branch_labels = None
depends_on = None

UNREAD = "read_at IS NULL AND superseded_at IS NULL"


def upgrade():
    op.create_index('ix_inbox_unread', 'inbox_entries', ['user_id'], postgresql_where=sa.text(UNREAD),
                    sqlite_where=sa.text(UNREAD))


def downgrade():
    op.drop_index('ix_inbox_unread', table_name='inbox_entries')
