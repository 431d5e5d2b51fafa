"""Uploaded photos, videos and documents in private storage.

A file's type is judged from its bytes, never from its name or the browser's word.
Photos are decoded only after their header shows a sane size, turned upright and
re-encoded without metadata (EXIF, GPS, XMP, comments); only that copy and a
thumbnail are kept. Files live under random names in the media folder, which no
web server serves: members fetch them through an authorized route. Files follow
the transaction: written files vanish on rollback, doomed files go on commit.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from PIL import Image, ImageOps
from sqlalchemy import and_, event, or_
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col, delete, select

from chainels_app.models import Attachment, AttachmentKind, Post, utcnow
from chainels_app.services.access import Actor, Permission
from chainels_app.services.audience import visible_post
from chainels_app.services.errors import InvalidInput, NotFound
from chainels_app.services.transport import InlineImage
from chainels_app.settings import Settings, get_settings

logger = logging.getLogger(__name__)

VARIANTS = ("display", "thumbnail")
THUMBNAIL_SIZE = 640
NAME_MAX = 200
PURGE_BATCH = 1000
_MB = 1024 * 1024
_QUALITY = 85
_KEPT_IMAGE_INFO = ("icc_profile", "transparency")
_WRITTEN = "media_written"
_DOOMED = "media_doomed"

_MP4_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6",
    b"mp41", b"mp42", b"avc1", b"M4V ", b"dash", b"MSNV",
}  # fmt: skip
_HEIF_BRANDS = {b"heic", b"heix", b"mif1", b"msf1", b"avif", b"avis"}
# Stream names (UTF-16) that tell a Word, Excel or PowerPoint file from other
# OLE2 containers such as installers.
_OLE_STREAMS = (
    ("WordDocument", "application/msword", (".doc", ".dot")),
    ("Workbook", "application/vnd.ms-excel", (".xls", ".xlt")),
    ("PowerPoint Document", "application/vnd.ms-powerpoint", (".ppt", ".pps")),
)
_OOXML = "application/vnd.openxmlformats-officedocument"
_OOXML_PARTS = (
    ("word/", f"{_OOXML}.wordprocessingml.document", (".docx",)),
    ("xl/", f"{_OOXML}.spreadsheetml.sheet", (".xlsx",)),
    ("ppt/", f"{_OOXML}.presentationml.presentation", (".pptx",)),
)
_UNSAFE_NAME_CHARS = str.maketrans(dict.fromkeys('<>:"/\\|?*', "_"))


@dataclass(frozen=True)
class FileType:
    """What a file's bytes say it is."""

    kind: AttachmentKind
    content_type: str
    extensions: tuple[str, ...]
    pillow_format: str | None = None


@dataclass(frozen=True)
class ServedFile:
    """A stored file a member may receive, and how to send it."""

    path: Path
    content_type: str
    download_name: str
    inline: bool


@dataclass(frozen=True)
class _Picture:
    display: bytes
    thumbnail: bytes
    width: int
    height: int


def _image(content_type: str, extensions: tuple[str, ...], fmt: str) -> FileType:
    return FileType(AttachmentKind.IMAGE, content_type, extensions, fmt)


def _iso_media_type(data: bytes) -> FileType | None:
    box_size = int.from_bytes(data[:4], "big")
    if data[4:8] != b"ftyp" or not 16 <= box_size <= len(data):
        return None
    major = data[8:12]
    brands = {major} | {data[i : i + 4] for i in range(16, box_size - 3, 4)}
    if major in _HEIF_BRANDS or not brands & _MP4_BRANDS:
        return None
    return FileType(AttachmentKind.VIDEO, "video/mp4", (".mp4", ".m4v"))


def _office_open_xml(data: bytes) -> FileType | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    # Macro-enabled documents (docm, xlsm) carry code: not for a member's feed.
    if "[Content_Types].xml" not in names or any(
        name.lower().endswith("vbaproject.bin") for name in names
    ):
        return None
    for prefix, content_type, extensions in _OOXML_PARTS:
        if any(name.startswith(prefix) for name in names):
            return FileType(AttachmentKind.DOCUMENT, content_type, extensions)
    return None


def _legacy_office(data: bytes) -> FileType | None:
    for stream, content_type, extensions in _OLE_STREAMS:
        if stream.encode("utf-16-le") in data:
            return FileType(AttachmentKind.DOCUMENT, content_type, extensions)
    return None


def detect_type(data: bytes) -> FileType | None:
    """The allowed type these bytes are, or None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return _image("image/jpeg", (".jpg", ".jpeg"), "JPEG")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _image("image/png", (".png",), "PNG")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _image("image/webp", (".webp",), "WEBP")
    if data.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in data[:64]:
        return FileType(AttachmentKind.VIDEO, "video/webm", (".webm",))
    if data.startswith(b"%PDF-"):
        return FileType(AttachmentKind.DOCUMENT, "application/pdf", (".pdf",))
    if data.startswith(b"PK\x03\x04"):
        return _office_open_xml(data)
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _legacy_office(data)
    return _iso_media_type(data)


def safe_name(filename: str, extensions: tuple[str, ...]) -> str:
    """A download name: no path, no control characters, the right extension."""
    name = unicodedata.normalize("NFC", filename).replace("\\", "/").rsplit("/")[-1]
    # Category C holds controls and direction overrides ("gpj.exe" tricks).
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = name.translate(_UNSAFE_NAME_CHARS).strip(" .") or "attachment"
    stem, dot, suffix = name.rpartition(".")
    if not dot or f".{suffix.lower()}" not in extensions:
        stem, suffix = name, extensions[0].lstrip(".")
    return f"{stem[: NAME_MAX - len(suffix) - 1]}.{suffix}"


def _check_size(data: bytes, kind: AttachmentKind, settings: Settings) -> None:
    limit = {
        AttachmentKind.IMAGE: settings.max_image_bytes,
        AttachmentKind.VIDEO: settings.max_video_bytes,
        AttachmentKind.DOCUMENT: settings.max_document_bytes,
    }[kind]
    if len(data) > limit:
        raise InvalidInput("error.file_too_large", maximum=limit // _MB)


def _too_many_pixels(settings: Settings) -> InvalidInput:
    maximum = settings.max_image_pixels // 1_000_000
    return InvalidInput("error.image_too_large", maximum=maximum)


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    options = {} if fmt == "PNG" else {"quality": _QUALITY}
    # Not every encoder takes the colour profile from ``info``: hand it over.
    if "icc_profile" in image.info:
        options["icc_profile"] = image.info["icc_profile"]
    image.save(out, format=fmt, **options)
    return out.getvalue()


def _picture(image: Image.Image, fmt: str, settings: Settings) -> _Picture:
    width, height = image.size
    # The header gives the size; refuse before a single pixel is decoded.
    if width * height > settings.max_image_pixels:
        raise _too_many_pixels(settings)
    image.load()
    ImageOps.exif_transpose(image, in_place=True)
    # Some encoders copy comments and metadata from ``info``: keep only what
    # colours need.
    image.info = {k: v for k, v in image.info.items() if k in _KEPT_IMAGE_INFO}
    thumbnail = ImageOps.contain(image, (THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    thumbnail.info = dict(image.info)
    return _Picture(
        display=_encode(image, fmt),
        thumbnail=_encode(thumbnail, fmt),
        width=image.width,
        height=image.height,
    )


def _process_image(data: bytes, file_type: FileType, settings: Settings) -> _Picture:
    try:
        with Image.open(io.BytesIO(data), formats=[file_type.pillow_format]) as image:
            return _picture(image, file_type.pillow_format, settings)
    except Image.DecompressionBombError:
        raise _too_many_pixels(settings) from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        logger.info("image unreadable: %s", type(error).__name__)
        raise InvalidInput("error.image_unreadable") from None


def _path(storage_key: str, variant: str = "display") -> Path:
    folder = get_settings().media_dir / storage_key[:2]
    suffix = ".thumb" if variant == "thumbnail" else ""
    return folder / f"{storage_key}{suffix}"


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.part")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _remove(paths: list[Path]) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            logger.exception("could not remove media file %s", path.name)


def _files_of(attachment: Attachment) -> list[Path]:
    files = [_path(attachment.storage_key)]
    if attachment.has_thumbnail:
        files.append(_path(attachment.storage_key, "thumbnail"))
    return files


def _save_files(attachment: Attachment, data: bytes, thumbnail: bytes | None) -> None:
    written: list[Path] = []
    try:
        for path, content in zip(
            _files_of(attachment), (data, thumbnail), strict=False
        ):
            written.append(path)
            _write(path, content)
    except OSError:
        _remove(written)
        raise


def _insert(session: Session, attachment: Attachment) -> None:
    try:
        session.add(attachment)
        session.flush()
    except Exception:
        _remove(_files_of(attachment))
        raise
    session.info.setdefault(_WRITTEN, []).extend(_files_of(attachment))


def _check_upload(data: bytes, settings: Settings) -> FileType:
    if not data:
        raise InvalidInput("error.file_empty")
    file_type = detect_type(data)
    if file_type is None:
        raise InvalidInput("error.file_type_not_allowed")
    _check_size(data, file_type.kind, settings)
    return file_type


def store_upload(
    session: Session, *, actor: Actor, filename: str, data: bytes
) -> Attachment:
    """Check an uploaded file by its content and keep it, unattached, for a post."""
    actor.require(Permission.READ)
    settings = get_settings()
    try:
        file_type = _check_upload(data, settings)
    except InvalidInput as refusal:
        logger.warning(
            "(community=%s) upload refused: %s", actor.community_id, refusal.key
        )
        raise

    attachment = Attachment(
        community_id=actor.community_id,
        uploader_id=actor.user_id,
        post_id=None,
        kind=file_type.kind,
        content_type=file_type.content_type,
        original_name=safe_name(filename, file_type.extensions),
        storage_key=secrets.token_urlsafe(24),
        size_bytes=len(data),
    )
    thumbnail = None
    if file_type.kind == AttachmentKind.IMAGE:
        picture = _process_image(data, file_type, settings)
        data, thumbnail = picture.display, picture.thumbnail
        attachment.width, attachment.height = picture.width, picture.height
        attachment.size_bytes, attachment.has_thumbnail = len(data), True

    _save_files(attachment, data, thumbnail)
    _insert(session, attachment)
    logger.info(
        "(community=%s) attachment %s (%s) uploaded by user %s",
        actor.community_id,
        attachment.id,
        file_type.content_type,
        actor.user_id,
    )
    return attachment


def _readable_attachment(
    session: Session, actor: Actor, attachment_id: int
) -> Attachment:
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.community_id != actor.community_id:
        raise NotFound
    if attachment.post_id is None:
        # An upload not yet posted is seen only in its uploader's composer.
        if attachment.uploader_id != actor.user_id:
            raise NotFound
    else:
        visible_post(session, actor=actor, post_id=attachment.post_id)
    return attachment


def open_attachment(
    session: Session, *, actor: Actor, attachment_id: int, variant: str
) -> ServedFile:
    """The stored file of an attachment the actor may see; NotFound otherwise."""
    if variant not in VARIANTS:
        raise NotFound
    attachment = _readable_attachment(session, actor, attachment_id)
    if variant == "thumbnail" and not attachment.has_thumbnail:
        raise NotFound
    path = _path(attachment.storage_key, variant)
    if not path.is_file():
        logger.warning("attachment %s has no %s file", attachment.id, variant)
        raise NotFound
    return ServedFile(
        path=path,
        content_type=attachment.content_type,
        download_name=attachment.original_name,
        inline=attachment.kind in (AttachmentKind.IMAGE, AttachmentKind.VIDEO),
    )


def purge_unclaimed(
    session: Session,
    *,
    older_than: timedelta = timedelta(days=1),
    batch: int = PURGE_BATCH,
) -> int:
    """Delete uploads never posted, and those of deleted posts; returns how many."""
    cutoff = utcnow() - older_than
    deleted_posts = select(Post.id).where(col(Post.deleted_at) < cutoff)
    doomed = session.exec(
        select(Attachment)
        .where(
            or_(
                and_(
                    col(Attachment.post_id).is_(None),
                    col(Attachment.created_at) < cutoff,
                ),
                col(Attachment.post_id).in_(deleted_posts),
            )
        )
        .limit(batch)
    ).all()
    if not doomed:
        return 0
    # A bulk delete, so a second worker purging the same rows is harmless.
    ids = [attachment.id for attachment in doomed]
    session.exec(delete(Attachment).where(col(Attachment.id).in_(ids)))
    for attachment in doomed:
        session.info.setdefault(_DOOMED, []).extend(_files_of(attachment))
    logger.info("purged %s unclaimed or deleted attachments", len(ids))
    return len(ids)


@event.listens_for(Session, "after_commit")
def _settle_files_after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint: the outer transaction may still roll back
    session.info.pop(_WRITTEN, None)
    _remove(session.info.pop(_DOOMED, []))


@event.listens_for(Session, "after_soft_rollback")
def _settle_files_after_rollback(
    session: Session, previous: SessionTransaction
) -> None:
    if previous.parent is not None:
        return  # a savepoint: its files stay until the outer transaction ends
    session.info.pop(_DOOMED, None)
    _remove(session.info.pop(_WRITTEN, []))


def mail_thumbnails(session: Session, *, post_id: int) -> list[InlineImage]:
    """The post's photo thumbnails, to embed in its mail (a mail has no session)."""
    images = []
    for attachment in session.exec(
        select(Attachment)
        .where(
            Attachment.post_id == post_id,
            Attachment.kind == AttachmentKind.IMAGE,
            col(Attachment.has_thumbnail).is_(True),
        )
        .order_by(Attachment.id)
        .limit(4)
    ):
        path = _path(attachment.storage_key, "thumbnail")
        if path.exists():
            extension = attachment.content_type.split("/")[-1]
            images.append(
                InlineImage(
                    cid=f"photo-{attachment.id}@chainels",
                    data=path.read_bytes(),
                    content_type=attachment.content_type,
                    filename=f"foto-{attachment.id}.{extension}",
                )
            )
    return images
