"""A citizen's public form that arrives without a valid CSRF token (lost session cookie)
is kept: a page re-sends what was typed with a fresh token; staff forms still go to login."""
from __future__ import annotations

import html
import re

import requests
from sqlalchemy import func, select

from server.models import Complaint

CONTACT = {"name": "Siti Aminah", "phone": "0812-3456-7890", "id_kind": "nik", "id_number": "1471011205900001",
           "channel": "web", "kind": "information", "text": "Jam buka <b>Sabtu</b>?"}


def test_public_form_without_token_keeps_what_was_typed(live_server):
    url = f"{live_server.url}/pengaduan/DEMO"
    web = requests.Session()
    r = web.post(url, data=CONTACT, timeout=10)  # no csrf_token, no session cookie
    assert r.status_code == 400 and 'data-testid="csrf-retry"' in r.text
    assert "/login" not in r.text
    # the typed text is kept, escaped, in hidden fields with a fresh token
    assert 'value="Jam buka &lt;b&gt;Sabtu&lt;/b&gt;?"' in r.text
    with live_server.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Complaint)) == 0
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', r.text))
    form = {k: html.unescape(v) for k, v in form.items()}
    again = web.post(url, data=form, timeout=10)
    assert again.status_code == 201, again.text[:500]
    with live_server.db.session() as s:
        assert s.scalar(select(Complaint.text)) == CONTACT["text"]


def test_login_without_token_never_echoes_the_password(live_server):
    r = requests.post(f"{live_server.url}/login", data={"username": "fo1", "password": "s3cret-pw"},
                      allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    assert "s3cret-pw" not in r.text
