"""Errors carry a code and a catalog key; the text lives in the message catalogs, in
Indonesian and English, and the API answers it in the caller's language (issue 14, "one
way to speak Indonesian"). The queue engine's messages are the first moved there."""
from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from server.i18n.catalogs import LANGUAGES, catalog
from server.services.errors import QueueEmpty
from tests.server.test_api import app, counter_id, post, staff_client  # noqa: F401  (app: fixture)

ROOT = Path(__file__).resolve().parents[2]
KEY_IN_SOURCE = re.compile(r"""\bkey=["'](error\.[a-z_.]+)["']""")


def used_keys() -> dict[str, list[str]]:
    """Every error key the server raises with, and where."""
    found: dict[str, list[str]] = {}
    for path in (ROOT / "server").rglob("*.py"):
        for key in KEY_IN_SOURCE.findall(path.read_text(encoding="utf-8")):
            found.setdefault(key, []).append(str(path.relative_to(ROOT)))
    return found


def placeholders(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_every_error_key_raised_has_both_texts_with_the_same_placeholders():
    keys = used_keys()
    assert len(keys) >= 25  # the queue engine's, at least
    missing = {k: where for k, where in keys.items() if not all(catalog(lang).get(k) for lang in LANGUAGES)}
    assert not missing, f"error keys without an Indonesian and an English text: {missing}"
    for key in keys:
        assert placeholders(catalog("id")[key]) == placeholders(catalog("en")[key]), key


def test_both_catalogs_hold_the_same_error_keys():
    ids = {k for k in catalog("id") if k.startswith("error.")}
    ens = {k for k in catalog("en") if k.startswith("error.")}
    assert ids == ens, (ids ^ ens)


def test_a_keyed_error_speaks_both_languages_outside_a_request():
    exc = QueueEmpty(key="error.queue.empty")
    assert exc.code == "queue_empty"
    assert exc.message == "Tidak ada antrean untuk loket ini / No ticket is waiting for this counter"
    assert exc.text("id") == "Tidak ada antrean untuk loket ini"
    assert exc.text("en") == "No ticket is waiting for this counter"


@pytest.mark.parametrize(("how", "expected"), [
    ({}, "Tidak ada antrean untuk loket ini"),
    ({"query": "?lang=en"}, "No ticket is waiting for this counter"),
    ({"headers": {"Accept-Language": "en-US,en;q=0.9"}}, "No ticket is waiting for this counter"),
    ({"headers": {"Accept-Language": "id-ID,id;q=0.9,en;q=0.8"}}, "Tidak ada antrean untuk loket ini"),
    ({"cookie": "en", "headers": {"Accept-Language": "id"}}, "No ticket is waiting for this counter"),
])
def test_the_api_answers_a_queue_error_in_the_callers_language(app, how, expected):
    fo1 = staff_client(app, "fo1")
    cid = counter_id(app, 1)
    assert post(fo1, f"/api/v1/counters/{cid}/open").status_code == 200
    if "cookie" in how:
        fo1.set_cookie("loket_lang", how["cookie"])
    csrf = fo1.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    r = fo1.post(f"/api/v1/counters/{cid}/call-next{how.get('query', '')}", json={},
                 headers={"X-CSRFToken": csrf, **how.get("headers", {})})
    assert r.status_code == 404
    assert r.get_json() == {"error": "queue_empty", "message": expected}
