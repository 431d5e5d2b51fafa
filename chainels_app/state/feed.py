"""The feed of this tab: a capped list of cards, paged from the database and kept
current by a live listener started from the page's ``on_load``.

Nothing lives only here: a tab that reconnects runs ``load`` again and so
catches up from the database.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

import reflex as rx
from sqlmodel import Session

from chainels_app import db
from chainels_app.i18n import translate
from chainels_app.services import access, auth, directory, live, posts
from chainels_app.services.access import Actor
from chainels_app.services.errors import DomainError, NotAuthenticated
from chainels_app.state.cards import PostCard, post_card
from chainels_app.state.common import (
    as_member,
    error_text,
    login_redirect,
    parse_id,
    session_token,
)
from chainels_app.state.session import SessionState

logger = logging.getLogger(__name__)

MAX_CARDS = 200
SESSION_RECHECK_SECONDS = 60


@dataclass
class FilterOption:
    """A choice in a feed filter."""

    value: str
    label: str


@dataclass(frozen=True)
class _FeedView:
    actor: Actor
    group_ids: set[int]
    page: list[posts.PostSummary]
    groups: list[tuple[int, str]]


def _feed_view(session: Session, *, actor: Actor, **filters) -> _FeedView:
    return _FeedView(
        actor=actor,
        group_ids=access.group_ids_of(session, actor=actor),
        page=posts.feed_page(session, actor=actor, **filters),
        groups=[(g.id, g.name) for g in directory.list_groups(session, actor=actor)],
    )


def _still_logged_in(session: Session, token: str | None) -> bool:
    try:
        auth.authenticate(session, token=token)
    except NotAuthenticated:
        return False
    return True


class LiveListener(rx.State, mixin=True):
    """What a listening tab remembers about its member, on the server only."""

    _generation: int = 0
    _community_id: int = 0
    _viewer_id: int = 0
    _viewer_groups: set[int] = set()  # noqa: RUF012
    _viewer_is_admin: bool = False

    def _remember_viewer(self, actor: Actor, group_ids: set[int]) -> None:
        self._generation += 1
        self._community_id = actor.community_id
        self._viewer_id = actor.user_id
        self._viewer_groups = set(group_ids)
        self._viewer_is_admin = actor.is_admin

    def _reaches(self, event: live.LiveEvent) -> bool:
        return event.community_id == self._community_id and event.reaches(
            user_id=self._viewer_id,
            group_ids=self._viewer_groups,
            is_admin=self._viewer_is_admin,
        )

    async def _listen(self) -> None:
        """Apply the community's events until a newer listener takes over."""
        async with self:
            generation = self._generation
            community_id = self._community_id
            token = session_token(self)
        checked_at = time.monotonic()
        broker = live.get_broker()
        async with broker.listen(community_id) as queue:
            while True:
                event = await queue.get()
                if time.monotonic() - checked_at > SESSION_RECHECK_SECONDS:
                    if not await db.run(_still_logged_in, token):
                        return
                    checked_at = time.monotonic()
                async with self:
                    if self._generation != generation:
                        return
                    if self._reaches(event):
                        await self._apply(event)

    async def _apply(self, event: live.LiveEvent) -> None:
        raise NotImplementedError


class FeedState(LiveListener, rx.State):
    """The feed page."""

    posts: list[PostCard] = []  # noqa: RUF012
    has_more: bool = False
    kind_filter: str = ""
    group_filter: str = ""
    kinds: list[FilterOption] = []  # noqa: RUF012
    groups: list[FilterOption] = []  # noqa: RUF012
    error: str = ""

    async def _locale(self) -> str:
        return (await self.get_state(SessionState)).locale

    def _filters(self) -> dict:
        return {
            "kind": self.kind_filter or None,
            "group_id": int(self.group_filter) if self.group_filter else None,
        }

    async def _cards(self, summaries: list[posts.PostSummary]) -> list[PostCard]:
        locale = await self._locale()
        return [
            post_card(s, locale=locale, viewer_id=self._viewer_id) for s in summaries
        ]

    async def _reload(self):
        try:
            view = await as_member(self, _feed_view, **self._filters())
        except DomainError as error:
            return await self._refusal(error)
        self._remember_viewer(view.actor, view.group_ids)
        locale = await self._locale()
        self.kinds = [
            FilterOption(value=kind.value, label=translate(locale, f"post.kind.{kind}"))
            for kind in posts.PUBLISHABLE_KINDS
        ]
        self.groups = [FilterOption(value=str(i), label=n) for i, n in view.groups]
        self.posts = await self._cards(view.page)
        self.has_more = len(view.page) == posts.PAGE_SIZE
        self.error = ""
        return FeedState.listen

    async def _refusal(self, error: DomainError):
        self.posts = []
        if isinstance(error, NotAuthenticated):
            return login_redirect(self)
        self.error = error_text(await self._locale(), error)
        return None

    @rx.event
    async def load(self):
        """On opening the feed: the newest page, then live updates."""
        if not (await self.get_state(SessionState)).ready:
            self.posts = []
            return None  # the session guard before this has sent the tab away
        return await self._reload()

    @rx.event(background=True)
    async def listen(self):
        """Keep the feed current while the page is open."""
        await self._listen()

    @rx.event
    async def load_more(self):
        """The next page of older posts."""
        if not self.posts:
            return
        try:
            page = await as_member(
                self,
                posts.feed_page,
                before_id=int(self.posts[-1].id),
                **self._filters(),
            )
        except DomainError as error:
            return await self._refusal(error)
        self.posts = self.posts + await self._cards(page)
        self.has_more = len(page) == posts.PAGE_SIZE

    @rx.event
    async def set_kind_filter(self, kind: str):
        """Show one kind of post, or all ("")."""
        self.kind_filter = kind if kind in posts.PUBLISHABLE_KINDS else ""
        return await self._reload()

    @rx.event
    async def set_group_filter(self, group_id: str):
        """Show the posts to one group, or all ("")."""
        self.group_filter = str(parse_id(group_id)) if group_id else ""
        return await self._reload()

    @rx.event
    async def toggle_vote(self, post_id: str):
        """Vote for a post, or withdraw the vote."""
        card = next((c for c in self.posts if c.id == post_id), None)
        if card is None:
            return
        try:
            count = await as_member(
                self, posts.set_vote, post_id=parse_id(post_id), voted=not card.voted
            )
        except DomainError as error:
            return await self._refusal(error)
        self._update_card(post_id, vote_count=count, voted=not card.voted)

    def _update_card(self, post_id: str, **changes) -> None:
        self.posts = [
            replace(card, **changes) if card.id == post_id else card
            for card in self.posts
        ]

    def _matches_filters(self, data: dict) -> bool:
        if self.kind_filter and data.get("kind") != self.kind_filter:
            return False
        return not self.group_filter or self.group_filter in {
            str(group_id) for group_id in data.get("group_ids", ())
        }

    async def _card_of(self, event: live.LiveEvent) -> PostCard:
        return post_card(
            event.data, locale=await self._locale(), viewer_id=self._viewer_id
        )

    async def _apply(self, event: live.LiveEvent) -> None:
        post_id = str(event.post_id)
        known = any(card.id == post_id for card in self.posts)
        if event.kind == live.POST_CREATED and not known:
            if self._matches_filters({**event.data, "group_ids": event.group_ids}):
                card = await self._card_of(event)
                self.posts = [card, *self.posts][:MAX_CARDS]
        elif event.kind == live.POST_CHANGED and known:
            card = await self._card_of(event)
            self.posts = [
                replace(card, voted=c.voted) if c.id == post_id else c
                for c in self.posts
            ]
        elif event.kind == live.POST_REMOVED:
            self.posts = [c for c in self.posts if c.id != post_id]
        elif event.kind == live.COMMENT_ADDED:
            self._update_card(post_id, comment_count=event.data["comment_count"])
        elif event.kind == live.VOTE_CHANGED:
            changes = {"vote_count": event.data["vote_count"]}
            if event.data["voter_id"] == self._viewer_id:
                changes["voted"] = event.data["voted"]
            self._update_card(post_id, **changes)
