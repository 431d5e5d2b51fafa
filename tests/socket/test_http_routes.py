"""The app's own HTTP routes, as it mounts them beside Reflex.

The route tests in ``tests/api`` build small apps of their own; these ask the
real backend, so a route left out of ``chainels_app.py`` fails here.
"""

from __future__ import annotations

import httpx
import pytest

from chainels_app import routes
from chainels_app.services import preferences
from tests.socket.conftest import World

pytestmark = pytest.mark.socket


async def test_one_click_unsubscribe_is_served(backend_url: str, world: World):
    owner = world.area.people["shop_owner"]
    url = routes.unsubscribe_url(preferences.unsubscribe_token(owner.id, "event"))
    async with httpx.AsyncClient(base_url=backend_url) as http:
        page = await http.get(url)
        done = await http.post(url, content="List-Unsubscribe=One-Click")
    assert page.status_code == 200
    assert done.status_code == 200
    assert "<form" not in done.text


async def test_sendgrid_events_are_received_and_checked(backend_url: str):
    async with httpx.AsyncClient(base_url=backend_url) as http:
        unsigned = await http.post(routes.SENDGRID_EVENTS, content="[]")
    # Refused by the route itself, not unknown to the app.
    assert unsigned.status_code == 403
