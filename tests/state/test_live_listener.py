"""What a listening tab re-checks about its member every minute."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from chainels_app.models import AuthSession, utcnow
from chainels_app.services import auth, directory
from chainels_app.state.feed import _viewer_now
from tests.factories import PASSWORD, make_area


def _session_token(session, email: str) -> str:
    user = auth.check_credentials(
        session, email=email, password=PASSWORD, address="listener"
    )
    token = auth.start_session(
        session, ticket=auth.issue_login_ticket(session, user=user)
    )
    session.commit()
    return token


def test_a_removed_member_stops_listening(session):
    area = make_area(session)
    community_id = area.community.id
    token = _session_token(session, "shop_owner@binnenstad.test")
    viewer = _viewer_now(session, token, community_id)
    assert viewer is not None and viewer.user_id == area.people["shop_owner"].id

    directory.remove_member(
        session,
        actor=area.actor(session, "admin"),
        membership_id=area.actor(session, "shop_owner").membership_id,
    )
    session.commit()
    assert _viewer_now(session, token, community_id) is None


def test_listening_does_not_keep_an_idle_session_alive(session):
    area = make_area(session)
    token = _session_token(session, "officer@binnenstad.test")
    row = session.exec(select(AuthSession)).one()
    idle_since = utcnow() - timedelta(minutes=20)
    row.last_seen_at = idle_since
    session.add(row)
    session.commit()

    assert _viewer_now(session, token, area.community.id) is not None
    session.commit()
    session.refresh(row)
    assert row.last_seen_at == idle_since
