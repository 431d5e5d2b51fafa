"""The media route: session cookie, the viewer's right to the post, headers."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from chainels_app import routes
from chainels_app.api import media as media_api
from chainels_app.api.auth import SESSION_COOKIE
from chainels_app.services import auth, media
from chainels_app.settings import get_settings
from tests.factories import PASSWORD, make_area
from tests.services.test_media import PDF, jpeg_with_gps, post_with, upload


@pytest.fixture
def media_dir(tmp_path: Path, monkeypatch) -> Path:
    """A private media folder for this test."""
    folder = tmp_path / "media"
    settings = dataclasses.replace(get_settings(), media_dir=folder)
    monkeypatch.setattr(media, "get_settings", lambda: settings)
    return folder


@pytest.fixture
async def client(engine, media_dir) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for an app that serves only the media route."""
    app = Starlette(
        routes=[Route(routes.MEDIA, media_api.serve_media, methods=["GET"])]
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


def login(session, area, persona: str) -> str:
    """The session cookie token of a persona, through the login services."""
    user = auth.check_credentials(
        session, email=area.people[persona].email, password=PASSWORD, address="1.2.3.4"
    )
    ticket = auth.issue_login_ticket(session, user=user)
    token = auth.start_session(session, ticket=ticket)
    session.commit()
    return token


async def fetch(
    client: httpx.AsyncClient, path: str, token: str | None = None
) -> httpx.Response:
    """GET a path, with the session cookie when a token is given."""
    headers = {"cookie": f"{SESSION_COOKIE}={token}"} if token else {}
    return await client.get(path, headers=headers)


@pytest.fixture
def group_photo(session, media_dir):
    """An area whose officer posted a photo to the group Veiligheid."""
    area = make_area(session)
    photo = upload(session, area, data=jpeg_with_gps((800, 400)))
    post_with(session, area, photo, groups=("Veiligheid",))
    return area, photo


async def test_no_cookie_or_a_bad_one_is_not_found(client, group_photo):
    _, photo = group_photo
    url = routes.media_url(photo.id)
    for token in (None, "not-a-session"):
        response = await fetch(client, url, token)
        assert response.status_code == 404
        assert response.content == b""


async def test_outsiders_get_not_found(client, session, group_photo):
    area, photo = group_photo
    other = make_area(session, "Winkelcentrum Noord")
    url = routes.media_url(photo.id)

    assert (await fetch(client, url, login(session, other, "admin"))).status_code == 404
    owner = login(session, area, "shop_owner")
    assert (await fetch(client, url, owner)).status_code == 404


async def test_the_group_gets_the_photo_until_logout(client, session, group_photo):
    area, photo = group_photo
    token = login(session, area, "guard")

    response = await fetch(client, routes.media_url(photo.id), token)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == "private, max-age=3600"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("inline;")
    assert response.content.startswith(b"\xff\xd8\xff")
    assert b"Camera Maker" not in response.content

    thumbnail = await fetch(client, routes.media_url(photo.id, "thumbnail"), token)
    assert thumbnail.status_code == 200
    assert len(thumbnail.content) < len(response.content)
    bad = await fetch(client, routes.media_url(photo.id, "original"), token)
    assert bad.status_code == 404

    auth.end_session(session, token=token)
    session.commit()
    after = await fetch(client, routes.media_url(photo.id), token)
    assert after.status_code == 404


async def test_documents_download_under_their_own_name(client, session, media_dir):
    area = make_area(session)
    document = upload(session, area, filename="Verslag café.pdf", data=PDF)
    post_with(session, area, document)

    token = login(session, area, "shop_owner")
    response = await fetch(client, routes.media_url(document.id), token)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        'attachment; filename="Verslag cafe.pdf"; '
        "filename*=UTF-8''Verslag%20caf%C3%A9.pdf"
    )
    assert response.content == PDF
