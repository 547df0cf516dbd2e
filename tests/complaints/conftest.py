"""Fixtures for the AKAPELA tests: the demo office (``office_id``, ``open_desk`` from
tests/server/conftest.py), one staff user per role, and helpers to register and act."""
from __future__ import annotations

import pytest

from server.models import Complaint, Office
from server.services.accounts import create_staff
from server.services.actors import SYSTEM, Actor
from server.services.complaints import register_contact
from tests.server.conftest import office_id, open_desk  # noqa: F401  (fixtures)

ROLES = ("front_office", "section_head", "division_head", "head_of_office", "pickup_officer", "manager", "admin")
NIK = "1471011205900001"  # Pekanbaru (14 71 01), born 12-05-1990, male, serial 0001
KK = "1471010101150003"  # Pekanbaru, issued 01-01-2015, serial 0003
CONTACT = {"name": "Siti Aminah", "phone": "0812-3456-7890", "id_kind": "nik", "id_number": NIK,
           "channel": "phone", "kind": "complaint", "text": "KTP-el saya belum jadi setelah 2 minggu."}


@pytest.fixture
def people(database, office_id):  # noqa: F811
    """{role: Actor}: one staff user of each role in the demo office (admin: the office's
    admin; every account has an office except a system admin, issue 13)."""
    out = {}
    with database.session() as s:
        for role in ROLES:
            user = create_staff(s, f"c_{role}", "password123", role, full_name=f"{role.title()} One",
                                office_id=office_id, actor=SYSTEM)
            out[role] = Actor("staff", user.id, office_id=user.office_id, role=role)
    return out


def register(database, office_id, actor, at, **fields) -> Complaint:  # noqa: F811
    """Register a contact (CONTACT with ``fields`` replaced) in its own transaction."""
    with database.session() as s:
        return register_contact(s, s.get(Office, office_id), {**CONTACT, **fields}, actor=actor, now=at)


def act(database, fn, complaint_id: int, actor, at, *args, **kw) -> Complaint:
    """Run a routing action at the contact's current version, in its own transaction."""
    with database.session() as s:
        version = s.get(Complaint, complaint_id).version
        return fn(s, complaint_id, *args, actor=actor, expected_version=version, now=at, **kw)
