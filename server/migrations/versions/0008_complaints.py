"""AKAPELA complaints and information requests (seed 001): contacts, their kartu kendali
steps and the per-office, per-day contact number sequence

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 19:19:10.163157
"""
from alembic import op
import sqlalchemy as sa
import server.models.base


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('complaint_sequences',
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_complaint_sequences_office_id_offices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('office_id', 'day', name=op.f('pk_complaint_sequences'))
    )
    op.create_table('complaints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('id_kind', sa.String(length=3), nullable=False),
    sa.Column('id_number', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('resi_number', sa.String(length=48), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=True),
    sa.Column('holder_role', sa.String(length=32), nullable=True),
    sa.Column('stage_entered_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('created_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('first_answer_at', server.models.base.UTCDateTime(), nullable=True),
    sa.Column('closed_at', server.models.base.UTCDateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('public_answer', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_complaints_application_id_applications'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by'], ['staff_users.id'], name=op.f('fk_complaints_created_by_staff_users')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_complaints_office_id_offices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints')),
    sa.UniqueConstraint('office_id', 'number', name='uq_complaints_office_number')
    )
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaints_application_id'), ['application_id'], unique=False)
        batch_op.create_index('ix_complaints_office_created', ['office_id', 'created_at'], unique=False)
        batch_op.create_index('ix_complaints_waiting', ['office_id', 'status', 'holder_role'], unique=False)

    op.create_table('complaint_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('from_stage', sa.String(length=20), nullable=True),
    sa.Column('to_stage', sa.String(length=20), nullable=True),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sa.String(length=32), nullable=True),
    sa.Column('at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_complaint_steps_complaint_id_complaints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_steps')),
    sa.UniqueConstraint('complaint_id', 'seq', name='uq_complaint_steps_complaint_id')
    )


def downgrade() -> None:
    op.drop_table('complaint_steps')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index('ix_complaints_waiting')
        batch_op.drop_index('ix_complaints_office_created')
        batch_op.drop_index(batch_op.f('ix_complaints_application_id'))

    op.drop_table('complaints')
    op.drop_table('complaint_sequences')
