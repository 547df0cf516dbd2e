"""AKAPELA routing (seed 001): every path of the SOP, each step on the kartu kendali, the
roles that may act, and two officers at once; on SQLite and PostgreSQL."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from server.models import AuditEntry, Complaint, ComplaintStep, Office
from server.services.actors import PUBLIC
from server.services.applications import approve
from server.services.complaints import answer, close, escalate, reply, route
from server.services.complaints.views import waiting_list
from server.services.errors import Forbidden, InvalidState, ValidationError, VersionConflict
from tests.conftest import wib
from tests.server.test_applications import kk_application, minutes
from tests.server.test_applications import staff as chain_staff  # noqa: F401  (fixture)

from .conftest import act, register

T0 = wib(9, 0)  # Monday 23 November 2026, 09:00 WIB


def steps(database, complaint_id: int) -> list[tuple]:
    with database.session() as s:
        return [(st.action, st.from_stage, st.to_stage, st.actor_role) for st in s.scalars(
            select(ComplaintStep).where(ComplaintStep.complaint_id == complaint_id).order_by(ComplaintStep.seq))]


def audit_actions(database, complaint_id: int) -> list[str]:
    with database.session() as s:
        return list(s.scalars(select(AuditEntry.action).where(
            AuditEntry.entity_type == "complaint", AuditEntry.entity_id == complaint_id).order_by(AuditEntry.id)))


def mine(database, office_id, role: str) -> list[int]:
    with database.session() as s:
        return [c.id for c in waiting_list(s, office_id, role)]


def test_information_answered_at_once_by_the_officer(database, office_id, people):
    fo = people["front_office"]
    c = register(database, office_id, fo, T0, kind="information", channel="whatsapp")
    assert (c.number, c.stage, c.holder_role, c.status) == ("AKP-20261123-0001", "officer", "front_office", "open")
    assert mine(database, office_id, "front_office") == [c.id] and mine(database, office_id, "section_head") == []
    c = act(database, close, c.id, fo, T0 + timedelta(minutes=3), "Syarat KK baru: F-1.01 dan surat pengantar RT/RW.")
    assert (c.status, c.outcome, c.stage, c.holder_role) == ("closed", "officer", None, None)
    assert c.first_answer_at == c.closed_at == T0 + timedelta(minutes=3)
    assert steps(database, c.id) == [("register", None, "officer", "front_office"),
                                     ("close", "officer", None, "front_office")]
    assert audit_actions(database, c.id) == ["complaint.register", "complaint.close"]
    assert mine(database, office_id, "front_office") == []
    second = register(database, office_id, fo, T0 + timedelta(hours=1))
    assert second.number == "AKP-20261123-0002"
    assert register(database, office_id, fo, T0 + timedelta(days=1)).number == "AKP-20261124-0001"


def test_policy_question_goes_to_the_section_head_then_the_division_head(database, office_id, people):
    fo, kasi, kabid = people["front_office"], people["section_head"], people["division_head"]
    c = register(database, office_id, fo, T0)
    c = act(database, answer, c.id, fo, T0 + timedelta(minutes=2), "Kami konsultasikan ke Kepala Seksi; mohon tunggu.")
    assert (c.status, c.first_answer_at) == ("answered", T0 + timedelta(minutes=2))
    c = act(database, escalate, c.id, fo, T0 + timedelta(minutes=3), "Apakah boleh diwakilkan?")
    assert (c.stage, c.holder_role) == ("section_head", "section_head")
    assert mine(database, office_id, "section_head") == [c.id] and mine(database, office_id, "front_office") == []
    assert mine(database, office_id, "manager") == [c.id]  # managers see every open contact
    with pytest.raises(Forbidden):  # the officer no longer holds it
        act(database, reply, c.id, fo, T0 + timedelta(minutes=4), "x")
    c = act(database, escalate, c.id, kasi, T0 + timedelta(minutes=8), "Ragu: kebijakan baru?")
    assert (c.stage, c.holder_role) == ("division_head", "division_head")
    with pytest.raises(InvalidState):  # the Kabid is the top of the SOP
        act(database, escalate, c.id, kabid, T0 + timedelta(minutes=9), "ke atas lagi")
    with pytest.raises(InvalidState):  # only the officer closes
        act(database, close, c.id, kabid, T0 + timedelta(minutes=9), "tutup")
    c = act(database, reply, c.id, kabid, T0 + timedelta(minutes=12), "Tidak dapat diwakilkan (perekaman).")
    assert (c.stage, c.holder_role) == ("officer", "front_office")
    c = act(database, close, c.id, fo, T0 + timedelta(minutes=14), "Perekaman KTP-el tidak dapat diwakilkan.")
    assert (c.outcome, c.first_answer_at, c.closed_at) == ("division_head", T0 + timedelta(minutes=2),
                                                            T0 + timedelta(minutes=14))
    assert [s[:3] for s in steps(database, c.id)] == [
        ("register", None, "officer"), ("answer", "officer", "officer"), ("escalate", "officer", "section_head"),
        ("escalate", "section_head", "division_head"), ("reply", "division_head", "officer"), ("close", "officer", None)]
    assert audit_actions(database, c.id) == ["complaint.register", "complaint.answer", "complaint.escalate",
                                             "complaint.escalate", "complaint.reply", "complaint.close"]
    with pytest.raises(InvalidState):
        act(database, answer, c.id, fo, T0 + timedelta(minutes=20), "lagi")


def test_data_entry_error_goes_to_the_editor_with_the_file(database, office_id, open_desk, people):
    app, _ = kk_application(database, office_id, open_desk, at=wib(8, 0))
    fo = people["front_office"]
    bare = register(database, office_id, fo, T0)
    with pytest.raises(ValidationError) as err:  # no file linked
        act(database, route, bare.id, fo, T0, "editor", "Nama salah ketik")
    assert err.value.details["field"] == "resi_number"
    with pytest.raises(ValidationError):
        act(database, route, bare.id, fo, T0, "nowhere", "x")
    c = register(database, office_id, fo, T0, resi_number=app.resi_number.lower().replace("-", " "))
    assert (c.application_id, c.resi_number) == (app.id, app.resi_number)
    c = act(database, route, c.id, fo, T0 + timedelta(minutes=1), "editor", "Nama ibu salah ketik di KK")
    assert (c.stage, c.holder_role) == ("editor", "front_office")  # the operator's role (applications.roles)
    with database.session() as s:
        step = s.scalars(select(ComplaintStep).where(ComplaintStep.complaint_id == c.id, ComplaintStep.action == "route")).one()
        assert step.data["application_id"] == app.id and step.data["resi_number"] == app.resi_number
    c = act(database, reply, c.id, fo, T0 + timedelta(minutes=30), "Sudah diperbaiki, dicetak ulang.")
    c = act(database, close, c.id, fo, T0 + timedelta(minutes=31), "Data sudah diperbaiki; KK dicetak ulang.")
    assert c.outcome == "editor"

    with database.session() as s:  # an office names its own editor role
        o = s.get(Office, office_id)
        o.settings = {**o.settings, "step_roles": {"operator_editor": "section_head"}}
    c2 = register(database, office_id, fo, T0, resi_number=app.resi_number)
    c2 = act(database, route, c2.id, fo, T0 + timedelta(minutes=1), "editor", "NIK salah")
    assert c2.holder_role == "section_head"


def test_unsigned_document_is_pushed_to_the_holder_of_its_current_step(database, office_id, open_desk, people,
                                                                        chain_staff):  # noqa: F811
    app, _ = kk_application(database, office_id, open_desk, at=wib(8, 0))
    assert app.step_code == "kasi_verify"
    fo, kasi = people["front_office"], people["section_head"]
    c = register(database, office_id, fo, T0, resi_number=app.resi_number)
    with pytest.raises(InvalidState):  # not finished: not for the pickup officer
        act(database, route, c.id, fo, T0, "pickup", "Sudah jadi?")
    c = act(database, route, c.id, fo, T0 + timedelta(minutes=1), "approval_chain", "Mohon paraf disegerakan")
    assert (c.stage, c.holder_role) == ("approval_chain", "section_head")
    with database.session() as s:
        step = s.scalars(select(ComplaintStep).where(ComplaintStep.complaint_id == c.id, ComplaintStep.action == "route")).one()
        assert (step.data["step_code"], step.data["holder_role"]) == ("kasi_verify", "section_head")
    assert c.id in mine(database, office_id, "section_head")
    with database.session() as s:  # the Kasi initials the file on the chain
        approve(s, app.id, actor=chain_staff["section_head"], expected_version=app.version, now=T0 + timedelta(minutes=5))
    c = act(database, reply, c.id, kasi, T0 + timedelta(minutes=6), "Sudah diparaf, diteruskan ke Kabid.")
    c = act(database, route, c.id, fo, T0 + timedelta(minutes=7), "approval_chain", "Mohon Kabid segera")
    assert c.holder_role == "division_head"  # the file is now at kabid_verify
    c = act(database, reply, c.id, people["division_head"], T0 + timedelta(minutes=9), "Sudah diparaf.")
    c = act(database, close, c.id, fo, T0 + timedelta(minutes=10), "Berkas sudah diparaf, menunggu TTE.")
    assert c.outcome == "approval_chain"


def test_finished_document_goes_to_the_pickup_officer(database, office_id, open_desk, people, chain_staff):  # noqa: F811
    app, _ = kk_application(database, office_id, open_desk, at=wib(8, 0))
    for role in ("section_head", "division_head", "head_of_office", "front_office"):
        with database.session() as s:
            version = s.get(type(app), app.id).version
            app = approve(s, app.id, actor=chain_staff[role], expected_version=version, now=T0)
    assert app.status == "ready"
    fo = people["front_office"]
    c = register(database, office_id, fo, T0, resi_number=app.resi_number, kind="information")
    with pytest.raises(InvalidState):  # finished: nothing left to sign
        act(database, route, c.id, fo, T0, "approval_chain", "x")
    c = act(database, route, c.id, fo, T0 + timedelta(minutes=1), "pickup", "KK sudah jadi, di rak?")
    assert (c.stage, c.holder_role) == ("pickup", "pickup_officer")
    assert mine(database, office_id, "pickup_officer") == [c.id]
    c = act(database, reply, c.id, people["pickup_officer"], T0 + timedelta(minutes=3), "Rak B-12, siap diambil.")
    c = act(database, close, c.id, fo, T0 + timedelta(minutes=4), "KK Anda sudah jadi; ambil dengan resi.")
    assert c.outcome == "pickup"


def test_roles_and_offices_that_may_not_act(database, office_id, people):
    fo = people["front_office"]
    c = register(database, office_id, fo, T0)
    for actor in (people["manager"], people["section_head"], PUBLIC):
        with pytest.raises(Forbidden):
            act(database, answer, c.id, actor, T0, "x")
    c = act(database, answer, c.id, people["admin"], T0 + timedelta(minutes=1), "Admin menjawab")
    assert c.status == "answered"
    with pytest.raises(ValidationError):  # an empty answer
        act(database, answer, c.id, fo, T0, "   ")
    with pytest.raises(ValidationError):
        act(database, close, c.id, fo, T0, "")
    with database.session() as s:
        assert s.get(Complaint, c.id).status == "answered"


def test_two_officers_at_once_exactly_one_wins(database, office_id, people):
    fo = people["front_office"]
    c = register(database, office_id, fo, T0)
    act(database, answer, c.id, fo, T0 + minutes(1), "Jawaban pertama")
    with pytest.raises(VersionConflict) as err, database.session() as s:  # saw version 1, it is 2 now
        escalate(s, c.id, "ke Kasi", actor=fo, expected_version=1, now=T0 + minutes(2))
    assert err.value.details["current_version"] == 2
    assert err.value.message == ("sudah diproses petugas lain: muat ulang (versi 2, bukan 1) / already processed by "
                                 "another officer: reload (now version 2, you sent 1)")

    sneaked = []  # a write landing between the read and the write: the compare-and-set refuses it

    def sneak_in(session, _ctx, _instances):
        if not sneaked:
            sneaked.append(session.connection().exec_driver_sql(
                f"UPDATE complaints SET version = version + 1 WHERE id = {c.id}"))

    with pytest.raises(VersionConflict), database.session() as s:
        event.listen(s, "before_flush", sneak_in)
        close(s, c.id, "tutup", actor=fo, expected_version=2, now=T0 + minutes(3))
    with database.session() as s:
        assert s.get(Complaint, c.id).status == "answered"
        assert s.scalar(select(func.count()).select_from(ComplaintStep).where(ComplaintStep.complaint_id == c.id)) == 2


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_two_officers_in_two_threads(database, office_id, people):
    fo = people["front_office"]
    c = register(database, office_id, fo, T0)
    barrier = threading.Barrier(2, timeout=20)
    results = []

    def officer(fn, *args):
        try:
            with database.session() as s:
                waited = []

                def both_read(*_):
                    if not waited:
                        waited.append(barrier.wait())
                event.listen(s, "before_flush", both_read)
                results.append(fn(s, c.id, *args, actor=fo, expected_version=1, now=T0 + minutes(5)).status)
        except Exception as exc:  # noqa: BLE001 - collected and checked below
            results.append(exc)

    threads = [threading.Thread(target=officer, args=(close, "Jawaban A")),
               threading.Thread(target=officer, args=(escalate, "Ke Kasi B"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(type(r).__name__ for r in results) == ["VersionConflict", "str"], results
    with database.session() as s:
        assert s.get(Complaint, c.id).version == 2
        assert s.scalar(select(func.count()).select_from(ComplaintStep).where(ComplaintStep.complaint_id == c.id)) == 2
