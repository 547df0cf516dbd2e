"""Migration 0011 (staff office scope, session versions) on SQLite and PostgreSQL: rows
from before it are brought under the rule, down and up again, models agree."""
from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from server.migrations import alembic_config, upgrade


def test_migration_0011_moves_existing_accounts_under_the_scope_rule(db_url):
    command.downgrade(alembic_config(db_url), "0010")
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO offices (code, name, address, timezone, opening_time, closing_time, "
                              "running_text, settings) VALUES ('A', 'A', '', 'Asia/Jakarta', '07:30:00', "
                              "'16:00:00', '', '{}')"))
            office = conn.execute(text("SELECT id FROM offices WHERE code = 'A'")).scalar()
            for name, role, office_id in (("root", "admin", None), ("lost", "front_office", None),
                                          ("kept", "manager", office)):
                conn.execute(text("INSERT INTO staff_users (office_id, username, full_name, password_hash, role, active) "
                                  "VALUES (:o, :u, :u, 'x', :r, true)"), {"o": office_id, "u": name, "r": role})
        engine.dispose()
        upgrade(db_url)
        with engine.connect() as conn:
            rows = {r.username: (r.role, r.office_id, bool(r.active), r.session_version) for r in conn.execute(
                text("SELECT username, role, office_id, active, session_version FROM staff_users"))}
        assert rows == {"root": ("system_admin", None, True, 0),  # what it acted as until now
                        "lost": ("front_office", office, False, 0),  # given an office, switched off
                        "kept": ("manager", office, True, 0)}
        engine.dispose()
        command.downgrade(alembic_config(db_url), "0010")
        engine.dispose()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT role FROM staff_users WHERE username = 'root'")).scalar() == "admin"
        engine.dispose()
        upgrade(db_url)
    finally:
        engine.dispose()
