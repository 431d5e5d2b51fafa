"""Forgot password, and the page a reset link opens."""

import reflex as rx

from chainels_app import routes
from chainels_app.components.i18n import t
from chainels_app.components.layout import error_callout, field, public_shell
from chainels_app.state.auth import ForgotPasswordState, ResetPasswordState


def forgot_password_page() -> rx.Component:
    """Ask for a reset link."""
    return public_shell(
        rx.heading(t("reset.request_title"), size="6"),
        rx.cond(
            ForgotPasswordState.sent,
            rx.callout(t("reset.request_sent"), role="status"),
            rx.form(
                rx.vstack(
                    rx.text(t("reset.request_intro"), size="2"),
                    field(t("login.email"), name="email", type="email", required=True),
                    rx.button(t("reset.request_submit"), type="submit", width="100%"),
                    spacing="3",
                ),
                on_submit=ForgotPasswordState.submit,
            ),
        ),
        rx.link(t("reset.back_to_login"), href=routes.LOGIN, size="2"),
    )


def reset_password_page() -> rx.Component:
    """Choose a new password."""
    return public_shell(
        rx.heading(t("reset.new_title"), size="6"),
        error_callout(ResetPasswordState.error),
        rx.cond(
            ResetPasswordState.done,
            rx.link(t("reset.back_to_login"), href=routes.LOGIN),
            rx.form(
                rx.vstack(
                    field(
                        t("reset.new_password"),
                        name="password",
                        type="password",
                        required=True,
                        auto_complete="new-password",
                    ),
                    rx.button(t("reset.new_submit"), type="submit", width="100%"),
                    spacing="3",
                ),
                on_submit=ResetPasswordState.submit,
                reset_on_submit=False,
            ),
        ),
    )
