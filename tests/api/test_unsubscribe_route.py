"""Unsubscribing from a mail works without logging in, by button or one click."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from chainels_app import routes
from chainels_app.api import unsubscribe as unsubscribe_api
from chainels_app.models import MailMode
from chainels_app.services import preferences
from tests.factories import make_area


@pytest.fixture
def client(engine):
    app = Starlette(
        routes=[
            Route(
                routes.UNSUBSCRIBE, unsubscribe_api.unsubscribe_page, methods=["GET"]
            ),
            Route(routes.UNSUBSCRIBE, unsubscribe_api.unsubscribe, methods=["POST"]),
        ]
    )
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    )


async def test_one_click_post_turns_the_kind_off(client, session):
    area = make_area(session)
    owner = area.people["shop_owner"]
    url = routes.unsubscribe_url(
        preferences.unsubscribe_token(owner.id, "announcement")
    )

    page = await client.get(url)
    assert page.status_code == 200
    assert "Afmelden" in page.text
    assert preferences.modes_of(session, user_id=owner.id)["announcement"] == (
        MailMode.INSTANT
    ), "opening the page alone changes nothing"

    done = await client.post(
        url,
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200
    session.expire_all()
    modes = preferences.modes_of(session, user_id=owner.id)
    assert modes["announcement"] == MailMode.OFF
    assert modes["warning"] == MailMode.INSTANT


async def test_all_turns_every_choosable_kind_off(client, session):
    area = make_area(session)
    guard = area.people["guard"]
    url = routes.unsubscribe_url(preferences.unsubscribe_token(guard.id, "all"))
    assert (await client.post(url)).status_code == 200
    session.expire_all()
    assert set(preferences.modes_of(session, user_id=guard.id).values()) == {
        MailMode.OFF
    }


async def test_a_forged_link_changes_nothing(client, session):
    area = make_area(session)
    owner = area.people["shop_owner"]
    token = preferences.unsubscribe_token(owner.id, "announcement")
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = await client.post(routes.unsubscribe_url(forged))
    assert response.status_code == 400
    session.expire_all()
    assert preferences.modes_of(session, user_id=owner.id)["announcement"] == (
        MailMode.INSTANT
    )
