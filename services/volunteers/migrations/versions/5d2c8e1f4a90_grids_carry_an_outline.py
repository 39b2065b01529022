"""grids carry an outline (a GeoJSON Polygon in lon/lat); existing grids have none

Revision ID: 5d2c8e1f4a90
Revises: b94ece31d93e
Create Date: 2026-11-30 08:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '5d2c8e1f4a90'
down_revision = 'b94ece31d93e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('grids', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outline', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('grids', schema=None) as batch_op:
        batch_op.drop_column('outline')
