"""The identity flows a person walks through, in Chromium against the prod build.

Each test logs in its own persona in a fresh context, so the order does not
matter. Only ``boekhandel@`` changes a stored preference (English), and no other
test uses that account.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from chainels_app import routes
from chainels_app.seed import DEMO_PASSWORD
from tests.e2e.conftest import AppServer
from tests.e2e.helpers import (
    expect_login_page,
    expect_member_page,
    login,
    logout,
    mails_to,
    open_public,
    read_invite_link,
    session_cookie,
    wait_for_path,
)

pytestmark = pytest.mark.browser

COMMUNITY = "Binnenstad Voorbeeldstad"
ADMIN = "beheer@demo.example"


def _open_invites_admin(page: Page) -> None:
    """From the feed, Beheer > Uitnodigingen, until the form's choices are in."""
    page.get_by_role("navigation").get_by_role("link", name="Beheer").click()
    wait_for_path(page, routes.ADMIN_MEMBERS)
    page.get_by_role("link", name="Uitnodigingen").click()
    wait_for_path(page, routes.ADMIN_INVITES)
    expect(page.get_by_role("heading", name="Nieuw lid uitnodigen")).to_be_visible()
    expect(page.get_by_role("checkbox", name="Hoofdstraat")).to_be_visible()


def test_invited_shop_owner_joins_logs_out_and_back_in(
    page: Page,
    new_context: Callable[[], BrowserContext],
    app_server: AppServer,
) -> None:
    invitee = f"winkel-{uuid.uuid4().hex[:8]}@voorbeeld.example"
    name = "Lotte Verhoeven"
    password = "een-lang-wachtwoord-123"

    login(page, ADMIN, DEMO_PASSWORD)
    _open_invites_admin(page)
    page.get_by_role("textbox", name="E-mailadres").fill(invitee)
    page.get_by_role("combobox", name="Rol").select_option(label="Ondernemer")
    page.get_by_role("combobox", name="Bedrijf", exact=True).select_option(
        label="Drogisterij Het Kruidvat"
    )
    page.get_by_role("checkbox", name="Hoofdstraat").check()
    page.get_by_role("button", name="Uitnodiging versturen").click()
    expect(page.get_by_text(f"Uitnodiging verstuurd naar {invitee}.")).to_be_visible()
    link = read_invite_link(app_server.mail_dir, invitee)
    assert link.startswith(f"{app_server.base_url}{routes.INVITE}?t=")

    invitee_page = new_context().new_page()
    open_public(invitee_page, link)
    expect(invitee_page.get_by_text(f"{invitee} is uitgenodigd voor")).to_be_visible()
    invitee_page.get_by_label("Uw naam").fill(name)
    invitee_page.get_by_label(re.compile("^Kies een wachtwoord")).fill(password)
    invitee_page.get_by_role("button", name="Deelnemen").click()

    wait_for_path(invitee_page, routes.FEED)
    expect_member_page(invitee_page)
    expect(invitee_page.get_by_role("banner").get_by_text(COMMUNITY)).to_be_visible()
    expect(invitee_page.get_by_text(f"Welkom, {name}")).to_be_visible()

    logout(invitee_page)
    login(invitee_page, invitee, password)
    expect(invitee_page.get_by_text(f"Welkom, {name}")).to_be_visible()
    expect(invitee_page.get_by_role("banner").get_by_text(COMMUNITY)).to_be_visible()
    expect(invitee_page.get_by_role("heading", name="Tijdlijn")).to_be_visible()


def test_visitor_without_session_is_sent_to_login(page: Page) -> None:
    for path in (*routes.MEMBER_PAGES, *routes.ADMIN_PAGES):
        page.goto(path)
        expect_login_page(page)
        assert "next=" in page.evaluate("location.search"), path


def test_language_choice_is_kept_across_logins(
    page: Page, new_context: Callable[[], BrowserContext]
) -> None:
    member = "boekhandel@demo.example"

    open_public(page, routes.LOGIN)
    expect(page.get_by_role("heading", name="Inloggen")).to_be_visible()
    login(page, member, DEMO_PASSWORD)
    expect(page.get_by_role("link", name="Tijdlijn")).to_be_visible()

    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("link", name="Feed")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    logout(page)

    # A new browser starts in Dutch; the member's own choice comes back on login.
    other_page = new_context().new_page()
    login(other_page, member, DEMO_PASSWORD)
    expect(other_page.get_by_role("link", name="Feed")).to_be_visible()
    expect(other_page.get_by_role("button", name="Log out")).to_be_visible()
    expect(other_page.get_by_text("Welcome, Marieke de Boer")).to_be_visible()


def test_session_cookie_is_http_only_and_dies_with_logout(
    page: Page, new_context: Callable[[], BrowserContext]
) -> None:
    login(page, "drogisterij@demo.example", DEMO_PASSWORD)
    cookie = session_cookie(page)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie") == ""

    # The copy works while the session lives, so its refusal below is the logout's.
    before = new_context()
    before.add_cookies([cookie])
    before_page = before.new_page()
    before_page.goto(routes.FEED)
    expect_member_page(before_page)

    logout(page)
    assert not [c for c in page.context.cookies() if c["name"] == cookie["name"]]

    replay = new_context()
    replay.add_cookies([cookie])
    replay_page = replay.new_page()
    replay_page.goto(routes.FEED)
    expect_login_page(replay_page)
    expect(replay_page.get_by_role("button", name="Uitloggen")).to_have_count(0)


def test_shop_owner_cannot_open_member_administration(page: Page) -> None:
    login(page, "juwelier@demo.example", DEMO_PASSWORD)
    expect(page.get_by_role("link", name="Beheer")).to_have_count(0)

    page.goto(routes.ADMIN_MEMBERS)
    wait_for_path(page, routes.FEED)
    expect_member_page(page)
    expect(page.get_by_role("heading", name="Tijdlijn")).to_be_visible()
    expect(page.get_by_role("heading", name="Leden")).to_have_count(0)
    expect(page.get_by_text("Henk Jansen")).to_have_count(0)


def test_inviting_an_existing_member_is_refused_without_mail(
    page: Page, app_server: AppServer
) -> None:
    member = "bakkerij@demo.example"
    mails_before = len(mails_to(app_server.mail_dir, member))

    login(page, ADMIN, DEMO_PASSWORD)
    _open_invites_admin(page)
    page.get_by_role("textbox", name="E-mailadres").fill(member)
    page.get_by_role("button", name="Uitnodiging versturen").click()

    expect(page.get_by_role("alert")).to_contain_text("al lid")
    assert len(mails_to(app_server.mail_dir, member)) == mails_before
