"""Harness for socket tests: the real backend in-process, driven like a browser tab.

The backend is served once for this folder by uvicorn in a thread, without a
frontend build, on its own SQLite file. It stops when the folder's tests end:
its lifespan tasks (the mail worker among them) reach the database through
``db.get_engine``, which later tests point at databases of their own.
A :class:`TabClient` speaks Reflex's websocket protocol with a session cookie,
the way a browser tab would (``tests/reflex_tab.py``).
"""

from __future__ import annotations

import importlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn
from reflex_base.environment import environment
from sqlmodel import Session, SQLModel, select

from chainels_app import db, routes
from chainels_app.api.auth import SESSION_COOKIE
from chainels_app.models import Company, Group, Invite, Membership, Role
from chainels_app.services import auth, invites
from chainels_app.settings import get_settings
from tests.factories import PASSWORD, Area, make_area
from tests.reflex_tab import ROOT_STATE, VAR_SUFFIX, ReflexTab, hydrated


def handler_name(state_cls: type, handler: str) -> str:
    """The full name a browser uses to call ``handler`` of ``state_cls``."""
    return f"{state_cls.get_full_name()}.{handler}"


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _build_asgi_app(workdir: Path) -> Any:
    # Reflex reads these while the app module builds its App; the web and states
    # folders go to a temporary place so the project's .web is never touched.
    with pytest.MonkeyPatch.context() as patch:
        for var, value in (
            (environment.REFLEX_SKIP_COMPILE, "true"),
            (environment.REFLEX_WEB_WORKDIR, str(workdir / "web")),
            (environment.REFLEX_STATES_WORKDIR, str(workdir / "states")),
        ):
            patch.setenv(var.name, value)
        app_module = importlib.import_module("chainels_app.chainels_app")
        return app_module.app()


@pytest.fixture(scope="package")
def socket_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One database for this folder's tests, installed as the app's engine."""
    path = tmp_path_factory.mktemp("socket-db") / "socket.db"
    engine = db.make_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(db, "get_engine", lambda: engine)
        yield engine
    engine.dispose()


@pytest.fixture(scope="package")
def backend_url(
    socket_engine: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The base URL of the backend, started once for this folder."""
    asgi_app = _build_asgi_app(tmp_path_factory.mktemp("reflex"))
    sock = _free_socket()
    config = uvicorn.Config(asgi_app, lifespan="on", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()

    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            msg = "the backend did not start"
            raise RuntimeError(msg)
        time.sleep(0.02)
    host, port = sock.getsockname()
    yield f"http://{host}:{port}"

    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="package")
def allowed_origin() -> str:
    """The one origin whose pages may open the websocket."""
    return get_settings().public_base_url


# Rows only the area has; the factory's other names recur in every community.
JEWELLER = "Juwelier Goudsmid"
JEWELLER_EMAIL = "winkel@goudsmid.test"
MARKET_SQUARE = "Marktplein"


@dataclass
class World:
    """Two communities: the area under test and a neighbouring one."""

    area: Area
    other: Area
    membership_ids: dict[str, int]
    invite_id: int
    invite_email: str

    @property
    def member_emails(self) -> set[str]:
        """Every address of a member of the area, and of its invitee."""
        people = {user.email for user in self.area.people.values()}
        return people | {self.invite_email}

    @property
    def area_only_texts(self) -> set[str]:
        """What only someone inside the area may see."""
        return self.member_emails | {JEWELLER, JEWELLER_EMAIL, MARKET_SQUARE}


def _membership_ids(session: Session, area: Area) -> dict[str, int]:
    return {
        persona: session.exec(
            select(Membership.id).where(
                Membership.user_id == user.id,
                Membership.community_id == area.community.id,
            )
        ).one()
        for persona, user in area.people.items()
    }


@pytest.fixture(scope="package")
def world(socket_engine: Any) -> World:
    """The people and rows the socket tests act on, made once for this folder."""
    with db.session_scope() as session:
        area = make_area(session, "Binnenstad")
        other = make_area(session, "Havenkwartier")
        community_id = area.community.id
        session.add(
            Company(community_id=community_id, name=JEWELLER, email=JEWELLER_EMAIL)
        )
        session.add(Group(community_id=community_id, name=MARKET_SQUARE))
        invite = invites.create_invite(
            session,
            actor=area.actor(session, "admin"),
            email="new.baker@binnenstad.test",
            role=Role.ENTREPRENEUR,
            company_id=None,
            group_ids=[],
        )
        return World(
            area=area,
            other=other,
            membership_ids=_membership_ids(session, area),
            invite_id=invite.id,
            invite_email=invite.email,
        )


def _issue_ticket(session: Session, email: str) -> str:
    user = auth.check_credentials(
        session, email=email, password=PASSWORD, address="socket-tests"
    )
    return auth.issue_login_ticket(session, user=user)


@pytest.fixture(scope="package")
def login(backend_url: str) -> Callable[[str], Awaitable[str]]:
    """Log in the real way and return the ``Cookie`` header of the session."""

    async def _login(email: str) -> str:
        ticket = await db.run(_issue_ticket, email)
        query = urlencode({"t": ticket})
        async with httpx.AsyncClient(base_url=backend_url) as http:
            response = await http.get(f"{routes.AUTH_TICKET}?{query}")
        assert response.status_code == 303, response.text
        set_cookie = response.headers["set-cookie"]
        assert set_cookie.startswith(f"{SESSION_COOKIE}=")
        assert "httponly" in set_cookie.lower()
        assert "samesite=lax" in set_cookie.lower()
        return f"{SESSION_COOKIE}={response.cookies[SESSION_COOKIE]}"

    return _login


@dataclass(frozen=True)
class Snapshot:
    """What an attacker must not be able to change."""

    invites: int
    companies: int
    groups: int
    roles: dict[int, str]
    invite_links: dict[int, tuple[str, Any]]


def _rows(session: Session, model: Any, community_id: int | None) -> list[Any]:
    query = select(model)
    if community_id is not None:
        query = query.where(model.community_id == community_id)
    return list(session.exec(query))


def _snapshot(session: Session, community_id: int | None) -> Snapshot:
    invite_rows = _rows(session, Invite, community_id)
    memberships = _rows(session, Membership, community_id)
    return Snapshot(
        invites=len(invite_rows),
        companies=len(_rows(session, Company, community_id)),
        groups=len(_rows(session, Group, community_id)),
        roles={membership.id: membership.role for membership in memberships},
        invite_links={i.id: (i.token_hash, i.revoked_at) for i in invite_rows},
    )


async def snapshot(community_id: int | None = None) -> Snapshot:
    """Invites, companies, groups and memberships with their roles.

    Args:
        community_id: Only this community's rows; every community's by default.
    """
    return await db.run(_snapshot, community_id)


class TabClient(ReflexTab):
    """One browser tab: a socket with a client token and optional cookie."""

    def __init__(
        self,
        base_url: str,
        *,
        cookie: str | None,
        origin: str | None,
        token: str | None = None,
    ):
        headers = {
            name: value
            for name, value in (("Cookie", cookie), ("Origin", origin))
            if value
        }
        super().__init__(base_url, headers=headers, token=token)

    async def call(
        self, name: str, payload: dict[str, Any] | None = None, *, path: str = "/"
    ) -> list[dict[str, Any]]:
        """Call a handler and return every update it caused.

        Reflex sends no "finished" marker, but it runs one tab's events in order:
        two ``set_is_hydrated`` calls after the handler make a barrier whose
        second delta arrives only once the handler's own updates are out.
        """
        start = len(self.updates)
        await self.send(name, payload or {}, path)
        await self.send(f"{ROOT_STATE}.set_is_hydrated", {"value": False}, path)
        await self.send(f"{ROOT_STATE}.set_is_hydrated", {"value": True}, path)
        updates = await self.wait_for(hydrated(True), since=start)
        barrier = (hydrated(False), hydrated(True))
        return [u for u in updates if not any(check(u) for check in barrier)]

    def var(self, state_cls: type, name: str) -> Any:
        """The latest value the tab holds for a var of ``state_cls``."""
        values = self.state.get(state_cls.get_full_name(), {})
        return values.get(f"{name}{VAR_SUFFIX}")

    def redirects(self) -> list[str]:
        """The paths of every redirect the backend sent this tab."""
        return [
            event["payload"]["path"]
            for update in self.updates
            for event in update.get("events") or []
            if event.get("name") == "_redirect"
        ]


@pytest.fixture
async def open_tab(
    backend_url: str, allowed_origin: str
) -> AsyncIterator[Callable[..., Awaitable[TabClient]]]:
    """Open connected tabs; every one is closed after the test."""
    tabs: list[TabClient] = []

    async def _open(
        cookie: str | None = None,
        *,
        origin: str | None = allowed_origin,
        token: str | None = None,
    ) -> TabClient:
        tab = TabClient(backend_url, cookie=cookie, origin=origin, token=token)
        tabs.append(tab)
        await tab.connect()
        return tab

    yield _open
    for tab in tabs:
        await tab.close()
