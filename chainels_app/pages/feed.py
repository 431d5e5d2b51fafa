"""The feed: what a member opens first."""

import reflex as rx

from chainels_app.components.composer import composer
from chainels_app.components.i18n import t
from chainels_app.components.layout import app_shell, error_callout
from chainels_app.components.post_card import post_card
from chainels_app.state.feed import FeedState
from chainels_app.state.session import SessionState


def _filter(label: rx.Var, all_label: rx.Var, options, value, on_change):
    return rx.el.label(
        rx.hstack(
            rx.text(label, size="2"),
            rx.el.select(
                rx.el.option(all_label, value=""),
                rx.foreach(options, lambda o: rx.el.option(o.label, value=o.value)),
                value=value,
                on_change=on_change,
                style={"padding": "0.25rem"},
            ),
            align="center",
            spacing="2",
        )
    )


def _filters() -> rx.Component:
    return rx.hstack(
        _filter(
            t("feed.filter_kind"),
            t("feed.all_kinds"),
            FeedState.kinds,
            FeedState.kind_filter,
            FeedState.set_kind_filter,
        ),
        _filter(
            t("feed.filter_group"),
            t("feed.all_groups"),
            FeedState.groups,
            FeedState.group_filter,
            FeedState.set_group_filter,
        ),
        spacing="4",
        wrap="wrap",
    )


def _card(post) -> rx.Component:
    # A card carries its counts as they were when it arrived; the dicts hold
    # what changed since, so a live count costs a tab a few bytes.
    return post_card(
        post,
        votes=FeedState.vote_counts.get(post.id, post.vote_count),
        comments=FeedState.comment_counts.get(post.id, post.comment_count),
        voted=FeedState.my_votes.get(post.id, post.voted),
        on_vote=FeedState.toggle_vote(post.id),
    )


def feed_page() -> rx.Component:
    """The community's feed, newest first."""
    return app_shell(
        rx.heading(t("feed.title"), size="6"),
        rx.text(t("feed.welcome").replace("{name}", SessionState.user_name)),
        composer(),
        _filters(),
        error_callout(FeedState.error),
        rx.cond(
            FeedState.waiting > 0,
            rx.button(
                t("feed.show_waiting").replace(
                    "{count}", FeedState.waiting.to_string()
                ),
                on_click=FeedState.show_waiting,
                width="100%",
            ),
        ),
        rx.cond(
            (FeedState.posts.length() > 0) | (FeedState.fresh.length() > 0),
            rx.vstack(
                rx.foreach(FeedState.fresh, _card),
                rx.foreach(FeedState.posts, _card),
                spacing="3",
                width="100%",
            ),
            rx.callout(
                t("feed.empty").replace("{community}", SessionState.community_name),
                id="feed-empty",
            ),
        ),
        rx.cond(
            FeedState.has_more,
            rx.button(
                t("feed.load_more"), variant="soft", on_click=FeedState.load_more
            ),
        ),
    )
