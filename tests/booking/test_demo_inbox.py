"""The demo's stand-in for the citizens' WhatsApp / e-mail (issue 13): in ``loket demo``
only, /booking/<office>/demo-inbox shows the booking notices of the last hour (the code,
then the booking), recipients masked; 404 anywhere else. SQLite and PostgreSQL."""
from __future__ import annotations

import re

from tests.booking import flow
from tests.booking.test_booking_api import NIK, client, last_day
from tests.server.test_api import app  # noqa: F401  (app: fixture)


def test_demo_inbox_only_in_the_demo(app):
    c = client(app)
    asked = flow.ask(c, service="kk", session="2", day=last_day(app), nik=NIK, name="Budi Santoso",
                     phone="081234567890").get_json()
    assert c.get("/booking/DEMO/demo-inbox").status_code == 404  # not the demo
    assert 'data-testid="demo-inbox"' not in c.get("/booking/DEMO").get_data(as_text=True)
    app.config["DEMO"] = True
    assert 'data-testid="demo-inbox"' in c.get("/booking/DEMO").get_data(as_text=True)
    page = c.get("/booking/DEMO/demo-inbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    code = flow.sent_code(app, asked["request"])
    assert code in html and "0812****7890" in html and "081234567890" not in html and "6281234567890" not in html
    assert flow.confirm(c, asked["request"], code).status_code == 200
    html = c.get("/booking/DEMO/demo-inbox").get_data(as_text=True)
    assert re.search(r"Kode booking: [0-9A-Z]{4}-[0-9A-Z]{4}", html) and code not in html  # the used code is gone
    assert c.get("/booking/NOPE/demo-inbox").status_code == 404
