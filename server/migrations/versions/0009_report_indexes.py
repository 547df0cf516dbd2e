"""Indexes for the managers' reports (issue 7): tickets by the ticket they were transferred
from (partial: only transferred tickets), for the transfers table of the waiting report;
audit rows by office, action and time, for the productivity (counter.*), pickup refusal and
activation figures of a period.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 19:35:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_transferred_from', ['transferred_from_id'], unique=False,
                              postgresql_where=sa.text('transferred_from_id IS NOT NULL'),
                              sqlite_where=sa.text('transferred_from_id IS NOT NULL'))
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_office_action_at', ['office_id', 'action', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_office_action_at')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_transferred_from')
