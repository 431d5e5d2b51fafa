"""Posts: publishing to the community or to groups, editing, taking down.

One table holds every kind of post; kind-specific details (surveys, events,
warnings) live in tables beside it. Each change is announced live after commit.
"""

from __future__ import annotations

import logging
from dataclasses import asdict

from sqlmodel import Session, col, select

from chainels_app.models import Attachment, Post, PostGroup, PostKind, utcnow
from chainels_app.services import audit, live, outbox
from chainels_app.services.access import Actor, Permission
from chainels_app.services.audience import addressable_groups, visible_post
from chainels_app.services.errors import InvalidInput, PermissionDenied
from chainels_app.services.feed import post_summary
from chainels_app.services.text import render_body

logger = logging.getLogger(__name__)

TITLE_MAX = 200
BODY_MAX = 10_000
MAX_ATTACHMENTS = 10

# Kinds that can be posted today; the others arrive with their own issues.
PUBLISHABLE_KINDS = (PostKind.ANNOUNCEMENT,)
_KIND_PERMISSION = {
    PostKind.ANNOUNCEMENT: Permission.POST_ANNOUNCEMENT,
    PostKind.SURVEY: Permission.POST_SURVEY,
    PostKind.EVENT: Permission.POST_EVENT,
    PostKind.WARNING: Permission.POST_WARNING,
}


def _check_text(title: str, body: str) -> tuple[str, str]:
    title, body = title.strip(), body.strip()
    if not title:
        raise InvalidInput("error.post_title_required")
    if len(title) > TITLE_MAX:
        raise InvalidInput("error.text_too_long", maximum=TITLE_MAX)
    if len(body) > BODY_MAX:
        raise InvalidInput("error.text_too_long", maximum=BODY_MAX)
    return title, body


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

    outbox.queue_post(session, post=post)
    live.announce(
        session,
        post_event(
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


def post_event(
    session: Session, kind: str, post: Post, data: dict | None = None
) -> live.LiveEvent:
    """A live event about a post, addressed as the post is."""
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
        post_event(
            session, live.POST_CHANGED, post, _public_summary(session, actor, post)
        ),
    )
    return post


def delete_post(session: Session, *, actor: Actor, post_id: int) -> None:
    """Delete one's own post."""
    post = _own_post(session, actor, post_id)
    post.deleted_at = utcnow()
    session.add(post)
    live.announce(session, post_event(session, live.POST_REMOVED, post))


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
    live.announce(session, post_event(session, live.POST_REMOVED, post))
