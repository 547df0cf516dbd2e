"""Demo mode only: staff drive the simulated card reader from the pages.

``loket demo`` runs the activation station's agent in-process on a
:class:`drivers.smartcard.simulator.SimulatedReader` (stored as
``app.extensions["loket_demo_card_reader"]``, see
:func:`activation.agent.start_demo_activation_agent`). ``POST /demo/card-reader``
(a signed-in staff user, CSRF token as every staff request: ``X-CSRFToken``) with
``{"action": "tap"|"lift"|"unplug"|"plug", "uid": hex (tap, optional: a random new
card)}`` acts on that reader; the event then travels like one from real hardware
(reader → agent → Socket.IO ``card`` → server → the station's page). Without the
simulated reader (every real deployment) the route answers 404: it does not exist.
"""
from __future__ import annotations

from flask import abort, current_app, jsonify, request
from flask_login import current_user

from . import bp

EXTENSION = "loket_demo_card_reader"
ACTIONS = ("tap", "lift", "unplug", "plug")


def demo_card_reader() -> bool:
    """True when this app runs the demo's simulated card reader (pages show its panel)."""
    return EXTENSION in current_app.extensions


@bp.post("/demo/card-reader")
def demo_card_reader_action():
    """Tap / lift a card on the simulated reader, or unplug / plug the reader (demo only)."""
    reader = current_app.extensions.get(EXTENSION)
    if reader is None:
        abort(404)
    if not current_user.is_authenticated:
        return jsonify(error="login_required", message="sign in as staff"), 401
    body = request.get_json(silent=True) or {}
    action = body.get("action")
    if action not in ACTIONS:
        return jsonify(error="invalid_action", message=f"action: one of {', '.join(ACTIONS)}"), 400
    try:
        event = reader.tap(body.get("uid") or None) if action == "tap" else getattr(reader, action)()
    except ValueError as exc:
        return jsonify(error="invalid_uid", message=str(exc)), 400
    status = reader.status()
    return jsonify(ok=True, simulated=True, action=action, event=event.as_payload() if event else None,
                   reader={"name": reader.name, "plugged": reader.plugged, "state": status.state.value,
                           "detail": status.detail})
