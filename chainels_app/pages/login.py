"""Log in: e-mail and password; the only way in besides an invitation."""

import reflex as rx

from chainels_app import routes
from chainels_app.components.i18n import t
from chainels_app.components.layout import error_callout, field, public_shell
from chainels_app.state.auth import LoginState


def login_page() -> rx.Component:
    """The login form."""
    return public_shell(
        rx.heading(t("login.title"), size="6"),
        error_callout(LoginState.error),
        rx.form(
            rx.vstack(
                field(
                    t("login.email"),
                    name="email",
                    type="email",
                    required=True,
                    auto_complete="username",
                ),
                field(
                    t("login.password"),
                    name="password",
                    type="password",
                    required=True,
                    auto_complete="current-password",
                ),
                rx.button(t("login.submit"), type="submit", width="100%"),
                spacing="3",
            ),
            on_submit=LoginState.submit,
            reset_on_submit=False,
        ),
        rx.link(t("login.forgot"), href=routes.FORGOT_PASSWORD, size="2"),
        rx.text(t("login.invite_only"), size="2", color_scheme="gray"),
    )
