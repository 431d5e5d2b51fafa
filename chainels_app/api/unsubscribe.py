"""Unsubscribing from a mail, without logging in.

``GET /unsubscribe?t=…`` shows a page with one button; ``POST`` does it. The POST
also serves RFC 8058 one-click unsubscribe, which mail clients send with the body
``List-Unsubscribe=One-Click`` and no cookies.
"""

from __future__ import annotations

import logging
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from chainels_app import db, routes
from chainels_app.i18n import translate
from chainels_app.models import User
from chainels_app.services import preferences
from chainels_app.services.errors import DomainError

logger = logging.getLogger(__name__)


def _locale_of(session, token: str) -> str:
    try:
        user_id, _kind = preferences.read_token(token)
    except DomainError:
        return "nl"
    user = session.get(User, user_id)
    return user.locale if user else "nl"


def _page(locale: str, body: str, status: int = 200) -> HTMLResponse:
    title = escape(translate(locale, "unsubscribe.title"))
    html = (
        f'<!doctype html><html lang="{locale}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title></head>"
        '<body style="font-family:sans-serif;max-width:30rem;margin:3rem auto;'
        f'padding:0 1rem"><h1>{title}</h1>{body}</body></html>'
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


async def unsubscribe_page(request: Request) -> Response:
    """Ask before unsubscribing: link scanners follow GET links."""
    token = request.query_params.get("t", "")
    locale = await db.run(_locale_of, token)
    try:
        preferences.read_token(token)
    except DomainError as error:
        return _page(locale, f"<p>{escape(translate(locale, error.key))}</p>", 400)
    return _page(
        locale,
        f"<p>{escape(translate(locale, 'unsubscribe.confirm'))}</p>"
        f'<form method="post" action="{escape(routes.unsubscribe_url(token))}">'
        f'<button type="submit">{escape(translate(locale, "unsubscribe.button"))}'
        "</button></form>",
    )


async def unsubscribe(request: Request) -> Response:
    """Turn the mail off; answers the same for the button and for one-click."""
    token = request.query_params.get("t", "")
    locale = await db.run(_locale_of, token)
    try:
        await db.run(preferences.unsubscribe, token=token)
    except DomainError as error:
        return _page(locale, f"<p>{escape(translate(locale, error.key))}</p>", 400)
    return _page(locale, f"<p>{escape(translate(locale, 'unsubscribe.done'))}</p>")
