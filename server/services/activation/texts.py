"""Refusal messages (catalog keys, texts in Bahasa Indonesia and English) and the session
view of the activation station page (issue 5)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from ...i18n.catalogs import bilingual
from ...models import MAX_FINGERPRINT_FAILURES, Activation, Application
from ..errors import NotFound
from .cards import binding_of

#: The refusal codes; each one's text is the catalog key ``error.activation.refusal.<code>``
#: (``server/i18n/<lang>/errors_activation.json``), with the placeholders step_name,
#: due_date, activated_at and failures.
REFUSALS = (
    "resi_forged", "resi_malformed", "resi_foreign", "resi_wrong_office", "resi_unknown", "application_unknown",
    "not_ktp", "not_printed", "already_activated", "not_bound", "activation_blocked", "card_not_present",
    "card_mismatch", "fingerprint_not_verified", "checklist_incomplete", "unknown_card", "bound_elsewhere",
)
_PLACEHOLDERS = ("step_name", "due_date", "activated_at", "failures")


def refusal_key(code: str) -> str:
    """The catalog key of refusal ``code``."""
    return f"error.activation.refusal.{code}"


def refusal_params(**details) -> dict[str, object]:
    """The placeholders of a refusal text from its details ("-" when absent)."""
    return {k: (details.get(k) if details.get(k) is not None else "-") for k in _PLACEHOLDERS}


def message(code: str, **details) -> str:
    """The bilingual text ("Indonesian / English") of refusal ``code`` with its details
    filled in ("-" when absent); an unknown code is returned as it is."""
    if code not in REFUSALS:
        return code
    return bilingual(refusal_key(code), **refusal_params(**details))


def view(session: Session, activation: Activation) -> dict:
    """The station page's SESSION: {"id", "status", "version", "application": {"id",
    "resi_number", "service", "name", "nik", "step_name", "status"}, "card": {"state",
    "refusal", "message", "uid", "bound_uid", "reader", "at"}, "fingerprint": {"attempts"
    (this session), "session_failures", "failures" (since the last release: 4 block the
    file), "max_failures", "verified", "blocked"}, "can_complete", "completed_at"}. Staff only: it holds the applicant's name and NIK."""
    app = session.get(Application, activation.application_id)
    if app is None:
        raise NotFound(key="error.not_found.application")
    binding = binding_of(session, app.id)
    step = app.steps[app.step_index] if app.step_code is not None else None
    blocked = binding is not None and binding.blocked_at is not None
    card = {"state": activation.card_state, "refusal": activation.card_refusal,
            "message": message(activation.card_refusal) if activation.card_refusal else None,
            "uid": activation.card_uid, "bound_uid": binding.uid if binding else None,
            "reader": activation.card_reader, "at": activation.card_at.isoformat() if activation.card_at else None}
    return {
        "id": activation.id, "status": activation.status, "version": activation.version,
        "application": {"id": app.id, "resi_number": app.resi_number, "service": app.service.name_id,
                        "name": app.applicant_name, "nik": app.applicant_nik,
                        "step_name": step.get("name_id") if step else None, "status": app.status},
        "card": card,
        "fingerprint": {"attempts": activation.attempts, "session_failures": activation.failures,
                        "failures": binding.fingerprint_failures if binding else 0,
                        "max_failures": MAX_FINGERPRINT_FAILURES, "verified": activation.fingerprint_ok,
                        "blocked": blocked},
        "can_complete": activation.status == "open" and activation.card_state == "match"
                        and activation.fingerprint_ok and not blocked,
        "completed_at": activation.closed_at.isoformat() if activation.closed_at and activation.status == "completed"
                        else None,
    }
