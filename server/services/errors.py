"""Errors raised by the domain services; the API maps ``code`` to an HTTP status and text."""
from __future__ import annotations


class LoketError(Exception):
    """Base class: ``code`` is a stable machine name, ``http_status`` the API answer."""

    code = "error"
    http_status = 400

    def __init__(self, message: str = "", **details) -> None:
        super().__init__(message or self.code)
        self.message = message or self.code
        self.details = details


class NotFound(LoketError):
    code = "not_found"
    http_status = 404


class InvalidState(LoketError):
    """The object is not in a state that allows this action (e.g. finish a waiting ticket)."""

    code = "invalid_state"
    http_status = 409


class VersionConflict(InvalidState):
    """The object changed since the caller read it (another officer acted first): reload."""

    code = "version_conflict"


class CounterBusy(LoketError):
    """The counter still has a called or serving ticket."""

    code = "counter_busy"
    http_status = 409


class CounterNotOpen(LoketError):
    code = "counter_not_open"
    http_status = 409


class QueueEmpty(LoketError):
    """No ticket is waiting for any service of this counter."""

    code = "queue_empty"
    http_status = 404


class OfficeClosed(LoketError):
    code = "office_closed"
    http_status = 409


class ServiceUnavailable(LoketError):
    code = "service_unavailable"
    http_status = 409


class Forbidden(LoketError):
    code = "forbidden"
    http_status = 403


class ValidationError(LoketError):
    code = "validation_error"
    http_status = 422
