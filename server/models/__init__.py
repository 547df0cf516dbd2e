"""SQLAlchemy models; importing this package registers every table on ``Base.metadata``."""
from .activation import MAX_FINGERPRINT_FAILURES, Activation, ActivationStatus, CardBinding, StationCard
from .application import (
    OPEN_STATUSES,
    Application,
    ApplicationSequence,
    ApplicationStatus,
    ControlCardEntry,
)
from .audit import AuditEntry
from .complaint import Complaint, ComplaintSequence, ComplaintStatus, ComplaintStep
from .booking import ACTIVE_BOOKING_STATUSES, Booking, BookingCapacity, BookingStatus
from .base import Base, utcnow
from .device import Device, DeviceKind
from .notice import FINAL_NOTICE_STATUSES, Notice, NoticeChannel, NoticeStatus
from .office import Counter, CounterState, Office, Service, counter_services
from .staff import ADMIN_ROLES, COUNTER_ROLES, Role, StaffUser
from .stream_log import StreamEntry, StreamHead
from .survey import SURVEY_COMMENT_MAX, SURVEY_ELEMENTS, SurveyChannel, SurveyResponse
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
    "Complaint", "ComplaintSequence", "ComplaintStatus", "ComplaintStep",
    "ACTIVE_BOOKING_STATUSES", "Booking", "BookingCapacity", "BookingStatus",
    "Activation", "ActivationStatus", "CardBinding", "MAX_FINGERPRINT_FAILURES", "StationCard",
    "ACTIVE_STATUSES", "AT_COUNTER_STATUSES", "Application", "ApplicationSequence", "ApplicationStatus",
    "ADMIN_ROLES", "AuditEntry", "Base", "COUNTER_ROLES", "Call", "ControlCardEntry", "Counter", "CounterState", "Device",
    "DeviceKind", "FINAL_NOTICE_STATUSES", "Notice", "NoticeChannel", "NoticeStatus", "OPEN_STATUSES", "Office",
    "PriorityKind", "Role", "Service", "StaffUser", "StreamEntry", "StreamHead",
    "SURVEY_COMMENT_MAX", "SURVEY_ELEMENTS", "SurveyChannel", "SurveyResponse", "Ticket", "TicketSequence", "TicketStatus", "counter_services", "utcnow",
]
