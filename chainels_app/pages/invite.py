"""The page an invitation link opens: name and password, then the feed."""

import reflex as rx

from chainels_app.components.i18n import t
from chainels_app.components.layout import error_callout, field, public_shell
from chainels_app.state.auth import InviteState


def _intro() -> rx.Component:
    return rx.vstack(
        rx.text(
            t("invite.intro")
            .replace("{email}", InviteState.email)
            .replace("{community}", InviteState.community_name)
        ),
        rx.cond(
            InviteState.company_name != "",
            rx.text(t("invite.company").replace("{company}", InviteState.company_name)),
        ),
        spacing="1",
    )


def _form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.cond(
                InviteState.has_account,
                rx.text(t("invite.password_existing"), size="2"),
                field(
                    t("invite.name"), name="name", required=True, auto_complete="name"
                ),
            ),
            field(
                rx.cond(
                    InviteState.has_account, t("login.password"), t("invite.password")
                ),
                name="password",
                type="password",
                required=True,
                auto_complete="new-password",
            ),
            rx.button(t("invite.submit"), type="submit", width="100%"),
            spacing="3",
        ),
        on_submit=InviteState.submit,
        reset_on_submit=False,
    )


def invite_page() -> rx.Component:
    """Accept an invitation."""
    return public_shell(
        rx.heading(t("invite.title"), size="6"),
        error_callout(InviteState.error),
        rx.cond(
            InviteState.loaded & InviteState.usable,
            rx.vstack(_intro(), _form(), spacing="4", width="100%"),
        ),
    )
