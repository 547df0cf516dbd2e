"""Screen texts in Bahasa Indonesia (default) and English.

JSON catalogs per language and area (``id/*.json``, ``en/*.json``, merged) serve both the Jinja templates
(``_("key")``) and the pages' JavaScript (the ``loket-i18n`` JSON block that ``loket.js``
reads), so a text is translated
once. The language comes from ``?lang=``, then the ``loket_lang`` cookie, then the
``DEFAULT_LANGUAGE`` setting. A missing key falls back to Indonesian, then to the key.
"""
from __future__ import annotations

from flask import Flask, g, request

from .catalogs import LANGUAGES, bilingual, catalog, translate  # noqa: F401  (re-exported)


def current_language() -> str:
    """The language of this request (see the module docstring)."""
    if "lang" not in g:
        lang = request.args.get("lang") or request.cookies.get("loket_lang") or ""
        g.lang = lang if lang in LANGUAGES else "id"
    return g.lang


def init_i18n(app: Flask) -> None:
    """Expose ``_``, ``lang`` and ``i18n_catalog`` to templates; remember ``?lang=`` in a cookie."""
    default = app.config.get("DEFAULT_LANGUAGE", "id")

    @app.before_request
    def _pick_language():
        lang = request.args.get("lang") or request.cookies.get("loket_lang") or default
        g.lang = lang if lang in LANGUAGES else default

    @app.after_request
    def _remember_language(response):
        lang = request.args.get("lang")
        if lang in LANGUAGES:
            response.set_cookie("loket_lang", lang, max_age=365 * 86400, samesite="Lax")
        return response

    @app.context_processor
    def _inject():
        lang = current_language()
        return {"_": lambda key, **kw: translate(key, lang, **kw), "lang": lang,
                "i18n_catalog": {**catalog("id"), **catalog(lang)}}
