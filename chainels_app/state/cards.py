"""Post and comment cards: what a tab holds of a post, built from service results.

Both the feed query and a live event carry a post as the same plain dict (the
fields of :class:`PostSummary`), so one function turns either into a card.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from chainels_app import routes
from chainels_app.i18n import format_datetime, translate
from chainels_app.models import AttachmentKind


@dataclass
class MediaLink:
    """An attachment as the card links it."""

    id: str
    name: str
    url: str
    thumbnail_url: str


@dataclass
class PostCard:
    """A post as this tab shows it."""

    id: str
    kind: str
    kind_label: str
    title: str
    body: str
    body_html: str
    author: str
    company: str
    role_label: str
    when: str
    audience: str
    comment_count: int
    vote_count: int
    voted: bool
    mine: bool
    edited: bool
    detail_url: str
    images: list[MediaLink] = field(default_factory=list)
    videos: list[MediaLink] = field(default_factory=list)
    files: list[MediaLink] = field(default_factory=list)


@dataclass
class CommentCard:
    """A comment as this tab shows it."""

    id: str
    author: str
    company: str
    body: str
    when: str


def _moment(value: Any, locale: str) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return format_datetime(value, locale)


def _media(attachments: list[dict[str, Any]], kind: str) -> list[MediaLink]:
    return [
        MediaLink(
            id=str(a["id"]),
            name=a["name"],
            url=routes.media_url(a["id"], "display"),
            thumbnail_url=routes.media_url(
                a["id"], "thumbnail" if a["has_thumbnail"] else "display"
            ),
        )
        for a in attachments
        if a["kind"] == kind
    ]


def post_card(summary: Any, *, locale: str, viewer_id: int) -> PostCard:
    """A card from a ``PostSummary`` or its dict form."""
    data = summary if isinstance(summary, dict) else asdict(summary)
    attachments = list(data["attachments"])
    audience = (
        translate(locale, "post.to_everyone")
        if data["to_everyone"]
        else ", ".join(data["group_names"])
    )
    return PostCard(
        id=str(data["id"]),
        kind=data["kind"],
        kind_label=translate(locale, f"post.kind.{data['kind']}"),
        title=data["title"],
        body=data["body"],
        body_html=data["body_html"],
        author=data["author_name"],
        company=data["company_name"],
        role_label=translate(locale, f"role.{data['author_role']}"),
        when=_moment(data["created_at"], locale),
        audience=audience,
        comment_count=data["comment_count"],
        vote_count=data["vote_count"],
        voted=bool(data["voted"]),
        mine=data["author_id"] == viewer_id,
        edited=data["edited_at"] is not None,
        detail_url=routes.post_detail(data["id"]),
        images=_media(attachments, AttachmentKind.IMAGE),
        videos=_media(attachments, AttachmentKind.VIDEO),
        files=_media(attachments, AttachmentKind.DOCUMENT),
    )


def comment_card(comment: Any, *, locale: str) -> CommentCard:
    """A card from a ``CommentView`` or its dict form."""
    data = comment if isinstance(comment, dict) else asdict(comment)
    return CommentCard(
        id=str(data["id"]),
        author=data["author_name"],
        company=data["company_name"],
        body=data["body"],
        when=_moment(data["created_at"], locale),
    )
