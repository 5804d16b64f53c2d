"""The whole campaign: work types and pieces, district recommendation, activity reports

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 19:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('work_types', sa.JSON(), server_default='["video"]', nullable=False))
        batch_op.add_column(sa.Column('rubrics_by_type', sa.JSON(), server_default='{}', nullable=False))
        batch_op.add_column(sa.Column('results_by_type', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('recommendation_required', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('district_quotas', sa.JSON(), server_default='{}', nullable=False))
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('work_type', sa.Enum('video', 'photo', 'comic', 'story', name='worktype', native_enum=False, length=20), server_default='video', nullable=False))
        batch_op.add_column(sa.Column('story_body', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('district_decision', sa.String(length=20), server_default='', nullable=False))
        batch_op.add_column(sa.Column('district_reason', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('district_decided_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('district_decided_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_entries_district_decided_by_id_users'), 'users', ['district_decided_by_id'], ['id'])
    op.create_table(
        'entry_pieces',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('caption', sa.String(length=200), server_default='', nullable=False),
        sa.Column('source_key', sa.String(length=512), nullable=False),
        sa.Column('filename', sa.String(length=255), server_default='', nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_entry_pieces_entry_id_entries')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_entry_pieces')),
        sa.UniqueConstraint('source_key', name=op.f('uq_entry_pieces_source_key')),
    )
    op.create_index(op.f('ix_entry_pieces_entry_id'), 'entry_pieces', ['entry_id'], unique=False)
    op.create_table(
        'activity_reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('contest_id', sa.Integer(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('unit', sa.String(length=100), nullable=False),
        sa.Column('district', sa.String(length=100), nullable=False),
        sa.Column('industry', sa.String(length=100), server_default='', nullable=False),
        sa.Column('title', sa.String(length=100), nullable=False),
        sa.Column('held_on', sa.Date(), nullable=False),
        sa.Column('place', sa.String(length=200), server_default='', nullable=False),
        sa.Column('activity_type', sa.String(length=40), nullable=False),
        sa.Column('participants', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), server_default='', nullable=False),
        sa.Column('status', sa.Enum('draft', 'submitted', 'adopted', 'returned', name='reportstatus', native_enum=False, length=20), nullable=False),
        sa.Column('review_reason', sa.Text(), server_default='', nullable=False),
        sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
        sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_activity_reports_contest_id_contests')),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_activity_reports_owner_id_users')),
        sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_activity_reports_reviewed_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_reports')),
    )
    op.create_index(op.f('ix_activity_reports_contest_id'), 'activity_reports', ['contest_id'], unique=False)
    op.create_index(op.f('ix_activity_reports_owner_id'), 'activity_reports', ['owner_id'], unique=False)
    op.create_index(op.f('ix_activity_reports_district'), 'activity_reports', ['district'], unique=False)
    op.create_index(op.f('ix_activity_reports_status'), 'activity_reports', ['status'], unique=False)
    op.create_table(
        'report_files',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('report_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('caption', sa.String(length=200), server_default='', nullable=False),
        sa.Column('filename', sa.String(length=255), server_default='', nullable=False),
        sa.Column('bucket', sa.String(length=63), nullable=False),
        sa.Column('source_key', sa.String(length=512), nullable=False),
        sa.Column('bytes', sa.BigInteger(), nullable=False),
        sa.Column('state', sa.Enum('queued', 'running', 'ready', 'rejected', 'failed', 'cancelled', name='jobstate', native_enum=False, length=20), nullable=False),
        sa.Column('percent', sa.Float(), nullable=False),
        sa.Column('reason', sa.Text(), server_default='', nullable=False),
        sa.Column('reason_code', sa.String(length=40), server_default='', nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.String(length=64), nullable=True),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('outputs', sa.JSON(), server_default='{}', nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['report_id'], ['activity_reports.id'], name=op.f('fk_report_files_report_id_activity_reports')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_files')),
        sa.UniqueConstraint('source_key', name=op.f('uq_report_files_source_key')),
    )
    op.create_index(op.f('ix_report_files_report_id'), 'report_files', ['report_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_report_files_report_id'), table_name='report_files')
    op.drop_table('report_files')
    for name in ('status', 'district', 'owner_id', 'contest_id'):
        op.drop_index(op.f(f'ix_activity_reports_{name}'), table_name='activity_reports')
    op.drop_table('activity_reports')
    op.drop_index(op.f('ix_entry_pieces_entry_id'), table_name='entry_pieces')
    op.drop_table('entry_pieces')
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_entries_district_decided_by_id_users'), type_='foreignkey')
        for column in ('district_decided_at', 'district_decided_by_id', 'district_reason', 'district_decision', 'story_body', 'work_type'):
            batch_op.drop_column(column)
    with op.batch_alter_table('contests', schema=None) as batch_op:
        for column in ('district_quotas', 'recommendation_required', 'results_by_type', 'rubrics_by_type', 'work_types'):
            batch_op.drop_column(column)
