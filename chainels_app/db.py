"""Engine and session handling for the services.

Services are synchronous and take a ``Session``; async callers (state handlers,
HTTP routes) go through :func:`run`, which runs the whole unit of work in a worker
thread so the event loop never waits on the database or on password hashing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from chainels_app.settings import get_settings

T = TypeVar("T")


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)

    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30}
    )

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """The engine of this process, built from the settings."""
    return make_engine(get_settings().database_url)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def run_sync(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run ``fn(session, *args, **kwargs)`` as one transaction."""
    with session_scope() as session:
        return fn(session, *args, **kwargs)


async def run(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run ``fn(session, ...)`` as one transaction in a worker thread."""
    return await asyncio.to_thread(run_sync, fn, *args, **kwargs)
