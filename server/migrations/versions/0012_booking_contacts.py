"""booking requests and confirmed contacts (issue 13, "Booking privacy and brokers")

A booking is made in two steps: a ``booking_requests`` row holds what was asked and the
HMAC of a one-time code sent to the contact; the booking exists once the code is entered.
``bookings.contact_hash`` (HMAC of the confirmed contact) replaces the NIK as what the
one-booking rule, the broker limit and the no-show penalty count by: the unique index
``uq_bookings_active_nik`` (office, service, day, NIK) becomes
``uq_bookings_active_nik_contact`` (… NIK, contact). Bookings made before get
``legacy:<id>``: each its own contact (the secret key that keys the HMAC is not known
here, and they are counted against nobody).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 19:30:00
"""
from alembic import op
import sqlalchemy as sa
import server.models.base


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

ACTIVE = "status IN ('booked', 'checked_in')"


def upgrade() -> None:
    op.create_table('booking_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('session_code', sa.String(length=8), nullable=False),
    sa.Column('nik', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('contact_hash', sa.String(length=64), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('created_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('expires_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('confirmed_at', server.models.base.UTCDateTime(), nullable=True),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_booking_requests_office_id_offices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_booking_requests_service_id_services'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_booking_requests_booking_id_bookings'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_requests')),
    sa.UniqueConstraint('token', name=op.f('uq_booking_requests_token'))
    )
    with op.batch_alter_table('booking_requests', schema=None) as batch_op:
        batch_op.create_index('ix_booking_requests_status_expires', ['status', 'expires_at'], unique=False)
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_hash', sa.String(length=64), server_default='', nullable=False))
    op.execute("UPDATE bookings SET contact_hash = 'legacy:' || CAST(id AS VARCHAR(20))")
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('uq_bookings_active_nik')
        batch_op.create_index('uq_bookings_active_nik_contact', ['office_id', 'service_id', 'day', 'nik', 'contact_hash'],
                              unique=True, postgresql_where=sa.text(ACTIVE), sqlite_where=sa.text(ACTIVE))
        batch_op.create_index('ix_bookings_contact_day', ['office_id', 'contact_hash', 'day'], unique=False)


def downgrade() -> None:
    # Bookings of one NIK from several contacts cannot all stay active under the old
    # index: all but the first are cancelled.
    op.execute(
        "UPDATE bookings SET status = 'cancelled' WHERE " + ACTIVE + " AND id > (SELECT min(b2.id) FROM bookings b2 "
        "WHERE b2.office_id = bookings.office_id AND b2.service_id = bookings.service_id AND b2.day = bookings.day "
        "AND b2.nik = bookings.nik AND b2." + ACTIVE + ")")
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('ix_bookings_contact_day')
        batch_op.drop_index('uq_bookings_active_nik_contact')
        batch_op.create_index('uq_bookings_active_nik', ['office_id', 'service_id', 'day', 'nik'], unique=True,
                              postgresql_where=sa.text(ACTIVE), sqlite_where=sa.text(ACTIVE))
        batch_op.drop_column('contact_hash')
    with op.batch_alter_table('booking_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_requests_status_expires')
    op.drop_table('booking_requests')
