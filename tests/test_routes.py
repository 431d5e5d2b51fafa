"""Paths and the guard against open redirects after login."""

from __future__ import annotations

import pytest

from chainels_app import routes


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        ("/admin/members", "/admin/members"),
        (None, routes.FEED),
        ("https://evil.example/", routes.FEED),
        ("//evil.example/", routes.FEED),
        ("/\\evil.example", routes.FEED),
        ("/auth/logout", routes.FEED),
    ],
)
def test_only_local_pages_are_followed_after_login(asked, expected):
    assert routes.safe_next(asked) == expected


def test_links_carry_the_token_as_a_query_parameter():
    assert routes.invite_link("a b") == "/invite?t=a+b"
    assert routes.ticket_url("x", "/feed") == "/auth/ticket?t=x&next=%2Ffeed"
