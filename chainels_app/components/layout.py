"""The app shell: top bar, navigation, and the frame of public pages."""

from __future__ import annotations

import reflex as rx

from chainels_app.components.i18n import language_switch, t
from chainels_app.state.session import SessionState

_MAX_WIDTH = "46rem"


def _community_switcher() -> rx.Component:
    return rx.cond(
        SessionState.communities.length() > 1,
        rx.select.root(
            rx.select.trigger(aria_label=t("nav.community")),
            rx.select.content(
                rx.foreach(
                    SessionState.communities,
                    lambda c: rx.select.item(c.name, value=c.id),
                )
            ),
            value=SessionState.community_id,
            on_change=SessionState.switch_community,
        ),
        rx.text(SessionState.community_name, size="4", weight="bold"),
    )


def _top_bar() -> rx.Component:
    bar = rx.hstack(
        _community_switcher(),
        rx.spacer(),
        language_switch(),
        rx.button(
            t("nav.logout"), size="1", variant="ghost", on_click=SessionState.logout
        ),
        align="center",
        width="100%",
        padding="0.75rem 1rem",
        border_bottom="1px solid var(--gray-a5)",
        wrap="wrap",
    )
    return rx.el.header(bar)


def _navigation() -> rx.Component:
    return rx.el.nav(
        rx.hstack(
            rx.foreach(
                SessionState.navigation,
                lambda item: rx.link(item.label, href=item.href, weight="medium"),
            ),
            spacing="5",
            padding="0.5rem 1rem",
            overflow_x="auto",
        ),
        aria_label=t("nav.menu"),
    )


def app_shell(*children: rx.Component) -> rx.Component:
    """A member page: shown once the session is confirmed, else a spinner."""
    return rx.cond(
        SessionState.ready,
        rx.box(
            _top_bar(),
            _navigation(),
            rx.el.main(
                rx.vstack(*children, spacing="4", width="100%"),
                max_width=_MAX_WIDTH,
                margin="0 auto",
                padding="1rem",
            ),
        ),
        rx.center(rx.spinner(size="3"), height="60vh"),
    )


def public_shell(*children: rx.Component) -> rx.Component:
    """A page for visitors: login, invitation, password reset."""
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading(t("app.name"), size="5"),
                    rx.spacer(),
                    language_switch(),
                    width="100%",
                    align="center",
                ),
                rx.text(t("app.tagline"), color_scheme="gray", size="2"),
                *children,
                spacing="4",
                width="100%",
            ),
            width="100%",
            max_width="26rem",
        ),
        padding="1rem",
        min_height="90vh",
    )


def error_callout(message: rx.Var) -> rx.Component:
    """A visible refusal; screen readers announce it."""
    return rx.cond(
        message != "",
        rx.callout(message, color_scheme="red", role="alert", width="100%"),
    )


def field(label: rx.Var, **input_props) -> rx.Component:
    """A labelled input; the label names it for assistive technology."""
    return rx.el.label(
        rx.vstack(
            rx.text(label, size="2", weight="medium"),
            rx.input(width="100%", **input_props),
            spacing="1",
        ),
        width="100%",
    )
