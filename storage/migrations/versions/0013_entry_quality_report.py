"""Entry quality report and loudness

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 07:15:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('qc', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('loudness', sa.JSON(), server_default='{}', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_column('loudness')
        batch_op.drop_column('qc')
