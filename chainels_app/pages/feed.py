"""The feed: what a member opens first."""

import reflex as rx

from chainels_app.components.i18n import t
from chainels_app.components.layout import app_shell
from chainels_app.state.session import SessionState


def feed_page() -> rx.Component:
    """The community's feed."""
    # TODO(#3): posts, the composer and live updates arrive with the feed issue.
    return app_shell(
        rx.heading(t("feed.title"), size="6"),
        rx.text(t("feed.welcome").replace("{name}", SessionState.user_name)),
        rx.callout(
            t("feed.empty").replace("{community}", SessionState.community_name),
            id="feed-empty",
        ),
    )
