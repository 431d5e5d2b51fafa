"""Uploads: type by content, caps, metadata stripping, visibility and purging."""

from __future__ import annotations

import dataclasses
import io
import struct
import zipfile
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageCms
from sqlmodel import select

from chainels_app.models import Attachment, AttachmentKind, PostKind, utcnow
from chainels_app.services import media, posts
from chainels_app.services.errors import InvalidInput, NotFound
from chainels_app.settings import get_settings
from tests.factories import make_area

GPS = ExifTags.IFD.GPSInfo


@pytest.fixture
def media_dir(tmp_path: Path, monkeypatch) -> Path:
    """A private media folder for this test."""
    folder = tmp_path / "media"
    settings = dataclasses.replace(get_settings(), media_dir=folder)
    monkeypatch.setattr(media, "get_settings", lambda: settings)
    return folder


def limit(monkeypatch, **changes) -> None:
    """Change some settings of the media service for one test."""
    settings = dataclasses.replace(media.get_settings(), **changes)
    monkeypatch.setattr(media, "get_settings", lambda: settings)


def stored_files(folder: Path) -> list[Path]:
    """Every file in the media folder."""
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def jpeg_with_gps(size=(200, 100), orientation: int = 1) -> bytes:
    """A JPEG, left half red and right half blue, with camera and GPS tags."""
    image = Image.new("RGB", size, "blue")
    image.paste("red", (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "Camera Maker"
    exif[ExifTags.Base.ImageDescription] = "Achterdeur Hoofdstraat 12"
    exif.get_ifd(GPS).update(
        {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (52.0, 5.0, 30.0),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (4.0, 53.0, 10.0),
        }
    )
    out = io.BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret place</x:xmpmeta>'
    image.save(out, "JPEG", exif=exif, xmp=xmp, comment=b"secret comment")
    return out.getvalue()


def image_bytes(fmt: str, size=(32, 24), **options) -> bytes:
    """A small real image in the given format."""
    out = io.BytesIO()
    Image.new("RGB", size, "green").save(out, fmt, **options)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a size but carries no pixels: cheap to make."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    """A zip archive with these entries."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
DOCX = zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"})
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00isommp42" + b"\x00\x00\x00\x08mdat"
WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + bytes(16)
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200)
ELF = b"\x7fELF\x02\x01\x01" + bytes(100)
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
SVG = b"<svg xmlns='http://www.w3.org/2000/svg'/>"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
NOT_ALLOWED = "error.file_type_not_allowed"
XLSM = zip_bytes({"[Content_Types].xml": b"", "xl/vbaProject.bin": b""})
WORD_STREAM = "WordDocument".encode("utf-16-le")


def upload(session, area, persona="officer", filename="foto.jpg", data=None):
    """Store a file as the persona and commit."""
    attachment = media.store_upload(
        session,
        actor=area.actor(session, persona),
        filename=filename,
        data=jpeg_with_gps() if data is None else data,
    )
    session.commit()
    return attachment


def post_with(session, area, attachment, groups=(), persona="officer"):
    """Publish a post carrying the attachment."""
    post = posts.create_post(
        session,
        actor=area.actor(session, persona),
        kind=PostKind.ANNOUNCEMENT,
        title="Verdachte persoon",
        body="",
        group_ids=[area.groups[name].id for name in groups],
        attachment_ids=[attachment.id],
    )
    session.commit()
    return post


def open_as(session, area, persona, attachment, variant="display"):
    """Open the attachment as the persona."""
    return media.open_attachment(
        session,
        actor=area.actor(session, persona),
        attachment_id=attachment.id,
        variant=variant,
    )


@pytest.mark.parametrize(
    ("filename", "data", "key"),
    [
        ("leeg.jpg", b"", "error.file_empty"),
        ("foto.jpg", ELF, NOT_ALLOWED),
        ("foto.jpg", b"MZ\x90\x00" + bytes(60), NOT_ALLOWED),
        ("foto.jpg", b"#!/bin/sh\nrm -rf /\n", NOT_ALLOWED),
        ("brief.pdf", b"<html><script>x()</script>", NOT_ALLOWED),
        ("foto.svg", SVG, NOT_ALLOWED),
        ("brief.docx", zip_bytes({"word/document.xml": b"<w/>"}), NOT_ALLOWED),
        ("lijst.xlsm", XLSM, NOT_ALLOWED),
        ("setup.doc", OLE2, NOT_ALLOWED),
        ("foto.heic", HEIC, NOT_ALLOWED),
        ("foto.jpg", b"\xff\xd8\xff\xe0" + bytes(40), "error.image_unreadable"),
        ("foto.png", png_header_only(8000, 6250), "error.image_too_large"),
    ],
)  # fmt: skip
def test_refused_files_leave_no_row_and_no_file(
    session, media_dir, filename, data, key
):
    area = make_area(session)
    with pytest.raises(InvalidInput) as refused:
        upload(session, area, filename=filename, data=data)
    session.rollback()

    assert refused.value.key == key
    assert session.exec(select(Attachment)).all() == []
    assert stored_files(media_dir) == []


def test_refusals_name_their_maximum(session, media_dir):
    area = make_area(session)
    with pytest.raises(InvalidInput) as refused:
        upload(session, area, data=png_header_only(8000, 6250))
    assert refused.value.params == {"maximum": 40}


def test_size_caps_per_kind(session, media_dir, monkeypatch):
    area = make_area(session)
    limit(monkeypatch, max_document_bytes=1024 * 1024, max_image_bytes=1024 * 1024)
    with pytest.raises(InvalidInput) as refused:
        upload(session, area, filename="x.pdf", data=PDF + bytes(1024 * 1024))
    assert (refused.value.key, refused.value.params) == (
        "error.file_too_large",
        {"maximum": 1},
    )
    big_jpeg = image_bytes("JPEG", size=(64, 64)) + bytes(1024 * 1024)
    with pytest.raises(InvalidInput, match="file_too_large"):
        upload(session, area, data=big_jpeg)
    session.rollback()
    assert upload(session, area, filename="a.pdf", data=PDF).kind == "document"
    assert session.exec(select(Attachment)).one().kind == "document"
    assert len(stored_files(media_dir)) == 1


def test_pillows_bomb_check_is_a_refusal_too(session, media_dir, monkeypatch):
    area = make_area(session)
    limit(monkeypatch, max_image_pixels=10**12)
    with pytest.raises(InvalidInput, match="image_too_large"):
        upload(session, area, data=png_header_only(20_000, 20_000))
    session.rollback()
    assert stored_files(media_dir) == []


@pytest.mark.parametrize(
    ("filename", "data", "kind", "content_type", "name"),
    [
        ("kaart.png", image_bytes("PNG"), "image", "image/png", "kaart.png"),
        ("foto.webp", image_bytes("WEBP"), "image", "image/webp", "foto.webp"),
        ("film.mp4", MP4, "video", "video/mp4", "film.mp4"),
        ("film.webm", WEBM, "video", "video/webm", "film.webm"),
        ("Brief.PDF", PDF, "document", "application/pdf", "Brief.PDF"),
        ("notulen.docx", DOCX, "document", DOCX_TYPE, "notulen.docx"),
        ("oud.doc", OLE2 + WORD_STREAM, "document", "application/msword", "oud.doc"),
        ("factuur.exe", PDF, "document", "application/pdf", "factuur.exe.pdf"),
        ("../\u202egpj.exe", image_bytes("JPEG"), "image", "image/jpeg", "gpj.exe.jpg"),
    ],
)  # fmt: skip
def test_types_are_judged_by_content(
    session, media_dir, filename, data, kind, content_type, name
):
    area = make_area(session)
    stored = upload(session, area, filename=filename, data=data)

    assert (stored.kind, stored.content_type) == (kind, content_type)
    assert stored.original_name == name
    assert stored.post_id is None
    assert stored.uploader_id == area.people["officer"].id
    assert stored.community_id == area.community.id
    served = open_as(session, area, "officer", stored)
    assert served.path.is_relative_to(media_dir)
    assert filename not in str(served.path)
    if kind != "image":
        assert served.path.read_bytes() == data


def test_long_names_are_cut_keeping_the_extension(session, media_dir):
    area = make_area(session)
    stored = upload(session, area, filename="x" * 500 + ".pdf", data=PDF)
    assert len(stored.original_name) == media.NAME_MAX
    assert stored.original_name.endswith("x.pdf")


def test_photos_lose_exif_gps_xmp_and_comments(session, media_dir):
    area = make_area(session)
    original = jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as before:
        assert before.getexif().get_ifd(GPS)

    stored = upload(session, area, data=original)
    for variant in media.VARIANTS:
        path = open_as(session, area, "officer", stored, variant).path
        raw = path.read_bytes()
        with Image.open(path) as after:
            assert after.format == "JPEG"
            assert not after.getexif()
            assert not {"exif", "xmp", "comment"} & set(after.info)
        for secret in (b"secret", b"Camera Maker", b"Hoofdstraat", b"Exif"):
            assert secret not in raw


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_the_colour_profile_is_kept(session, media_dir, fmt):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = image_bytes(fmt, icc_profile=srgb)
    stored = upload(session, make_area(session), filename="a", data=data)
    for variant in media.VARIANTS:
        with Image.open(media._path(stored.storage_key, variant)) as after:
            assert after.info.get("icc_profile") == srgb


def test_png_text_chunks_are_dropped(session, media_dir):
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "Jan Jansen, Hoofdstraat 12")
    stored = upload(
        session,
        make_area(session),
        filename="a.png",
        data=image_bytes("PNG", pnginfo=info),
    )
    assert b"Jansen" not in Path(_display(stored)).read_bytes()


def _display(attachment: Attachment) -> Path:
    return media._path(attachment.storage_key)


def test_orientation_is_applied_and_a_thumbnail_made(session, media_dir):
    area = make_area(session)
    # Orientation 6: the camera was turned; the picture must turn 90° clockwise.
    stored = upload(session, area, data=jpeg_with_gps((2000, 1000), orientation=6))

    assert (stored.width, stored.height) == (1000, 2000)
    assert stored.has_thumbnail
    with Image.open(_display(stored)) as display:
        assert display.size == (1000, 2000)
        red, _, blue = display.convert("RGB").getpixel((500, 200))
        assert red > 200 and blue < 60, "the left (red) half is now on top"
    thumbnail = open_as(session, area, "officer", stored, "thumbnail")
    with Image.open(thumbnail.path) as small:
        assert small.size == (320, 640)


def test_a_failed_transaction_leaves_no_file(session, media_dir):
    area = make_area(session)
    media.store_upload(
        session,
        actor=area.actor(session, "officer"),
        filename="foto.jpg",
        data=jpeg_with_gps(),
    )
    assert len(stored_files(media_dir)) == 2
    session.rollback()
    assert stored_files(media_dir) == []


def test_a_failed_insert_removes_the_files(session, media_dir, monkeypatch):
    area = make_area(session)
    actor = area.actor(session, "officer")

    def refuse_flush(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(session, "flush", refuse_flush)
    with pytest.raises(RuntimeError):
        media.store_upload(session, actor=actor, filename="a.pdf", data=PDF)
    assert stored_files(media_dir) == []


def test_a_group_posts_photo_is_seen_by_that_group_only(session, media_dir):
    area = make_area(session)
    other = make_area(session, "Winkelcentrum Noord")
    photo = upload(session, area)
    post_with(session, area, photo, groups=("Veiligheid",))

    served = open_as(session, area, "guard", photo)
    assert (served.content_type, served.inline) == ("image/jpeg", True)
    assert open_as(session, area, "admin", photo, "thumbnail").path.is_file()
    with pytest.raises(NotFound):
        open_as(session, area, "shop_owner", photo)
    with pytest.raises(NotFound):
        open_as(session, other, "admin", photo)


def test_an_unposted_upload_is_seen_by_its_uploader_only(session, media_dir):
    area = make_area(session)
    photo = upload(session, area, persona="shop_owner")

    assert open_as(session, area, "shop_owner", photo).path.is_file()
    for persona in ("admin", "officer", "guard"):
        with pytest.raises(NotFound):
            open_as(session, area, persona, photo)


def test_unknown_variants_ids_and_deleted_posts_are_not_found(session, media_dir):
    area = make_area(session)
    document = upload(session, area, filename="a.pdf", data=PDF)
    photo = upload(session, area)
    post = post_with(session, area, photo)

    served = open_as(session, area, "officer", document)
    assert (served.inline, served.download_name) == (False, "a.pdf")
    for variant in ("thumbnail", "original", "../../etc/passwd"):
        with pytest.raises(NotFound):
            open_as(session, area, "officer", document, variant)
    with pytest.raises(NotFound):
        media.open_attachment(
            session,
            actor=area.actor(session, "officer"),
            attachment_id=10_000,
            variant="display",
        )
    posts.delete_post(session, actor=area.actor(session, "officer"), post_id=post.id)
    session.commit()
    with pytest.raises(NotFound):
        open_as(session, area, "guard", photo)


def _age(session, attachment: Attachment, days: int) -> None:
    attachment.created_at = utcnow() - timedelta(days=days)
    session.add(attachment)
    session.commit()


def test_purge_removes_unclaimed_and_deleted_uploads(session, media_dir):
    area = make_area(session)
    officer = area.actor(session, "officer")
    stale = upload(session, area)
    fresh = upload(session, area)
    kept = upload(session, area)
    post_with(session, area, kept)
    gone = upload(session, area)
    gone_post = post_with(session, area, gone)
    recent = upload(session, area)
    recent_post = post_with(session, area, recent)
    for attachment in (stale, kept, gone, recent):
        _age(session, attachment, days=3)
    posts.delete_post(session, actor=officer, post_id=gone_post.id)
    posts.delete_post(session, actor=officer, post_id=recent_post.id)
    session.commit()
    gone_post.deleted_at = utcnow() - timedelta(days=2)
    session.add(gone_post)
    session.commit()
    doomed_files = [_display(stale), _display(gone)]

    assert media.purge_unclaimed(session) == 2
    assert all(path.exists() for path in doomed_files), "files go at commit"
    session.commit()

    left = {a.id for a in session.exec(select(Attachment))}
    assert left == {fresh.id, kept.id, recent.id}
    assert not any(path.exists() for path in doomed_files)
    assert len(stored_files(media_dir)) == 2 * len(left)
    assert media.purge_unclaimed(session) == 0


def test_a_rolled_back_purge_keeps_the_files(session, media_dir):
    area = make_area(session)
    stale = upload(session, area)
    _age(session, stale, days=3)
    assert media.purge_unclaimed(session) == 1
    session.rollback()
    assert _display(stale).is_file()
    assert session.get(Attachment, stale.id) is not None
    assert stale.kind == AttachmentKind.IMAGE
