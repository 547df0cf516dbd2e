"""Migration 0005 (card bindings, station cards, activation sessions) on SQLite and
PostgreSQL: down and up again, and the models agree with it."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from server.migrations import alembic_config, upgrade
from server.models import Base

TABLES = {"card_bindings", "station_cards", "activations"}


def test_migration_0005_upgrades_and_downgrades(db_url):
    command.downgrade(alembic_config(db_url), "0004")
    engine = create_engine(db_url)
    try:
        assert not TABLES & set(inspect(engine).get_table_names())
        engine.dispose()  # a pooled SQLite connection keeps the old schema for its first PRAGMA
        upgrade(db_url)
        insp = inspect(engine)
        assert TABLES <= set(insp.get_table_names())
        assert {u["name"] for u in insp.get_unique_constraints("card_bindings")} == {"uq_card_bindings_uid"}
        assert {i["name"] for i in insp.get_indexes("activations")} >= {
            "ix_activations_device_status", "ix_activations_application_id"}
        with engine.connect() as conn:  # the models and the migrations agree
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == []
    finally:
        engine.dispose()
