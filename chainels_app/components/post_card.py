"""A post as a card: author and company, text, media, counts."""

from __future__ import annotations

import reflex as rx

from chainels_app.components.i18n import t


def post_meta(post) -> rx.Component:
    """Who posted, for which company and in what role, when and to whom."""
    return rx.vstack(
        rx.hstack(
            rx.badge(post.kind_label, variant="soft"),
            rx.text(post.when, size="1", color_scheme="gray"),
            rx.cond(post.edited, rx.text(t("post.edited"), size="1")),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.text(
            post.author,
            " · ",
            post.company,
            " · ",
            post.role_label,
            size="2",
            weight="medium",
        ),
        rx.text(t("post.to"), ": ", post.audience, size="1", color_scheme="gray"),
        spacing="1",
    )


def post_media(post) -> rx.Component:
    """Photos as thumbnails that open the photo; videos; files to download."""
    return rx.vstack(
        rx.flex(
            rx.foreach(
                post.images,
                lambda image: rx.link(
                    rx.image(
                        src=image.thumbnail_url,
                        alt=image.name,
                        max_height="10rem",
                        border_radius="var(--radius-2)",
                    ),
                    href=image.url,
                    is_external=True,
                ),
            ),
            gap="2",
            wrap="wrap",
        ),
        rx.foreach(
            post.videos,
            lambda video: rx.el.video(
                src=video.url, controls=True, preload="metadata", width="100%"
            ),
        ),
        rx.foreach(
            post.files,
            lambda file: rx.link(
                rx.hstack(rx.icon("paperclip", size=14), rx.text(file.name)),
                href=file.url,
                is_external=True,
                size="2",
            ),
        ),
        spacing="2",
        width="100%",
    )


def vote_button(count, voted, on_click) -> rx.Component:
    """Vote, or withdraw one's vote; shows the count."""
    return rx.button(
        rx.icon("thumbs-up", size=14),
        count,
        size="1",
        variant=rx.cond(voted, "solid", "soft"),
        aria_label=t("post.vote"),
        aria_pressed=voted,
        on_click=on_click,
    )


def post_card(post, *, votes, comments, voted, on_vote) -> rx.Component:
    """One post in the feed; its counts come from the feed's live dicts."""
    return rx.card(
        rx.vstack(
            post_meta(post),
            rx.link(rx.heading(post.title, size="4", as_="h2"), href=post.detail_url),
            rx.box(rx.html(post.body_html), class_name="post-body", width="100%"),
            post_media(post),
            rx.hstack(
                vote_button(votes, voted, on_vote),
                rx.link(
                    rx.hstack(
                        rx.icon("message-circle", size=14),
                        rx.text(comments),
                        rx.text(t("post.comments")),
                        spacing="1",
                        align="center",
                    ),
                    href=post.detail_url,
                    size="2",
                ),
                spacing="4",
                align="center",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_post_id=post.id,
    )
