"""staff office scope and session versions (issue 13)

Every account has an office except a system administrator (role ``system_admin``, no
office): the check constraint ``ck_staff_users_office_scope``. Existing rows are brought
under it first: an ``admin`` without an office becomes a ``system_admin`` (what it acted as
until now); any other account without an office is given the first office and deactivated
(it could not have worked as intended; an administrator re-enables it where it belongs).
``session_version`` grows at sign-out: sessions signed in with an older one stop working.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 19:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

CHECK = "(role = 'system_admin' AND office_id IS NULL) OR (role <> 'system_admin' AND office_id IS NOT NULL)"


def upgrade() -> None:
    op.execute("UPDATE staff_users SET role = 'system_admin' WHERE role = 'admin' AND office_id IS NULL")
    op.execute("UPDATE staff_users SET office_id = (SELECT min(id) FROM offices), active = false "
               "WHERE office_id IS NULL AND role <> 'system_admin' AND EXISTS (SELECT 1 FROM offices)")
    op.execute("DELETE FROM staff_users WHERE office_id IS NULL AND role <> 'system_admin'")  # no office exists at all
    op.execute("UPDATE staff_users SET office_id = NULL WHERE role = 'system_admin'")
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_check_constraint('office_scope', CHECK)


def downgrade() -> None:
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_constraint('office_scope', type_='check')
        batch_op.drop_column('session_version')
    op.execute("UPDATE staff_users SET role = 'admin' WHERE role = 'system_admin'")
