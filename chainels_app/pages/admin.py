"""The association's administration pages."""

import reflex as rx

from chainels_app import routes
from chainels_app.components.i18n import t
from chainels_app.components.layout import app_shell, error_callout, field
from chainels_app.state.admin import (
    CompaniesState,
    GroupsState,
    InvitesState,
    MembersState,
    Option,
)

_SECTIONS = (
    ("admin.members", routes.ADMIN_MEMBERS),
    ("admin.invites", routes.ADMIN_INVITES),
    ("admin.companies", routes.ADMIN_COMPANIES),
    ("admin.groups", routes.ADMIN_GROUPS),
)


def _admin_frame(title_key: str, error: rx.Var, *children) -> rx.Component:
    return app_shell(
        rx.hstack(
            *(rx.link(t(key), href=href, size="2") for key, href in _SECTIONS),
            spacing="4",
            wrap="wrap",
        ),
        rx.heading(t(title_key), size="6"),
        error_callout(error),
        *children,
    )


def _select(name: str, options, label: rx.Var, default: str = "") -> rx.Component:
    return rx.el.label(
        rx.vstack(
            rx.text(label, size="2", weight="medium"),
            rx.el.select(
                rx.foreach(
                    options,
                    lambda o: rx.el.option(o.label, value=o.value),
                ),
                name=name,
                default_value=default,
                style={"padding": "0.4rem", "width": "100%"},
            ),
            spacing="1",
        ),
        width="100%",
    )


def _member_row(member) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.text(member.name, weight="bold"),
                rx.text(member.email, size="2"),
                rx.text(
                    member.company, " · ", member.groups, size="2", color_scheme="gray"
                ),
                spacing="0",
            ),
            rx.spacer(),
            rx.el.select(
                rx.foreach(
                    MembersState.roles,
                    lambda o: rx.el.option(o.label, value=o.value),
                ),
                value=member.role,
                aria_label=t("admin.role"),
                on_change=lambda role: MembersState.change_role(
                    member.membership_id, role
                ),
            ),
            rx.button(
                t("admin.remove"),
                size="1",
                color_scheme="red",
                variant="soft",
                on_click=MembersState.remove(member.membership_id),
            ),
            align="center",
            wrap="wrap",
            width="100%",
        ),
        width="100%",
    )


def members_page() -> rx.Component:
    """Everyone in the community."""
    return _admin_frame(
        "admin.members",
        MembersState.error,
        rx.foreach(MembersState.members, _member_row),
    )


def _group_checkbox(group: Option) -> rx.Component:
    return rx.el.label(
        rx.hstack(
            rx.el.input(type="checkbox", name="group_" + group.value),
            rx.text(group.label, size="2"),
            spacing="2",
            align="center",
        )
    )


def _invite_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading(t("admin.invite_new"), size="4", as_="h2"),
                field(t("admin.email"), name="email", type="email", required=True),
                _select("role", InvitesState.roles, t("admin.role"), "entrepreneur"),
                _select("company_id", InvitesState.companies, t("admin.company")),
                rx.text(t("admin.groups_pick"), size="2", weight="medium"),
                rx.flex(
                    rx.foreach(InvitesState.groups, _group_checkbox),
                    gap="3",
                    wrap="wrap",
                ),
                rx.button(t("admin.invite_submit"), type="submit"),
                spacing="3",
            ),
            on_submit=InvitesState.submit,
        ),
        width="100%",
    )


def _invite_row(invite) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.text(invite.email, weight="bold"),
                rx.text(
                    invite.role,
                    " · ",
                    invite.status_label,
                    " · ",
                    t("admin.expires"),
                    " ",
                    invite.expires,
                    size="2",
                ),
                spacing="0",
            ),
            rx.spacer(),
            rx.cond(
                invite.status != "used",
                rx.hstack(
                    rx.button(
                        t("admin.resend"),
                        size="1",
                        variant="soft",
                        on_click=InvitesState.resend(invite.id),
                    ),
                    rx.cond(
                        invite.status == "pending",
                        rx.button(
                            t("admin.revoke"),
                            size="1",
                            color_scheme="red",
                            variant="soft",
                            on_click=InvitesState.revoke(invite.id),
                        ),
                    ),
                ),
            ),
            align="center",
            wrap="wrap",
            width="100%",
        ),
        width="100%",
    )


def invites_page() -> rx.Component:
    """Invite members and follow the invitations."""
    return _admin_frame(
        "admin.invites",
        InvitesState.error,
        _invite_form(),
        rx.foreach(InvitesState.invites, _invite_row),
    )


def companies_page() -> rx.Component:
    """The companies of the community."""
    return _admin_frame(
        "admin.companies",
        CompaniesState.error,
        rx.card(
            rx.form(
                rx.vstack(
                    field(t("admin.company_name"), name="name", required=True),
                    field(t("admin.street_address"), name="street_address"),
                    rx.hstack(
                        field(t("admin.postal_code"), name="postal_code"),
                        field(t("admin.city"), name="city"),
                        width="100%",
                    ),
                    field(t("admin.phone"), name="phone", type="tel"),
                    field(t("admin.email"), name="email", type="email"),
                    rx.button(t("admin.company_add"), type="submit"),
                    spacing="3",
                ),
                on_submit=CompaniesState.submit,
            ),
            width="100%",
        ),
        rx.foreach(
            CompaniesState.companies,
            lambda c: rx.card(
                rx.text(c.name, weight="bold"),
                rx.text(c.address, size="2"),
                rx.text(c.phone, " ", c.email, size="2", color_scheme="gray"),
                width="100%",
            ),
        ),
    )


def groups_page() -> rx.Component:
    """Streets, buildings and working groups."""
    return _admin_frame(
        "admin.groups",
        GroupsState.error,
        rx.card(
            rx.form(
                rx.vstack(
                    field(t("admin.group_name"), name="name", required=True),
                    _select("kind", GroupsState.kinds, t("admin.group_kind"), "street"),
                    rx.button(t("admin.group_add"), type="submit"),
                    spacing="3",
                ),
                on_submit=GroupsState.submit,
            ),
            width="100%",
        ),
        rx.foreach(
            GroupsState.groups,
            lambda g: rx.card(
                rx.hstack(rx.text(g.name, weight="bold"), rx.badge(g.kind)),
                width="100%",
            ),
        ),
    )
