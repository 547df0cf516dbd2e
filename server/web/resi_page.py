"""The public resi status page: ``/r/<payload>`` (the target of the resi's QR code) and
``/r/`` (a look-up form: typed resi number + the applicant's birth date).

Mobile first, Bahasa Indonesia by default (``?lang=en``). The first paint is rendered here
from the same look-up as the public API (``GET /api/v1/resi/<payload_or_number>``, see
``server.api.applications``); ``static/js/resi.js`` then keeps it fresh from that API and
runs the look-up form without a page load. A forged, altered, truncated or foreign QR gets
a friendly refusal page (HTTP 400), an unknown resi 404. Nothing personal is shown beyond
the masked name.
"""
from __future__ import annotations

from flask import current_app, render_template, request

from ..api.resi import lookup_resi
from ..services.applications.resi_lookup import TooManyAttempts, resi_public
from ..services.errors import NotFound, ValidationError
from ..services.resi import ResiError
from . import bp

#: The refusal text key of each resi error code (resi.refused.<key>).
REFUSALS = {"resi_forged": "forged", "resi_malformed": "malformed", "resi_foreign": "foreign",
            "resi_wrong_office": "wrong_office"}


def _lookup(ref: str, check: str | None = None) -> dict:
    with current_app.extensions["loket"].db.session() as s:
        app, office = lookup_resi(s, ref, check=check)
        return resi_public(office, app)


@bp.get("/r/<payload>")
def resi_page(payload: str):
    """The status of the application named by a signed resi QR payload."""
    try:
        status = _lookup(payload)
    except ResiError as exc:
        return render_template("resi.html", mode="refused", refusal=REFUSALS.get(exc.code, "malformed"),
                               code=exc.code, payload=None, status=None), 400
    except NotFound:
        return render_template("resi.html", mode="refused", refusal="unknown", code="resi_unknown",
                               payload=None, status=None), 404
    return render_template("resi.html", mode="status", payload=payload, status=status, refusal=None, code=None)


@bp.get("/r/")
def resi_lookup():
    """The look-up form; with ``?number=&check=`` (the form sent without JavaScript) the
    status, or the form again with what went wrong."""
    number, check = (request.args.get("number") or "").strip(), request.args.get("check") or ""
    error, http = None, 200
    if number:
        try:
            status = _lookup(number, check)
            return render_template("resi.html", mode="status", payload=None, status=status, refusal=None, code=None)
        except TooManyAttempts:
            error, http = "too_many", 429
        except NotFound:
            error, http = "not_found", 404
        except ResiError:
            error, http = "bad_number", 422
        except ValidationError as exc:
            error, http = ("bad_check" if exc.details.get("field") == "check" else "bad_number"), 422
    return render_template("resi.html", mode="lookup", payload=None, status=None, refusal=None, code=None,
                           number=number, error=error), http
