"""Logins, throttling, sessions and password resets."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from chainels_app import db
from chainels_app.models import AuthSession, utcnow
from chainels_app.services import auth
from chainels_app.services.errors import DomainError, InvalidInput, NotAuthenticated
from chainels_app.settings import get_settings
from tests.conftest import deliver_mail
from tests.factories import PASSWORD, make_area


def _login(session, email: str, password: str, address: str = "10.0.0.1") -> str:
    user = auth.check_credentials(
        session, email=email, password=password, address=address
    )
    ticket = auth.issue_login_ticket(session, user=user)
    token = auth.start_session(session, ticket=ticket)
    session.commit()
    return token


def _refusal(email: str, password: str, address: str = "10.0.0.1") -> str:
    # Through the app's own transaction, which rolls back on the refusal.
    with pytest.raises(DomainError) as refused:
        db.run_sync(
            auth.check_credentials, email=email, password=password, address=address
        )
    return refused.value.key


def test_login_creates_a_session_the_token_authenticates(session):
    area = make_area(session)
    token = _login(session, "Shop_Owner@binnenstad.test ", PASSWORD)

    assert auth.authenticate(session, token=token).id == area.people["shop_owner"].id
    stored = session.exec(select(AuthSession)).one()
    assert stored.token_hash != token
    assert len(token) >= 32


def test_wrong_password_and_unknown_email_get_the_same_message(session):
    make_area(session)
    assert _refusal("shop_owner@binnenstad.test", "wrong password!") == (
        "error.login_failed"
    )
    assert _refusal("nobody@binnenstad.test", "wrong password!") == (
        "error.login_failed"
    )


def test_hundred_failures_lock_the_account_even_for_the_right_password(session):
    make_area(session)
    email = "shop_owner@binnenstad.test"
    limit = get_settings().login_failures_per_account_hour
    assert limit == 100
    for attempt in range(limit):
        # Spread over addresses so only the per-account limit can trip.
        assert _refusal(email, "wrong password!", f"10.1.0.{attempt}") == (
            "error.login_failed"
        )

    assert _refusal(email, PASSWORD, "10.2.0.1") == "error.login_throttled"


def test_unknown_email_is_throttled_exactly_like_a_known_one(session):
    make_area(session)
    email = "nobody@binnenstad.test"
    for attempt in range(100):
        _refusal(email, "wrong password!", f"10.1.0.{attempt}")

    assert _refusal(email, "wrong password!", "10.2.0.1") == ("error.login_throttled")


def test_failures_older_than_an_hour_do_not_count(session):
    make_area(session)
    email = "shop_owner@binnenstad.test"
    for attempt in range(100):
        _refusal(email, "wrong password!", f"10.1.0.{attempt}")
    for row in session.exec(select(auth.LoginAttempt)):
        row.at = utcnow() - timedelta(minutes=61)
        session.add(row)
    session.commit()

    assert _login(session, email, PASSWORD)


def test_password_reset_lifts_the_lock_and_ends_old_sessions(session, mail_dir):
    make_area(session)
    email = "shop_owner@binnenstad.test"
    old_token = _login(session, email, PASSWORD)
    for attempt in range(100):
        _refusal(email, "wrong password!", f"10.1.0.{attempt}")

    auth.request_password_reset(session, email=email)
    session.commit()
    deliver_mail()
    body = next(mail_dir.glob("*.eml")).read_text()
    reset_token = re.search(r"/reset\?t=([\w-]+)", body).group(1)
    auth.reset_password(session, token=reset_token, password="a brand new secret")
    session.commit()

    with pytest.raises(NotAuthenticated):
        auth.authenticate(session, token=old_token)
    assert _login(session, email, "a brand new secret")
    with pytest.raises(InvalidInput, match="password_reset_invalid"):
        auth.reset_password(session, token=reset_token, password="yet another secret")


def test_reset_for_unknown_address_sends_nothing(session, mail_dir):
    make_area(session)
    auth.request_password_reset(session, email="nobody@binnenstad.test")
    session.commit()
    assert deliver_mail() == 0
    assert list(mail_dir.glob("*.eml")) == []


def test_logout_ends_the_session(session):
    make_area(session)
    token = _login(session, "officer@binnenstad.test", PASSWORD)
    auth.end_session(session, token=token)
    session.commit()
    with pytest.raises(NotAuthenticated):
        auth.authenticate(session, token=token)


def test_login_ticket_works_once(session):
    area = make_area(session)
    ticket = auth.issue_login_ticket(session, user=area.people["guard"])
    auth.start_session(session, ticket=ticket)
    with pytest.raises(InvalidInput, match="login_ticket_invalid"):
        auth.start_session(session, ticket=ticket)


def test_police_session_ends_after_thirty_idle_minutes(session):
    make_area(session)
    officer = _login(session, "officer@binnenstad.test", PASSWORD)
    owner = _login(session, "shop_owner@binnenstad.test", PASSWORD)
    for row in session.exec(select(AuthSession)):
        row.last_seen_at = utcnow() - timedelta(minutes=31)
        session.add(row)
    session.commit()

    with pytest.raises(NotAuthenticated, match="session_expired"):
        auth.authenticate(session, token=officer)
    assert auth.authenticate(session, token=owner)


def test_sessions_end_after_the_absolute_lifetime(session):
    make_area(session)
    token = _login(session, "shop_owner@binnenstad.test", PASSWORD)
    row = session.exec(select(AuthSession)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    with pytest.raises(NotAuthenticated):
        auth.authenticate(session, token=token)


def test_short_passwords_are_refused():
    with pytest.raises(InvalidInput, match="password_too_short"):
        auth.hash_password("short")
