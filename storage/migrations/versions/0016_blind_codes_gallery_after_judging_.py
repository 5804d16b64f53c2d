"""Blind judging: anonymous codes per round, no gallery until judging ends, reveal lock

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 10:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('blind_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_blind_codes_entry_id_entries')),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_blind_codes_round_id_rounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blind_codes')),
    sa.UniqueConstraint('entry_id', 'round_id', name=op.f('uq_blind_codes_entry_id')),
    sa.UniqueConstraint('round_id', 'code', name=op.f('uq_blind_codes_round_id'))
    )
    with op.batch_alter_table('contests', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('gallery_after_judging', sa.Boolean(), server_default='0', nullable=False)
        )
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('others_seen_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.drop_column('others_seen_at')
    with op.batch_alter_table('contests', schema=None) as batch_op:
        batch_op.drop_column('gallery_after_judging')
    op.drop_table('blind_codes')
