"""The logged-in member of this tab: who, where, in which language, may see what."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import reflex as rx
from sqlmodel import Session

from chainels_app import db, routes
from chainels_app.i18n import DEFAULT_LOCALE, LOCALES, catalogue, translate
from chainels_app.models import Company, User
from chainels_app.services import access, auth
from chainels_app.services.access import Actor, Permission
from chainels_app.services.errors import DomainError, NotAuthenticated
from chainels_app.state.common import (
    forget_tab,
    login_redirect,
    post_and_load,
    session_key,
    session_token,
)

logger = logging.getLogger(__name__)


@dataclass
class CommunityOption:
    """A community the member can switch to."""

    id: str
    name: str


@dataclass
class NavItem:
    """One entry of the navigation, already translated."""

    label: str
    href: str


@dataclass(frozen=True)
class _Viewer:
    user_name: str
    company_name: str
    locale: str
    actor: Actor
    communities: list[CommunityOption]


# Navigation entries and the permission each needs; entries appear as they land.
_NAVIGATION = (
    ("nav.feed", routes.FEED, Permission.READ),
    ("nav.settings", routes.SETTINGS, Permission.READ),
    ("nav.admin", routes.ADMIN_MEMBERS, Permission.ADMINISTER),
)


def _load_viewer(session: Session, token: str | None) -> _Viewer:
    user = auth.authenticate(session, token=token)
    actor = access.current_actor(session, user=user)
    company = session.get(Company, actor.company_id) if actor.company_id else None
    return _Viewer(
        user_name=user.name,
        company_name=company.name if company else "",
        locale=user.locale,
        actor=actor,
        communities=[
            CommunityOption(id=str(c.id), name=c.name)
            for c in access.communities_of(session, user=user)
        ],
    )


def _switch(session: Session, token: str | None, community_id: int) -> None:
    user = auth.authenticate(session, token=token)
    access.switch_community(session, user=user, community_id=community_id)


def _set_locale(session: Session, token: str | None, locale: str) -> None:
    user: User = auth.authenticate(session, token=token)
    auth.set_locale(session, user=user, locale=locale)


class SessionState(rx.State):
    """Who this tab belongs to; filled by :meth:`guard` on every member page."""

    ready: bool = False
    user_name: str = ""
    company_name: str = ""
    locale: str = DEFAULT_LOCALE
    messages: dict[str, str] = catalogue(DEFAULT_LOCALE)
    community_id: str = ""
    community_name: str = ""
    communities: list[CommunityOption] = []  # noqa: RUF012
    navigation: list[NavItem] = []  # noqa: RUF012
    is_admin: bool = False
    # Which session cookie the loaded data belongs to (a keyed hash, not the token).
    _loaded_for: str = ""

    def _apply_locale(self, locale: str) -> None:
        self.locale = locale
        self.messages = catalogue(locale)

    def _apply(self, viewer: _Viewer) -> None:
        self._loaded_for = session_key(self)
        self._apply_locale(viewer.locale)
        self.user_name = viewer.user_name
        self.company_name = viewer.company_name
        self.community_id = str(viewer.actor.community_id)
        self.communities = viewer.communities
        self.community_name = next(
            (c.name for c in viewer.communities if c.id == self.community_id), ""
        )
        self.is_admin = viewer.actor.is_admin
        self.navigation = [
            NavItem(label=translate(viewer.locale, key), href=href)
            for key, href, permission in _NAVIGATION
            if viewer.actor.can(permission)
        ]
        self.ready = True

    async def _clear(self) -> None:
        """Forget everything this tab loaded; the language stays."""
        locale = self.locale
        await forget_tab(self)
        self._apply_locale(locale)

    async def _load(self):
        try:
            viewer = await db.run(_load_viewer, session_token(self))
        except NotAuthenticated:
            await self._clear()
            return login_redirect(self)
        except DomainError as error:
            await self._clear()
            return rx.toast.error(translate(self.locale, error.key))
        self._apply(viewer)
        return None

    @rx.event
    async def guard(self):
        """On every member page: load the viewer, or send them to log in."""
        return await self._load()

    @rx.event
    async def guard_admin(self):
        """On admin pages: as :meth:`guard`, and only administrators stay."""
        redirect = await self._load()
        if redirect is not None:
            return redirect
        if not self.is_admin:
            return rx.redirect(routes.FEED)

    @rx.event
    async def load_public(self):
        """On public pages: a visitor with a live session goes to the feed."""
        try:
            viewer = await db.run(_load_viewer, session_token(self))
        except DomainError:
            await self._clear()
            return
        self._apply(viewer)
        if self.router.url.path.rstrip("/") == routes.LOGIN:
            return rx.redirect(routes.FEED)

    @rx.event
    async def set_language(self, locale: str):
        """Switch the interface language; a member keeps it for next time."""
        if locale not in LOCALES:
            return
        if self.ready:
            try:
                await db.run(_set_locale, session_token(self), locale)
            except NotAuthenticated:
                await self._clear()
                return login_redirect(self)
        self._apply_locale(locale)
        if self.ready:
            return await self._load()

    @rx.event
    async def switch_community(self, community_id: str):
        """Act in another of the member's communities."""
        try:
            await db.run(_switch, session_token(self), int(community_id))
        except NotAuthenticated:
            await self._clear()
            return login_redirect(self)
        except (DomainError, ValueError):
            return rx.toast.error(translate(self.locale, "error.not_found"))
        return rx.redirect(routes.FEED)

    @rx.event
    async def logout(self):
        """End the session over HTTP, which clears the HttpOnly cookie."""
        await self._clear()
        return post_and_load(routes.AUTH_LOGOUT)
