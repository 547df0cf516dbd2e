"""online bookings

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 19:15:14.075682
"""
from alembic import op
import sqlalchemy as sa
import server.models.base


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('booking_capacity',
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('session_code', sa.String(length=8), nullable=False),
    sa.Column('quota', sa.Integer(), nullable=False),
    sa.Column('taken', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_booking_capacity_office_id_offices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_booking_capacity_service_id_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('office_id', 'service_id', 'day', 'session_code', name=op.f('pk_booking_capacity'))
    )
    op.create_table('bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('session_code', sa.String(length=8), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('nik', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('cancelled_at', server.models.base.UTCDateTime(), nullable=True),
    sa.Column('checked_in_at', server.models.base.UTCDateTime(), nullable=True),
    sa.Column('expired_at', server.models.base.UTCDateTime(), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_bookings_office_id_offices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_bookings_service_id_services')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_bookings_ticket_id_tickets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings')),
    sa.UniqueConstraint('code', name=op.f('uq_bookings_code'))
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index('ix_bookings_day_status', ['office_id', 'day', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_nik'), ['nik'], unique=False)
        batch_op.create_index('uq_bookings_active_nik', ['office_id', 'service_id', 'day', 'nik'], unique=True, postgresql_where=sa.text("status IN ('booked', 'checked_in')"), sqlite_where=sa.text("status IN ('booked', 'checked_in')"))



def downgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('uq_bookings_active_nik', postgresql_where=sa.text("status IN ('booked', 'checked_in')"), sqlite_where=sa.text("status IN ('booked', 'checked_in')"))
        batch_op.drop_index(batch_op.f('ix_bookings_nik'))
        batch_op.drop_index('ix_bookings_day_status')

    op.drop_table('bookings')
    op.drop_table('booking_capacity')
