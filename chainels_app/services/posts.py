"""Posts, their recipients, comments and votes.

A post goes to the whole community or to chosen groups. A member sees a post when
it is for everyone, when they are in one of its groups, when they wrote it, or
when they administer the community; every read here goes through
:func:`visible_posts`, so no other path can show more.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import and_, exists, or_, true
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col, func, select

from chainels_app.models import (
    Attachment,
    Comment,
    Company,
    Group,
    GroupMember,
    Post,
    PostGroup,
    PostKind,
    Role,
    User,
    Vote,
    utcnow,
)
from chainels_app.services import audit, live
from chainels_app.services.access import Actor, Permission
from chainels_app.services.errors import InvalidInput, NotFound, PermissionDenied
from chainels_app.services.text import render_body

logger = logging.getLogger(__name__)

TITLE_MAX = 200
BODY_MAX = 10_000
COMMENT_MAX = 4_000
PAGE_SIZE = 20
MAX_ATTACHMENTS = 10

# Kinds that can be posted today; the others arrive with their own issues.
PUBLISHABLE_KINDS = (PostKind.ANNOUNCEMENT,)
_KIND_PERMISSION = {
    PostKind.ANNOUNCEMENT: Permission.POST_ANNOUNCEMENT,
    PostKind.SURVEY: Permission.POST_SURVEY,
    PostKind.EVENT: Permission.POST_EVENT,
    PostKind.WARNING: Permission.POST_WARNING,
}
# Roles that may address any group, not only the groups they are in.
_ADDRESS_ANY_GROUP = (Role.ADMIN, Role.POLICE, Role.SECURITY)


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


def _in_my_groups(actor: Actor) -> ColumnElement[bool]:
    return exists(
        select(PostGroup.post_id)
        .join(GroupMember, GroupMember.group_id == PostGroup.group_id)
        .where(
            PostGroup.post_id == Post.id,
            GroupMember.membership_id == actor.membership_id,
        )
    )


def visibility(actor: Actor) -> ColumnElement[bool]:
    """The SQL condition for posts the actor may see."""
    actor.require(Permission.READ)
    if actor.is_admin:
        audience: ColumnElement[bool] = true()
    else:
        audience = or_(
            col(Post.to_everyone).is_(True),
            Post.author_id == actor.user_id,
            _in_my_groups(actor),
        )
    return and_(
        Post.community_id == actor.community_id,
        col(Post.deleted_at).is_(None),
        audience,
    )


def visible_post(session: Session, *, actor: Actor, post_id: int) -> Post:
    """The post, if the actor may see it; NotFound otherwise."""
    post = session.exec(
        select(Post).where(Post.id == post_id, visibility(actor))
    ).first()
    if post is None:
        raise NotFound
    return post


def _check_text(title: str, body: str) -> tuple[str, str]:
    title, body = title.strip(), body.strip()
    if not title:
        raise InvalidInput("error.post_title_required")
    if len(title) > TITLE_MAX:
        raise InvalidInput("error.text_too_long", maximum=TITLE_MAX)
    if len(body) > BODY_MAX:
        raise InvalidInput("error.text_too_long", maximum=BODY_MAX)
    return title, body


def addressable_groups(session: Session, *, actor: Actor) -> list[Group]:
    """The groups the actor may address a post to."""
    actor.require(Permission.READ)
    query = select(Group).where(Group.community_id == actor.community_id)
    if actor.role not in _ADDRESS_ANY_GROUP:
        query = query.join(GroupMember, GroupMember.group_id == Group.id).where(
            GroupMember.membership_id == actor.membership_id
        )
    return list(session.exec(query.order_by(Group.name)))


def _check_recipients(session: Session, actor: Actor, group_ids: list[int]) -> None:
    allowed = {g.id for g in addressable_groups(session, actor=actor)}
    if not set(group_ids) <= allowed:
        raise InvalidInput("error.recipients_not_allowed")


def _claim_attachments(
    session: Session, actor: Actor, post: Post, attachment_ids: list[int]
) -> None:
    if not attachment_ids:
        return
    if len(attachment_ids) > MAX_ATTACHMENTS:
        raise InvalidInput("error.too_many_attachments", maximum=MAX_ATTACHMENTS)
    rows = session.exec(
        select(Attachment).where(
            col(Attachment.id).in_(attachment_ids),
            Attachment.uploader_id == actor.user_id,
            Attachment.community_id == actor.community_id,
            col(Attachment.post_id).is_(None),
        )
    ).all()
    if len(rows) != len(set(attachment_ids)):
        raise InvalidInput("error.attachment_unknown")
    for attachment in rows:
        attachment.post_id = post.id
        session.add(attachment)


def create_post(
    session: Session,
    *,
    actor: Actor,
    kind: str,
    title: str,
    body: str,
    group_ids: list[int],
    attachment_ids: list[int] | None = None,
) -> Post:
    """Publish a post to the community (no groups) or to the chosen groups."""
    if kind not in PUBLISHABLE_KINDS:
        raise InvalidInput("error.post_kind_unknown")
    actor.require(_KIND_PERMISSION[PostKind(kind)])
    title, body = _check_text(title, body)
    _check_recipients(session, actor, group_ids)

    post = Post(
        community_id=actor.community_id,
        author_id=actor.user_id,
        company_id=actor.company_id,
        author_role=actor.role,
        kind=kind,
        title=title,
        body=body,
        body_html=render_body(body),
        to_everyone=not group_ids,
    )
    session.add(post)
    session.flush()
    session.add_all(PostGroup(post_id=post.id, group_id=g) for g in set(group_ids))
    _claim_attachments(session, actor, post, attachment_ids or [])
    session.flush()

    live.announce(
        session,
        _post_event(
            session, live.POST_CREATED, post, _public_summary(session, actor, post)
        ),
    )
    logger.info(
        "(community=%s) post %s published by user %s",
        actor.community_id,
        post.id,
        actor.user_id,
    )
    return post


def _post_event(
    session: Session, kind: str, post: Post, data: dict | None = None
) -> live.LiveEvent:
    return live.LiveEvent(
        kind=kind,
        community_id=post.community_id,
        post_id=post.id,
        group_ids=tuple(sorted(_group_ids_of(session, post.id))),
        author_id=post.author_id,
        data=data or {},
    )


def _public_summary(session: Session, actor: Actor, post: Post) -> dict:
    """The post as every recipient sees it (``voted`` is each reader's own)."""
    summary = asdict(post_summary(session, actor=actor, post_id=post.id))
    summary["voted"] = False
    return summary


def _group_ids_of(session: Session, post_id: int) -> list[int]:
    return list(
        session.exec(select(PostGroup.group_id).where(PostGroup.post_id == post_id))
    )


def _own_post(session: Session, actor: Actor, post_id: int) -> Post:
    post = visible_post(session, actor=actor, post_id=post_id)
    if post.author_id != actor.user_id:
        raise PermissionDenied
    return post


def edit_post(
    session: Session, *, actor: Actor, post_id: int, title: str, body: str
) -> Post:
    """Change the title and text of one's own post."""
    post = _own_post(session, actor, post_id)
    post.title, post.body = _check_text(title, body)
    post.body_html = render_body(post.body)
    post.edited_at = utcnow()
    session.add(post)
    session.flush()
    live.announce(
        session,
        _post_event(
            session, live.POST_CHANGED, post, _public_summary(session, actor, post)
        ),
    )
    return post


def delete_post(session: Session, *, actor: Actor, post_id: int) -> None:
    """Delete one's own post."""
    post = _own_post(session, actor, post_id)
    post.deleted_at = utcnow()
    session.add(post)
    live.announce(session, _post_event(session, live.POST_REMOVED, post))


def remove_post(session: Session, *, actor: Actor, post_id: int, reason: str) -> None:
    """An administrator takes any post down, with a reason that is logged."""
    actor.require(Permission.ADMINISTER)
    reason = reason.strip()
    if not reason:
        raise InvalidInput("error.reason_required")
    post = visible_post(session, actor=actor, post_id=post_id)
    post.deleted_at = utcnow()
    post.removed_by_id = actor.user_id
    post.removal_reason = reason[:500]
    session.add(post)
    audit.record(
        session,
        action="post_removed",
        actor_id=actor.user_id,
        community_id=actor.community_id,
        subject=f"post:{post.id}",
        detail=reason,
    )
    live.announce(session, _post_event(session, live.POST_REMOVED, post))


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
    view = comments_of(session, actor=actor, post_id=post.id, after_id=comment.id - 1)
    count = _comment_count(session, post.id)
    live.announce(
        session,
        _post_event(
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
        _post_event(
            session,
            live.VOTE_CHANGED,
            post,
            {"vote_count": count, "voter_id": actor.user_id, "voted": voted},
        ),
    )
    return count
