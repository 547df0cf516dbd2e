"""The application detail view for the card bind at print (issue 5): a KTP-el file shows
the office's card reader stations and its bound card (null before the printing operator
binds one); other services show neither."""
from __future__ import annotations

from tests.server.activation_flow import CardAgent, act, to_print, version
from tests.server.test_api import app, post, staff_client  # noqa: F401  (app: fixture)
from tests.server.test_applications_api import registered

UID = "04A1B2C3D4E5F6"


def detail(client, app_id: int) -> dict:
    r = client.get(f"/api/v1/applications/{app_id}")
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_detail_shows_card_readers_and_the_bound_card(app):
    agent = CardAgent(app)
    try:
        fo1 = staff_client(app, "fo1")
        app_id = registered(app, "ktp_el", nik="1471011205900001", name="Budi Santoso")["application"]["id"]
        to_print(app, app_id)
        data = detail(fo1, app_id)
        assert data["card"] is None
        assert data["card_readers"] == [{"id": agent.device_id, "name": "Aktivasi KTP-el Loket 7"}]
        assert data["application"]["step"]["code"] == "print"

        agent.tap(UID)
        r = post(fo1, f"/api/v1/applications/{app_id}/card", {"device_id": agent.device_id,
                                                              "expected_version": version(app, app_id)})
        assert r.status_code == 200, r.get_json()
        card = detail(fo1, app_id)["card"]
        assert (card["uid"], card["reader"], card["activated_at"], card["blocked"]) == (
            UID, "Virtual PCD 00 00", None, False)
        assert card["bound_at"] and card["atr"].startswith("3B8F")

        # After the print step the binding is still shown (read-only on the page).
        agent.lift(UID)
        assert act(fo1, app_id, "approve", version(app, app_id)).status_code == 200
        later = detail(fo1, app_id)
        assert later["application"]["step"]["code"] == "activate" and later["card"]["uid"] == UID
    finally:
        agent.close()


def test_other_services_have_no_card_part(app):
    app_id = registered(app, "kk", nik="1471010101900005", name="Rina")["application"]["id"]
    data = detail(staff_client(app, "fo1"), app_id)
    assert "card" not in data and "card_readers" not in data
