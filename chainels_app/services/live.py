"""Live updates: one publish per change, delivered to the tabs of every worker.

A service announces an event on its database session; the event is published
only when the transaction commits. Each worker process holds one subscription
(in-process, or Redis pub/sub when ``REDIS_URL`` is set) and fans events out to
the queues of the tabs connected to it. A tab decides with :meth:`LiveEvent.reaches`
whether an event is meant for its member, and catches up from the database after
a reconnect, so nothing depends on an event arriving.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import event
from sqlmodel import Session

from chainels_app.services.tokens import token_hash
from chainels_app.settings import get_settings

logger = logging.getLogger(__name__)

POST_CREATED = "post_created"
POST_CHANGED = "post_changed"
POST_REMOVED = "post_removed"
COMMENT_ADDED = "comment_added"
VOTE_CHANGED = "vote_changed"

QUEUE_LIMIT = 1000
_PENDING = "pending_live_events"


@dataclass(frozen=True)
class LiveEvent:
    """Something changed in a community; ``data`` is what every reader may see."""

    kind: str
    community_id: int
    post_id: int
    group_ids: tuple[int, ...] = ()
    author_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def reaches(self, *, user_id: int, group_ids: set[int], is_admin: bool) -> bool:
        """Whether a member with these groups may see this event's post."""
        if not self.group_ids or is_admin or self.author_id == user_id:
            return True
        return not group_ids.isdisjoint(self.group_ids)

    def to_json(self) -> str:
        """The wire form."""
        return json.dumps(asdict(self), default=str)

    @classmethod
    def from_json(cls, raw: str | bytes) -> LiveEvent:
        """Read the wire form."""
        values = json.loads(raw)
        values["group_ids"] = tuple(values.get("group_ids", ()))
        return cls(**values)


class LocalBroker:
    """Fan-out to the tabs of this process; the whole broker on one worker."""

    def __init__(self) -> None:
        self._listeners: dict[int, set[asyncio.Queue[LiveEvent]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def publish(self, live_event: LiveEvent) -> None:
        """Deliver to this process's tabs; safe to call from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self.deliver, live_event)

    def deliver(self, live_event: LiveEvent) -> None:
        """Put the event on every queue of its community (event-loop thread)."""
        with self._lock:
            queues = list(self._listeners.get(live_event.community_id, ()))
        for queue in queues:
            try:
                queue.put_nowait(live_event)
            except asyncio.QueueFull:
                # A tab that stopped reading catches up from the database.
                logger.warning(
                    "(community=%s) a live queue is full; event dropped",
                    live_event.community_id,
                )

    async def start(self) -> None:
        """Nothing to connect for a single process."""
        self._loop = asyncio.get_running_loop()

    @asynccontextmanager
    async def listen(self, community_id: int) -> AsyncIterator[asyncio.Queue]:
        """A queue that receives the community's events while the block runs."""
        await self.start()
        queue: asyncio.Queue[LiveEvent] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        with self._lock:
            self._listeners.setdefault(community_id, set()).add(queue)
        try:
            yield queue
        finally:
            with self._lock:
                listeners = self._listeners.get(community_id, set())
                listeners.discard(queue)
                if not listeners:
                    self._listeners.pop(community_id, None)

    def listener_count(self) -> int:
        """How many tabs listen in this process."""
        with self._lock:
            return sum(len(queues) for queues in self._listeners.values())


class RedisBroker(LocalBroker):
    """Publish through Redis; each worker subscribes once and fans out locally."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url
        self._channel = channel_name()
        self._publisher: Any = None
        self._pump: asyncio.Task | None = None
        self._ready: asyncio.Event | None = None

    def publish(self, live_event: LiveEvent) -> None:
        """Send to every worker, this one included."""
        import redis

        if self._publisher is None:
            self._publisher = redis.Redis.from_url(self._url)
        self._publisher.publish(self._channel, live_event.to_json())

    async def start(self) -> None:
        """Subscribe once per process, before the first tab listens."""
        await super().start()
        if self._pump is None or self._pump.done():
            self._ready = asyncio.Event()
            self._pump = asyncio.create_task(self._run())
        assert self._ready is not None
        await self._ready.wait()

    async def _run(self) -> None:
        import redis.asyncio as aioredis

        while True:
            try:
                client = aioredis.Redis.from_url(self._url)
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    assert self._ready is not None
                    self._ready.set()
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self.deliver(LiveEvent.from_json(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("live subscription to Redis lost; reconnecting")
                await asyncio.sleep(1)


def channel_name() -> str:
    """This deployment's Redis channel.

    Redis pub/sub channels are server-wide (database numbers do not separate
    them), and community ids repeat across deployments; a name derived from the
    secret key keeps two deployments on one Redis from hearing each other.
    """
    return f"chainels:live:{token_hash('live-channel')[:16]}"


_broker: LocalBroker | None = None
_broker_lock = threading.Lock()


def get_broker() -> LocalBroker:
    """This process's broker, chosen by the settings."""
    global _broker
    with _broker_lock:
        if _broker is None:
            url = get_settings().redis_url
            _broker = RedisBroker(url) if url else LocalBroker()
        return _broker


def announce(session: Session, live_event: LiveEvent) -> None:
    """Publish the event once the session's transaction commits."""
    session.info.setdefault(_PENDING, []).append(live_event)


@event.listens_for(Session, "after_commit")
def _publish_after_commit(session: Session) -> None:
    events = session.info.pop(_PENDING, [])
    if not events:
        return
    broker = get_broker()
    for live_event in events:
        try:
            broker.publish(live_event)
        except Exception:
            # Tabs catch up from the database; a lost publish costs freshness only.
            logger.exception("live publish failed for post %s", live_event.post_id)


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, _previous_transaction: object) -> None:
    session.info.pop(_PENDING, None)
