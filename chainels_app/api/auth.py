"""The two HTTP routes that set and clear the session cookie.

The websocket cannot set an HttpOnly cookie, so a login ends with a full page
load through :func:`redeem_ticket`, which swaps the single-use ticket issued by
the login handler for a fresh session and its cookie.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from chainels_app import db, routes
from chainels_app.services import auth
from chainels_app.services.errors import DomainError
from chainels_app.settings import get_settings

logger = logging.getLogger(__name__)

SESSION_COOKIE = "chainels_session"


def _set_session_cookie(response: Response, token: str) -> None:
    settings = get_settings()
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_absolute_minutes * 60,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )


async def redeem_ticket(request: Request) -> Response:
    """Swap a login ticket for the session cookie and continue to the app."""
    ticket = request.query_params.get("t", "")
    next_path = routes.safe_next(request.query_params.get("next"))
    try:
        token = await db.run(auth.start_session, ticket=ticket)
    except DomainError:
        logger.warning("login ticket refused")
        return RedirectResponse(f"{routes.LOGIN}?expired=1", status_code=303)

    response = RedirectResponse(next_path, status_code=303)
    _set_session_cookie(response, token)
    return response


async def logout(request: Request) -> Response:
    """End the session behind the cookie and clear it."""
    await db.run(auth.end_session, token=request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse(routes.LOGIN, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def health(_request: Request) -> Response:
    """A liveness answer for the proxy and the tests."""
    return JSONResponse({"status": "ok"})
