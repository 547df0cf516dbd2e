"""The chain's two KTP-el gates (issue 5), kept free of the activation services so the
chain can import them: printing needs the new card bound, and the ``activate`` step is
completed only at the activation counter (``services.activation.sessions.complete``)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from ...models import Application, CardBinding
from ..errors import InvalidState

PRINT_STEP = "print"
ACTIVATE_STEP = "activate"


def has_activation(app: Application) -> bool:
    """Whether ``app``'s service has an ``activate`` step (a KTP-el)."""
    return any(step.get("code") == ACTIVATE_STEP for step in app.steps)


def require_bound_card(session: Session, app: Application) -> None:
    """Raise InvalidState (``card_not_bound``) when ``app`` is at its print step, has an
    activation step and no card bound yet: approving the print step needs the card's UID."""
    if app.step_code == PRINT_STEP and has_activation(app) and session.get(CardBinding, app.id) is None:
        exc = InvalidState(key="error.application.card_not_bound")
        exc.code = "card_not_bound"
        raise exc


def require_activation_counter(app: Application, via_activation: bool) -> None:
    """Raise InvalidState (``activation_required``) for a plain approval of the
    ``activate`` step."""
    if app.step_code == ACTIVATE_STEP and not via_activation:
        exc = InvalidState(key="error.application.activation_required")
        exc.code = "activation_required"
        raise exc
