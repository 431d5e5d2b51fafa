"""Feed, composer and post handlers over the socket: only a post's readers see it.

Every handler of the three states is called, by its full name, by a visitor
without a session and by a shop owner outside the post's group. The post's
title must never reach them and nothing may change; the guard, who is in the
group, is the control that shows the same calls do reveal it to a reader.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import reflex as rx
from sqlmodel import Session, col, func, select

from chainels_app import db, routes
from chainels_app.models import Comment, Post, PostKind, Vote
from chainels_app.services import live, posts
from chainels_app.state.composer import ComposerState
from chainels_app.state.feed import FeedState
from chainels_app.state.post import PostState
from chainels_app.state.preferences import PreferencesState
from tests.socket.conftest import TabClient, World, handler_name

pytestmark = pytest.mark.socket

OpenTab = Callable[..., Awaitable[TabClient]]
Login = Callable[[str], Awaitable[str]]

MEMBER_STATES = (FeedState, ComposerState, PostState, PreferencesState)
# Reflex's own handlers, the listener (started by load itself) and the upload
# handler (reached over HTTP, not the socket) are not called here.
NOT_CALLED = frozenset(rx.State.event_handlers) | {"listen", "upload"}


def _group_post(session: Session, world: World, title: str) -> int:
    post = posts.create_post(
        session,
        actor=world.area.actor(session, "guard"),
        kind=PostKind.ANNOUNCEMENT,
        title=title,
        body="Alleen voor de werkgroep.",
        group_ids=[world.area.groups["Veiligheid"].id],
    )
    return post.id


def _counts(session: Session) -> tuple[int, int, int, int]:
    return (
        session.exec(select(func.count()).select_from(Post)).one(),
        session.exec(select(func.count()).select_from(Comment)).one(),
        session.exec(select(func.count()).select_from(Vote)).one(),
        session.exec(
            select(func.count())
            .select_from(Post)
            .where(col(Post.deleted_at).is_not(None))
        ).one(),
    )


def calls(post_id: int, group_id: int) -> list[tuple[type, str, dict[str, Any], str]]:
    """Each member handler with a payload aimed at the group post or its group."""
    post_path = routes.post_detail(post_id)
    form = {
        "kind": "announcement",
        "title": "Ingebroken",
        "body": "x",
        f"group_{group_id}": "on",
    }
    return [
        (FeedState, "load", {}, routes.FEED),
        (FeedState, "load_more", {}, routes.FEED),
        (FeedState, "show_waiting", {}, routes.FEED),
        (FeedState, "set_kind_filter", {"kind": "announcement"}, routes.FEED),
        (FeedState, "set_group_filter", {"group_id": "1"}, routes.FEED),
        (FeedState, "toggle_vote", {"post_id": str(post_id)}, routes.FEED),
        (ComposerState, "start", {}, routes.FEED),
        (ComposerState, "close", {}, routes.FEED),
        (ComposerState, "remove_file", {"file_id": "1"}, routes.FEED),
        (ComposerState, "publish", {"form": form}, routes.FEED),
        (PostState, "load", {}, post_path),
        (PostState, "toggle_vote", {}, post_path),
        (PostState, "add_comment", {"form": {"body": "Gezien"}}, post_path),
        (PostState, "set_editing", {"editing": True}, post_path),
        (PostState, "save_edit", {"form": {"title": "Nep", "body": ""}}, post_path),
        (PostState, "remove", {"form": {"reason": "weg"}}, post_path),
        (PostState, "delete", {}, post_path),
        (PreferencesState, "load", {}, routes.SETTINGS),
        (
            PreferencesState,
            "set_mode",
            {"kind": "announcement", "mode": "digest"},
            routes.SETTINGS,
        ),
    ]


async def call_all(tab: TabClient, post_id: int, group_id: int) -> None:
    """Call every member handler as ``tab``."""
    for state, name, payload, path in calls(post_id, group_id):
        await tab.call(handler_name(state, name), payload, path=path)


def test_every_member_handler_is_called() -> None:
    declared = {
        handler_name(state, name)
        for state in MEMBER_STATES
        for name in state.event_handlers
        if name not in NOT_CALLED
    }
    called = {handler_name(state, name) for state, name, _, _ in calls(1, 1)}
    assert called == declared


@pytest.mark.parametrize("persona", [None, "shop_owner"])
async def test_outsiders_neither_see_nor_change_a_group_post(
    persona: str | None, world: World, login: Login, open_tab: OpenTab
) -> None:
    title = f"Camerabeeld {uuid.uuid4().hex[:8]}"
    post_id = await db.run(_group_post, world, title)
    before = await db.run(_counts)
    cookie = await login(world.area.people[persona].email) if persona else None
    tab = await open_tab(cookie)
    await tab.hydrate(routes.FEED)

    await call_all(tab, post_id, world.area.groups["Veiligheid"].id)

    assert title not in tab.received_text()
    assert await db.run(_counts) == before


async def test_the_group_member_does_see_it(
    world: World, login: Login, open_tab: OpenTab
) -> None:
    title = f"Camerabeeld {uuid.uuid4().hex[:8]}"
    post_id = await db.run(_group_post, world, title)
    tab = await open_tab(await login(world.area.people["officer"].email))
    await tab.hydrate(routes.FEED)
    assert title in tab.received_text()

    await tab.hydrate(routes.post_detail(post_id))
    assert tab.var(PostState, "found") is True


async def test_only_opening_the_feed_starts_a_listener(
    world: World, login: Login, open_tab: OpenTab
) -> None:
    # Reflex cancels on_load's events when a tab leaves; a listener started by
    # any other handler would keep running for a closed tab.
    broker = live.get_broker()
    tab = await open_tab(await login(world.area.people["shop_owner"].email))
    before = broker.listener_count()
    await tab.hydrate(routes.FEED)
    async with asyncio.timeout(10):
        while broker.listener_count() == before:
            await asyncio.sleep(0.05)
    listening = broker.listener_count()

    for name, payload in (
        ("set_kind_filter", {"kind": "announcement"}),
        ("set_group_filter", {"group_id": ""}),
        ("show_waiting", {}),
    ):
        await tab.call(handler_name(FeedState, name), payload, path=routes.FEED)
    await asyncio.sleep(0.5)
    assert broker.listener_count() == listening
