"""What every state handler needs: who is calling, and in which language.

The session token is read from the cookie header of the websocket handshake,
which stays on the server; it never becomes a state var. Every call re-checks the
session in the database, so a logged-out cookie opens nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http.cookies import CookieError, SimpleCookie
from typing import Any, TypeVar

import reflex as rx
from sqlmodel import Session

from chainels_app import db, routes
from chainels_app.api.auth import SESSION_COOKIE
from chainels_app.i18n import translate
from chainels_app.services import access, auth
from chainels_app.services.errors import DomainError, NotFound
from chainels_app.services.tokens import token_hash

T = TypeVar("T")


def session_token(state: rx.State) -> str | None:
    """The session token from the handshake cookie, if any."""
    cookie = SimpleCookie()
    try:
        cookie.load(state.router.headers.cookie or "")
    except CookieError:
        return None
    morsel = cookie.get(SESSION_COOKIE)
    return morsel.value if morsel else None


def session_key(state: rx.State) -> str:
    """A fingerprint of the tab's session cookie, safe to keep in state."""
    token = session_token(state)
    return token_hash(token) if token else ""


def client_address(state: rx.State) -> str:
    """The caller's address, for throttling."""
    return state.router.session.client_ip or "unknown"


def _as_member(
    session: Session,
    token: str | None,
    fn: Callable[..., T],
    kwargs: dict[str, Any],
    admin_only: bool = False,
) -> T:
    user = auth.authenticate(session, token=token)
    actor = access.current_actor(session, user=user)
    if admin_only:
        access.require_admin(actor)
    return fn(session, actor=actor, **kwargs)


async def as_member(state: rx.State, fn: Callable[..., T], /, **kwargs: Any) -> T:
    """Call ``fn(session, actor=..., **kwargs)`` as the logged-in member.

    Raises:
        NotAuthenticated: the tab has no live session.
    """
    return await db.run(_as_member, session_token(state), fn, kwargs)


def _as_user(
    session: Session, token: str | None, fn: Callable[..., T], kwargs: dict[str, Any]
) -> T:
    user = auth.authenticate(session, token=token)
    return fn(session, user=user, **kwargs)


async def as_user(state: rx.State, fn: Callable[..., T], /, **kwargs: Any) -> T:
    """Call ``fn(session, user=..., **kwargs)`` for the logged-in person's own
    settings, which do not depend on a community."""
    return await db.run(_as_user, session_token(state), fn, kwargs)


async def as_admin(state: rx.State, fn: Callable[..., T], /, **kwargs: Any) -> T:
    """As :func:`as_member`, for the admin pages: only administrators pass.

    The services check their own rules too; this keeps directory reads that any
    member may make from filling an admin page's state for a non-admin.
    """
    return await db.run(_as_member, session_token(state), fn, kwargs, True)


async def forget_tab(state: rx.State) -> None:
    """Reset every state of this tab, so nothing loaded for a member stays."""
    pending = list(rx.State.get_substates())
    while pending:
        state_class = pending.pop()
        pending.extend(state_class.get_substates())
        await state.get_state(state_class)
    state._get_root_state().reset()


def login_redirect(state: rx.State) -> rx.event.EventSpec:
    """Send the tab to the login page, coming back here afterwards."""
    path = state.router.url.path or routes.FEED
    return rx.redirect(routes.login_url(path))


def error_text(locale: str, error: DomainError) -> str:
    """The user's message for a refusal."""
    return translate(locale, error.key, **error.params)


def full_page_load(path: str) -> rx.event.EventSpec:
    """Leave the single-page app for a path served over plain HTTP."""
    return rx.call_script(f"window.location.assign({json.dumps(path)})")


def post_and_load(path: str) -> rx.event.EventSpec:
    """Submit an empty form to ``path`` as a real POST and follow its answer."""
    return rx.call_script(
        "(() => { const form = document.createElement('form');"
        f" form.method = 'post'; form.action = {json.dumps(path)};"
        " document.body.appendChild(form); form.submit(); })()"
    )


def parse_id(value: object) -> int:
    """An id sent by the browser; anything but digits is simply not found."""
    text = str(value)
    if not text.isdigit():
        raise NotFound
    return int(text)
