"""Reflex configuration: read from the settings, no logic of its own."""

import reflex as rx

from chainels_app.settings import get_settings

settings = get_settings()

config = rx.Config(
    app_name="chainels_app",
    telemetry_enabled=False,
    db_url=settings.database_url,
    redis_url=settings.redis_url,
    cors_allowed_origins=settings.allowed_origins,
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="indigo", radius="medium")
        )
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
    show_built_with_reflex=False,
)
