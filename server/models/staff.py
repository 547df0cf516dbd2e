"""Staff accounts and their roles (DEVELOPERS.md, "Security is built in")."""
from __future__ import annotations

import enum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Role(str, enum.Enum):
    """Staff roles, named after the seeds' actors (domain brief, "Roles")."""

    FRONT_OFFICE = "front_office"
    SECTION_HEAD = "section_head"  # Kepala Seksi (Kasi)
    DIVISION_HEAD = "division_head"  # Kepala Bidang (Kabid)
    HEAD_OF_OFFICE = "head_of_office"  # Kepala Dinas (Kadis)
    ACTIVATION_OFFICER = "activation_officer"
    PICKUP_OFFICER = "pickup_officer"
    MANAGER = "manager"
    ADMIN = "admin"  # an office's administrator: everything, in its own office only
    SYSTEM_ADMIN = "system_admin"  # the installation's administrator: no office, every office;
    # created only from the command line (``loket staff-add --role system_admin``)


#: Roles that hold every other role (within their scope).
ADMIN_ROLES = frozenset({"admin", "system_admin"})

#: Roles that may operate a counter console.
COUNTER_ROLES = frozenset(
    {Role.FRONT_OFFICE, Role.ACTIVATION_OFFICER, Role.PICKUP_OFFICER, Role.SECTION_HEAD, Role.ADMIN}
)


#: The one database rule of office scope (issue 13): a system administrator has no office,
#: every other account has exactly one.
OFFICE_SCOPE_CHECK = "(role = 'system_admin' AND office_id IS NULL) OR (role <> 'system_admin' AND office_id IS NOT NULL)"


class StaffUser(Base):
    """A named staff login; ``office_id`` is None for system administrators only (the
    check constraint ``office_scope``). ``session_version`` grows at every sign-out and
    password change: a session cookie carries the version it was signed in with and stops
    working when it differs (server.web.sessions)."""

    __tablename__ = "staff_users"
    __table_args__ = (CheckConstraint(OFFICE_SCOPE_CHECK, name="office_scope"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"), nullable=True, index=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    # Flask-Login protocol, kept here so no Flask import is needed.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def has_role(self, *roles: Role | str) -> bool:
        """True when the user holds one of ``roles`` (administrators hold every role; an
        office admin only in its office, which the scope rule ``Actor.may_access`` checks)."""
        names = {r.value if isinstance(r, Role) else r for r in roles}
        return self.role in ADMIN_ROLES or self.role in names
