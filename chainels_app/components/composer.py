"""The composer: type first, then title, text, recipients and attachments."""

from __future__ import annotations

import reflex as rx

from chainels_app.components.i18n import t
from chainels_app.components.layout import error_callout, field
from chainels_app.state.composer import UPLOAD_ID, ComposerState
from chainels_app.state.session import SessionState

_ACCEPT = {
    "image/jpeg": [".jpg", ".jpeg"],
    "image/png": [".png"],
    "image/webp": [".webp"],
    "video/mp4": [".mp4"],
    "video/webm": [".webm"],
    "application/pdf": [".pdf"],
    "application/msword": [".doc"],
    "application/vnd.ms-excel": [".xls"],
    "application/vnd.ms-powerpoint": [".ppt"],
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": [
        ".docx"
    ],
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": [".xlsx"],
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": [
        ".pptx"
    ],
}


def _kind_picker() -> rx.Component:
    return rx.el.label(
        rx.vstack(
            rx.text(t("composer.kind"), size="2", weight="medium"),
            rx.el.select(
                rx.foreach(
                    ComposerState.kinds,
                    lambda kind: rx.el.option(kind.label, value=kind.value),
                ),
                name="kind",
                style={"padding": "0.4rem", "width": "100%"},
            ),
            spacing="1",
        ),
        width="100%",
    )


def _recipients() -> rx.Component:
    return rx.vstack(
        rx.text(t("composer.recipients"), size="2", weight="medium"),
        rx.flex(
            rx.foreach(
                ComposerState.groups,
                lambda group: rx.el.label(
                    rx.hstack(
                        rx.el.input(type="checkbox", name="group_" + group.value),
                        rx.text(group.label, size="2"),
                        spacing="2",
                        align="center",
                    )
                ),
            ),
            gap="3",
            wrap="wrap",
        ),
        spacing="1",
        width="100%",
    )


def _attachments() -> rx.Component:
    return rx.vstack(
        rx.upload(
            rx.vstack(
                rx.icon("paperclip"),
                rx.text(t("composer.files_hint"), size="2"),
                align="center",
                spacing="1",
            ),
            id=UPLOAD_ID,
            accept=_ACCEPT,
            multiple=True,
            border="1px dashed var(--gray-a7)",
            padding="1rem",
            width="100%",
            on_drop=ComposerState.upload(rx.upload_files(upload_id=UPLOAD_ID)),
            aria_label=t("composer.files"),
        ),
        rx.cond(ComposerState.uploading, rx.text(t("composer.uploading"), size="2")),
        rx.flex(
            rx.foreach(
                ComposerState.files,
                lambda file: rx.hstack(
                    rx.cond(
                        file.is_image,
                        rx.image(src=file.preview_url, alt=file.name, height="3rem"),
                        rx.icon("file"),
                    ),
                    rx.text(file.name, size="1"),
                    rx.icon_button(
                        rx.icon("x", size=12),
                        size="1",
                        variant="ghost",
                        aria_label=t("composer.remove_file"),
                        on_click=ComposerState.remove_file(file.id),
                    ),
                    align="center",
                    spacing="1",
                ),
            ),
            gap="3",
            wrap="wrap",
        ),
        spacing="2",
        width="100%",
    )


def composer() -> rx.Component:
    """A button that opens the composer; the form once it is open."""
    return rx.cond(
        ComposerState.open,
        rx.card(
            rx.form(
                rx.vstack(
                    rx.cond(
                        SessionState.company_name != "",
                        rx.text(
                            t("composer.as_company").replace(
                                "{company}", SessionState.company_name
                            ),
                            size="2",
                            color_scheme="gray",
                        ),
                    ),
                    _kind_picker(),
                    field(t("composer.title"), name="title", required=True),
                    rx.el.label(
                        rx.vstack(
                            rx.text(t("composer.body"), size="2", weight="medium"),
                            rx.text_area(name="body", rows="5", width="100%"),
                            spacing="1",
                        ),
                        width="100%",
                    ),
                    _recipients(),
                    _attachments(),
                    error_callout(ComposerState.error),
                    rx.hstack(
                        rx.button(t("composer.publish"), type="submit"),
                        rx.button(
                            t("composer.close"),
                            type="button",
                            variant="soft",
                            on_click=ComposerState.close,
                        ),
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=ComposerState.publish,
                reset_on_submit=False,
            ),
            width="100%",
        ),
        rx.button(rx.icon("plus"), t("composer.open"), on_click=ComposerState.start),
    )
