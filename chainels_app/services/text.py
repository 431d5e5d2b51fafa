"""Post text: plain text with links and simple formatting, rendered safely.

Members type plain text with Markdown-style emphasis, lists and links; raw HTML
is not interpreted, and the rendered HTML passes through an allow-list sanitizer
(``nh3``) before it is stored or shown.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": True, "breaks": True})
_markdown.enable("linkify")
_markdown.disable(["image", "heading", "lheading", "html_block", "html_inline"])

_TAGS = {"p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote", "code"}
_ATTRIBUTES = {"a": {"href"}}
_SCHEMES = {"http", "https", "mailto", "tel"}


def render_body(text: str) -> str:
    """Safe HTML for a post or comment body."""
    if not text.strip():
        return ""
    return nh3.clean(
        _markdown.render(text),
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
