"""Critical identity flows in a real browser against the production build."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from chainels_app import routes
from tests.e2e.helpers import expect_login_page

pytestmark = pytest.mark.browser


def test_visitor_without_session_is_sent_to_login(page: Page) -> None:
    for path in (*routes.MEMBER_PAGES, *routes.ADMIN_PAGES):
        page.goto(path)
        expect_login_page(page)
