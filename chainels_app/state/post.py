"""One post with its comments, kept current while the page is open."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import reflex as rx
from sqlmodel import Session

from chainels_app import routes
from chainels_app.i18n import translate
from chainels_app.services import access, feed, live, posts, reactions
from chainels_app.services.access import Actor
from chainels_app.services.errors import DomainError, NotAuthenticated
from chainels_app.state.cards import CommentCard, PostCard, comment_card, post_card
from chainels_app.state.common import as_member, error_text, login_redirect, parse_id
from chainels_app.state.feed import LiveListener
from chainels_app.state.session import SessionState

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _PostView:
    actor: Actor
    group_ids: set[int]
    summary: feed.PostSummary
    comments: list[reactions.CommentView]


def _post_view(session: Session, *, actor: Actor, post_id: int) -> _PostView:
    return _PostView(
        actor=actor,
        group_ids=access.group_ids_of(session, actor=actor),
        summary=feed.post_summary(session, actor=actor, post_id=post_id),
        comments=reactions.comments_of(session, actor=actor, post_id=post_id),
    )


class PostState(LiveListener, rx.State):
    """The post page."""

    found: bool = False
    post: PostCard | None = None
    comments: list[CommentCard] = []  # noqa: RUF012
    can_moderate: bool = False
    editing: bool = False
    error: str = ""

    async def _locale(self) -> str:
        return (await self.get_state(SessionState)).locale

    def _post_id(self) -> int:
        return parse_id(self.router.url.query_parameters.get("id", ""))

    def _clear(self) -> None:
        self.found = False
        self.post = None
        self.comments = []
        self.editing = False
        self.error = ""

    async def _refusal(self, error: DomainError):
        if isinstance(error, NotAuthenticated):
            self._clear()
            return login_redirect(self)
        self.error = error_text(await self._locale(), error)
        return None

    @rx.event
    async def load(self):
        """Open the post named in the address, then follow it live."""
        if not (await self.get_state(SessionState)).ready:
            self._clear()
            return None  # the session guard before this has sent the tab away
        try:
            await self._open()
        except DomainError as error:
            return await self._refusal(error)
        return self._listen_anew(PostState.listen)

    async def _open(self) -> None:
        """Show the post again; raises the service's refusal."""
        self._clear()
        view = await as_member(self, _post_view, post_id=self._post_id())
        locale = await self._locale()
        self._remember_viewer(view.actor, view.group_ids)
        self.post = post_card(view.summary, locale=locale, viewer_id=self._viewer_id)
        self.comments = [comment_card(c, locale=locale) for c in view.comments]
        self.can_moderate = view.actor.is_admin
        self.found = True

    @rx.event(background=True)
    async def listen(self):
        """Keep the post and its comments current while the page is open."""
        await self._listen()

    async def _apply(self, event: live.LiveEvent) -> None:
        if self.post is None or str(event.post_id) != self.post.id:
            return
        locale = await self._locale()
        if event.kind == live.COMMENT_ADDED:
            comment = comment_card(event.data["comment"], locale=locale)
            if all(c.id != comment.id for c in self.comments):
                self.comments = [*self.comments, comment]
            self.post = replace(self.post, comment_count=event.data["comment_count"])
        elif event.kind == live.VOTE_CHANGED:
            mine = event.data["voter_id"] == self._viewer_id
            self.post = replace(
                self.post,
                vote_count=event.data["vote_count"],
                voted=event.data["voted"] if mine else self.post.voted,
            )
        elif event.kind == live.POST_CHANGED:
            card = post_card(event.data, locale=locale, viewer_id=self._viewer_id)
            self.post = replace(card, voted=self.post.voted)
        elif event.kind == live.POST_REMOVED:
            self.found = False
            self.post = None
            self.comments = []
            self.error = translate(locale, "post.removed")

    @rx.event
    async def add_comment(self, form: dict[str, str]):
        """React on behalf of one's company."""
        if self.post is None:
            return
        try:
            await as_member(
                self,
                reactions.add_comment,
                post_id=parse_id(self.post.id),
                body=str(form.get("body", "")),
            )
        except DomainError as error:
            return await self._refusal(error)
        self.error = ""

    @rx.event
    async def toggle_vote(self):
        """Vote for the post, or withdraw the vote."""
        if self.post is None:
            return
        try:
            count = await as_member(
                self,
                reactions.set_vote,
                post_id=parse_id(self.post.id),
                voted=not self.post.voted,
            )
        except DomainError as error:
            return await self._refusal(error)
        self.post = replace(self.post, voted=not self.post.voted, vote_count=count)

    @rx.event
    def set_editing(self, editing: bool):
        """Show or hide the edit form (authors only see the button)."""
        self.editing = bool(editing) and self.post is not None and self.post.mine

    @rx.event
    async def save_edit(self, form: dict[str, str]):
        """Store the author's changes."""
        if self.post is None:
            return
        try:
            await as_member(
                self,
                posts.edit_post,
                post_id=parse_id(self.post.id),
                title=str(form.get("title", "")),
                body=str(form.get("body", "")),
            )
            await self._open()
        except DomainError as error:
            return await self._refusal(error)
        return None

    @rx.event
    async def delete(self):
        """The author deletes the post."""
        if self.post is None:
            return
        try:
            await as_member(self, posts.delete_post, post_id=parse_id(self.post.id))
        except DomainError as error:
            return await self._refusal(error)
        return rx.redirect(routes.FEED)

    @rx.event
    async def remove(self, form: dict[str, str]):
        """An administrator takes the post down with a reason."""
        if self.post is None:
            return
        try:
            await as_member(
                self,
                posts.remove_post,
                post_id=parse_id(self.post.id),
                reason=str(form.get("reason", "")),
            )
        except DomainError as error:
            return await self._refusal(error)
        return rx.redirect(routes.FEED)
