"""Logging in, accepting an invitation, and resetting a password."""

from __future__ import annotations

import logging

import reflex as rx
from sqlmodel import Session

from chainels_app import db, routes
from chainels_app.i18n import translate
from chainels_app.services import auth, invites
from chainels_app.services.errors import DomainError
from chainels_app.state.common import client_address, error_text, full_page_load
from chainels_app.state.session import SessionState

logger = logging.getLogger(__name__)


def _login(session: Session, email: str, password: str, address: str) -> str:
    user = auth.check_credentials(
        session, email=email, password=password, address=address
    )
    return auth.issue_login_ticket(session, user=user)


def _accept(session: Session, token: str, name: str, password: str) -> str:
    user = invites.accept_invite(session, token=token, name=name, password=password)
    return auth.issue_login_ticket(session, user=user)


async def _locale(state: rx.State) -> str:
    return (await state.get_state(SessionState)).locale


def _query(state: rx.State, name: str) -> str:
    return str(state.router.url.query_parameters.get(name, ""))


class LoginState(rx.State):
    """The login form."""

    error: str = ""

    @rx.event
    async def submit(self, form: dict[str, str]):
        """Check the password and continue through the cookie route."""
        try:
            ticket = await db.run(
                _login,
                str(form.get("email", "")),
                str(form.get("password", "")),
                client_address(self),
            )
        except DomainError as error:
            self.error = error_text(await _locale(self), error)
            return
        self.error = ""
        next_path = routes.safe_next(_query(self, "next"))
        return full_page_load(routes.ticket_url(ticket, next_path))

    @rx.event
    async def load(self):
        """Explain why the visitor is here, when a session just ended."""
        expired = _query(self, "expired") == "1"
        self.error = translate(await _locale(self), "login.expired") if expired else ""


class ForgotPasswordState(rx.State):
    """Asking for a password-reset link."""

    sent: bool = False

    @rx.event
    async def submit(self, form: dict[str, str]):
        """Mail a link if the address has an account; say the same either way."""
        await db.run(auth.request_password_reset, email=str(form.get("email", "")))
        self.sent = True

    @rx.event
    def load(self):
        """Show the form afresh."""
        self.sent = False


class ResetPasswordState(rx.State):
    """Choosing a new password from a reset link."""

    error: str = ""
    done: bool = False

    @rx.event
    async def submit(self, form: dict[str, str]):
        """Store the new password; every old session ends."""
        try:
            await db.run(
                auth.reset_password,
                token=_query(self, "t"),
                password=str(form.get("password", "")),
            )
        except DomainError as error:
            self.error = error_text(await _locale(self), error)
            return
        self.error = ""
        self.done = True

    @rx.event
    def load(self):
        """Show the form afresh."""
        self.error = ""
        self.done = False


class InviteState(rx.State):
    """Accepting an invitation."""

    loaded: bool = False
    usable: bool = False
    error: str = ""
    email: str = ""
    community_name: str = ""
    company_name: str = ""
    has_account: bool = False

    @rx.event
    async def load(self):
        """Check the link before showing the form."""
        self.loaded = False
        try:
            details = await db.run(invites.open_invite, token=_query(self, "t"))
        except DomainError as error:
            self.usable = False
            self.error = error_text(await _locale(self), error)
        else:
            self.usable = True
            self.error = ""
            self.email = details.email
            self.community_name = details.community_name
            self.company_name = details.company_name
            self.has_account = details.has_account
        self.loaded = True

    @rx.event
    async def submit(self, form: dict[str, str]):
        """Create the account, then log in through the cookie route."""
        try:
            ticket = await db.run(
                _accept,
                _query(self, "t"),
                str(form.get("name", "")),
                str(form.get("password", "")),
            )
        except DomainError as error:
            self.error = error_text(await _locale(self), error)
            return
        self.error = ""
        return full_page_load(routes.ticket_url(ticket, routes.FEED))
