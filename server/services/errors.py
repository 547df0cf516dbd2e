"""Errors raised by the domain services; the API maps ``code`` to an HTTP status and text."""
from __future__ import annotations


class LoketError(Exception):
    """Base class: ``code`` is a stable machine name, ``http_status`` the API answer.

    Raised with a catalog ``key`` (``server/i18n/<lang>/errors.json``) and its ``params``,
    the text lives in the message catalogs: ``message`` is then ``"<Indonesian> /
    <English>"`` (logs, agents, the CLI) and the API answers it in the caller's language
    (``server.api_errors``). Raised with a ``message`` literal (older code), that text is
    used as it is. ``details`` (e.g. ``field``) travel in the API answer."""

    code = "error"
    http_status = 400

    def __init__(self, message: str = "", *, key: str | None = None, params: dict | None = None,
                 **details) -> None:
        self.key = key
        self.params = dict(params or {})
        if key is not None and not message:
            from ..i18n.catalogs import bilingual  # the catalogs themselves need no Flask

            message = bilingual(key, **self.params)
        super().__init__(message or self.code)
        self.message = message or self.code
        self.details = details

    def text(self, lang: str) -> str:
        """The message in ``lang`` ("id" or "en"): from the catalogs when raised with a key,
        else the literal ("Indonesian / English" literals are split)."""
        if self.key is not None:
            from ..i18n.catalogs import translate

            return translate(self.key, lang, **self.params)
        parts = self.message.split(" / ", 1)
        return parts[0] if len(parts) == 1 or lang == "id" else parts[1]


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
