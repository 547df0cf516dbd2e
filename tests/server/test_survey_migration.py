"""Migration 0007 (IKM survey responses) on SQLite and PostgreSQL: down and up again, and
the models agree with it."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from server.migrations import alembic_config, upgrade
from server.models import Base


def test_migration_0007_upgrades_and_downgrades(db_url):
    command.downgrade(alembic_config(db_url), "0006")
    engine = create_engine(db_url)
    try:
        assert "survey_responses" not in inspect(engine).get_table_names()
        engine.dispose()  # a pooled SQLite connection keeps the old schema for its first PRAGMA
        upgrade(db_url)
        insp = inspect(engine)
        assert "survey_responses" in insp.get_table_names()
        assert {u["name"] for u in insp.get_unique_constraints("survey_responses")} == {
            "uq_survey_responses_ticket_id"}
        assert {i["name"] for i in insp.get_indexes("survey_responses")} >= {"ix_survey_responses_office_day"}
        checks = {c["name"] for c in insp.get_check_constraints("survey_responses")}
        assert {f"ck_survey_responses_u{i}_range" for i in range(1, 10)} <= checks
        with engine.connect() as conn:  # the models and the migrations agree
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == []
    finally:
        engine.dispose()
