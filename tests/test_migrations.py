"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from chainels_app.db import make_engine
from tests.conftest import TEST_DATABASE_URL

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = "migration_check"


def _alembic(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["database_url"] = url
    return config


def _assert_up_matches_models_and_down_empties(url: str) -> None:
    config = _alembic(url)
    command.upgrade(config, "head")
    engine = make_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, SQLModel.metadata) == []

    command.downgrade(config, "base")
    with engine.connect() as connection:
        names = connection.dialect.get_table_names(connection)
        assert set(names) <= {"alembic_version"}
    engine.dispose()


def test_migrations_on_sqlite(tmp_path):
    _assert_up_matches_models_and_down_empties(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="TEST_DATABASE_URL is not set")
def test_migrations_on_postgresql():
    admin = make_engine(TEST_DATABASE_URL)
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    separator = "&" if "?" in TEST_DATABASE_URL else "?"
    url = f"{TEST_DATABASE_URL}{separator}options=-csearch_path%3D{SCHEMA}"
    try:
        _assert_up_matches_models_and_down_empties(url)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        admin.dispose()
