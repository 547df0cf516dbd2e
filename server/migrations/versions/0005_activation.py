"""KTP-el card bindings, station cards and activation sessions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 18:54:16.001336
"""
from alembic import op
import sqlalchemy as sa
import server.models.base


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('station_cards',
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('present', sa.Boolean(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=True),
    sa.Column('atr', sa.String(length=100), nullable=True),
    sa.Column('reader', sa.String(length=80), nullable=True),
    sa.Column('at', server.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_station_cards_device_id_devices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('device_id', name=op.f('pk_station_cards'))
    )
    op.create_table('activations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('counter_id', sa.Integer(), nullable=True),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('opened_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('closed_at', server.models.base.UTCDateTime(), nullable=True),
    sa.Column('card_state', sa.String(length=16), nullable=False),
    sa.Column('card_refusal', sa.String(length=24), nullable=True),
    sa.Column('card_uid', sa.String(length=32), nullable=True),
    sa.Column('card_atr', sa.String(length=100), nullable=True),
    sa.Column('card_reader', sa.String(length=80), nullable=True),
    sa.Column('card_at', server.models.base.UTCDateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('fingerprint_ok', sa.Boolean(), nullable=False),
    sa.Column('in_person', sa.Boolean(), nullable=False),
    sa.Column('identity_checked', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_activations_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['counter_id'], ['counters.id'], name=op.f('fk_activations_counter_id_counters'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_activations_device_id_devices')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_activations_office_id_offices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['officer_id'], ['staff_users.id'], name=op.f('fk_activations_officer_id_staff_users')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_activations_ticket_id_tickets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activations'))
    )
    with op.batch_alter_table('activations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activations_application_id'), ['application_id'], unique=False)
        batch_op.create_index('ix_activations_device_status', ['device_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_activations_office_id'), ['office_id'], unique=False)

    op.create_table('card_bindings',
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.Column('atr', sa.String(length=100), nullable=False),
    sa.Column('nik', sa.String(length=16), nullable=False),
    sa.Column('reader', sa.String(length=80), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('bound_by', sa.Integer(), nullable=False),
    sa.Column('bound_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('activated_at', server.models.base.UTCDateTime(), nullable=True),
    sa.Column('fingerprint_failures', sa.Integer(), nullable=False),
    sa.Column('blocked_at', server.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_card_bindings_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['bound_by'], ['staff_users.id'], name=op.f('fk_card_bindings_bound_by_staff_users')),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_card_bindings_device_id_devices'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_card_bindings_office_id_offices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('application_id', name=op.f('pk_card_bindings')),
    sa.UniqueConstraint('uid', name=op.f('uq_card_bindings_uid'))
    )
    with op.batch_alter_table('card_bindings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_bindings_office_id'), ['office_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('card_bindings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_bindings_office_id'))

    op.drop_table('card_bindings')
    with op.batch_alter_table('activations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activations_office_id'))
        batch_op.drop_index('ix_activations_device_status')
        batch_op.drop_index(batch_op.f('ix_activations_application_id'))

    op.drop_table('activations')
    op.drop_table('station_cards')
