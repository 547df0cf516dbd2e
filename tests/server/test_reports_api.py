"""The managers' report API and pages (issue 7) on SQLite and PostgreSQL: JSON figures equal
the service's, CSV and XLSX files read back (csv module, openpyxl) hold the same numbers,
office scoping and roles, clear errors for bad input, the OpenAPI document."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from server.models import Office
from server.services.accounts import create_staff
from server.services.actors import SYSTEM
from server.services.analytics import query, waiting_report
from tests.server.report_day_set import play_days
from tests.server.test_api import app, staff_client  # noqa: F401  (app: fixture)

PERIOD = "from=2026-11-23&to=2026-11-26"


@pytest.fixture
def other_office(app):
    """A second office OTHER with its own manager (manager_other)."""
    with app.extensions["loket"].db.session() as s:
        other = Office(code="OTHER", name="Kantor Lain", settings={})
        s.add(other)
        s.flush()
        create_staff(s, "manager_other", "demo1234", "manager", full_name="Manajer Lain", office_id=other.id,
                     actor=SYSTEM)


@pytest.fixture
def played(app):
    """Two office days of the DEMO office (report_day_set); the DEMO office id."""
    db = app.extensions["loket"].db
    with db.session() as s:
        office_id = s.scalar(select(Office.id).where(Office.code == "DEMO"))
    play_days(db, office_id, per_day=10, days=(23, 24))
    return office_id


def csv_sections(body: bytes) -> dict[str, list[list[str]]]:
    """{table title: [header, *rows]} of a report CSV (title line, header, rows, blank)."""
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    out, i = {}, 2  # heading line and a blank line first
    while i < len(rows):
        if not rows[i]:
            i += 1
            continue
        title, i = rows[i][0], i + 1
        block = []
        while i < len(rows) and rows[i]:
            block.append(rows[i])
            i += 1
        out[title] = block
    return out


def num(text: str):
    return None if text in ("", None) else float(text)


def test_waiting_report_json_csv_and_xlsx_agree(app, played):
    manager = staff_client(app, "manager")
    r = manager.get(f"/api/v1/offices/DEMO/reports/waiting?{PERIOD}&group=service")
    assert r.status_code == 200
    data = r.get_json()
    with app.extensions["loket"].db.session() as s:
        office = s.get(Office, played)
        direct = waiting_report(s, query(s, office, date(2026, 11, 23), date(2026, 11, 26), group="service"))
    assert data == direct
    total = data["total"]
    assert total["issued"] == 20 and total["wait_time"]["count"] > 0

    r = manager.get(f"/api/v1/offices/DEMO/reports/waiting?{PERIOD}&group=service&format=csv&lang=en")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "loket-DEMO-waiting-2026-11-23-2026-11-26.csv" in r.headers["Content-Disposition"]
    sections = csv_sections(r.data)
    summary = sections["Waiting and service time"]
    header, first = summary[0], summary[1]
    assert header[:3] == ["Service", "Tickets", "Served"] and "Wait p90 (s)" in header
    assert first[0] == "Total" and int(first[1]) == total["issued"] and int(first[2]) == total["served"]
    assert num(first[header.index("Wait p90 (s)")]) == total["wait_time"]["p90_s"]
    assert num(first[header.index("Service max (s)")]) == total["service_time"]["max_s"]
    assert len(summary) == 2 + len(data["rows"])
    heat = sections["Tickets per hour by weekday (local time)"]
    assert [row[0] for row in heat[1:]][:2] == ["Monday", "Tuesday"]
    assert sum(int(v) for row in heat[1:] for v in row[1:]) == total["issued"]

    r = manager.get(f"/api/v1/offices/DEMO/reports/waiting?{PERIOD}&group=service&format=xlsx&lang=id")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(r.data))
    assert book.sheetnames == ["summary", "heatmap", "transfers"]
    ws = book["summary"]
    header = [c.value for c in ws[2]]
    values = [c.value for c in ws[3]]
    assert values[0] == "Total" and values[1] == total["issued"]  # lang=id (the cookie kept "en")
    assert values[header.index("Tunggu p50 (s)")] == total["wait_time"]["p50_s"]
    assert values[header.index("Layanan rata-rata (s)")] == total["service_time"]["mean_s"]
    assert [c.value for c in book["heatmap"]["A"]][2:4] == ["Senin", "Selasa"]
    moved = book["transfers"]
    assert sum(row[2].value for row in moved.iter_rows(min_row=3)) == total["transferred"]


def test_other_reports_export_and_read_back(app, played):
    manager = staff_client(app, "manager")
    prod = manager.get(f"/api/v1/offices/DEMO/reports/productivity?{PERIOD}").get_json()
    rep1 = next(r for r in prod["rows"] if r["officer"] == "rep1")
    book = load_workbook(io.BytesIO(manager.get(f"/api/v1/offices/DEMO/reports/productivity?{PERIOD}&format=xlsx").data))
    ws = book["officers"]
    header = [c.value for c in ws[2]]
    line = next([c.value for c in row] for row in ws.iter_rows(min_row=3) if row[0].value == "rep1")
    assert line[header.index("Dilayani")] == rep1["served"]
    assert line[header.index("Menganggur (s)")] == rep1["idle_s"]
    assert line[header.index("Jeda (s)")] == rep1["paused_s"]
    for name, sheets in (("control-card", ["steps", "slowest_files", "overdue_summary", "overdue_files"]),
                         ("pickups", ["days", "refusals"])):
        assert manager.get(f"/api/v1/offices/DEMO/reports/{name}?{PERIOD}").status_code == 200
        r = manager.get(f"/api/v1/offices/DEMO/reports/{name}?{PERIOD}&format=xlsx")
        assert load_workbook(io.BytesIO(r.data)).sheetnames == sheets
        days = csv_sections(manager.get(f"/api/v1/offices/DEMO/reports/pickups?{PERIOD}&format=csv").data)["Per hari"]
        assert [row[0] for row in days[1:]] == ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26", "Total"]
    page = manager.get(f"/reports/waiting?{PERIOD}&group=officer&format=csv")
    assert page.status_code == 200 and page.mimetype == "text/csv"
    page = manager.get(f"/reports/productivity?{PERIOD}")
    assert page.status_code == 200 and b"rep1" in page.data and b'data-testid="table-officers"' in page.data


def test_reports_are_for_managers_and_heads_of_their_own_office(app, other_office):
    for user in ("manager", "kasi", "kabid", "kadis", "admin"):
        client = staff_client(app, user)
        assert client.get(f"/api/v1/offices/DEMO/reports/waiting?{PERIOD}").status_code == 200, user
        assert client.get("/reports/control-card").status_code == 200, user
    fo = staff_client(app, "fo1")
    assert fo.get(f"/api/v1/offices/DEMO/reports/waiting?{PERIOD}").status_code == 403
    assert fo.get(f"/api/v1/offices/DEMO/reports/pickups?{PERIOD}&format=csv").status_code == 403
    assert fo.get("/reports/waiting").status_code == 403 and fo.get("/reports").status_code == 403
    assert app.test_client().get(f"/api/v1/offices/DEMO/reports/waiting?{PERIOD}").status_code == 401

    manager = staff_client(app, "manager")
    assert manager.get(f"/api/v1/offices/OTHER/reports/waiting?{PERIOD}").status_code == 403
    assert manager.get(f"/api/v1/offices/OTHER/reports/productivity?{PERIOD}&format=xlsx").status_code == 403
    page = manager.get(f"/reports/waiting?{PERIOD}&office=OTHER")  # ?office= is for the system admin
    assert page.status_code == 200 and b"Kantor Lain" not in page.data
    other = staff_client(app, "manager_other")
    r = other.get(f"/api/v1/offices/OTHER/reports/waiting?{PERIOD}")
    assert r.status_code == 200 and r.get_json()["total"]["issued"] == 0
    assert other.get(f"/api/v1/offices/DEMO/reports/waiting?{PERIOD}").status_code == 403
    assert b"Kantor Lain" in other.get("/reports/waiting").data
    # ?office= is for the system admin (no office); an office admin stays in its own (issue 13)
    assert b"Kantor Lain" in staff_client(app, "sysadmin").get("/reports/waiting?office=OTHER").data
    assert b"Kantor Lain" not in staff_client(app, "admin").get("/reports/waiting?office=OTHER").data


def test_bad_input_is_refused_clearly(app):
    manager = staff_client(app, "manager")
    for qs, field in (("from=2026-11-26&to=2026-11-23", "to"), ("from=2025-01-01&to=2026-11-23", "to"),
                      ("from=23-11-2026", "from"), ("group=hour", "group"), ("service=nope", "service"),
                      ("counter=abc", "counter"), ("officer=ghost", "officer"), ("format=pdf", "format")):
        r = manager.get(f"/api/v1/offices/DEMO/reports/waiting?{qs}")
        assert r.status_code == 422, qs
        assert r.get_json()["error"] == "validation_error" and r.get_json()["details"]["field"] == field, qs
    page = manager.get("/reports/waiting?from=2026-11-26&to=2026-11-23&service=kk")
    assert page.status_code == 400 and b'data-testid="report-error"' in page.data
    assert b'value="2026-11-26"' in page.data and b'<option value="kk" selected>' in page.data
    assert manager.get("/api/v1/offices/NOPE/reports/waiting").status_code == 404


def test_openapi_documents_the_reports(app):
    paths = app.test_client().get("/api/openapi.json").get_json()["paths"]
    for name in ("waiting", "productivity", "control-card", "pickups"):
        op = paths[f"/api/v1/offices/{{code}}/reports/{name}"]["get"]
        assert op["tags"] == ["reports"] and {p["name"] for p in op["parameters"]} >= {"from", "to", "format"}
