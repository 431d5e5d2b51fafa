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
from chainels_app.i18n import DEFAULT_LOCALE, translate
from chainels_app.services import access, auth, directory, feed, live, posts, reactions
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

# Reflex sends a changed list whole, to every tab: past this many live cards a
# new post is counted ("show new posts") instead of making every delta longer.
FRESH_LIMIT = 10
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
    page: list[feed.PostSummary]
    groups: list[tuple[int, str]]


def _feed_view(session: Session, *, actor: Actor, **filters) -> _FeedView:
    return _FeedView(
        actor=actor,
        group_ids=access.group_ids_of(session, actor=actor),
        page=feed.feed_page(session, actor=actor, **filters),
        groups=[(g.id, g.name) for g in directory.list_groups(session, actor=actor)],
    )


@dataclass(frozen=True)
class _Viewer:
    """Whom a listening tab shows posts to, as of its last check."""

    user_id: int
    group_ids: frozenset[int]
    is_admin: bool

    def reaches(self, event: live.LiveEvent) -> bool:
        return event.reaches(
            user_id=self.user_id, group_ids=self.group_ids, is_admin=self.is_admin
        )


def _viewer_now(session: Session, token: str | None, community_id: int):
    """The tab's member as they are now; None once they may not read here.

    Reading the session does not refresh it: an open tab alone must not keep
    an idle session alive. A member removed from the community, or moved out
    of a group, stops receiving what they may no longer see.
    """
    try:
        user = auth.authenticate(session, token=token, touch=False)
        actor = access.actor_in(session, user=user, community_id=community_id)
    except DomainError:
        return None
    groups = frozenset(access.group_ids_of(session, actor=actor))
    return _Viewer(actor.user_id, groups, actor.is_admin)


class LiveListener(rx.State, mixin=True):
    """What a listening tab remembers about its member, on the server only."""

    _generation: int = 0
    _community_id: int = 0
    _viewer_id: int = 0
    _viewer_groups: set[int] = set()  # noqa: RUF012
    _viewer_is_admin: bool = False

    def _remember_viewer(self, actor: Actor, group_ids: set[int]) -> None:
        self._community_id = actor.community_id
        self._viewer_id = actor.user_id
        self._viewer_groups = set(group_ids)
        self._viewer_is_admin = actor.is_admin

    def _listen_anew(self, listen: rx.EventHandler) -> rx.EventHandler:
        """Start ``listen`` from the page's on_load; the running one then ends.

        Only on_load may start it: Reflex cancels on_load's events when the tab
        leaves, and would leave any other listener running for a closed tab.
        """
        self._generation += 1
        return listen

    async def _listen(self) -> None:
        """Apply the community's events until a newer listener takes over."""
        async with self:
            generation = self._generation
            community_id = self._community_id
            viewer = _Viewer(
                self._viewer_id, frozenset(self._viewer_groups), self._viewer_is_admin
            )
            token = session_token(self)
        checked_at = time.monotonic()
        broker = live.get_broker()
        async with broker.listen(community_id) as queue:
            while True:
                event = await queue.get()
                if time.monotonic() - checked_at > SESSION_RECHECK_SECONDS:
                    viewer = await db.run(_viewer_now, token, community_id)
                    if viewer is None:
                        return
                    checked_at = time.monotonic()
                # Decided before taking the lock: a post for a group costs the
                # tabs outside it nothing.
                if not viewer.reaches(event):
                    continue
                async with self:
                    # The locked state itself, not the background proxy: the
                    # proxy's checks on every attribute cost more than the
                    # change, a thousand times over for a thousand tabs.
                    state = self.__wrapped__
                    if state._generation != generation:
                        return
                    await state._apply(event)

    async def _apply(self, event: live.LiveEvent) -> None:
        raise NotImplementedError


class FeedState(LiveListener, rx.State):
    """The feed page.

    Live arrivals go into ``fresh`` and counts into small dicts, so an event costs
    each tab a small delta instead of a resend of every card it holds. Once
    ``fresh`` is full, arrivals are only counted in ``waiting`` until the member
    asks to see them.
    """

    fresh: list[PostCard] = []  # noqa: RUF012
    waiting: int = 0
    posts: list[PostCard] = []  # noqa: RUF012
    vote_counts: dict[str, int] = {}  # noqa: RUF012
    comment_counts: dict[str, int] = {}  # noqa: RUF012
    my_votes: dict[str, bool] = {}  # noqa: RUF012
    has_more: bool = False
    kind_filter: str = ""
    group_filter: str = ""
    kinds: list[FilterOption] = []  # noqa: RUF012
    groups: list[FilterOption] = []  # noqa: RUF012
    error: str = ""
    _shown: set[str] = set()  # noqa: RUF012
    _waiting_ids: set[str] = set()  # noqa: RUF012
    _oldest_id: int = 0
    _locale_code: str = DEFAULT_LOCALE

    def _filters(self) -> dict:
        return {
            "kind": self.kind_filter or None,
            "group_id": int(self.group_filter) if self.group_filter else None,
        }

    def _show(self, summaries: list[feed.PostSummary], *, replace_all: bool) -> None:
        cards = [
            post_card(s, locale=self._locale_code, viewer_id=self._viewer_id)
            for s in summaries
        ]
        counts = [
            (str(s.id), s.vote_count, s.comment_count, s.voted) for s in summaries
        ]
        if replace_all:
            self.fresh, self.posts = [], cards
            self._shown, self._waiting_ids, self.waiting = set(), set(), 0
            self.vote_counts, self.comment_counts, self.my_votes = {}, {}, {}
        else:
            self.posts = [*self._cards("posts"), *cards]
        self._shown = self._shown | {card.id for card in cards}
        self.vote_counts = {**self.vote_counts, **{i: v for i, v, _, _ in counts}}
        self.comment_counts = {
            **self.comment_counts,
            **{i: c for i, _, c, _ in counts},
        }
        self.my_votes = {**self.my_votes, **{i: m for i, _, _, m in counts}}
        if summaries:
            self._oldest_id = summaries[-1].id
        self.has_more = len(summaries) == feed.PAGE_SIZE

    async def _reload(self) -> None:
        """The newest page again, as filtered; raises the service's refusal."""
        view = await as_member(self, _feed_view, **self._filters())
        self._remember_viewer(view.actor, view.group_ids)
        self._locale_code = (await self.get_state(SessionState)).locale
        self.kinds = [
            FilterOption(
                value=kind.value,
                label=translate(self._locale_code, f"post.kind.{kind}"),
            )
            for kind in posts.PUBLISHABLE_KINDS
        ]
        self.groups = [FilterOption(value=str(i), label=n) for i, n in view.groups]
        self._show(view.page, replace_all=True)
        self.error = ""

    async def _refill(self):
        # The running listener stays: it reads the filters as each event comes.
        try:
            await self._reload()
        except DomainError as error:
            return await self._refusal(error)
        return None

    async def _refusal(self, error: DomainError):
        self.fresh, self.posts = [], []
        if isinstance(error, NotAuthenticated):
            return login_redirect(self)
        locale = (await self.get_state(SessionState)).locale
        self.error = error_text(locale, error)
        return None

    @rx.event
    async def load(self):
        """On opening the feed: the newest page, then live updates."""
        if not (await self.get_state(SessionState)).ready:
            self.fresh, self.posts = [], []
            return None  # the session guard before this has sent the tab away
        try:
            await self._reload()
        except DomainError as error:
            return await self._refusal(error)
        return self._listen_anew(FeedState.listen)

    @rx.event(background=True)
    async def listen(self):
        """Keep the feed current while the page is open."""
        await self._listen()

    @rx.event
    async def show_waiting(self):
        """Show the posts that were only counted, newest first, from the database."""
        return await self._refill()

    @rx.event
    async def load_more(self):
        """The next page of older posts."""
        if not self._oldest_id:
            return
        try:
            page = await as_member(
                self, feed.feed_page, before_id=self._oldest_id, **self._filters()
            )
        except DomainError as error:
            return await self._refusal(error)
        self._show([s for s in page if str(s.id) not in self._shown], replace_all=False)
        self.has_more = len(page) == feed.PAGE_SIZE

    @rx.event
    async def set_kind_filter(self, kind: str):
        """Show one kind of post, or all ("")."""
        self.kind_filter = kind if kind in posts.PUBLISHABLE_KINDS else ""
        return await self._refill()

    @rx.event
    async def set_group_filter(self, group_id: str):
        """Show the posts to one group, or all ("")."""
        self.group_filter = str(parse_id(group_id)) if group_id else ""
        return await self._refill()

    @rx.event
    async def toggle_vote(self, post_id: str):
        """Vote for a post, or withdraw the vote."""
        if post_id not in self._shown:
            return
        voted = not self.my_votes.get(post_id, self._voted_on_card(post_id))
        try:
            count = await as_member(
                self, reactions.set_vote, post_id=parse_id(post_id), voted=voted
            )
        except DomainError as error:
            return await self._refusal(error)
        self.vote_counts = {**self.vote_counts, post_id: count}
        self.my_votes = {**self.my_votes, post_id: voted}

    def _cards(self, name: str) -> list[PostCard]:
        # The list itself: reading the field wraps every card in a change-tracking
        # proxy, which a new list would then hold and send through the proxy.
        return self.get_value(name)

    def _voted_on_card(self, post_id: str) -> bool:
        cards = (
            c for c in (*self._cards("fresh"), *self._cards("posts")) if c.id == post_id
        )
        return next((c.voted for c in cards), False)

    def _matches_filters(self, event: live.LiveEvent) -> bool:
        if self.kind_filter and event.data.get("kind") != self.kind_filter:
            return False
        return not self.group_filter or int(self.group_filter) in event.group_ids

    def _card_of(self, event: live.LiveEvent) -> PostCard:
        card = shared_card(event, self._locale_code)
        return replace(card, mine=event.author_id == self._viewer_id)

    def _replace_everywhere(self, post_id: str, card: PostCard | None) -> None:
        # Only a list that holds the post is assigned: an assigned list is sent
        # to the tab whole.
        def swap(cards: list[PostCard]) -> list[PostCard]:
            return [
                card if c.id == post_id else c
                for c in cards
                if c.id != post_id or card is not None
            ]

        for name in ("fresh", "posts"):
            cards = self._cards(name)
            if any(c.id == post_id for c in cards):
                setattr(self, name, swap(cards))

    def _arrive(self, post_id: str, event: live.LiveEvent) -> None:
        if not self._matches_filters(event):
            return
        fresh = self._cards("fresh")
        if len(fresh) < FRESH_LIMIT:
            self.fresh = [self._card_of(event), *fresh]
            self._shown = self._shown | {post_id}
        else:
            self._waiting_ids = self._waiting_ids | {post_id}
            self.waiting = len(self._waiting_ids)

    async def _apply(self, event: live.LiveEvent) -> None:
        post_id = str(event.post_id)
        if post_id in self._waiting_ids:
            if event.kind == live.POST_REMOVED:
                self._waiting_ids = self._waiting_ids - {post_id}
                self.waiting = len(self._waiting_ids)
            return
        shown = post_id in self._shown
        if event.kind == live.POST_CREATED and not shown:
            self._arrive(post_id, event)
        elif not shown:
            return
        elif event.kind == live.POST_CHANGED:
            self._replace_everywhere(post_id, self._card_of(event))
        elif event.kind == live.POST_REMOVED:
            self._replace_everywhere(post_id, None)
            self._shown = self._shown - {post_id}
        elif event.kind == live.COMMENT_ADDED:
            count = event.data["comment_count"]
            self.comment_counts = {**self.comment_counts, post_id: count}
        elif event.kind == live.VOTE_CHANGED:
            self.vote_counts = {**self.vote_counts, post_id: event.data["vote_count"]}
            if event.data["voter_id"] == self._viewer_id:
                self.my_votes = {**self.my_votes, post_id: event.data["voted"]}


_CARD_CACHE: dict[tuple[int, str, str], PostCard] = {}
_CARD_CACHE_LIMIT = 256


def shared_card(event: live.LiveEvent, locale: str) -> PostCard:
    """The card of an event's post, built once per post version and language.

    Every tab of a worker receives the same event; building its card once keeps
    a post to a thousand tabs from formatting the same dates a thousand times.
    """
    key = (event.post_id, str(event.data.get("edited_at")), locale)
    card = _CARD_CACHE.get(key)
    if card is None:
        if len(_CARD_CACHE) >= _CARD_CACHE_LIMIT:
            _CARD_CACHE.clear()
        card = _CARD_CACHE[key] = post_card(event.data, locale=locale, viewer_id=0)
    return card
