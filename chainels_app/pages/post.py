"""One post with its comments."""

import reflex as rx

from chainels_app import routes
from chainels_app.components.i18n import t
from chainels_app.components.layout import app_shell, error_callout, field
from chainels_app.components.post_card import post_media, post_meta, vote_button
from chainels_app.state.post import PostState


def _comment(comment) -> rx.Component:
    return rx.box(
        rx.text(comment.author, " · ", comment.company, size="2", weight="medium"),
        rx.text(comment.when, size="1", color_scheme="gray"),
        rx.text(comment.body, white_space="pre-wrap"),
        padding_y="0.5rem",
        border_bottom="1px solid var(--gray-a4)",
        width="100%",
    )


def _comment_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.el.label(
                rx.vstack(
                    rx.text(t("post.comment_label"), size="2", weight="medium"),
                    rx.text_area(name="body", rows="3", width="100%", required=True),
                    spacing="1",
                ),
                width="100%",
            ),
            rx.button(t("post.comment_submit"), type="submit"),
            spacing="2",
            width="100%",
        ),
        on_submit=PostState.add_comment,
        reset_on_submit=True,
        width="100%",
    )


def _edit_form(post) -> rx.Component:
    return rx.form(
        rx.vstack(
            field(t("composer.title"), name="title", default_value=post.title),
            rx.text_area(
                name="body",
                default_value=post.body,
                rows="5",
                width="100%",
                aria_label=t("composer.body"),
            ),
            rx.hstack(
                rx.button(t("post.save"), type="submit"),
                rx.button(
                    t("post.cancel"),
                    type="button",
                    variant="soft",
                    on_click=PostState.set_editing(False),
                ),
            ),
            width="100%",
        ),
        on_submit=PostState.save_edit,
        reset_on_submit=False,
        width="100%",
    )


def _author_actions() -> rx.Component:
    return rx.hstack(
        rx.button(
            t("post.edit"),
            size="1",
            variant="soft",
            on_click=PostState.set_editing(True),
        ),
        rx.button(
            t("post.delete"),
            size="1",
            variant="soft",
            color_scheme="red",
            on_click=PostState.delete,
        ),
    )


def _moderation() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(
                name="reason",
                placeholder=t("post.remove_reason"),
                required=True,
                aria_label=t("post.remove_reason"),
            ),
            rx.button(t("post.remove"), type="submit", color_scheme="red", size="1"),
            wrap="wrap",
        ),
        on_submit=PostState.remove,
    )


def _post(post) -> rx.Component:
    return rx.card(
        rx.vstack(
            post_meta(post),
            rx.heading(post.title, size="6", as_="h1"),
            rx.cond(
                PostState.editing,
                _edit_form(post),
                rx.box(rx.html(post.body_html), class_name="post-body", width="100%"),
            ),
            post_media(post),
            rx.hstack(
                vote_button(post.vote_count, post.voted, PostState.toggle_vote),
                rx.cond(post.mine, _author_actions()),
                spacing="4",
            ),
            rx.cond(PostState.can_moderate, _moderation()),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def post_page() -> rx.Component:
    """The post page."""
    return app_shell(
        rx.link(t("post.back"), href=routes.FEED, size="2"),
        error_callout(PostState.error),
        rx.cond(
            PostState.found & PostState.post,
            rx.vstack(
                _post(PostState.post),
                rx.heading(t("post.comments"), size="4", as_="h2"),
                rx.foreach(PostState.comments, _comment),
                _comment_form(),
                spacing="3",
                width="100%",
            ),
        ),
    )
