"""The member's own settings: how e-mail arrives."""

import reflex as rx

from chainels_app.components.i18n import t
from chainels_app.components.layout import app_shell, error_callout
from chainels_app.state.preferences import PreferencesState


def _row(setting) -> rx.Component:
    return rx.el.label(
        rx.hstack(
            rx.text(setting.label, weight="medium"),
            rx.el.select(
                rx.foreach(
                    PreferencesState.modes,
                    lambda mode: rx.el.option(mode.label, value=mode.mode),
                ),
                value=setting.mode,
                on_change=lambda mode: PreferencesState.set_mode(setting.kind, mode),
                style={"padding": "0.4rem"},
            ),
            align="center",
            justify="between",
            wrap="wrap",
            width="100%",
        ),
        style={"width": "100%"},
    )


def settings_page() -> rx.Component:
    """E-mail per kind of post; alarms always arrive at once."""
    return app_shell(
        rx.heading(t("settings.title"), size="6"),
        rx.text(t("settings.mail_intro"), size="2"),
        error_callout(PreferencesState.error),
        rx.vstack(
            rx.foreach(PreferencesState.settings, _row),
            spacing="3",
            width="100%",
            max_width="32rem",
        ),
        rx.text(t("settings.alarm_note"), size="2", color_scheme="gray"),
    )
