"""Who acts: a staff user, a device, the system, or the public (a citizen)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """The author of a state change, written to the audit log.

    ``type`` is one of "staff", "device", "system", "public"; ``id`` the staff or device id.
    """

    type: str
    id: int | None = None
    office_id: int | None = None
    role: str | None = None
    device_kind: str | None = None

    @property
    def staff_id(self) -> int | None:
        return self.id if self.type == "staff" else None

    @property
    def system_wide(self) -> bool:
        """True for the system itself and a system administrator (role ``system_admin``,
        no office): the only actors whose scope is every office (issue 13)."""
        return self.type == "system" or (self.type == "staff" and self.role == SYSTEM_ADMIN)

    @property
    def is_admin(self) -> bool:
        """True for an office administrator or a system administrator (in their scope)."""
        return self.type == "staff" and self.role in ADMIN_ROLES

    def may_access(self, office_id: int | None) -> bool:
        """The office scope rule (issue 13), the one every page, API view, socket handler
        and service asks: True when this actor may read or act on ``office_id``'s data.
        System-wide actors (``system_wide``) on any office; every other actor, whatever its
        role, only on its own office; an actor without an office on nothing. ``office_id``
        None (data of no office) is for system-wide actors only."""
        if self.system_wide:
            return True
        return self.office_id is not None and self.office_id == office_id


SYSTEM_ADMIN = "system_admin"
ADMIN_ROLES = frozenset({"admin", SYSTEM_ADMIN})


SYSTEM = Actor("system")
PUBLIC = Actor("public")
