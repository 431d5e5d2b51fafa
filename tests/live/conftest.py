"""Harness for live-delivery tests: feed tabs on real backends, posts between them.

Backends run as processes (Granian, no frontend build) on a SQLite file seeded
here: one worker with the in-process broker, or two workers joined by one Redis
database.
Tabs speak Reflex's websocket protocol with a session cookie from the real login
services, as a browser tab would.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from bench.fanout.servers import app_backend, reflex_env
from chainels_app import db
from chainels_app.api.auth import SESSION_COOKIE
from chainels_app.services import auth
from chainels_app.settings import get_settings
from chainels_app.state.composer import ComposerState
from chainels_app.state.feed import FeedState
from tests.factories import PASSWORD, Area, make_area
from tests.reflex_tab import VAR_SUFFIX, ReflexTab

FEED = "/feed"
WAIT_SECONDS = 15


def log_in(engine: Engine, email: str) -> str:
    """The ``Cookie`` header of a fresh session, made by the login services."""
    with Session(engine, expire_on_commit=False) as session:
        user = auth.check_credentials(
            session, email=email, password=PASSWORD, address="live-tests"
        )
        ticket = auth.issue_login_ticket(session, user=user)
        session.commit()
        token = auth.start_session(session, ticket=ticket)
        session.commit()
    return f"{SESSION_COOKIE}={token}"


def post_form(title: str, *group_ids: int) -> dict[str, Any]:
    """The composer's form for an announcement to the groups (none: everyone)."""
    form = {"kind": "announcement", "title": title, "body": "Live test."}
    form.update({f"group_{group_id}": "on" for group_id in group_ids})
    return {"form": form}


class FeedTab(ReflexTab):
    """One browser tab on the feed, with a member's session cookie."""

    page = FEED
    wait_seconds = WAIT_SECONDS

    def __init__(self, base_url: str, *, cookie: str, token: str | None = None):
        headers = {"Cookie": cookie, "Origin": get_settings().public_base_url}
        super().__init__(base_url, headers=headers, token=token)
        self.cookie = cookie

    async def open(self) -> FeedTab:
        """Connect and hydrate the feed, so its live listener starts."""
        await self.connect()
        await self.hydrate()
        return self

    async def publish(self, title: str, *group_ids: int) -> None:
        """Publish an announcement through the composer."""
        name = f"{ComposerState.get_full_name()}.publish"
        await self.send(name, post_form(title, *group_ids))

    async def wait_for_post(self, title: str) -> None:
        """Wait until a delta put a post with this title in the feed."""
        await self.wait_for(lambda update: title in _feed_titles(update))

    def received(self, title: str) -> bool:
        """Whether anything the backend ever sent this tab mentions ``title``."""
        return title in self.received_text()

    def feed_titles(self) -> list[str]:
        """The titles of the cards the tab's feed shows now."""
        return _titles(self.state.get(FeedState.get_full_name(), {}))


async def until_live(poster: FeedTab, *readers: FeedTab, attempts: int = 5) -> None:
    """Publish probe posts until every tab's live listener has delivered one.

    A feed's listener starts as a background event after hydration, so a post
    made right after opening a tab could pass before it listens. Nothing in the
    protocol says when it listens; a delivered probe does.
    """
    tabs = (poster, *readers)
    for _attempt in range(attempts):
        probe = f"Proef {uuid.uuid4().hex[:8]}"
        await poster.publish(probe)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await asyncio.gather(*(tab.wait_for_post(probe) for tab in tabs))
                return
    msg = f"live updates did not reach every tab after {attempts} probe posts"
    raise AssertionError(msg)


def _titles(feed: dict[str, Any]) -> list[str]:
    """Titles shown: live arrivals (``fresh``) above the loaded pages (``posts``)."""
    cards = [
        *(feed.get(f"fresh{VAR_SUFFIX}") or []),
        *(feed.get(f"posts{VAR_SUFFIX}") or []),
    ]
    return [card["title"] for card in cards]


def _feed_titles(update: dict[str, Any]) -> list[str]:
    return _titles((update.get("delta") or {}).get(FeedState.get_full_name(), {}))


@pytest.fixture
async def tabs() -> AsyncIterator[Callable[..., FeedTab]]:
    """Make feed tabs; every one is closed after the test."""
    made: list[FeedTab] = []

    def _make(base_url: str, *, cookie: str, token: str | None = None) -> FeedTab:
        tab = FeedTab(base_url, cookie=cookie, token=token)
        made.append(tab)
        return tab

    yield _make
    await asyncio.gather(*(tab.close() for tab in made))


@dataclass
class Deployment:
    """Backend processes on one database (and one Redis, with several)."""

    urls: list[str]
    engine: Engine
    area: Area

    def cookie(self, persona: str) -> str:
        """A fresh session cookie of one of the area's personas."""
        return log_in(self.engine, self.area.people[persona].email)


@contextlib.contextmanager
def deploy(folder: Path, workers: int, redis_url: str | None = None):
    """Seed an area into a new SQLite file and start backend processes on it.

    Reflex builds and starts its ASGI app once per process (a second
    ``app()`` after a start fails), and the socket tests already serve one in
    the test process, so these backends are processes of their own.
    """
    url = f"sqlite:///{folder / 'live.db'}"
    engine = db.make_engine(url)
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        area = make_area(session, "Stationskwartier")
    settings = {
        "DATA_DIR": str(folder),
        "DATABASE_URL": url,
        # Session tokens are hashed with the key this process made them with.
        "SECRET_KEY": get_settings().secret_key,
        "PUBLIC_BASE_URL": get_settings().public_base_url,
        **({"REDIS_URL": redis_url} if redis_url else {}),
    }
    try:
        with contextlib.ExitStack() as stack:
            urls = [
                stack.enter_context(
                    app_backend(
                        reflex_env(folder / f"worker{number}", **settings),
                        folder / f"worker{number}.log",
                    )
                )
                for number in range(1, workers + 1)
            ]
            yield Deployment(urls, engine, area)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """One backend process with the in-process broker, as ``make run`` starts."""
    with deploy(tmp_path_factory.mktemp("one-worker"), 1) as deployment:
        yield deployment


REDIS = "redis://127.0.0.1:6379"
# Databases tried for the cross-worker test; the first empty one is used.
REDIS_DATABASES = range(15, 7, -1)


def _empty_redis_database() -> int:
    import redis

    for number in REDIS_DATABASES:
        client = redis.Redis.from_url(f"{REDIS}/{number}", socket_timeout=2)
        try:
            if client.dbsize() == 0:
                return number
        finally:
            client.close()
    pytest.skip(f"no empty Redis database among {list(REDIS_DATABASES)}")


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """An empty Redis database of our own, flushed afterwards; skip without Redis."""
    import redis

    try:
        redis.Redis.from_url(REDIS, socket_timeout=2).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis does not answer at {REDIS}: {error}")
    url = f"{REDIS}/{_empty_redis_database()}"
    yield url
    client = redis.Redis.from_url(url, socket_timeout=5)
    client.flushdb()
    client.close()


def subscribers(redis_url: str, channel: str) -> int:
    """How many connections subscribe to a Redis pub/sub channel."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=2)
    try:
        return dict(client.pubsub_numsub(channel)).get(channel.encode(), 0)
    finally:
        client.close()
