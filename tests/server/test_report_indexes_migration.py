"""Migration 0009 (report indexes) on SQLite and PostgreSQL: down and up again, and the
models agree with it."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from server.migrations import alembic_config, upgrade
from server.models import Base


def names(engine, table: str) -> set[str]:
    return {i["name"] for i in inspect(engine).get_indexes(table)}


def test_migration_0009_upgrades_and_downgrades(db_url):
    command.downgrade(alembic_config(db_url), "0008")
    engine = create_engine(db_url)
    try:
        assert "ix_tickets_transferred_from" not in names(engine, "tickets")
        assert "ix_audit_office_action_at" not in names(engine, "audit_log")
        engine.dispose()  # a pooled SQLite connection keeps the old schema for its first PRAGMA
        upgrade(db_url)
        assert "ix_tickets_transferred_from" in names(engine, "tickets")
        assert "ix_audit_office_action_at" in names(engine, "audit_log")
        with engine.connect() as conn:  # the models and the migrations agree
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == []
    finally:
        engine.dispose()
