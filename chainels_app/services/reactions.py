"""Reactions to a post: comments on behalf of one's company, and votes."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from chainels_app.models import Comment, Company, User, Vote
from chainels_app.services import live, outbox
from chainels_app.services.access import Actor
from chainels_app.services.audience import visible_post
from chainels_app.services.errors import InvalidInput
from chainels_app.services.posts import post_event

COMMENT_MAX = 4_000


@dataclass(frozen=True)
class CommentView:
    """A comment as members see it."""

    id: int
    post_id: int
    author_id: int | None
    author_name: str
    company_name: str
    body: str
    created_at: datetime


def add_comment(session: Session, *, actor: Actor, post_id: int, body: str) -> Comment:
    """React to a post on behalf of one's company."""
    post = visible_post(session, actor=actor, post_id=post_id)
    body = body.strip()
    if not body:
        raise InvalidInput("error.comment_empty")
    if len(body) > COMMENT_MAX:
        raise InvalidInput("error.text_too_long", maximum=COMMENT_MAX)
    comment = Comment(
        post_id=post.id,
        author_id=actor.user_id,
        company_id=actor.company_id,
        body=body,
    )
    session.add(comment)
    session.flush()
    outbox.queue_comment(session, comment=comment, community_id=post.community_id)
    view = comments_of(session, actor=actor, post_id=post.id, after_id=comment.id - 1)
    count = _comment_count(session, post.id)
    live.announce(
        session,
        post_event(
            session,
            live.COMMENT_ADDED,
            post,
            {"comment": asdict(view[0]), "comment_count": count},
        ),
    )
    return comment


def _comment_count(session: Session, post_id: int) -> int:
    return session.exec(
        select(func.count()).where(
            Comment.post_id == post_id, col(Comment.deleted_at).is_(None)
        )
    ).one()


def comments_of(
    session: Session,
    *,
    actor: Actor,
    post_id: int,
    after_id: int = 0,
    limit: int = 200,
) -> list[CommentView]:
    """A post's comments, oldest first."""
    post = visible_post(session, actor=actor, post_id=post_id)
    rows = session.exec(
        select(Comment, User.name, Company.name)
        .join(User, User.id == Comment.author_id, isouter=True)
        .join(Company, Company.id == Comment.company_id, isouter=True)
        .where(
            Comment.post_id == post.id,
            Comment.id > after_id,
            col(Comment.deleted_at).is_(None),
        )
        .order_by(Comment.id)
        .limit(limit)
    ).all()
    return [
        CommentView(
            id=comment.id,
            post_id=comment.post_id,
            author_id=comment.author_id,
            author_name=author or "",
            company_name=company or "",
            body=comment.body,
            created_at=comment.created_at,
        )
        for comment, author, company in rows
    ]


def set_vote(session: Session, *, actor: Actor, post_id: int, voted: bool) -> int:
    """Vote for a post or withdraw the vote; returns the new count."""
    post = visible_post(session, actor=actor, post_id=post_id)
    existing = session.get(Vote, (post.id, actor.user_id))
    if voted and existing is None:
        session.add(Vote(post_id=post.id, user_id=actor.user_id))
    elif not voted and existing is not None:
        session.delete(existing)
    session.flush()
    count = session.exec(select(func.count()).where(Vote.post_id == post.id)).one()
    live.announce(
        session,
        post_event(
            session,
            live.VOTE_CHANGED,
            post,
            {"vote_count": count, "voter_id": actor.user_id, "voted": voted},
        ),
    )
    return count
