"""The post composer: type, title, text, recipients and attachments.

Uploads are stored (checked, re-encoded, private) as soon as they are chosen;
the ids of this tab's uploads stay on the server, so publishing can only attach
files this member uploaded here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import reflex as rx

from chainels_app import routes
from chainels_app.i18n import translate
from chainels_app.models import AttachmentKind, PostKind
from chainels_app.services import audience, media, posts
from chainels_app.services.errors import DomainError, InvalidInput, NotAuthenticated
from chainels_app.settings import get_settings
from chainels_app.state.common import as_member, error_text, login_redirect, parse_id
from chainels_app.state.session import SessionState

logger = logging.getLogger(__name__)

UPLOAD_ID = "composer-files"


@dataclass
class Choice:
    """A recipient group or post kind the member may pick."""

    value: str
    label: str


@dataclass
class PendingFile:
    """An uploaded file waiting for the post."""

    id: str
    name: str
    is_image: bool
    preview_url: str


def _largest_upload() -> int:
    settings = get_settings()
    return max(
        settings.max_image_bytes, settings.max_video_bytes, settings.max_document_bytes
    )


async def _read_capped(upload: rx.UploadFile) -> bytes:
    """The file's bytes, refusing early when it is over every cap."""
    limit = _largest_upload()
    if upload.size is not None and upload.size > limit:
        raise InvalidInput("error.file_too_large", maximum=limit // (1024 * 1024))
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput("error.file_too_large", maximum=limit // (1024 * 1024))
    return data


class ComposerState(rx.State):
    """The composer on the feed page."""

    open: bool = False
    kinds: list[Choice] = []  # noqa: RUF012
    groups: list[Choice] = []  # noqa: RUF012
    files: list[PendingFile] = []  # noqa: RUF012
    error: str = ""
    uploading: bool = False
    _file_ids: list[int] = []  # noqa: RUF012

    async def _locale(self) -> str:
        return (await self.get_state(SessionState)).locale

    async def _refusal(self, error: DomainError):
        if isinstance(error, NotAuthenticated):
            return login_redirect(self)
        self.error = error_text(await self._locale(), error)
        return None

    @rx.event
    async def start(self):
        """Open the composer with the kinds and groups this member may use."""
        try:
            groups = await as_member(self, audience.addressable_groups)
        except DomainError as error:
            return await self._refusal(error)
        locale = await self._locale()
        self.kinds = [
            Choice(value=kind.value, label=translate(locale, f"post.kind.{kind}"))
            for kind in posts.PUBLISHABLE_KINDS
        ]
        self.groups = [Choice(value=str(g.id), label=g.name) for g in groups]
        self.error = ""
        self.open = True

    @rx.event
    def close(self):
        """Put the composer away; chosen files are kept for next time."""
        self.open = False
        self.error = ""

    @rx.event
    async def upload(self, uploads: list[rx.UploadFile]):
        """Check and store the chosen files."""
        self.uploading = True
        yield
        try:
            for upload in uploads:
                data = await _read_capped(upload)
                stored = await as_member(
                    self,
                    media.store_upload,
                    filename=upload.filename or "bestand",
                    data=data,
                )
                self._remember(stored)
            self.error = ""
        except DomainError as error:
            refusal = await self._refusal(error)
            if refusal is not None:
                yield refusal
        finally:
            self.uploading = False
        yield rx.clear_selected_files(UPLOAD_ID)

    def _remember(self, stored) -> None:
        self._file_ids = [*self._file_ids, stored.id]
        self.files = [
            *self.files,
            PendingFile(
                id=str(stored.id),
                name=stored.original_name,
                is_image=stored.kind == AttachmentKind.IMAGE,
                preview_url=routes.media_url(
                    stored.id, "thumbnail" if stored.has_thumbnail else "display"
                ),
            ),
        ]

    @rx.event
    def remove_file(self, file_id: str):
        """Leave a chosen file out of the post."""
        self._file_ids = [i for i in self._file_ids if str(i) != file_id]
        self.files = [f for f in self.files if f.id != file_id]

    @rx.event
    async def publish(self, form: dict[str, str]):
        """Publish the post; the feed shows it through the live update."""
        try:
            group_ids = [
                parse_id(key.removeprefix("group_"))
                for key, value in form.items()
                if key.startswith("group_") and value
            ]
            await as_member(
                self,
                posts.create_post,
                kind=str(form.get("kind", PostKind.ANNOUNCEMENT)),
                title=str(form.get("title", "")),
                body=str(form.get("body", "")),
                group_ids=group_ids,
                attachment_ids=list(self._file_ids),
            )
        except DomainError as error:
            return await self._refusal(error)
        self._file_ids = []
        self.files = []
        self.error = ""
        self.open = False
        return rx.toast.success(translate(await self._locale(), "composer.published"))
