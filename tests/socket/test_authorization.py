"""Admin handlers over the socket: whoever calls them, only an admin gets anything.

A browser can call any handler by its full name with any arguments, from any
page. These tests do exactly that, for every handler of every admin state.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import reflex as rx
import socketio

from chainels_app import routes
from chainels_app.models import Role
from chainels_app.state.admin import (
    ADMIN_STATES,
    CompaniesState,
    GroupsState,
    InvitesState,
    MembersState,
)
from chainels_app.state.session import SessionState
from tests.socket.conftest import (
    VAR_SUFFIX,
    TabClient,
    World,
    handler_name,
    snapshot,
)

pytestmark = pytest.mark.socket

OpenTab = Callable[..., Awaitable[TabClient]]
Login = Callable[[str], Awaitable[str]]

PAGE_OF = {
    MembersState: routes.ADMIN_MEMBERS,
    InvitesState: routes.ADMIN_INVITES,
    CompaniesState: routes.ADMIN_COMPANIES,
    GroupsState: routes.ADMIN_GROUPS,
}

# Handlers every Reflex state has (hydrate, setvar, ...); they are not ours.
REFLEX_OWN_HANDLERS = frozenset(rx.State.event_handlers)


def admin_handler_names() -> set[str]:
    """The full name of every handler the admin states define."""
    return {
        handler_name(state, name)
        for state in ADMIN_STATES
        for name in state.event_handlers
        if name not in REFLEX_OWN_HANDLERS
    }


def attack_calls(world: World) -> list[tuple[type, str, dict[str, Any]]]:
    """Each admin handler with payloads aimed at real rows of the area."""
    ids = world.membership_ids
    company_id = str(world.area.companies["Bakkerij De Korf"].id)
    group_id = world.area.groups["Hoofdstraat"].id
    promote = {"membership_id": str(ids["shop_owner"]), "role": Role.ADMIN.value}
    demote = {"membership_id": str(ids["admin"]), "role": Role.ENTREPRENEUR.value}
    invite = {"invite_id": str(world.invite_id)}
    invite_form = {
        "email": "intruder@evil.test",
        "role": Role.ADMIN.value,
        "company_id": company_id,
        f"group_{group_id}": "on",
    }
    company_form = {"name": "Nep BV", "city": "Nergens", "email": "nep@evil.test"}
    return [
        (MembersState, "change_role", promote),
        (MembersState, "change_role", demote),
        (MembersState, "remove", {"membership_id": str(ids["officer"])}),
        (MembersState, "load", {}),
        (InvitesState, "submit", {"form": invite_form}),
        (InvitesState, "revoke", invite),
        (InvitesState, "resend", invite),
        (InvitesState, "load", {}),
        (CompaniesState, "submit", {"form": company_form}),
        (CompaniesState, "load", {}),
        (GroupsState, "submit", {"form": {"name": "Nepstraat", "kind": "street"}}),
        (GroupsState, "load", {}),
    ]


async def call_every_admin_handler(tab: TabClient, world: World) -> set[str]:
    """Call every admin handler as ``tab``; returns the names called."""
    called = set()
    for state, name, payload in attack_calls(world):
        full_name = handler_name(state, name)
        await tab.call(full_name, payload, path=PAGE_OF[state])
        called.add(full_name)
    return called


def leaked(tab: TabClient, texts: set[str]) -> set[str]:
    """Which of ``texts`` appear anywhere in what the backend sent the tab."""
    received = tab.received_text()
    return {text for text in texts if text in received}


def filled_admin_lists(tab: TabClient) -> dict[str, list[Any]]:
    """Every list var of an admin state that the tab holds with items in it."""
    return {
        f"{state.__name__}.{var.removesuffix(VAR_SUFFIX)}": value
        for state in ADMIN_STATES
        for var, value in tab.state.get(state.get_full_name(), {}).items()
        if isinstance(value, list) and value
    }


async def feed_tab(open_tab: OpenTab, cookie: str | None) -> TabClient:
    """A tab that opened the feed, as a browser does after logging in."""
    tab = await open_tab(cookie)
    await tab.hydrate(routes.FEED)
    return tab


async def cookie_of(login: Login, world: World, persona: str | None) -> str | None:
    """The session cookie of a persona of the area; none for a visitor."""
    return await login(world.area.people[persona].email) if persona else None


async def log_out(backend_url: str, cookie: str) -> httpx.Response:
    """What the logout button makes the browser do: POST the logout route."""
    async with httpx.AsyncClient(base_url=backend_url) as http:
        return await http.post(routes.AUTH_LOGOUT, headers={"Cookie": cookie})


# Filled for any member: the directory services only ask for Permission.READ.
# test_shop_owner_gets_no_admin_lists holds the stricter rule of the issue.
DIRECTORY_LISTS = {
    "CompaniesState.companies",
    "GroupsState.groups",
    "GroupsState.kinds",
}

OUTSIDERS = [
    pytest.param(None, id="no_session"),
    pytest.param("shop_owner", id="shop_owner"),
]


def test_every_admin_handler_is_attacked(world: World) -> None:
    """A new admin handler fails here until the attack list covers it."""
    attacked = {handler_name(state, name) for state, name, _ in attack_calls(world)}
    assert attacked == admin_handler_names()


@pytest.mark.parametrize("persona", OUTSIDERS)
async def test_outsider_can_neither_read_nor_change(
    persona: str | None, world: World, login: Login, open_tab: OpenTab
) -> None:
    tab = await feed_tab(open_tab, await cookie_of(login, world, persona))
    before = await snapshot()

    called = await call_every_admin_handler(tab, world)

    assert called == admin_handler_names()
    assert await snapshot() == before
    assert leaked(tab, world.member_emails) == set()
    assert filled_admin_lists(tab).keys() <= DIRECTORY_LISTS


async def test_no_session_gets_sent_to_login(world: World, open_tab: OpenTab) -> None:
    tab = await feed_tab(open_tab, None)

    await call_every_admin_handler(tab, world)

    assert filled_admin_lists(tab) == {}
    assert tab.var(SessionState, "user_name") == ""
    assert set(tab.redirects()) == {
        routes.login_url(path) for path in [routes.FEED, *PAGE_OF.values()]
    }


async def test_shop_owner_gets_no_admin_lists(
    world: World, login: Login, open_tab: OpenTab
) -> None:
    tab = await feed_tab(open_tab, await cookie_of(login, world, "shop_owner"))

    await call_every_admin_handler(tab, world)

    assert filled_admin_lists(tab) == {}


async def test_admin_of_another_community_gets_nothing_of_the_area(
    world: World, login: Login, open_tab: OpenTab
) -> None:
    tab = await feed_tab(open_tab, await login(world.other.people["admin"].email))
    own_community = tab.var(SessionState, "community_id")
    before = await snapshot(world.area.community.id)

    await tab.call(
        handler_name(SessionState, "switch_community"),
        {"community_id": str(world.area.community.id)},
        path=routes.FEED,
    )
    called = await call_every_admin_handler(tab, world)

    assert called == admin_handler_names()
    assert own_community == str(world.other.community.id)
    assert tab.var(SessionState, "community_id") == own_community
    assert await snapshot(world.area.community.id) == before
    assert leaked(tab, world.area_only_texts) == set()
    assert tab.var(MembersState, "members"), "its own members, as a control"


async def test_admin_of_the_area_reads_members_and_invites(
    world: World, login: Login, open_tab: OpenTab
) -> None:
    tab = await feed_tab(open_tab, await cookie_of(login, world, "admin"))
    before = await snapshot()

    updates = await tab.call(
        handler_name(MembersState, "load"), path=routes.ADMIN_MEMBERS
    )
    form = {"email": "new.florist@binnenstad.test", "role": Role.ENTREPRENEUR.value}
    await tab.call(
        handler_name(InvitesState, "submit"), {"form": form}, path=routes.ADMIN_INVITES
    )

    people = {user.email for user in world.area.people.values()}
    in_delta = json.dumps([update["delta"] for update in updates])
    assert {email for email in people if email in in_delta} == people
    assert {row["email"] for row in tab.var(MembersState, "members")} >= people
    assert (await snapshot()).invites == before.invites + 1
    invited = {row["email"] for row in tab.var(InvitesState, "invites")}
    assert form["email"] in invited


async def test_a_refused_invite_keeps_the_form_filled(
    world: World, login: Login, open_tab: OpenTab
) -> None:
    tab = await feed_tab(open_tab, await cookie_of(login, world, "admin"))
    await tab.call(handler_name(InvitesState, "load"), path=routes.ADMIN_INVITES)
    roles = tab.var(InvitesState, "roles")
    assert roles

    form = {"email": "geen adres", "role": Role.ENTREPRENEUR.value}
    await tab.call(
        handler_name(InvitesState, "submit"), {"form": form}, path=routes.ADMIN_INVITES
    )

    assert tab.var(InvitesState, "error")
    assert tab.var(InvitesState, "roles") == roles, "the choices stay to try again"


async def test_socket_from_another_origin_is_refused(
    world: World, login: Login, open_tab: OpenTab, allowed_origin: str
) -> None:
    cookie = await login(world.area.people["shop_owner"].email)

    with pytest.raises(socketio.exceptions.ConnectionError):
        await open_tab(cookie, origin="http://evil.example")
    tab = await open_tab(cookie, origin=allowed_origin)
    await tab.hydrate(routes.FEED)

    assert allowed_origin == "http://localhost:3000"
    assert tab.var(SessionState, "user_name") == "Shop Owner"


async def test_cookie_is_dead_after_logout(
    world: World, login: Login, open_tab: OpenTab, backend_url: str
) -> None:
    cookie = await login(world.area.people["admin"].email)
    open_before = await open_tab(cookie)
    await open_before.hydrate(routes.FEED)
    assert open_before.var(SessionState, "user_name") == "Admin"

    response = await log_out(backend_url, cookie)
    replay = await open_tab(cookie)
    await replay.hydrate(routes.FEED)
    load_members = handler_name(MembersState, "load")
    for tab in (replay, open_before):
        await tab.call(load_members, path=routes.ADMIN_MEMBERS)

    assert response.status_code == 303
    assert response.headers["location"] == routes.LOGIN
    assert 'chainels_session=""' in response.headers["set-cookie"]
    assert replay.redirects() == [
        routes.login_url(routes.FEED),
        routes.login_url(routes.ADMIN_MEMBERS),
    ]
    assert replay.var(SessionState, "user_name") == ""
    for tab in (replay, open_before):
        assert leaked(tab, world.member_emails) == set()
        assert not tab.var(MembersState, "members")


async def test_tab_keeps_no_member_data_after_logout(
    world: World, login: Login, open_tab: OpenTab, backend_url: str
) -> None:
    cookie = await login(world.area.people["admin"].email)
    tab = await feed_tab(open_tab, cookie)
    await tab.call(handler_name(MembersState, "load"), path=routes.ADMIN_MEMBERS)
    assert leaked(tab, world.member_emails), "the admin saw the members"

    await tab.close()
    await log_out(backend_url, cookie)
    login_page = await open_tab(None, token=tab.token)
    await login_page.hydrate(routes.LOGIN)

    assert leaked(login_page, world.member_emails) == set()
