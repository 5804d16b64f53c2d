"""Upload starts, so the upload rate limit counts across web processes

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 10:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'upload_starts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_upload_starts_user_id_users')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_upload_starts')),
    )
    op.create_index(
        'ix_upload_starts_user_id_created_at', 'upload_starts', ['user_id', 'created_at']
    )


def downgrade() -> None:
    op.drop_index('ix_upload_starts_user_id_created_at', table_name='upload_starts')
    op.drop_table('upload_starts')
