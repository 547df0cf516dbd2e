"""The pickup station API (issue 4, Drive-Thru): look-up refusals, applicant and
representative hand-over, double pickup, on SQLite and PostgreSQL (``app`` fixture of
tests/server/test_api.py). Scan dedupe is the station page's (client side): not here."""
from __future__ import annotations

import base64
import io

import cv2
import numpy as np
import segno
from sqlalchemy import select

from server.models import AuditEntry, Device, DeviceKind
from server.services.resi import ResiSigner, derive_key
from tests.server.activation_flow import CardAgent, activate, bind_and_print
from tests.server.test_api import app, post, staff_client  # noqa: F401  (app: fixture)
from tests.server.test_applications_api import NIK, NAME, act, registered

REP = {"kind": "representative", "name": "Siti Aminah", "nik": "1471015205900002", "relation": "istri",
       "letter_number": "F107/2026/0042"}


def signature_png() -> str:
    buf = io.BytesIO()
    segno.make("ttd").save(buf, kind="png", scale=4)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def pickup_device(app_) -> int:
    with app_.extensions["loket"].db.session() as s:
        return s.scalar(select(Device.id).where(Device.kind == DeviceKind.PICKUP.value))


def lookup(client, device_id: int, code: str):
    r = post(client, f"/api/v1/pickup/{device_id}/lookup", {"code": code})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def hand_over(client, device_id: int, view: dict, collector: dict, signature: str | None = None, version=None,
              photo: str | None = None):
    extra = {} if photo is None else {"photo": photo}
    return post(client, f"/api/v1/pickup/{device_id}/hand-over", {
        "application_id": view["id"], "expected_version": version or view["version"], "collector": collector,
        "signature": signature_png() if signature is None else signature, **extra})


def photo_bytes(ext: str = ".jpg", size=(48, 64)) -> bytes:
    """A real small image (a gradient with a square) encoded by OpenCV."""
    img = np.zeros((*size, 3), np.uint8)
    img[:, :, 0] = np.linspace(0, 255, size[1], dtype=np.uint8)
    img[10:30, 20:40] = (30, 200, 90)
    ok, buf = cv2.imencode(ext, img)
    assert ok
    return buf.tobytes()


def data_url(raw: bytes, mime: str = "image/jpeg") -> str:
    return f"data:{mime};base64," + base64.b64encode(raw).decode()


def to_ready(app_, data: dict, service: str = "kk") -> None:
    app_id = data["application"]["id"]
    kasi, kabid, fo1 = staff_client(app_, "kasi"), staff_client(app_, "kabid"), staff_client(app_, "fo1")
    assert act(kasi, app_id, "approve", 1).status_code == 200
    assert act(kabid, app_id, "approve", 2).status_code == 200
    if service == "kk":
        assert act(staff_client(app_, "admin"), app_id, "approve", 3).status_code == 200  # Kadis signs
        assert act(fo1, app_id, "approve", 4, shelf_location="RAK-B-03").status_code == 200
    else:  # printed with its card bound, then activated in person (issue 5)
        agent = CardAgent(app_)
        bind_and_print(app_, app_id, agent, "04C0FFEE000001")
        activate(app_, app_id, agent, "04C0FFEE000001", data["resi"]["number"], shelf_location="RAK-A-07")
        agent.close()


def refusals(app_) -> list[str]:
    with app_.extensions["loket"].db.session() as s:
        return [e.data["refusal"] for e in s.scalars(
            select(AuditEntry).where(AuditEntry.action == "pickup.refused").order_by(AuditEntry.id))]


def test_every_refusal_code_is_answered_and_audited(app):
    ambil, dev = staff_client(app, "ambil"), pickup_device(app)
    kk = registered(app, "kk")
    payload = kk["resi"]["payload"]

    r = lookup(ambil, dev, payload)
    assert (r["result"], r["refusal"]) == ("refused", "not_ready")
    assert r["details"]["due_date"] == kk["resi"]["due_date"] and "Dokumen belum siap" in r["message"]
    body, sig = payload.rsplit(".", 1)
    forged = ResiSigner(derive_key("another secret")).make_payload(kk["application"]["id"], "DEMO",
                                                                   kk["resi"]["number"])
    altered = body.replace(kk["resi"]["number"], kk["resi"]["number"][:-1] + "9") + "." + sig
    assert lookup(ambil, dev, forged)["refusal"] == "forged"
    assert lookup(ambil, dev, altered)["refusal"] == "forged"
    assert lookup(ambil, dev, payload[:-8])["refusal"] == "malformed"
    assert lookup(ambil, dev, "https://example.com/promo")["refusal"] == "foreign"
    other = ResiSigner(derive_key(app.config["SECRET_KEY"]))
    assert lookup(ambil, dev, other.make_payload(kk["application"]["id"], "LAIN", kk["resi"]["number"]))[
        "refusal"] == "wrong_office"
    assert lookup(ambil, dev, other.make_payload(99999, "DEMO", kk["resi"]["number"]))["refusal"] == "unknown"
    assert lookup(ambil, dev, kk["resi"]["number"][:-4] + "0999")["refusal"] == "unknown"  # typed number

    ktp = registered(app, "ktp_el")
    ktp_id = ktp["application"]["id"]
    kasi, kabid, fo1 = staff_client(app, "kasi"), staff_client(app, "kabid"), staff_client(app, "fo1")
    act(kasi, ktp_id, "approve", 1)
    act(kabid, ktp_id, "approve", 2)
    act(fo1, ktp_id, "approve", 3)  # printed, waiting at the activation step
    r = lookup(ambil, dev, ktp["resi"]["payload"])
    assert r["refusal"] == "ktp_not_activated" and "belum diaktivasi" in r["message"]
    en = post(ambil, f"/api/v1/pickup/{dev}/lookup?lang=en", {"code": ktp["resi"]["payload"]}).get_json()
    assert "not activated" in en["message"]

    assert refusals(app) == ["not_ready", "forged", "forged", "malformed", "foreign", "wrong_office", "unknown",
                             "unknown", "ktp_not_activated", "ktp_not_activated"]
    # Only pickup officers (and admins) of the office; only pickup stations.
    assert post(staff_client(app, "fo1"), f"/api/v1/pickup/{dev}/lookup", {"code": payload}).status_code == 403
    assert post(ambil, "/api/v1/pickup/999/lookup", {"code": payload}).status_code == 404
    assert post(ambil, f"/api/v1/pickup/{dev}/lookup", {}).status_code == 422


def test_applicant_hand_over_checks_the_nik_and_a_second_pickup_is_refused(app, tmp_path):
    ambil, dev = staff_client(app, "ambil"), pickup_device(app)
    kk = registered(app, "kk")
    to_ready(app, kk)
    r = lookup(ambil, dev, kk["resi"]["payload"])
    assert r["result"] == "ok" and r["refusal"] is None
    view = r["application"]
    assert (view["status"], view["shelf_location"], view["applicant_name"]) == ("ready", "RAK-B-03", NAME)
    assert view["applicant_nik_masked"] == "147101******0001" and r["delegable"] is True
    assert {c["key"] for c in r["checks"]} >= {"applicant", "representative", "signature"}
    assert lookup(ambil, dev, kk["resi"]["number"].lower().replace("-", " "))["result"] == "ok"  # typed number

    wrong = hand_over(ambil, dev, view, {"kind": "applicant", "nik": "1471011205900002"})
    assert wrong.status_code == 409 and wrong.get_json()["details"]["reason"] == "nik_mismatch"
    assert hand_over(ambil, dev, view, {"kind": "applicant", "nik": NIK}, signature="").status_code == 422
    not_png = "data:image/png;base64," + base64.b64encode(b"GIF89a...").decode()
    assert hand_over(ambil, dev, view, {"kind": "applicant", "nik": NIK}, signature=not_png).status_code == 422
    assert hand_over(ambil, dev, view, {"kind": "applicant", "nik": NIK}, version=1).status_code == 409

    done = hand_over(ambil, dev, view, {"kind": "applicant", "nik": NIK})
    assert done.status_code == 200, done.get_json()
    closed = done.get_json()["application"]
    assert closed["status"] == "collected" and closed["collector"]["kind"] == "applicant"
    assert closed["collector"]["signature"] == f"signatures/{view['id']}.png"
    assert (tmp_path / "signatures" / f"{view['id']}.png").read_bytes().startswith(b"\x89PNG")

    again = lookup(ambil, dev, kk["resi"]["payload"])
    assert again["refusal"] == "already_collected"
    assert again["details"]["collector_name"] == NAME and again["details"]["collected_at"] == closed["collected_at"]
    assert NAME in again["message"]
    second = hand_over(ambil, dev, view, {"kind": "applicant", "nik": NIK}, version=closed["version"])
    assert second.status_code == 409 and second.get_json()["details"]["reason"] == "already_collected"
    assert second.get_json()["details"]["collector_name"] == NAME
    assert refusals(app)[-2:] == ["already_collected", "already_collected"]
    assert "nik_mismatch" in refusals(app)


def test_a_representative_may_collect_a_kk_but_not_a_ktp_el(app):
    ambil, dev = staff_client(app, "ambil"), pickup_device(app)
    kk = registered(app, "kk")
    to_ready(app, kk)
    view = lookup(ambil, dev, kk["resi"]["payload"])["application"]
    missing = hand_over(ambil, dev, view, {**REP, "letter_number": " "})
    assert missing.status_code == 422 and missing.get_json()["details"]["field"] == "letter_number"
    bad_nik = hand_over(ambil, dev, view, {**REP, "nik": "123"})
    assert bad_nik.status_code == 422
    done = hand_over(ambil, dev, view, REP)
    assert done.status_code == 200, done.get_json()
    collector = done.get_json()["application"]["collector"]
    assert {k: collector[k] for k in REP} == REP
    assert lookup(ambil, dev, kk["resi"]["payload"])["details"]["collector_name"] == "Siti Aminah"

    ktp = registered(app, "ktp_el", nik="1471010101900003", name="Andi Wijaya")
    to_ready(app, ktp, "ktp_el")
    r = lookup(ambil, dev, ktp["resi"]["payload"])
    assert r["result"] == "ok" and r["delegable"] is False and "in_person" in {c["key"] for c in r["checks"]}
    refused = hand_over(ambil, dev, r["application"], REP)
    assert refused.status_code == 409 and refused.get_json()["details"]["reason"] == "not_delegable"
    ok = hand_over(ambil, dev, r["application"], {"kind": "applicant", "nik": "1471010101900003"})
    assert ok.status_code == 200 and ok.get_json()["application"]["status"] == "collected"


def test_station_rooms_lane_screen_and_join_station(app):
    """The lane screen (pickup device token, ``lane``) and the pickup officer's page
    (``join_station``) get the station's ``lane`` events; nobody else may join."""
    from tests.server.test_api import tokens
    from tests.sockets import screen_socket, staff_socket

    ambil, dev = staff_client(app, "ambil"), pickup_device(app)
    lane = screen_socket(app, auth={"token": tokens(app)["pickup"], "lane": True})
    assert lane.is_connected()
    assert not screen_socket(app, auth={"token": tokens(app)["kiosk"], "lane": True}).is_connected()
    page = staff_socket(app, ambil)
    assert page.emit("join_station", {"device_id": dev}, callback=True)["ok"] is True
    fo1 = staff_socket(app, staff_client(app, "fo1"))
    assert fo1.emit("join_station", {"device_id": dev}, callback=True)["error"] == "forbidden"
    assert page.emit("join_station", {"device_id": 999}, callback=True)["error"] == "not_found"
    assert not lane.emit("join_station", {"device_id": dev}, callback=True)  # no such event on "/"
    for client in (lane, page, fo1):
        client.get_received()

    kk = registered(app, "kk")
    lookup(ambil, dev, kk["resi"]["payload"])
    received = lane.get_received()
    assert [e["name"] for e in received] == ["lane"]  # the lane screen gets nothing of the office stream
    event = received[0]
    assert event["args"][0] == {"state": "refused", "refusal": "not_ready", "name": "B*** S******",
                                "due_date": kk["resi"]["due_date"]}
    assert [e["name"] for e in page.get_received() if e["name"] == "lane"] == ["lane"]
    assert [e for e in fo1.get_received() if e["name"] == "lane"] == []


def test_hand_over_with_a_collector_photo_jpeg_or_png_checked_and_stored_on_success_only(app, tmp_path):
    ambil, dev = staff_client(app, "ambil"), pickup_device(app)
    applicant = {"kind": "applicant", "nik": NIK}
    kk = registered(app, "kk")
    to_ready(app, kk)
    view = lookup(ambil, dev, kk["resi"]["payload"])["application"]
    jpeg = photo_bytes(".jpg")
    assert jpeg.startswith(b"\xff\xd8\xff")

    def refused(photo: str, lang: str = "id") -> dict:
        """The 422 refusing ``photo``, its message in ``lang`` (the caller's language)."""
        r = ambil.post(f"/api/v1/pickup/{dev}/hand-over", json={
            "application_id": view["id"], "expected_version": view["version"], "collector": applicant,
            "signature": signature_png(), "photo": photo}, headers={"X-CSRFToken": ambil.csrf, "Accept-Language": lang})
        assert r.status_code == 422, r.get_json()
        assert r.get_json()["details"]["field"] == "photo", r.get_json()
        return r.get_json()

    too_large = data_url(b"\xff\xd8\xff\xe0" + b"\0" * 1_600_000)
    assert "terlalu besar" in refused(too_large)["message"] and "too large" in refused(too_large, "en")["message"]
    text = refused(data_url(b"Surat kuasa, bukan foto\n", "text/plain"))
    assert "JPEG atau PNG" in text["message"]
    assert "JPEG atau PNG" in refused(data_url(b"GIF89a" + jpeg[6:]))["message"]  # bytes decide, not the mime
    assert "rusak" in refused(data_url(jpeg[:len(jpeg) // 2]))["message"]  # truncated JPEG
    assert "damaged" in refused(data_url(jpeg[:3] + b"\x00garbage" * 40), "en")["message"]
    assert "JPEG atau PNG" in refused("data:image/jpeg;base64,@@@not base64@@@")["message"]
    assert "rusak" in refused("data:image/jpeg;base64,/9j/4A=")["message"]  # bad base64 padding
    stale = hand_over(ambil, dev, view, applicant, photo=data_url(jpeg), version=1)
    assert stale.status_code == 409  # a valid photo, a failed hand-over: nothing written
    assert not list((tmp_path / "photos").glob("*")) and not list((tmp_path / "signatures").glob("*"))

    done = hand_over(ambil, dev, view, applicant, photo=data_url(jpeg))
    assert done.status_code == 200, done.get_json()
    collector = done.get_json()["application"]["collector"]
    assert collector["photo"] == f"photos/{view['id']}.jpg"
    assert (tmp_path / "photos" / f"{view['id']}.jpg").read_bytes() == jpeg
    assert sorted(p.name for p in (tmp_path / "photos").iterdir()) == [f"{view['id']}.jpg"]  # no temporary left
    assert (tmp_path / "signatures" / f"{view['id']}.png").exists()

    # A PNG photo (given a jpeg media type: the bytes decide the extension), for a representative.
    other = registered(app, "kk")
    to_ready(app, other)
    view2 = lookup(ambil, dev, other["resi"]["payload"])["application"]
    png = photo_bytes(".png")
    done2 = hand_over(ambil, dev, view2, REP, photo=data_url(png, "image/jpeg"))
    assert done2.status_code == 200, done2.get_json()
    assert done2.get_json()["application"]["collector"]["photo"] == f"photos/{view2['id']}.png"
    assert (tmp_path / "photos" / f"{view2['id']}.png").read_bytes() == png

    # Without a photo (absent or empty): as before, no "photo" key, no file.
    third = registered(app, "kk")
    to_ready(app, third)
    view3 = lookup(ambil, dev, third["resi"]["payload"])["application"]
    done3 = hand_over(ambil, dev, view3, applicant, photo="")
    assert done3.status_code == 200, done3.get_json()
    assert "photo" not in done3.get_json()["application"]["collector"]
    assert not list((tmp_path / "photos").glob(f"{view3['id']}.*"))
