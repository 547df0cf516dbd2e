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

    def may_access(self, office_id: int | None) -> bool:
        """True when this actor may read or act on ``office_id``'s data: an administrator
        without an office (system-wide) and the system on any office, everyone else on their
        own office only."""
        if self.type == "system" or (self.type == "staff" and self.role == "admin" and self.office_id is None):
            return True
        return self.office_id is not None and self.office_id == office_id


SYSTEM = Actor("system")
PUBLIC = Actor("public")
