"""The member's e-mail settings: at once, a daily digest, or off, per kind."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx
from sqlmodel import Session

from chainels_app.i18n import translate
from chainels_app.models import MailMode, User
from chainels_app.services import preferences
from chainels_app.services.errors import DomainError, NotAuthenticated
from chainels_app.state.common import as_user, error_text, login_redirect
from chainels_app.state.session import SessionState


@dataclass
class KindSetting:
    """One kind of mail and how it arrives."""

    kind: str
    label: str
    mode: str


def _modes(session: Session, *, user: User) -> dict[str, str]:
    return preferences.modes_of(session, user_id=user.id)


class PreferencesState(rx.State):
    """The e-mail settings page."""

    settings: list[KindSetting] = []  # noqa: RUF012
    modes: list[KindSetting] = []  # noqa: RUF012
    error: str = ""

    async def _locale(self) -> str:
        return (await self.get_state(SessionState)).locale

    async def _show(self, modes: dict[str, str]) -> None:
        locale = await self._locale()
        self.settings = [
            KindSetting(kind, translate(locale, f"post.kind.{kind}"), mode)
            for kind, mode in modes.items()
        ]
        self.modes = [
            KindSetting("", translate(locale, f"mail.mode.{mode}"), mode.value)
            for mode in MailMode
        ]

    async def _refusal(self, error: DomainError):
        if isinstance(error, NotAuthenticated):
            self.settings = []
            return login_redirect(self)
        self.error = error_text(await self._locale(), error)
        return None

    @rx.event
    async def load(self):
        """Show the member's current choices."""
        if not (await self.get_state(SessionState)).ready:
            self.settings = []
            return None
        try:
            modes = await as_user(self, _modes)
        except DomainError as error:
            return await self._refusal(error)
        self.error = ""
        await self._show(modes)
        return None

    @rx.event
    async def set_mode(self, kind: str, mode: str):
        """Change how one kind of mail arrives."""
        try:
            await as_user(self, preferences.set_mode, kind=kind, mode=mode)
            modes = await as_user(self, _modes)
        except DomainError as error:
            return await self._refusal(error)
        self.error = ""
        await self._show(modes)
        return rx.toast.success(translate(await self._locale(), "settings.saved"))
