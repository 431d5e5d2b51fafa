"""The text and HTML of each kind of mail, in the recipient's language.

Content is built once per post and language; what differs per recipient (the
unsubscribe link) is the ``{{unsubscribe_url}}`` tag the transport fills in.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from chainels_app import routes
from chainels_app.i18n import translate
from chainels_app.services.transport import InlineImage
from chainels_app.settings import get_settings

UNSUBSCRIBE_TAG = "{{unsubscribe_url}}"


@dataclass(frozen=True)
class Content:
    """Subject, text and HTML of one mail, before substitution."""

    subject: str
    text: str
    html: str
    inline_images: tuple[InlineImage, ...] = ()


@dataclass(frozen=True)
class PostForMail:
    """What a post mail shows."""

    id: int
    kind: str
    title: str
    body: str
    body_html: str
    author: str
    company: str
    community: str
    images: tuple[InlineImage, ...] = ()


def _frame(html_body: str, footer: str) -> str:
    return (
        '<!doctype html><html><body style="font-family:sans-serif;'
        'max-width:40rem;margin:auto;padding:1rem;color:#1c2024">'
        f"{html_body}"
        '<hr style="border:none;border-top:1px solid #ddd;margin:1.5rem 0">'
        f'<p style="font-size:12px;color:#60646c">{footer}</p>'
        "</body></html>"
    )


def post_content(post: PostForMail, locale: str) -> Content:
    """A post as a mail: author, company, text, pictures, a link into the app."""
    base = get_settings().public_base_url
    link = base + routes.post_detail(post.id)
    kind = translate(locale, f"post.kind.{post.kind}")
    byline = f"{post.author} · {post.company}" if post.company else post.author
    subject = translate(locale, "mail.post.subject", community=post.community)
    subject = f"{subject} {post.title}"
    unsubscribe = translate(locale, "mail.post.unsubscribe", kind=kind.lower())
    open_in_app = translate(locale, "mail.post.open")

    text = (
        f"{kind}: {post.title}\n{byline}\n\n{post.body}\n\n{open_in_app}: {link}\n\n"
        f"--\n{unsubscribe}: {UNSUBSCRIBE_TAG}\n"
    )
    pictures = "".join(
        f'<img src="cid:{image.cid}" alt="" style="max-width:100%;'
        'max-height:12rem;margin:0.25rem 0.25rem 0 0">'
        for image in post.images
    )
    html = _frame(
        f'<p style="color:#60646c;font-size:13px">{escape(kind)} · '
        f'{escape(byline)}</p><h1 style="font-size:20px">{escape(post.title)}</h1>'
        f"{post.body_html}{pictures}"
        f'<p><a href="{escape(link)}">{escape(open_in_app)}</a></p>',
        f'<a href="{UNSUBSCRIBE_TAG}">{escape(unsubscribe)}</a>',
    )
    return Content(subject=subject, text=text, html=html, inline_images=post.images)


def message_content(template: str, locale: str, params: dict[str, str]) -> Content:
    """An invitation or password reset: the catalogue's text, and a plain HTML."""
    subject = translate(locale, f"mail.{template}.subject", **params)
    text = translate(locale, f"mail.{template}.body", **params)
    paragraphs = "".join(
        f"<p>{escape(part).replace(chr(10), '<br>')}</p>"
        for part in text.split("\n\n")
        if part.strip()
    )
    link = params.get("link", "")
    if link:
        paragraphs = paragraphs.replace(
            escape(link), f'<a href="{escape(link)}">{escape(link)}</a>'
        )
    return Content(subject=subject, text=text, html=_frame(paragraphs, ""))


def digest_content(posts: list[PostForMail], locale: str) -> Content:
    """One mail with the day's posts: title, author and a link for each."""
    base = get_settings().public_base_url
    subject = translate(locale, "mail.digest.subject", count=str(len(posts)))
    unsubscribe = translate(locale, "mail.digest.unsubscribe")
    lines = [
        f"- {p.title} ({p.author})\n  {base}{routes.post_detail(p.id)}" for p in posts
    ]
    text = "\n".join(lines) + f"\n\n--\n{unsubscribe}: {UNSUBSCRIBE_TAG}\n"
    items = "".join(
        f'<li><a href="{escape(base + routes.post_detail(p.id))}">'
        f"{escape(p.title)}</a> ({escape(p.author)})</li>"
        for p in posts
    )
    html = _frame(
        f'<h1 style="font-size:20px">{escape(subject)}</h1><ul>{items}</ul>',
        f'<a href="{UNSUBSCRIBE_TAG}">{escape(unsubscribe)}</a>',
    )
    return Content(subject=subject, text=text, html=html)


@dataclass(frozen=True)
class CommentForMail:
    """What a comment mail shows."""

    post_id: int
    post_title: str
    author: str
    company: str
    body: str


def comment_content(comment: CommentForMail, locale: str) -> Content:
    """A reaction to the recipient's post, with a link to answer it."""
    base = get_settings().public_base_url
    link = base + routes.post_detail(comment.post_id)
    byline = (
        f"{comment.author} · {comment.company}" if comment.company else comment.author
    )
    subject = translate(
        locale, "mail.comment.subject", author=comment.author, title=comment.post_title
    )
    open_in_app = translate(locale, "mail.post.open")
    kind = translate(locale, "post.kind.comment")
    unsubscribe = translate(locale, "mail.post.unsubscribe", kind=kind.lower())
    text = (
        f"{byline}:\n\n{comment.body}\n\n{open_in_app}: {link}\n\n"
        f"--\n{unsubscribe}: {UNSUBSCRIBE_TAG}\n"
    )
    body = escape(comment.body).replace("\n", "<br>")
    html = _frame(
        f'<p style="color:#60646c;font-size:13px">{escape(byline)}</p>'
        f"<p>{body}</p>"
        f'<p><a href="{escape(link)}">{escape(open_in_app)}</a></p>',
        f'<a href="{UNSUBSCRIBE_TAG}">{escape(unsubscribe)}</a>',
    )
    return Content(subject=subject, text=text, html=html)
