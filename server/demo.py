"""The demo office: catalog, staff logins, device tokens, and the page URLs (demo.json).

Used by ``loket demo``. Idempotent: a second start keeps the database and the tokens.
"""
from __future__ import annotations

import json
from datetime import time
from pathlib import Path

from sqlalchemy import select

from .models import Device, StaffUser
from .services.accounts import create_device, create_staff
from .services.actors import SYSTEM
from .services.catalog import DEMO_CATALOG, load_catalog_file

DEMO_PASSWORD = "demo1234"
#: (username, full name, role) of the demo staff; every one has the password above.
DEMO_STAFF = [
    ("admin", "Administrator Kantor", "admin"),
    ("sysadmin", "Administrator Sistem", "system_admin"),
    ("manager", "Rina Kusuma (Manajer)", "manager"),
    ("kasi", "Budi Santoso (Kasi Pelayanan)", "section_head"),
    ("kabid", "Sri Wahyuni (Kabid)", "division_head"),
    ("kadis", "Hendra Gunawan (Kepala Dinas)", "head_of_office"),
    ("fo1", "Andi Pratama (Front Office)", "front_office"),
    ("fo2", "Dewi Lestari (Front Office)", "front_office"),
    ("fo3", "Agus Salim (Front Office)", "front_office"),
    ("fo4", "Maya Sari (Front Office)", "front_office"),
    ("fo5", "Rudi Hartono (Front Office)", "front_office"),
    ("ambil", "Yusuf Hidayat (Pengambilan Dokumen)", "pickup_officer"),
    ("aktivasi", "Lina Marlina (Aktivasi KTP-el)", "activation_officer"),
]
#: (token key, kind, name, settings) of the demo stations.
DEMO_DEVICES = [
    ("kiosk", "kiosk", "Kiosk Lobi", {}),
    ("display", "display", "TV Ruang Tunggu", {}),
    ("display_agent", "display", "Panel LED dan Keypad Loket", {"keypad_counters": [1, 2, 3, 4, 5, 6, 7, 8]}),
    ("pickup", "pickup", "Drive-Thru Lajur 1", {}),
    ("activation", "activation", "Aktivasi KTP-el Loket 7", {}),
    ("counter_printer", "printer", "Printer Resi Loket 1-5", {"counters": [1, 2, 3, 4, 5]}),
    ("survey", "survey", "Tablet Survei Loket 1", {"counters": [1]}),
]


def seed_demo(db, data_dir: Path, *, all_day: bool = True) -> dict:
    """Load the demo office and its staff and devices; returns {"office", "tokens": {kind: token}}.

    ``all_day``: open 00:00-23:59:59 so the demo works whenever it is started (the catalog's
    real hours are 07:30-16:00). Tokens are kept in ``<data_dir>/demo-tokens.json``.
    """
    tokens_path = data_dir / "demo-tokens.json"
    tokens = json.loads(tokens_path.read_text()) if tokens_path.exists() else {}
    with db.session() as s:
        office = load_catalog_file(s, DEMO_CATALOG, actor=SYSTEM)
        if all_day:
            office.opening_time, office.closing_time = time(0, 0), time(23, 59, 59)
        for username, full_name, role in DEMO_STAFF:
            if s.scalars(select(StaffUser).where(StaffUser.username == username)).first() is None:
                create_staff(s, username, DEMO_PASSWORD, role, full_name=full_name,
                             office_id=None if role == "system_admin" else office.id, actor=SYSTEM)
        for key, kind, name, settings in DEMO_DEVICES:
            exists = s.scalars(select(Device).where(Device.office_id == office.id, Device.name == name)).first()
            if exists is None or key not in tokens:
                if exists is not None:
                    exists.active = False
                    exists.name = f"{name} (old)"
                    s.flush()
                device, tokens[key] = create_device(s, office.id, kind, name, actor=SYSTEM)
                device.settings = dict(settings)
        code = office.code
    tokens_path.write_text(json.dumps(tokens))
    tokens_path.chmod(0o600)
    return {"office": code, "tokens": tokens}


def demo_manifest(base_url: str, seeded: dict) -> dict:
    """Every page URL with the token it needs, and the demo logins (written to demo.json)."""
    code, tokens = seeded["office"], seeded["tokens"]
    return {
        "base_url": base_url,
        "office": code,
        "pages": {
            "kiosk": f"{base_url}/kiosk/{code}?token={tokens['kiosk']}",
            "display": f"{base_url}/display/{code}?token={tokens['display']}",
            "survey_tablet": f"{base_url}/survey/{code}?token={tokens['survey']}",
            "counter_console": f"{base_url}/console",
            "ticket_status": f"{base_url}/t/<public id from the ticket QR>",
            "admin": f"{base_url}/",
            "devices": f"{base_url}/devices",
            "complaints": f"{base_url}/complaints",
            "complaint_form": f"{base_url}/pengaduan/{code}",
            "login": f"{base_url}/login",
            "api": f"{base_url}/api/openapi.json",
        },
        "device_tokens": tokens,
        "staff_logins": [{"username": u, "password": DEMO_PASSWORD, "role": r} for u, _n, r in DEMO_STAFF],
    }
