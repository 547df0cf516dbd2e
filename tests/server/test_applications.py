"""Applications: intake, the SOP approval chain and the kartu kendali (issue 4), each on
SQLite and on PostgreSQL (the ``database`` fixture is parametrized)."""
from __future__ import annotations

import threading
import tomllib
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest
from sqlalchemy import event, func, select, text

from server.models import Application, ApplicationSequence, AuditEntry, ControlCardEntry, Office, Service
from server.services import events
from server.services.accounts import create_device, create_staff
from server.services.activation.cards import bind_card, record_card_event
from server.services.actors import PUBLIC, SYSTEM, Actor
from server.services.applications import (
    STALE, RequirementsMissing, approve, check_requirements, control_card, hand_over, register_application,
    return_for_correction, worklist,
)
from server.services.applications.steps import counter_step_count, handover_index, return_target
from server.services.catalog import DEMO_CATALOG, load_catalog
from server.services.errors import Forbidden, InvalidState, ValidationError
from server.services.queue import call_next, issue_ticket, start
from tests.conftest import wib
from tests.server.conftest import office

T0 = wib(8, 0)  # Monday 23 November 2026, 08:00 WIB
NIK = "1471011205900001"  # Pekanbaru (14 71 01), born 12-05-1990, male, serial 0001
KK_ALL = [0, 1, 2, 3, 4]  # the unconditional KK requirements
KTP_RENEWAL = ["KTP lama", 4, "Biometric recording done"]  # by Indonesian text, index, English text
CHAIN_ROLES = ("section_head", "division_head", "head_of_office", "front_office", "activation_officer",
               "pickup_officer", "admin")


def wib_at(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=ZoneInfo("Asia/Jakarta")).astimezone(timezone.utc)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


@pytest.fixture
def staff(database, office_id):
    """{role: Actor}: one officer of each chain role (the front office one works the back office)."""
    out = {}
    with database.session() as s:
        for role in CHAIN_ROLES:
            user = create_staff(s, f"{role}_1", "password123", role, full_name=role.title(), office_id=office_id, actor=SYSTEM)
            out[role] = Actor("staff", user.id, office_id=office_id, role=role)
    return out


def served_ticket(database, office_id, desk, service: str, at: datetime) -> int:
    """Issue a ticket at ``at``, call it 10 minutes later (finishing the counter's ticket
    before it) and start serving at +12."""
    with database.session() as s:
        ticket = issue_ticket(s, office(s, office_id), service, actor=PUBLIC, now=at)
    with database.session() as s:
        call = call_next(s, desk.counter_id, actor=desk.actor, finish_current=True, now=at + minutes(10))
        assert call.ticket_id == ticket.id
    with database.session() as s:
        start(s, desk.counter_id, actor=desk.actor, now=at + minutes(12))
    return ticket.id


def register(database, ticket_id: int, actor: Actor, at: datetime, **kw) -> Application:
    args = {"nik": NIK, "name": "Budi  Santoso", "phone": "0812-3456-7890", "email": "budi@example.id",
            "confirmed": KK_ALL, "case": None, **kw}
    with database.session() as s:
        return register_application(s, ticket_id, actor=actor, now=at, **args)


def act(database, fn, app_id: int, actor: Actor, at: datetime, *args, **kw) -> Application:
    """Run a chain action at the application's current version, in its own transaction."""
    with database.session() as s:
        version = s.get(Application, app_id).version
        return fn(s, app_id, *args, actor=actor, expected_version=version, now=at, **kw)


def card(database, app_id: int) -> list[ControlCardEntry]:
    with database.session() as s:
        return s.scalars(select(ControlCardEntry).where(ControlCardEntry.application_id == app_id)
                         .order_by(ControlCardEntry.seq)).all()


def listed(database, office_id, role: str) -> list[int]:
    with database.session() as s:
        return [a.id for a in worklist(s, office_id, role)]


def kk_application(database, office_id, open_desk, at=T0) -> tuple[Application, object]:
    desk = open_desk(1, at)
    return register(database, served_ticket(database, office_id, desk, "kk", at), desk.actor, at + minutes(27)), desk


def test_kk_from_served_ticket_to_hand_over(database, office_id, open_desk, staff):
    published = []
    events.install(database.Session, lambda evs, _entries: published.extend(evs))
    app, desk = kk_application(database, office_id, open_desk)
    assert app.resi_number == "DEMO-B-20261123-0001"
    assert (app.status, app.step_index, app.step_code, app.step_role) == ("in_progress", 4, "kasi_verify", "section_head")
    assert app.due_date == date(2026, 11, 26)  # Monday + 3 working days
    assert app.applicant_name == "Budi Santoso" and app.phone == "081234567890" and app.version == 1
    assert app.submitted_at == app.step_entered_at == T0 + minutes(27) and app.created_by == desk.actor.id
    assert [r["confirmed"] for r in app.requirements if r["applies"]] == [True] * 5

    # The counter steps, read from the ticket: called 08:10, arrived 08:12, registered 08:27.
    lines = card(database, app.id)
    assert [(e.action, e.from_step, e.to_step) for e in lines] == [
        ("register", "submit", "receive"), ("register", "receive", "register"),
        ("register", "register", "forward"), ("register", "forward", "kasi_verify")]
    assert [e.minutes_in_step for e in lines] == pytest.approx([2.0, 15 * 5 / 18, 15 * 10 / 18, 15 * 3 / 18], abs=0.01)
    assert lines[0].at == T0 + minutes(12) and lines[-1].at == T0 + minutes(27)
    assert lines[0].data["queue_wait_minutes"] == 10.0 and not any(e.late for e in lines)
    assert {e.actor_id for e in lines} == {desk.actor.id}

    assert listed(database, office_id, "section_head") == [app.id]
    assert listed(database, office_id, "division_head") == listed(database, office_id, "front_office") == []
    assert listed(database, office_id, "admin") == [app.id]

    act(database, approve, app.id, staff["section_head"], T0 + minutes(60))  # 33 min: late (30)
    act(database, approve, app.id, staff["division_head"], T0 + minutes(80))  # 20 min
    assert listed(database, office_id, "head_of_office") == [app.id]
    act(database, approve, app.id, staff["head_of_office"], T0 + minutes(95))  # Kadis signs, 15 min: late (10)
    assert listed(database, office_id, "front_office") == [app.id]  # register + stamp
    with pytest.raises(InvalidState):
        act(database, hand_over, app.id, staff["pickup_officer"], T0 + minutes(96), collector={"name": "Budi"})
    ready = act(database, approve, app.id, staff["front_office"], T0 + minutes(105), shelf_location=" RAK-B-03 ")
    assert (ready.status, ready.step_code, ready.ready_at, ready.shelf_location) == (
        "ready", "hand_over", T0 + minutes(105), "RAK-B-03")
    assert listed(database, office_id, "pickup_officer") == [app.id]
    with pytest.raises(InvalidState):  # the hand-over step is done by hand_over
        act(database, approve, app.id, staff["pickup_officer"], T0 + minutes(106))

    next_day = wib(10, 0, day=24)
    done = act(database, hand_over, app.id, staff["pickup_officer"], next_day,
               collector={"kind": "applicant", "name": "Budi Santoso", "nik": NIK}, arrived_at=next_day - minutes(3))
    assert (done.status, done.step_code, done.step_index, done.collected_at) == ("collected", None, 10, next_day)
    assert done.collector["kind"] == "applicant" and done.version == 6
    assert all(listed(database, office_id, role) == [] for role in CHAIN_ROLES)

    lines = card(database, app.id)
    assert [(e.action, e.from_step, e.to_step, e.late) for e in lines[4:]] == [
        ("approve", "kasi_verify", "kabid_verify", True), ("approve", "kabid_verify", "kadis_sign", False),
        ("approve", "kadis_sign", "register_stamp", True), ("approve", "register_stamp", "hand_over", False),
        ("hand_over", "hand_over", "sign_receipt", False), ("hand_over", "sign_receipt", None, False)]
    assert [e.minutes_in_step for e in lines[4:]] == [33.0, 20.0, 15.0, 10.0, 3.0, None]
    assert [e.seq for e in lines] == list(range(1, 11))
    assert lines[7].data == {"shelf_location": "RAK-B-03"} and lines[8].actor_role == "pickup_officer"

    with database.session() as s:
        audit = s.execute(select(AuditEntry.action, AuditEntry.from_state, AuditEntry.to_state)
                          .where(AuditEntry.entity_type == "application").order_by(AuditEntry.id)).all()
    assert audit == [("application.register", None, "in_progress")] + [("application.approve", "in_progress", "in_progress")] * 3 + [
        ("application.approve", "in_progress", "ready"), ("application.hand_over", "ready", "collected")]
    changed = [e.data["application"] for e in published if e.name == events.APPLICATION_CHANGED]
    assert [c["step_code"] for c in changed] == ["kasi_verify", "kabid_verify", "kadis_sign", "register_stamp", "hand_over", None]
    assert changed[0]["name"] == "B*** S******" and NIK not in repr(changed)


def test_ktp_el_through_print_waits_for_the_activation_officer(database, office_id, open_desk, staff):
    desk = open_desk(2, T0)
    app = register(database, served_ticket(database, office_id, desk, "ktp_el", T0), desk.actor, T0 + minutes(30),
                   confirmed=KTP_RENEWAL, case="renewal")
    assert app.resi_number == "DEMO-A-20261123-0001" and app.cases == ["renewal"]
    assert [e.from_step for e in card(database, app.id)] == ["submit", "receive", "register", "forward"]
    act(database, approve, app.id, staff["section_head"], T0 + minutes(50))
    printing = act(database, approve, app.id, staff["division_head"], T0 + minutes(70))
    assert (printing.step_code, printing.step_role) == ("print", "printing_operator")
    # No printing-operator login role: print goes to the front office by default.
    assert listed(database, office_id, "front_office") == [app.id]
    assert listed(database, office_id, "section_head") == []
    with pytest.raises(Forbidden):
        act(database, approve, app.id, staff["section_head"], T0 + minutes(80))
    with pytest.raises(InvalidState) as err:  # printing needs the new card bound (issue 5)
        act(database, approve, app.id, staff["front_office"], T0 + minutes(82))
    assert err.value.code == "card_not_bound"
    bind_card_at_print(database, office_id, app.id, staff["front_office"], T0 + minutes(84))
    printed = act(database, approve, app.id, staff["front_office"], T0 + minutes(85))
    assert (printed.status, printed.step_code, printed.step_role, printed.ready_at) == (
        "in_progress", "activate", "activation_officer", None)
    assert listed(database, office_id, "activation_officer") == [app.id]
    assert listed(database, office_id, "pickup_officer") == listed(database, office_id, "front_office") == []
    with pytest.raises(InvalidState) as err:  # activation is the activation counter's (card + fingerprint)
        act(database, approve, app.id, staff["activation_officer"], T0 + minutes(90))
    assert err.value.code == "activation_required"


def bind_card_at_print(database, office_id, app_id: int, actor: Actor, at: datetime, uid: str = "04A1B2C3D4E5F6") -> None:
    """A card reader station reads the new card and the printing operator binds it."""
    with database.session() as s:
        device, _token = create_device(s, office_id, "activation", f"Pembaca {uid}", actor=SYSTEM)
        record_card_event(s, device, {"event": "inserted", "uid": uid, "atr": "3B8F80", "reader": "PCD"}, at)
        version = s.get(Application, app_id).version
        bind_card(s, app_id, device.id, actor=actor, expected_version=version, now=at)


def test_printing_operator_role_is_configurable_per_office(database, office_id, open_desk, staff):
    desk = open_desk(2, T0)
    app = register(database, served_ticket(database, office_id, desk, "ktp_el", T0), desk.actor, T0 + minutes(30),
                   confirmed=KTP_RENEWAL, case="renewal")
    act(database, approve, app.id, staff["section_head"], T0 + minutes(50))
    act(database, approve, app.id, staff["division_head"], T0 + minutes(70))
    with database.session() as s:
        o = s.get(Office, office_id)
        o.settings = {**o.settings, "step_roles": {"printing_operator": "section_head"}}
    assert listed(database, office_id, "section_head") == [app.id]
    assert listed(database, office_id, "front_office") == []
    with pytest.raises(Forbidden):
        act(database, approve, app.id, staff["front_office"], T0 + minutes(80))
    bind_card_at_print(database, office_id, app.id, staff["section_head"], T0 + minutes(80))
    assert act(database, approve, app.id, staff["section_head"], T0 + minutes(80)).step_code == "activate"


def test_missing_requirements_register_nothing(database, office_id, open_desk):
    desk = open_desk(1, T0)
    ticket_id = served_ticket(database, office_id, desk, "kk", T0)
    with pytest.raises(RequirementsMissing) as err:
        register(database, ticket_id, desk.actor, T0 + minutes(20), confirmed=[0, 1, 2])
    assert [(m["index"], m["en"]) for m in err.value.missing] == [
        (3, "Family card request F-1.15"),
        (4, "Supporting documents (birth certificate, diploma, marriage book, passport ...)")]
    assert err.value.details["missing"] == err.value.missing and err.value.code == "requirements_missing"
    assert "Formulir permohonan KK F-1.15" in err.value.message
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Application)) == 0
        assert s.scalar(select(func.count()).select_from(ControlCardEntry)) == 0
        assert s.scalar(select(func.count()).select_from(ApplicationSequence)) == 0
        assert s.scalar(select(func.count()).where(AuditEntry.entity_type == "application")) == 0
    # Complete now: registered, and it is the day's first resi.
    assert register(database, ticket_id, desk.actor, T0 + minutes(25)).resi_number.endswith("-0001")


def test_conditional_requirements_follow_the_case(database, office_id, open_desk):
    with database.session() as s:
        ktp = s.scalars(select(Service).where(Service.office_id == office_id, Service.code == "ktp_el")).one()
        kk = s.scalars(select(Service).where(Service.office_id == office_id, Service.code == "kk")).one()
    missing = lambda svc, confirmed, case=None: [m["index"] for m in check_requirements(svc, confirmed, case)]  # noqa: E731
    assert missing(ktp, []) == [4, 5]  # copy of KK, biometric recording: always
    assert missing(ktp, [4, 5], "first-time") == [0, 1]
    assert missing(ktp, [4, 5], "renewal") == [2]
    assert missing(ktp, [2, 4, 5], "lost") == [3]  # the police report; the old KTP is not asked for
    assert missing(ktp, [4, 5, 3], ["renewal", "lost"]) == [2]
    assert missing(kk, KK_ALL, ["moved-in", "data-differ"]) == [5, 6]
    assert missing(kk, KK_ALL) == []
    with pytest.raises(ValidationError):
        check_requirements(ktp, [], "renewl")
    with pytest.raises(ValidationError):
        check_requirements(ktp, [99])
    with pytest.raises(ValidationError):
        check_requirements(ktp, ["Surat nikah"])

    desk = open_desk(1, T0)
    ticket_id = served_ticket(database, office_id, desk, "ktp_el", T0)
    with pytest.raises(RequirementsMissing) as err:
        register(database, ticket_id, desk.actor, T0 + minutes(20), confirmed=[4, 5], case="lost")
    assert [m["when"] for m in err.value.missing] == ["lost"]
    app = register(database, ticket_id, desk.actor, T0 + minutes(20), confirmed=[4, 5, 3], case="lost")
    assert [(r["index"], r["applies"], r["confirmed"]) for r in app.requirements] == [
        (0, False, False), (1, False, False), (2, False, False), (3, True, True), (4, True, True), (5, True, True)]


def test_intake_checks_ticket_officer_nik_and_contact(database, office_id, open_desk):
    desk, other = open_desk(1, T0), open_desk(2, T0)
    ticket_id = served_ticket(database, office_id, desk, "kk", T0)
    with pytest.raises(Forbidden):  # not the officer of the ticket's counter
        register(database, ticket_id, other.actor, T0 + minutes(20))
    with pytest.raises(ValidationError) as err:
        register(database, ticket_id, desk.actor, T0 + minutes(20), nik="1471013205900001")  # day 32
    assert err.value.details["field"] == "nik"
    with pytest.raises(ValidationError):
        register(database, ticket_id, desk.actor, T0 + minutes(20), phone="", email="")
    with pytest.raises(ValidationError):
        register(database, ticket_id, desk.actor, T0 + minutes(20), email="not-an-address")
    with database.session() as s:
        waiting = issue_ticket(s, office(s, office_id), "kk", actor=PUBLIC, now=T0 + minutes(1))
    with pytest.raises(InvalidState):  # waiting, not at a counter
        register(database, waiting.id, desk.actor, T0 + minutes(20))
    app = register(database, ticket_id, desk.actor, T0 + minutes(20), nik="14.7101.520590.0002", email=None)
    assert app.applicant_nik == "1471015205900002" and app.email == ""


def test_return_for_correction_and_reapproval(database, office_id, open_desk, staff):
    app, _ = kk_application(database, office_id, open_desk)
    act(database, approve, app.id, staff["section_head"], T0 + minutes(40))
    with pytest.raises(ValidationError):
        act(database, return_for_correction, app.id, staff["division_head"], T0 + minutes(50), "   ")
    with pytest.raises(ValidationError):
        act(database, return_for_correction, app.id, staff["division_head"], T0 + minutes(50), "x" * 301)
    back = act(database, return_for_correction, app.id, staff["division_head"], T0 + minutes(50),
               "Nama ayah tidak sesuai akta / father's name differs from the certificate")
    assert (back.status, back.step_code) == ("returned", "kasi_verify")  # Kabid → Kasi
    assert listed(database, office_id, "section_head") == [app.id]
    again = act(database, approve, app.id, staff["section_head"], T0 + minutes(60))
    assert (again.status, again.step_code) == ("in_progress", "kabid_verify")
    # Kasi returns to the front office's register step (check, register), not receive or forward.
    act(database, approve, app.id, staff["division_head"], T0 + minutes(70))
    assert act(database, return_for_correction, app.id, staff["head_of_office"], T0 + minutes(75),
               "paraf Kabid kurang").step_code == "kabid_verify"
    act(database, return_for_correction, app.id, staff["division_head"], T0 + minutes(80), "cek ulang Kasi")
    to_fo = act(database, return_for_correction, app.id, staff["section_head"], T0 + minutes(85), "F-1.06 tidak ditandatangani")
    assert (to_fo.status, to_fo.step_index, to_fo.step_code) == ("returned", 2, "register")
    assert listed(database, office_id, "front_office") == [app.id]
    with pytest.raises(InvalidState):  # nothing before the counter's own steps but the citizen
        act(database, return_for_correction, app.id, staff["front_office"], T0 + minutes(86), "x")
    act(database, approve, app.id, staff["front_office"], T0 + minutes(95))
    assert act(database, approve, app.id, staff["front_office"], T0 + minutes(96)).step_code == "kasi_verify"

    lines = card(database, app.id)
    returns = [(e.from_step, e.to_step, e.reason[:10]) for e in lines if e.action == "return"]
    assert returns == [("kabid_verify", "kasi_verify", "Nama ayah "), ("kadis_sign", "kabid_verify", "paraf Kabi"),
                       ("kabid_verify", "kasi_verify", "cek ulang "), ("kasi_verify", "register", "F-1.06 tid")]
    with database.session() as s:
        view = control_card(s, app.id, now=T0 + minutes(100))
    kasi = next(st for st in view["steps"] if st["code"] == "kasi_verify")
    assert [v["action"] for v in kasi["visits"]] == ["approve", "approve", "return"]
    assert kasi["state"] == "current" and view["current"]["minutes_so_far"] == 4.0
    assert next(st for st in view["steps"] if st["code"] == "kabid_verify")["state"] == "pending"


def test_a_ready_file_returned_loses_its_shelf(database, office_id, open_desk, staff):
    app, _ = kk_application(database, office_id, open_desk)
    for role, at in (("section_head", 40), ("division_head", 50)):
        act(database, approve, app.id, staff[role], T0 + minutes(at))
    with pytest.raises(ValidationError):  # the shelf is recorded only when the file becomes ready
        act(database, approve, app.id, staff["head_of_office"], T0 + minutes(55), shelf_location="R1")
    act(database, approve, app.id, staff["head_of_office"], T0 + minutes(55))
    act(database, approve, app.id, staff["front_office"], T0 + minutes(60), shelf_location="R1")
    back = act(database, return_for_correction, app.id, staff["pickup_officer"], T0 + minutes(70), "cap buram")
    assert (back.status, back.step_code, back.ready_at, back.shelf_location) == ("returned", "register_stamp", None, None)


def test_wrong_role_is_refused(database, office_id, open_desk, staff):
    app, desk = kk_application(database, office_id, open_desk)
    for role in ("division_head", "front_office", "pickup_officer", "head_of_office"):
        with pytest.raises(Forbidden):
            act(database, approve, app.id, staff[role], T0 + minutes(40))
    with pytest.raises(Forbidden):
        act(database, approve, app.id, Actor("staff", staff["section_head"].id, office_id=office_id + 1,
                                             role="section_head"), T0 + minutes(40))
    with pytest.raises(Forbidden):
        act(database, approve, app.id, Actor("device", 1, office_id=office_id), T0 + minutes(40))
    assert len(card(database, app.id)) == 4
    assert act(database, approve, app.id, staff["admin"], T0 + minutes(40)).step_code == "kabid_verify"
    assert card(database, app.id)[-1].actor_role == "admin"


def test_two_officers_at_once_exactly_one_succeeds(database, office_id, open_desk, staff):
    app, _ = kk_application(database, office_id, open_desk)
    with database.session() as s:
        kasi2 = create_staff(s, "kasi_2", "password123", "section_head", full_name="Kasi 2", office_id=office_id, actor=SYSTEM)
    other = Actor("staff", kasi2.id, office_id=office_id, role="section_head")
    with database.session() as s:
        approve(s, app.id, actor=staff["section_head"], expected_version=1, now=T0 + minutes(40))
    for fn, args in ((approve, ()), (return_for_correction, ("salah",))):
        with pytest.raises(InvalidState) as err, database.session() as s:
            fn(s, app.id, *args, actor=other, expected_version=1, now=T0 + minutes(41))
        assert "already processed by another officer" in err.value.message and err.value.message == STALE

    # A write landing between the read and the write: the compare-and-set on version refuses it.
    sneaked = []

    def sneak_in(session, _ctx, _instances):
        if not sneaked:  # once, before the approval's own UPDATE
            sneaked.append(session.connection().execute(
                text("UPDATE applications SET version = version + 1 WHERE id = :id"), {"id": app.id}))

    with pytest.raises(InvalidState) as err, database.session() as s:
        event.listen(s, "before_flush", sneak_in)
        approve(s, app.id, actor=staff["division_head"], expected_version=2, now=T0 + minutes(50))
    assert err.value.message == STALE
    assert [e.from_step for e in card(database, app.id)][4:] == ["kasi_verify"]


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_two_officers_in_two_threads_on_postgres(database, office_id, open_desk, staff):
    app, _ = kk_application(database, office_id, open_desk)
    with database.session() as s:
        kasi2 = create_staff(s, "kasi_2", "password123", "section_head", full_name="Kasi 2", office_id=office_id, actor=SYSTEM)
    officers = [staff["section_head"], Actor("staff", kasi2.id, office_id=office_id, role="section_head")]
    barrier = threading.Barrier(2, timeout=20)
    results = []

    def officer(actor):
        # Both read version 1 and pass every check before either writes (the barrier sits
        # in the first flush); the second UPDATE then waits on the first one's row lock.
        try:
            with database.session() as s:
                waited = []

                def both_read(*_):
                    if not waited:
                        waited.append(barrier.wait())
                event.listen(s, "before_flush", both_read)
                results.append(approve(s, app.id, actor=actor, expected_version=1, now=T0 + minutes(40)).version)
        except Exception as exc:  # noqa: BLE001 - collected and checked below
            results.append(exc)

    threads = [threading.Thread(target=officer, args=(a,)) for a in officers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(map(type, results), key=str) == sorted([int, InvalidState], key=str), results
    assert next(r for r in results if isinstance(r, InvalidState)).message == STALE
    with database.session() as s:
        assert s.get(Application, app.id).version == 2
    assert [e.action for e in card(database, app.id)].count("approve") == 1


def test_late_steps_and_overdue_across_good_friday_and_a_weekend(database, office_id, open_desk, staff):
    assert "Good Friday" in holidays.country_holidays("ID", years=2026, language="en_US")[date(2026, 4, 3)]
    thursday = wib_at(2026, 4, 2, 10, 0)
    app, _ = kk_application(database, office_id, open_desk, at=thursday)
    # Day 0 Thursday 2 April; Friday 3 April is Good Friday; 4-5 April the weekend.
    assert app.due_date == date(2026, 4, 8)
    act(database, approve, app.id, staff["section_head"], thursday + minutes(27 + 25))  # 25 min: on time
    monday = wib_at(2026, 4, 6, 9, 0)
    act(database, approve, app.id, staff["division_head"], monday)  # held over the long weekend

    def view(at):
        with database.session() as s:
            return control_card(s, app.id, now=at)

    assert view(wib_at(2026, 4, 8, 15, 0))["overdue_working_days"] == 0  # due day
    assert view(wib_at(2026, 4, 9, 8, 0))["overdue_working_days"] == 1
    assert view(wib_at(2026, 4, 11, 12, 0))["overdue_working_days"] == 2  # Saturday: Thu, Fri missed
    card_view = view(wib_at(2026, 4, 13, 9, 30))
    assert card_view["overdue_working_days"] == 3 and card_view["due_date"] == "2026-04-08"
    current = card_view["current"]
    assert (current["code"], current["late"], current["minutes_so_far"]) == ("kadis_sign", True, 7 * 24 * 60 + 30)
    kabid = next(st for st in card_view["steps"] if st["code"] == "kabid_verify")
    held = (monday - (thursday + minutes(52))).total_seconds() / 60
    assert (kabid["state"], kabid["late"], kabid["minutes"]) == ("done", True, pytest.approx(held))
    assert [d["code"] for d in card_view["delays"]] == ["kadis_sign", "kabid_verify"]
    assert next(st for st in card_view["steps"] if st["code"] == "kasi_verify")["late"] is False

    # Ready on Friday 10 April (2 working days late): the count stops there.
    act(database, approve, app.id, staff["head_of_office"], wib_at(2026, 4, 10, 9, 0))
    act(database, approve, app.id, staff["front_office"], wib_at(2026, 4, 10, 9, 10))
    ready = view(wib_at(2026, 4, 20, 9, 0))
    assert ready["overdue_working_days"] == 2
    assert ready["current"]["waits_for_citizen"] and not ready["current"]["late"]


def test_control_card_view_shows_each_step_against_its_standard(database, office_id, open_desk, staff):
    app, desk = kk_application(database, office_id, open_desk)
    act(database, approve, app.id, staff["section_head"], T0 + minutes(60))
    with database.session() as s:
        view = control_card(s, app.id, now=T0 + minutes(100))
    assert view["application"]["resi_number"] == app.resi_number and view["application"]["version"] == 2
    assert view["overdue_working_days"] == 0 and view["due_date"] == "2026-11-26"
    rows = {st["code"]: st for st in view["steps"]}
    assert [st["state"] for st in view["steps"]] == ["done"] * 5 + ["current"] + ["pending"] * 4
    submit = rows["submit"]
    assert (submit["entered_at"], submit["left_at"], submit["minutes"], submit["late"]) == (
        (T0 + minutes(10)).isoformat(), (T0 + minutes(12)).isoformat(), 2.0, False)
    assert rows["receive"]["entered_at"] == submit["left_at"]
    assert rows["kasi_verify"]["entered_at"] == (T0 + minutes(27)).isoformat()
    assert (rows["kasi_verify"]["minutes"], rows["kasi_verify"]["late"]) == (33.0, True)
    assert rows["kasi_verify"]["visits"][0]["actor_id"] == staff["section_head"].id
    assert (rows["kabid_verify"]["minutes"], rows["kabid_verify"]["late"], rows["kabid_verify"]["staff_role"]) == (
        40.0, True, "division_head")
    assert rows["kadis_sign"]["minutes"] is None
    assert view["current"] == {
        "index": 5, "code": "kabid_verify", "role": "division_head", "entered_at": (T0 + minutes(60)).isoformat(),
        "minutes_so_far": 40.0, "standard_minutes": 30.0, "late": True, "waits_for_citizen": False}
    assert view["delays"] == [{"code": "kabid_verify", "minutes_over": 10.0}, {"code": "kasi_verify", "minutes_over": 3.0}]
    assert rows["hand_over"]["staff_role"] == "pickup_officer" and rows["sign_receipt"]["staff_role"] is None


def test_steps_copied_at_registration_survive_a_catalog_change(database, office_id, open_desk, staff):
    app, desk = kk_application(database, office_id, open_desk)
    with open(DEMO_CATALOG, "rb") as fh:
        data = tomllib.load(fh)
    kk = next(s for s in data["services"] if s["code"] == "kk")
    kk["steps"] = [s for s in kk["steps"] if s["code"] not in ("kabid_verify", "kadis_sign")]
    kk["completion_working_days"] = 5
    with database.session() as s:
        load_catalog(s, data, actor=SYSTEM)
    # The file in flight keeps the chain it was registered with.
    for role, code in (("section_head", "kabid_verify"), ("division_head", "kadis_sign"),
                       ("head_of_office", "register_stamp"), ("front_office", "hand_over")):
        assert act(database, approve, app.id, staff[role], T0 + minutes(60)).step_code == code
    with database.session() as s:
        assert control_card(s, app.id, now=T0 + minutes(61))["application"]["completion_working_days"] == 3
    # A new file follows the new catalog.
    new_ticket = served_ticket(database, office_id, desk, "kk", T0 + minutes(70))
    newer = register(database, new_ticket, desk.actor, T0 + minutes(95))
    assert [s["code"] for s in newer.steps][4:6] == ["kasi_verify", "register_stamp"]
    assert newer.due_date == date(2026, 11, 30) and newer.resi_number == "DEMO-B-20261123-0002"
    assert act(database, approve, newer.id, staff["section_head"], T0 + minutes(99)).step_code == "register_stamp"


def test_pelita1_is_closed_when_the_email_is_sent(database, office_id, open_desk, staff):
    desk = open_desk(4, T0)
    app = register(database, served_ticket(database, office_id, desk, "pelita1", T0), desk.actor, T0 + minutes(25),
                   confirmed=[0, 1, 2, 3])
    assert app.step_code == "kasi_verify" and app.due_date == date(2026, 11, 24)
    assert [e.from_step for e in card(database, app.id)] == ["take_number", "check", "entry", "draft",
                                                              "kia_print_request", "receipt"]
    for role in ("section_head", "division_head", "head_of_office"):
        act(database, approve, app.id, staff[role], T0 + minutes(40))
    sent = act(database, approve, app.id, staff["front_office"], T0 + minutes(45))
    assert (sent.status, sent.step_code, sent.collected_at, sent.ready_at) == ("collected", None, T0 + minutes(45), None)
    assert card(database, app.id)[-1].to_step is None
    with pytest.raises(InvalidState):
        act(database, approve, app.id, staff["admin"], T0 + minutes(50))


def test_sop_readings_of_the_demo_catalog():
    with open(DEMO_CATALOG, "rb") as fh:
        services = {s["code"]: s["steps"] for s in tomllib.load(fh)["services"]}

    def back(service, code):
        steps = services[service]
        return steps[return_target(steps, [s["code"] for s in steps].index(code))]["code"]

    counter = {code: [s["code"] for s in steps[:counter_step_count(steps)]] for code, steps in services.items()}
    assert counter["ktp_el"] == counter["kk"] == ["submit", "receive", "register", "forward"]
    assert counter["skpwni"] == ["precheck", "registration_book"]
    assert (back("kk", "kabid_verify"), back("kk", "kasi_verify"), back("kk", "kadis_sign")) == (
        "kasi_verify", "register", "kabid_verify")
    assert (back("ktp_el", "print"), back("ktp_el", "activate"), back("ktp_el", "hand_over")) == (
        "kabid_verify", "print", "activate")
    assert (back("kia", "kasi_verify"), back("pelita1", "kasi_verify"), back("skpwni", "kasi_verify")) == (
        "entry", "entry", "siak_process")
    assert back("skpwni", "siak_process") == "precheck"  # pre-check (10 min), not the registration book (5)
    assert handover_index(services["ktp_el"]) == 8 and handover_index(services["pelita1"]) is None
    steps = [dict(s) for s in services["kk"]]
    steps[4]["return_to"] = "receive"
    assert steps[return_target(steps, 4)]["code"] == "receive"
    steps[4]["return_to"] = "hand_over"
    with pytest.raises(InvalidState):
        return_target(steps, 4)
