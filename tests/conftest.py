"""Shared fixtures: an isolated data folder, settings, and a fresh database."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Settings are read once per process: point them at a throw-away folder first.
_DATA = Path(tempfile.mkdtemp(prefix="chainels-test-"))
os.environ["DATA_DIR"] = str(_DATA)
os.environ["MAIL_DIR"] = str(_DATA / "mail")
os.environ.pop("DATABASE_URL", None)
os.environ.pop("CHAINELS_ENV", None)

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

from chainels_app import db, models  # noqa: E402, F401
from chainels_app.settings import get_settings  # noqa: E402

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


@pytest.fixture(scope="session")
def _postgres_engine() -> Iterator[Engine | None]:
    if not TEST_DATABASE_URL:
        yield None
        return
    engine = db.make_engine(TEST_DATABASE_URL)
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    yield engine
    SQLModel.metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture
def engine(
    _postgres_engine: Engine | None, tmp_path: Path, monkeypatch
) -> Iterator[Engine]:
    """A fresh, empty database for one test, installed as the app's engine."""
    if _postgres_engine is not None:
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        with _postgres_engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine = _postgres_engine
    else:
        engine = db.make_engine(f"sqlite:///{tmp_path / 'test.db'}")
        SQLModel.metadata.create_all(engine)
    monkeypatch.setattr(db, "get_engine", lambda: engine)
    yield engine
    if _postgres_engine is None:
        engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the fresh database; tests commit when they mean to."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def mail_dir() -> Iterator[Path]:
    """The console mail folder, emptied before the test."""
    folder = get_settings().mail_dir
    folder.mkdir(parents=True, exist_ok=True)
    for path in folder.glob("*.eml"):
        path.unlink()
    yield folder


def deliver_mail() -> int:
    """Run the outbox worker with the console transport until nothing is due."""
    from chainels_app.services import outbox
    from chainels_app.services.transport import ConsoleTransport

    transport = ConsoleTransport()
    handled = 0
    while sent := outbox.send_due(transport):
        handled += sent
    return handled
