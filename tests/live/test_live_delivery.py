"""Live delivery: a post reaches the open feeds that may see it, and only those.

On one worker with the in-process broker, then across two worker processes
joined by Redis pub/sub. A tab that was away catches up from the database.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator

import pytest

from chainels_app.services import live
from chainels_app.state.feed import FRESH_LIMIT, FeedState
from tests.live.conftest import (
    VAR_SUFFIX,
    WAIT_SECONDS,
    Deployment,
    FeedTab,
    deploy,
    subscribers,
    until_live,
)

pytestmark = pytest.mark.socket

MakeTab = Callable[..., FeedTab]
# Long enough for a delta that was on its way to have arrived.
GRACE_SECONDS = 1.5


def title(label: str) -> str:
    """A post title no other test uses."""
    return f"{label} {uuid.uuid4().hex[:8]}"


async def open_feeds(
    tabs: MakeTab, deployment: Deployment, *personas: str
) -> list[FeedTab]:
    """Open a feed tab for each persona on the first worker."""
    base_url = deployment.urls[0]
    opened = [tabs(base_url, cookie=deployment.cookie(p)) for p in personas]
    await asyncio.gather(*(tab.open() for tab in opened))
    return opened


async def test_group_post_reaches_its_group_only(tabs: MakeTab, one_worker: Deployment):
    officer, guard, shop_owner = await open_feeds(
        tabs, one_worker, "officer", "guard", "shop_owner"
    )
    await until_live(officer, guard, shop_owner)

    for_safety = title("Verdacht persoon bij de bank")
    await officer.publish(for_safety, one_worker.area.groups["Veiligheid"].id)
    await guard.wait_for_post(for_safety)
    await officer.wait_for_post(for_safety)
    await asyncio.sleep(GRACE_SECONDS)

    assert for_safety in guard.feed_titles()
    assert not shop_owner.received(for_safety)

    for_everyone = title("Braderie zaterdag")
    await officer.publish(for_everyone)
    await asyncio.gather(
        guard.wait_for_post(for_everyone), shop_owner.wait_for_post(for_everyone)
    )
    assert shop_owner.feed_titles()[0] == for_everyone
    assert not shop_owner.received(for_safety)


async def test_tab_catches_up_after_reconnecting(tabs: MakeTab, one_worker: Deployment):
    officer, shop_owner = await open_feeds(tabs, one_worker, "officer", "shop_owner")
    await until_live(officer, shop_owner)
    await shop_owner.close()

    while_away = title("Wegafsluiting maandag")
    await officer.publish(while_away)
    await officer.wait_for_post(while_away)
    assert not shop_owner.received(while_away)

    back = tabs(one_worker.urls[0], cookie=shop_owner.cookie, token=shop_owner.token)
    await back.open()
    assert back.feed_titles()[0] == while_away


@pytest.fixture(scope="module")
def two_workers(
    redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    """Two backend processes on one database and one Redis database."""
    folder = tmp_path_factory.mktemp("two-workers")
    with deploy(folder, 2, redis_url) as deployment:
        yield deployment


async def test_post_on_one_worker_reaches_a_tab_on_the_other(
    tabs: MakeTab, two_workers: Deployment, redis_url: str
):
    worker1, worker2 = two_workers.urls
    subscribed = subscribers(redis_url, live.channel_name())

    reader = await tabs(worker1, cookie=two_workers.cookie("shop_owner")).open()
    poster = await tabs(worker2, cookie=two_workers.cookie("officer")).open()
    # Each worker subscribes once, when its first tab starts listening; the
    # tab's queue is registered right after.
    async with asyncio.timeout(WAIT_SECONDS):
        while subscribers(redis_url, live.channel_name()) < subscribed + 2:
            await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)

    across = title("Nieuwe parkeerregels")
    await poster.publish(across)
    await reader.wait_for_post(across)
    assert reader.feed_titles()[0] == across


async def test_a_full_feed_counts_new_posts_until_asked(
    tabs: MakeTab, one_worker: Deployment
):
    officer, shop_owner = await open_feeds(tabs, one_worker, "officer", "shop_owner")
    await until_live(officer, shop_owner)
    feed = FeedState.get_full_name()
    # The probe posts that showed the listener runs are live cards already.
    probes = len(shop_owner.state[feed][f"fresh{VAR_SUFFIX}"])
    for number in range(FRESH_LIMIT - probes):
        filler = title(f"Melding {number}")
        await officer.publish(filler)
        await shop_owner.wait_for_post(filler)
    assert len(shop_owner.state[feed][f"fresh{VAR_SUFFIX}"]) == FRESH_LIMIT

    # The feed is full: a new post is counted, and no card list is resent.
    start = len(shop_owner.updates)
    overflow = title("Inbraak in de nacht")
    await officer.publish(overflow)
    await shop_owner.wait_for(_waiting_is(1), since=start)
    await asyncio.sleep(GRACE_SECONDS)
    assert not shop_owner.received(overflow)
    sent = [(u.get("delta") or {}).get(feed, {}) for u in shop_owner.updates[start:]]
    assert not any(f"fresh{VAR_SUFFIX}" in d or f"posts{VAR_SUFFIX}" in d for d in sent)

    start = len(shop_owner.updates)
    await shop_owner.send(f"{feed}.show_waiting", {})
    await shop_owner.wait_for(_waiting_is(0), since=start)
    await shop_owner.wait_for_post(overflow)
    assert shop_owner.feed_titles()[0] == overflow


def _waiting_is(count: int) -> Callable[[dict], bool]:
    def check(update: dict) -> bool:
        feed = (update.get("delta") or {}).get(FeedState.get_full_name(), {})
        return feed.get(f"waiting{VAR_SUFFIX}") == count

    return check
