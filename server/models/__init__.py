"""SQLAlchemy models; importing this package registers every table on ``Base.metadata``."""
from .audit import AuditEntry
from .base import Base, utcnow
from .device import Device, DeviceKind
from .office import Counter, CounterState, Office, Service, counter_services
from .staff import COUNTER_ROLES, Role, StaffUser
from .ticket import (
    ACTIVE_STATUSES,
    AT_COUNTER_STATUSES,
    Call,
    PriorityKind,
    Ticket,
    TicketSequence,
    TicketStatus,
)

__all__ = [
    "ACTIVE_STATUSES", "AT_COUNTER_STATUSES", "AuditEntry", "Base", "COUNTER_ROLES", "Call",
    "Counter", "CounterState", "Device", "DeviceKind", "Office", "PriorityKind", "Role",
    "Service", "StaffUser", "Ticket", "TicketSequence", "TicketStatus", "counter_services", "utcnow",
]
