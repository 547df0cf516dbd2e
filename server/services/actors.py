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


SYSTEM = Actor("system")
PUBLIC = Actor("public")
