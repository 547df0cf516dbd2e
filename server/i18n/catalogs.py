"""The message catalogs themselves, without Flask: ``<lang>/*.json`` merged per language.
Domain services use them for their errors (``services.errors.LoketError(key=…)``); the web
layer (``server.i18n``) for pages, scripts and API answers."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
LANGUAGES = ("id", "en")


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    """The messages of ``lang`` ("id" or "en") as a dict key → text (all area files merged)."""
    merged: dict[str, str] = {}
    for path in sorted((HERE / lang).glob("*.json")):
        merged.update(json.loads(path.read_text(encoding="utf-8")))
    return merged


def translate(key: str, lang: str, **params) -> str:
    """The text of ``key`` in ``lang`` with ``{name}`` placeholders filled from ``params``;
    a missing key falls back to Indonesian, then to the key itself."""
    text = catalog(lang).get(key) or catalog("id").get(key) or key
    return text.format(**params) if params else text


def bilingual(key: str, **params) -> str:
    """``"<Indonesian> / <English>"`` of ``key`` (one text when both are the same): the form
    every service message has where no language is known (logs, agents, the CLI)."""
    id_text, en_text = translate(key, "id", **params), translate(key, "en", **params)
    return id_text if id_text == en_text else f"{id_text} / {en_text}"
