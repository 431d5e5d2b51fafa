"""Interface text from the catalogue of the tab's language."""

from __future__ import annotations

import reflex as rx

from chainels_app.state.session import SessionState


def t(key: str) -> rx.Var:
    """The message for ``key`` in the tab's language."""
    return SessionState.messages[key]


def language_switch() -> rx.Component:
    """Two buttons, Nederlands and English; a member's choice is remembered."""
    return rx.hstack(
        *(
            rx.button(
                code.upper(),
                aria_label=label,
                size="1",
                variant=rx.cond(SessionState.locale == code, "solid", "soft"),
                on_click=SessionState.set_language(code),
            )
            for code, label in (("nl", "Nederlands"), ("en", "English"))
        ),
        spacing="1",
    )
