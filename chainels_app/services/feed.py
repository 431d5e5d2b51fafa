"""The feed: posts as one viewer may see them, with counts, paged in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists
from sqlmodel import Session, col, func, select

from chainels_app.models import (
    Attachment,
    Comment,
    Company,
    Group,
    Post,
    PostGroup,
    User,
    Vote,
)
from chainels_app.services.access import Actor
from chainels_app.services.audience import visibility
from chainels_app.services.errors import NotFound

PAGE_SIZE = 20


@dataclass(frozen=True)
class AttachmentInfo:
    """What a post card shows of an attachment."""

    id: int
    kind: str
    name: str
    has_thumbnail: bool


@dataclass(frozen=True)
class PostSummary:
    """A post as one viewer may see it, with its counts."""

    id: int
    kind: str
    title: str
    body: str
    body_html: str
    author_id: int | None
    author_name: str
    company_name: str
    author_role: str
    created_at: datetime
    edited_at: datetime | None
    to_everyone: bool
    group_names: tuple[str, ...]
    comment_count: int
    vote_count: int
    voted: bool
    attachments: tuple[AttachmentInfo, ...]


def _summaries_query(actor: Actor):
    comments = (
        select(func.count())
        .where(Comment.post_id == Post.id, col(Comment.deleted_at).is_(None))
        .scalar_subquery()
    )
    votes = select(func.count()).where(Vote.post_id == Post.id).scalar_subquery()
    voted = exists(
        select(Vote.post_id).where(
            Vote.post_id == Post.id, Vote.user_id == actor.user_id
        )
    )
    return (
        select(Post, User.name, Company.name, comments, votes, voted)
        .join(User, User.id == Post.author_id, isouter=True)
        .join(Company, Company.id == Post.company_id, isouter=True)
        .where(visibility(actor))
    )


def _summaries(session: Session, rows) -> list[PostSummary]:
    post_ids = [row[0].id for row in rows]
    groups = _group_names(session, post_ids)
    attachments = _attachments(session, post_ids)
    return [
        PostSummary(
            id=post.id,
            kind=post.kind,
            title=post.title,
            body=post.body,
            body_html=post.body_html,
            author_id=post.author_id,
            author_name=author or "",
            company_name=company or "",
            author_role=post.author_role,
            created_at=post.created_at,
            edited_at=post.edited_at,
            to_everyone=post.to_everyone,
            group_names=tuple(groups.get(post.id, ())),
            comment_count=comment_count,
            vote_count=vote_count,
            voted=bool(voted),
            attachments=tuple(attachments.get(post.id, ())),
        )
        for post, author, company, comment_count, vote_count, voted in rows
    ]


def _group_names(session: Session, post_ids: list[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    if post_ids:
        for post_id, name in session.exec(
            select(PostGroup.post_id, Group.name)
            .join(Group, Group.id == PostGroup.group_id)
            .where(col(PostGroup.post_id).in_(post_ids))
            .order_by(Group.name)
        ):
            names.setdefault(post_id, []).append(name)
    return names


def _attachments(
    session: Session, post_ids: list[int]
) -> dict[int, list[AttachmentInfo]]:
    found: dict[int, list[AttachmentInfo]] = {}
    if post_ids:
        for row in session.exec(
            select(Attachment)
            .where(col(Attachment.post_id).in_(post_ids))
            .order_by(Attachment.id)
        ):
            found.setdefault(row.post_id, []).append(
                AttachmentInfo(
                    id=row.id,
                    kind=row.kind,
                    name=row.original_name,
                    has_thumbnail=row.has_thumbnail,
                )
            )
    return found


def feed_page(
    session: Session,
    *,
    actor: Actor,
    before_id: int | None = None,
    after_id: int | None = None,
    kind: str | None = None,
    group_id: int | None = None,
    limit: int = PAGE_SIZE,
) -> list[PostSummary]:
    """Posts the actor may see, newest first, paged by id.

    ``before_id`` pages back ("load more"); ``after_id`` fetches what is newer
    (a tab catching up after a reconnect).
    """
    query = _summaries_query(actor)
    if before_id is not None:
        query = query.where(Post.id < before_id)
    if after_id is not None:
        query = query.where(Post.id > after_id)
    if kind:
        query = query.where(Post.kind == kind)
    if group_id is not None:
        query = query.where(
            exists(
                select(PostGroup.post_id).where(
                    PostGroup.post_id == Post.id, PostGroup.group_id == group_id
                )
            )
        )
    rows = session.exec(
        query.order_by(col(Post.id).desc()).limit(min(limit, 100))
    ).all()
    return _summaries(session, rows)


def post_summary(session: Session, *, actor: Actor, post_id: int) -> PostSummary:
    """One post as the actor sees it; NotFound when they may not."""
    rows = session.exec(_summaries_query(actor).where(Post.id == post_id)).all()
    if not rows:
        raise NotFound
    return _summaries(session, rows)[0]
