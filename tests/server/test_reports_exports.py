"""The IKM, AKAPELA and KTP-el activation reports through the shared report plumbing
(``server.api.report_requests``): ``?format=csv|xlsx`` on their API and their page, the CSV
and the XLSX read back (openpyxl) against the JSON, the shared header on their pages
(downloads, print button, the form re-shown on bad input), text typed by citizens never
turning into a spreadsheet formula, and the pickups report not reading the tickets."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, select

from server.i18n import translate
from server.models import AuditEntry, Office
from server.services.analytics import pickups_report, query
from server.services.analytics.catalog import KINDS
from tests.server.test_api import counter_id, post, staff_client
from tests.server.test_survey_api import ANSWERS, app, serve, tablet  # noqa: F401  (app: fixture)

IKM = "/api/v1/offices/DEMO/reports/ikm"
AKP = "/api/v1/offices/DEMO/reports/complaints"
ACT = "/api/v1/offices/DEMO/reports/activations"
CONTACT = {"name": "Siti Aminah", "phone": "0812-3456-7890", "id_kind": "nik", "id_number": "1471011205900001",
           "channel": "phone", "kind": "complaint", "text": "KTP belum jadi"}


def csv_tables(body: bytes) -> dict[str, list[list[str]]]:
    """The CSV file's tables by title: {title: [header, *rows]} (the heading line skipped)."""
    text = body.decode("utf-8")
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text[1:])))
    tables, i = {}, 2  # heading, empty line
    while i < len(lines):
        title, j = lines[i][0], i + 1
        while j < len(lines) and lines[j]:
            j += 1
        tables[title] = lines[i + 1:j]
        i = j + 1
    return tables


def xlsx_sheets(body: bytes) -> dict[str, list[tuple]]:
    """The XLSX sheets by name: [header, *rows] as values (row 1, the heading, skipped)."""
    wb = load_workbook(io.BytesIO(body))
    return {ws.title: [tuple(c.value for c in row) for row in ws.iter_rows(min_row=2)] for ws in wb.worksheets}


def get_files(client, path: str) -> tuple[dict, dict, dict]:
    """(JSON, CSV tables, XLSX sheets) of one report request ``path``."""
    sep = "&" if "?" in path else "?"
    report = client.get(path).get_json()
    c = client.get(f"{path}{sep}format=csv")
    x = client.get(f"{path}{sep}format=xlsx")
    assert c.status_code == 200 and c.mimetype == "text/csv" and "attachment" in c.headers["Content-Disposition"]
    assert x.status_code == 200 and x.mimetype.endswith("spreadsheetml.sheet")
    return report, csv_tables(c.data), xlsx_sheets(x.data)


def test_ikm_files_match_the_json_and_never_carry_a_formula(app):
    fo1 = staff_client(app, "fo1")
    post(fo1, f"/api/v1/counters/{counter_id(app, 1)}/open")
    client = app.test_client()
    for answers, comment in ((ANSWERS, "Bersih"), ({**ANSWERS, "u8": 4, "u9": 1}, '=HYPERLINK("http://x","klik")')):
        served = serve(app, fo1, 1)
        r = client.post("/api/v1/survey/tablet", json={"ticket_id": served["id"], "answers": answers,
                                                       "comment": comment}, headers=tablet(app))
        assert r.status_code == 201, r.get_json()
    manager = staff_client(app, "manager")
    report, tables, sheets = get_files(manager, IKM + "?lang=en")
    o = report["overall"]
    assert o["responses"] == 2 and o["ikm"] is not None

    summary = {row[0]: row[1:] for row in tables["Community Satisfaction Index (IKM)"][1:]}
    assert int(summary["Respondents"][0]) == 2 and float(summary["IKM"][0]) == o["ikm"]
    assert float(summary["Unit index value"][0]) == o["unit_value"] and summary["Grade"][1] == o["grade"]
    elements = tables["Service element"]
    assert [(r[0], int(r[2]), float(r[3]), float(r[4])) for r in elements[1:10]] == [
        (e["code"], e["sum"], e["nrr"], e["weighted"]) for e in o["elements"]]
    assert [(r[0], int(r[1]), float(r[-3])) for r in tables["By service"][1:]] == [
        (s["name"], s["responses"], s["ikm"]) for s in report["by_service"]]

    x = sheets["elements"]
    assert [(r[0], r[2], r[3], r[4]) for r in x[1:10]] == [
        (e["code"], e["sum"], e["nrr"], e["weighted"]) for e in o["elements"]]
    assert x[10][4] == o["unit_value"]
    assert [(r[1], r[-3], r[-2]) for r in sheets["by_counter"][1:]] == [
        (c["responses"], c["ikm"], c["grade"]) for c in report["by_counter"]]
    assert sheets["summary"][5][1] == o["ikm"]

    # the citizen's comment is text in both files, never a formula
    csv_comments = [r[3] for r in tables["Suggestions and feedback"][1:]]
    assert csv_comments == [("'" if c["comment"].startswith("=") else "") + c["comment"] for c in report["comments"]]
    assert sorted(csv_comments)[0].startswith("'=HYPERLINK")
    wb = load_workbook(io.BytesIO(manager.get(IKM + "?format=xlsx").data))
    cells = [row[3] for row in wb["comments"].iter_rows(min_row=3)]
    assert {c.value for c in cells} == {c["comment"] for c in report["comments"]}
    assert all(c.data_type == "s" for c in cells)

    assert manager.get(IKM + "?format=pdf").get_json()["error"] == "validation_error"
    assert manager.get(IKM + "?format=pdf").status_code == 422
    assert manager.get(IKM + "?counter=x").status_code == 422
    assert fo1.get(IKM + "?format=csv").status_code == 403


def test_complaint_files_match_the_json(app):
    fo1 = staff_client(app, "fo1")
    made = []
    for kind, channel in (("complaint", "phone"), ("information", "whatsapp"), ("complaint", "walk_in")):
        r = post(fo1, "/api/v1/offices/DEMO/complaints", {**CONTACT, "kind": kind, "channel": channel})
        assert r.status_code == 201, r.get_json()
        made.append(r.get_json()["complaint"])
    assert post(fo1, f"/api/v1/complaints/{made[0]['id']}/answer", {"expected_version": 1, "note": "Kami cek"}).status_code == 200
    assert post(fo1, f"/api/v1/complaints/{made[0]['id']}/close", {"expected_version": 2, "note": "Selesai"}).status_code == 200
    assert post(fo1, f"/api/v1/complaints/{made[1]['id']}/close", {"expected_version": 1, "note": "Info"}).status_code == 200
    manager = staff_client(app, "manager")
    report, tables, sheets = get_files(manager, AKP)
    t = report["totals"]
    assert (t["contacts"], t["closed"], t["open"]) == (3, 2, 1)

    counts = {r[0]: int(r[1]) for r in tables["Laporan AKAPELA"][1:]}
    assert counts == {"Kontak": 3, "Selesai": 2, "Belum selesai": 1}
    assert {r[0]: int(r[1]) for r in tables["Menurut jenis"][1:]} == {"Informasi": 1, "Pengaduan": 2}
    for title, part, prefix in (("Menurut saluran", "by_channel", "channel"), ("Menurut hasil", "by_outcome", "outcome")):
        assert {r[0]: int(r[1]) for r in tables[title][1:]} == {
            translate(f"complaints.{prefix}.{k}", "id"): n for k, n in report[part].items()}
    times = tables["Waktu (menit)"]
    first = {(r[0], r[1]): r[2:] for r in times[1:]}
    resolution = first[("Semua", "Registrasi → selesai")]
    assert int(resolution[0]) == t["resolution"]["count"] == 2
    assert float(resolution[1]) == t["resolution"]["mean_s"] and float(resolution[3]) == t["resolution"]["max_s"]

    assert {r[0]: r[1] for r in sheets["by_outcome"][1:]} == {
        translate(f"complaints.outcome.{k}", "id"): n for k, n in report["by_outcome"].items()}
    x_times = sheets["times"]
    assert len(x_times) == 1 + 2 * (1 + len(report["kinds"]))
    for row in x_times[1:]:
        kind = {"Semua": "all", "Informasi": "information", "Pengaduan": "complaint"}[row[0]]
        figures = t if kind == "all" else report["kinds"][kind]
        measure = "first_answer" if "pertama" in row[1] else "resolution"
        d = figures[measure]
        assert row[2:] == (d["count"], d["mean_s"], d["median_s"], d["max_s"])


def _audit(s, office_id: int, at: datetime, action: str, data: dict) -> None:
    s.add(AuditEntry(at=at, office_id=office_id, actor_type="staff", actor_id=None, action=action,
                     entity_type="activation", entity_id=None, data=data))


def test_activation_files_match_the_json(app):
    with app.extensions["loket"].db.session() as s:
        office = s.scalars(select(Office).where(Office.code == "DEMO")).one()
        at = datetime(2026, 11, 2, 3, 0, tzinfo=timezone.utc)  # 10:00 WIB
        for action, data in (("activation.completed", {}), ("activation.completed", {}),
                             ("activation.refused", {"reason": "not_printed"}),
                             ("activation.fingerprint", {"result": "no_match"}), ("activation.blocked", {})):
            _audit(s, office.id, at, action, data)
        _audit(s, office.id, datetime(2026, 11, 3, 3, 0, tzinfo=timezone.utc), "activation.card_refused",
               {"reason": "card_mismatch"})
        s.commit()
    manager = staff_client(app, "manager")
    report, tables, sheets = get_files(manager, ACT + "?from=2026-11-01&to=2026-11-03")
    days = tables["Aktivasi KTP-el"]
    assert [r[0] for r in days[1:4]] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert [[int(v) for v in r[1:]] for r in days[1:4]] == [
        [d["activations"], d["fingerprint_failures"], d["blocked"], d["released"], sum(d["refusals"].values())]
        for d in report["days"]]
    assert days[2][1:] == ["2", "1", "1", "0", "1"] and days[4][1:] == ["2", "1", "1", "0", "2"]
    x = sheets["days"]
    assert x[1][0] == datetime(2026, 11, 1) and [r[1] for r in x[1:4]] == [0, 2, 0]
    assert x[4][1:] == (2, 1, 1, 0, 2)
    assert sorted((r[0], r[1]) for r in sheets["refusals"][1:]) == [("card_mismatch", 1), ("not_printed", 1)]
    assert [r[1] for r in sheets["queues"][1:]] == [q["issued"] for q in report["queue"]]
    assert manager.get(ACT + "?from=2026-11-03&to=2026-11-01&format=xlsx").status_code == 422


@pytest.mark.parametrize("path,title", [("/reports/ikm", "Indeks Kepuasan"), ("/reports/complaints", "AKAPELA"),
                                        ("/reports/activations", "Aktivasi KTP-el")])
def test_report_pages_share_the_header_downloads_and_print(app, path, title):
    manager = staff_client(app, "manager")
    html = manager.get(path).get_data(as_text=True)
    assert 'data-testid="report-form"' in html and 'data-testid="print"' in html and "css/reports.css" in html
    assert f'href="{path}?format=csv' in html and f'href="{path}?format=xlsx' in html
    assert title in html.split('data-testid="report-title"')[1][:80]
    r = manager.get(f"{path}?from=2026-11-01&to=2026-11-02&format=csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "2026-11-01" in r.headers["Content-Disposition"]
    x = manager.get(f"{path}?from=2026-11-01&to=2026-11-02&format=xlsx")
    assert x.status_code == 200 and load_workbook(io.BytesIO(x.data)).worksheets
    bad = manager.get(f"{path}?from=2026-11-05&to=2026-11-01")  # the form comes back with the message
    assert bad.status_code == 400 and 'data-testid="report-error"' in bad.get_data(as_text=True)
    assert 'value="2026-11-05"' in bad.get_data(as_text=True)
    assert staff_client(app, "fo1").get(path).status_code == 403


def test_every_report_is_listed_and_documented(app):
    manager = staff_client(app, "manager")
    index = manager.get("/reports").get_data(as_text=True)
    paths = app.test_client().get("/api/openapi.json").get_json()["paths"]
    for kind in KINDS:
        assert f'data-testid="report-link-{kind.name}"' in index
        op = paths[f"/api/v1/offices/{{code}}/reports/{kind.name}"]["get"]
        assert {"from", "to", "format", *kind.filters} == {p["name"] for p in op["parameters"]} - {"code"}


def test_pickups_report_reads_no_ticket(app):
    """The pickups report takes the activation figures without the activation report's
    queue table (which reads every ticket of the period)."""
    db = app.extensions["loket"].db
    seen: list[str] = []
    with db.session() as s:
        office = s.scalars(select(Office).where(Office.code == "DEMO")).one()
        engine = s.get_bind()

        def spy(conn, cursor, statement, *args):
            seen.append(statement.lower())

        event.listen(engine, "before_cursor_execute", spy)
        try:
            report = pickups_report(s, query(s, office, date(2026, 11, 1), date(2026, 11, 30)))
        finally:
            event.remove(engine, "before_cursor_execute", spy)
    assert len(report["days"]) == 30 and seen
    assert not [q for q in seen if " tickets" in q], [q for q in seen if " tickets" in q]
