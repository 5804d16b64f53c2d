"""Activation tokens have a purpose: a judge's invitation, or a forgotten password's reset

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 16:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('activation_tokens', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('purpose', sa.String(length=12), server_default='activate', nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('activation_tokens', schema=None) as batch_op:
        batch_op.drop_column('purpose')
