"""office event log (issue 12): stream heads and entries, numbered in commit order

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 16:00:00
"""
from alembic import op
import sqlalchemy as sa
import server.models.base


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stream_heads',
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('public_position', sa.BigInteger(), nullable=False),
    sa.Column('staff_position', sa.BigInteger(), nullable=False),
    sa.Column('log_id', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_stream_heads_office_id_offices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('office_id', name=op.f('pk_stream_heads'))
    )
    op.create_table('stream_entries',
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('stream', sa.String(length=8), nullable=False),
    sa.Column('position', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('at', server.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_stream_entries_office_id_offices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('office_id', 'stream', 'position', name=op.f('pk_stream_entries'))
    )
    with op.batch_alter_table('stream_entries', schema=None) as batch_op:
        batch_op.create_index('ix_stream_entries_at', ['at'], unique=False)
    # every existing office starts its log now (a screen's first state then names it)
    random_id = ("substr(md5(random()::text || id::text), 1, 12)" if op.get_bind().dialect.name == "postgresql"
                 else "lower(hex(randomblob(6)))")
    op.execute(f"INSERT INTO stream_heads (office_id, public_position, staff_position, log_id) "
               f"SELECT id, 0, 0, {random_id} FROM offices")


def downgrade() -> None:
    with op.batch_alter_table('stream_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_stream_entries_at')
    op.drop_table('stream_entries')
    op.drop_table('stream_heads')
