"""The association's administration: members, invitations, companies, groups.

Each page has a small state. Every handler goes through :func:`as_admin`, which
refuses anyone who is not an administrator of the current community, whatever
the browser sends; the services check their own rules as well.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import reflex as rx

from chainels_app.i18n import format_datetime, translate
from chainels_app.models import GroupKind, Role
from chainels_app.services import directory, invites
from chainels_app.services.errors import (
    DomainError,
    NotAuthenticated,
    PermissionDenied,
)
from chainels_app.state.common import (
    as_admin,
    error_text,
    login_redirect,
    parse_id,
)
from chainels_app.state.session import SessionState

logger = logging.getLogger(__name__)


@dataclass
class Option:
    """A choice in a select or a checkbox list."""

    value: str
    label: str


@dataclass
class MemberView:
    """A member row."""

    membership_id: str
    name: str
    email: str
    company: str
    role: str
    groups: str


@dataclass
class InviteView:
    """An invitation row."""

    id: str
    email: str
    role: str
    status: str
    status_label: str
    expires: str


@dataclass
class CompanyView:
    """A company row."""

    id: str
    name: str
    address: str
    phone: str
    email: str


@dataclass
class GroupView:
    """A group row."""

    id: str
    name: str
    kind: str


async def _locale(state: rx.State) -> str:
    return (await state.get_state(SessionState)).locale


def _role_options(locale: str) -> list[Option]:
    # Most invitations are for shop owners: their role comes first.
    ordered = [Role.ENTREPRENEUR, *(r for r in Role if r != Role.ENTREPRENEUR)]
    return [
        Option(value=r.value, label=translate(locale, f"role.{r}")) for r in ordered
    ]


class AdminPage(rx.State, mixin=True):
    """Error handling shared by the admin pages; each page keeps its own."""

    error: str = ""

    async def _refusal(self, error: DomainError):
        # A tab that may no longer administer keeps nothing; a refused form
        # (a bad address, oneself) keeps the page it was filled in on.
        if isinstance(error, NotAuthenticated | PermissionDenied):
            self.reset()
        if isinstance(error, NotAuthenticated):
            return login_redirect(self)
        self.error = error_text(await _locale(self), error)
        return None

    async def _done(self, message_key: str, **params: str):
        self.error = ""
        return rx.toast.success(translate(await _locale(self), message_key, **params))


class MembersState(AdminPage, rx.State):
    """The member list."""

    members: list[MemberView] = []  # noqa: RUF012
    roles: list[Option] = []  # noqa: RUF012

    @rx.event
    async def load(self):
        """Fill the member list."""
        try:
            rows = await as_admin(self, directory.list_members)
        except DomainError as error:
            return await self._refusal(error)
        locale = await _locale(self)
        self.roles = _role_options(locale)
        self.members = [
            MemberView(
                membership_id=str(row.membership_id),
                name=row.name,
                email=row.email,
                company=row.company_name,
                role=row.role,
                groups=", ".join(row.group_names),
            )
            for row in rows
        ]

    @rx.event
    async def change_role(self, membership_id: str, role: str):
        """Give a member another role."""
        try:
            await as_admin(
                self,
                directory.change_role,
                membership_id=parse_id(membership_id),
                role=role,
            )
        except DomainError as error:
            return await self._refusal(error)
        await self.load()
        return await self._done("admin.role_changed")

    @rx.event
    async def remove(self, membership_id: str):
        """Take a member out of the community."""
        try:
            await as_admin(
                self, directory.remove_member, membership_id=parse_id(membership_id)
            )
        except DomainError as error:
            return await self._refusal(error)
        await self.load()
        return await self._done("admin.removed")


class InvitesState(AdminPage, rx.State):
    """Inviting members, and the invitations sent."""

    invites: list[InviteView] = []  # noqa: RUF012
    roles: list[Option] = []  # noqa: RUF012
    companies: list[Option] = []  # noqa: RUF012
    groups: list[Option] = []  # noqa: RUF012

    @rx.event
    async def load(self):
        """Fill the form's choices and the list of invitations."""
        try:
            rows = await as_admin(self, invites.list_invites)
            companies = await as_admin(self, directory.list_companies)
            groups = await as_admin(self, directory.list_groups)
        except DomainError as error:
            return await self._refusal(error)
        locale = await _locale(self)
        self.roles = _role_options(locale)
        self.companies = [
            Option(value="", label=translate(locale, "admin.no_company")),
            *(Option(value=str(c.id), label=c.name) for c in companies),
        ]
        self.groups = [Option(value=str(g.id), label=g.name) for g in groups]
        self.invites = [
            InviteView(
                id=str(row.id),
                email=row.email,
                role=translate(locale, f"role.{row.role}"),
                status=(status := invites.status_of(row)),
                status_label=translate(locale, f"status.{status}"),
                expires=format_datetime(row.expires_at, locale),
            )
            for row in rows
        ]

    @rx.event
    async def submit(self, form: dict[str, str]):
        """Invite an address; the mail goes out when the invitation is stored."""
        company = str(form.get("company_id", ""))
        group_ids = [
            int(key.removeprefix("group_"))
            for key, value in form.items()
            if key.startswith("group_") and key[6:].isdigit() and value
        ]
        try:
            invite = await as_admin(
                self,
                invites.create_invite,
                email=str(form.get("email", "")),
                role=str(form.get("role", Role.ENTREPRENEUR)),
                company_id=int(company) if company.isdigit() else None,
                group_ids=group_ids,
            )
        except DomainError as error:
            return await self._refusal(error)
        await self.load()
        return await self._done("admin.invite_sent", email=invite.email)

    @rx.event
    async def revoke(self, invite_id: str):
        """Withdraw an invitation."""
        try:
            await as_admin(self, invites.revoke_invite, invite_id=parse_id(invite_id))
        except DomainError as error:
            return await self._refusal(error)
        await self.load()
        return await self._done("admin.revoked")

    @rx.event
    async def resend(self, invite_id: str):
        """Send an invitation again with a new link."""
        try:
            await as_admin(self, invites.resend_invite, invite_id=parse_id(invite_id))
        except DomainError as error:
            return await self._refusal(error)
        await self.load()
        return await self._done("admin.resent")


class CompaniesState(AdminPage, rx.State):
    """The company directory, as its administrators keep it."""

    companies: list[CompanyView] = []  # noqa: RUF012

    @rx.event
    async def load(self):
        """Fill the company list."""
        try:
            rows = await as_admin(self, directory.list_companies)
        except DomainError as error:
            return await self._refusal(error)
        self.companies = [
            CompanyView(
                id=str(c.id),
                name=c.name,
                address=" ".join(
                    filter(None, [c.street_address, c.postal_code, c.city])
                ),
                phone=c.phone,
                email=c.email,
            )
            for c in rows
        ]

    @rx.event
    async def submit(self, form: dict[str, str]):
        """Add a company."""
        fields = ("name", "street_address", "postal_code", "city", "phone", "email")
        try:
            await as_admin(
                self,
                directory.create_company,
                **{field: str(form.get(field, "")) for field in fields},
            )
        except DomainError as error:
            return await self._refusal(error)
        await self.load()
        return await self._done("admin.company_added")


class GroupsState(AdminPage, rx.State):
    """Streets, buildings and working groups."""

    groups: list[GroupView] = []  # noqa: RUF012
    kinds: list[Option] = []  # noqa: RUF012

    @rx.event
    async def load(self):
        """Fill the group list."""
        try:
            rows = await as_admin(self, directory.list_groups)
        except DomainError as error:
            return await self._refusal(error)
        locale = await _locale(self)
        self.kinds = [
            Option(value=k.value, label=translate(locale, f"group_kind.{k}"))
            for k in GroupKind
        ]
        self.groups = [
            GroupView(
                id=str(g.id),
                name=g.name,
                kind=translate(locale, f"group_kind.{g.kind}"),
            )
            for g in rows
        ]

    @rx.event
    async def submit(self, form: dict[str, str]):
        """Add a group."""
        try:
            await as_admin(
                self,
                directory.create_group,
                name=str(form.get("name", "")),
                kind=str(form.get("kind", "")),
            )
        except DomainError as error:
            return await self._refusal(error)
        await self.load()
        return await self._done("admin.group_added")


ADMIN_STATES = (MembersState, InvitesState, CompaniesState, GroupsState)
