"""indexes for the city's screens: a coordinator's queue reads the live actions alone (ix_actions_live), the
colour map counts open actions per grid from an index (ix_actions_open_by_grid), an item's and a person's claims
page newest first from (pledge_id, id) and (claimant_id, id)

Revision ID: 0c5e8a1d7b32
Revises: 4b4a3d68ec65
Create Date: 2026-12-07 09:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0c5e8a1d7b32'
down_revision = '4b4a3d68ec65'
branch_labels = None
depends_on = None

# The states as they are today (services/volunteers/lifecycle.py), frozen here.
LIVE = "state IN ('accepted', 'dispatched', 'in_progress', 'reopened', 'reported', 'resolved', 'triaged')"
OPEN = "kind = 'single' AND state IN ('accepted', 'dispatched', 'in_progress', 'reopened', 'reported', 'triaged')"


def upgrade():
    op.create_index('ix_actions_live', 'actions', ['id'], postgresql_where=sa.text(LIVE),
                    sqlite_where=sa.text(LIVE))
    op.create_index('ix_actions_open_by_grid', 'actions', ['grid_id', 'deadline_at', 'escalations'],
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
    op.create_index('ix_claims_pledge_id_id', 'claims', ['pledge_id', 'id'])
    op.create_index('ix_claims_claimant_id_id', 'claims', ['claimant_id', 'id'])
    op.drop_index('ix_claims_pledge_id', table_name='claims')
    op.drop_index('ix_claims_claimant_id', table_name='claims')


def downgrade():
    op.create_index('ix_claims_claimant_id', 'claims', ['claimant_id'])
    op.create_index('ix_claims_pledge_id', 'claims', ['pledge_id'])
    op.drop_index('ix_claims_claimant_id_id', table_name='claims')
    op.drop_index('ix_claims_pledge_id_id', table_name='claims')
    op.drop_index('ix_actions_open_by_grid', table_name='actions')
    op.drop_index('ix_actions_live', table_name='actions')
