"""IKM satisfaction survey responses (PermenPANRB 14/2017)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 19:25:00
"""
from alembic import op
import sqlalchemy as sa
import server.models.base


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

ELEMENTS = ('u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8', 'u9')


def upgrade() -> None:
    op.create_table('survey_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('counter_id', sa.Integer(), nullable=True),
    sa.Column('officer_id', sa.Integer(), nullable=True),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    *(sa.Column(u, sa.SmallInteger(), nullable=False) for u in ELEMENTS),
    sa.Column('comment', sa.String(length=500), nullable=True),
    sa.Column('submitted_at', server.models.base.UTCDateTime(), nullable=False),
    *(sa.CheckConstraint(f'{u} BETWEEN 1 AND 4', name=op.f(f'ck_survey_responses_{u}_range')) for u in ELEMENTS),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_survey_responses_ticket_id_tickets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_survey_responses_office_id_offices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_survey_responses_service_id_services')),
    sa.ForeignKeyConstraint(['counter_id'], ['counters.id'], name=op.f('fk_survey_responses_counter_id_counters'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['officer_id'], ['staff_users.id'], name=op.f('fk_survey_responses_officer_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_survey_responses_device_id_devices'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_responses')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_survey_responses_ticket_id'))
    )
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.create_index('ix_survey_responses_office_day', ['office_id', 'day'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_responses_office_day')

    op.drop_table('survey_responses')
