"""Migration 0008 (AKAPELA contacts, their steps, the contact number sequence) on SQLite
and PostgreSQL: down to 0007 and up again, and the models agree with it."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from server.migrations import alembic_config, upgrade
from server.models import Base

TABLES = {"complaints", "complaint_steps", "complaint_sequences"}


def test_migration_0008_downgrades_and_upgrades(db_url):
    command.downgrade(alembic_config(db_url), "0007")
    engine = create_engine(db_url)
    try:
        names = set(inspect(engine).get_table_names())
        assert not TABLES & names
        engine.dispose()  # a pooled SQLite connection keeps the old schema for its first PRAGMA
        upgrade(db_url)
        insp = inspect(engine)
        assert TABLES <= set(insp.get_table_names())
        assert {u["name"] for u in insp.get_unique_constraints("complaints")} == {"uq_complaints_office_number"}
        assert {i["name"] for i in insp.get_indexes("complaints")} >= {
            "ix_complaints_waiting", "ix_complaints_office_created", "ix_complaints_application_id"}
        with engine.connect() as conn:  # the models and the migrations agree
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == []
    finally:
        engine.dispose()
