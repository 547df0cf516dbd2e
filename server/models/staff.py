"""Staff accounts and their roles (DEVELOPERS.md, "Security is built in")."""
from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, String
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
    ADMIN = "admin"


#: Roles that may operate a counter console.
COUNTER_ROLES = frozenset(
    {Role.FRONT_OFFICE, Role.ACTIVATION_OFFICER, Role.PICKUP_OFFICER, Role.SECTION_HEAD, Role.ADMIN}
)


class StaffUser(Base):
    """A named staff login; ``office_id`` is None only for system administrators."""

    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"), nullable=True, index=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)

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
        """True when the user holds one of ``roles`` (admins hold every role)."""
        names = {r.value if isinstance(r, Role) else r for r in roles}
        return self.role == Role.ADMIN.value or self.role in names
