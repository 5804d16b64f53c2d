"""Judge invitations, entries sent back with a reason, recorded decisions, the 公示期

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 12:40:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=30), server_default='', nullable=False))
        batch_op.add_column(sa.Column('email', sa.String(length=120), server_default='', nullable=False))
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('return_reason', sa.Text(), server_default='', nullable=False))
    with op.batch_alter_table('contests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('publicity_starts_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('publicity_ends_on', sa.Date(), nullable=True))
        for name, length in (
            ('objection_office', 100),
            ('objection_contact', 50),
            ('objection_phone', 30),
            ('objection_email', 120),
        ):
            batch_op.add_column(
                sa.Column(name, sa.String(length=length), server_default='', nullable=False)
            )
    op.create_table('activation_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_activation_tokens_created_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_activation_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activation_tokens')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_activation_tokens_token_sha256'))
    )
    op.create_index(op.f('ix_activation_tokens_user_id'), 'activation_tokens', ['user_id'], unique=False)
    op.create_table('decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=True),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('subject', sa.String(length=100), server_default='', nullable=False),
    sa.Column('unresolved', sa.JSON(), server_default='[]', nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_decisions_contest_id_contests')),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_decisions_round_id_rounds')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_decisions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions'))
    )
    op.create_index(op.f('ix_decisions_contest_id'), 'decisions', ['contest_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_decisions_contest_id'), table_name='decisions')
    op.drop_table('decisions')
    op.drop_index(op.f('ix_activation_tokens_user_id'), table_name='activation_tokens')
    op.drop_table('activation_tokens')
    with op.batch_alter_table('contests', schema=None) as batch_op:
        for name in (
            'objection_email',
            'objection_contact',
            'objection_phone',
            'objection_office',
            'publicity_ends_on',
            'publicity_starts_on',
        ):
            batch_op.drop_column(name)
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_column('return_reason')
        batch_op.drop_column('returned_at')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email')
        batch_op.drop_column('phone')
