"""Migration 0012 (booking requests, confirmed contacts; issue 13) on SQLite and
PostgreSQL: bookings made before it each get their own "legacy:<id>" contact, down and up
again, and the models agree with it."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from server.db import Database
from server.demo import seed_demo
from server.migrations import alembic_config, upgrade
from server.models import Base


def test_migration_0012_upgrades_and_downgrades(db_url, tmp_path):
    upgrade(db_url)
    database = Database(db_url)
    seed_demo(database, tmp_path)  # an office and its services
    database.dispose()
    command.downgrade(alembic_config(db_url), "0011")
    engine = create_engine(db_url)
    try:
        assert "booking_requests" not in inspect(engine).get_table_names()
        with engine.begin() as conn:
            office = conn.execute(text("SELECT min(id) FROM offices")).scalar()
            service = conn.execute(text("SELECT min(id) FROM services WHERE office_id = :o"), {"o": office}).scalar()
            conn.execute(text(
                "INSERT INTO bookings (office_id, service_id, day, session_code, code, nik, name, phone, email, status, "
                "created_at) VALUES (:o, :s, '2026-12-01', '1', 'AAAA-0001', '1471011205900001', 'Budi', '', '', "
                "'booked', '2026-11-30 01:00:00')"), {"o": office, "s": service})
        engine.dispose()  # a pooled SQLite connection keeps the old schema for its first PRAGMA
        upgrade(db_url)
        assert "uq_bookings_active_nik_contact" in {i["name"] for i in inspect(engine).get_indexes("bookings")}
        with engine.connect() as conn:
            row = conn.execute(text("SELECT id, contact_hash FROM bookings WHERE code = 'AAAA-0001'")).one()
            assert row.contact_hash == f"legacy:{row.id}"
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == []
    finally:
        engine.dispose()
