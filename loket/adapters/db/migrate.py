"""Bringing a database to the current schema with Alembic, from code or the CLI."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

# Nodes that start together all migrate: on PostgreSQL the first takes this lock and
# migrates, the others wait and then find the schema up to date.
MIGRATION_LOCK = 7_234_002


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("loket.adapters.db") / "migrations"))
    config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(engine: Engine) -> None:
    """Apply every migration not yet applied; safe to run on every start."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
