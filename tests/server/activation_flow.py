"""Helpers for tests that take a KTP-el file through print and activation over the API
(Flask test clients) with the activation station's agent as a Socket.IO test client
sending ``card`` events, as ``loket agent activation`` does from a PC/SC reader."""
from __future__ import annotations

from sqlalchemy import select

from server.models import Application, Device
from tests.server.test_api import post, staff_client, tokens
from tests.sockets import agent_socket

ATR = "3B8F8001804F0CA0000003060300030000000068"
READER = "Virtual PCD 00 00"


class CardAgent:
    """The demo activation station's agent: ``tap(uid)`` / ``lift()`` / ``unplug()``."""

    def __init__(self, app_, key: str = "activation") -> None:
        self.app = app_
        self.sio = agent_socket(app_, tokens(app_)[key])
        assert self.sio.is_connected()
        with app_.extensions["loket"].db.session() as s:
            self.device_id = s.scalars(select(Device).where(Device.name == "Aktivasi KTP-el Loket 7")).one().id

    def send(self, event: str, uid: str | None = None, reader: str = READER) -> dict:
        answer = self.sio.emit("card", {"event": event, "reader": reader, "uid": uid, "atr": ATR if uid else None},
                               callback=True)
        assert answer.get("ok"), answer
        return answer

    def tap(self, uid: str) -> dict:
        return self.send("inserted", uid)

    def lift(self, uid: str | None = None) -> dict:
        return self.send("removed", uid)

    def unplug(self) -> dict:
        return self.send("reader_removed")

    def close(self) -> None:
        self.sio.disconnect()


def version(app_, app_id: int) -> int:
    with app_.extensions["loket"].db.session() as s:
        return s.get(Application, app_id).version


def act(client, app_id: int, action: str, version_: int, **body):
    return post(client, f"/api/v1/applications/{app_id}/{action}", {"expected_version": version_, **body})


def to_print(app_, app_id: int) -> None:
    """Kasi and Kabid approve: the file is at its print step."""
    assert act(staff_client(app_, "kasi"), app_id, "approve", version(app_, app_id)).status_code == 200
    assert act(staff_client(app_, "kabid"), app_id, "approve", version(app_, app_id)).status_code == 200


def bind_and_print(app_, app_id: int, agent: CardAgent, uid: str) -> None:
    """The printing operator (fo1) taps the new card, binds it and finishes printing; the
    card is lifted off the reader afterwards."""
    fo1 = staff_client(app_, "fo1")
    agent.tap(uid)
    r = post(fo1, f"/api/v1/applications/{app_id}/card", {"device_id": agent.device_id,
                                                           "expected_version": version(app_, app_id)})
    assert r.status_code == 200, r.get_json()
    agent.lift(uid)
    r = act(fo1, app_id, "approve", version(app_, app_id))
    assert r.status_code == 200 and r.get_json()["application"]["step"]["code"] == "activate", r.get_json()


def activate(app_, app_id: int, agent: CardAgent, uid: str, resi_number: str, **complete) -> dict:
    """The activation officer opens the file, the applicant's card is tapped, the
    fingerprint matches, the checklist is ticked: completed (the card is lifted after)."""
    officer = staff_client(app_, "aktivasi")
    base = f"/api/v1/activation/{agent.device_id}"
    r = post(officer, f"{base}/open", {"ref": resi_number})
    assert r.status_code == 200, r.get_json()
    agent.tap(uid)
    session = officer.get(base).get_json()["session"]
    assert session["card"]["state"] == "match", session
    r = post(officer, f"{base}/fingerprint", {"result": "match", "expected_version": session["version"]})
    session = r.get_json()["session"]
    r = post(officer, f"{base}/complete", {"in_person": True, "identity_checked": True,
                                           "expected_version": session["version"], **complete})
    assert r.status_code == 200, r.get_json()
    agent.lift(uid)
    return r.get_json()["session"]
