"""Invitations: create, open, accept, revoke, resend, expire."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import col, select

from chainels_app.models import GroupMember, Invite, Membership, Role, utcnow
from chainels_app.services import auth, invites
from chainels_app.services.errors import InvalidInput, PermissionDenied
from tests.conftest import deliver_mail
from tests.factories import PASSWORD, make_area


def _invite(session, area, email="new@shop.test", **overrides) -> str:
    """Invite as the admin and return the token read from the mail."""
    arguments = {
        "role": Role.ENTREPRENEUR,
        "company_id": area.companies["Bakkerij De Korf"].id,
        "group_ids": [area.groups["Hoofdstraat"].id],
    } | overrides
    invites.create_invite(
        session, actor=area.actor(session, "admin"), email=email, **arguments
    )
    session.commit()
    return _last_token()


def _last_token() -> str:
    from chainels_app.settings import get_settings

    deliver_mail()
    newest = max(get_settings().mail_dir.glob("*.eml"), key=lambda p: p.name)
    return re.search(r"/invite\?t=([\w-]+)", newest.read_text()).group(1)


def test_accepting_creates_the_member_with_company_role_and_groups(session, mail_dir):
    area = make_area(session)
    token = _invite(session, area, email="New@Shop.test")

    details = invites.open_invite(session, token=token)
    assert details.email == "new@shop.test"
    assert details.community_name == "Binnenstad"
    assert details.company_name == "Bakkerij De Korf"
    assert not details.has_account

    user = invites.accept_invite(
        session, token=token, name="Nina Nieuw", password="a long secret 123"
    )
    session.commit()
    membership = session.exec(
        select(Membership).where(Membership.user_id == user.id)
    ).one()
    assert membership.community_id == area.community.id
    assert membership.company_id == area.companies["Bakkerij De Korf"].id
    assert membership.role == Role.ENTREPRENEUR
    groups = session.exec(
        select(GroupMember.group_id).where(GroupMember.membership_id == membership.id)
    ).all()
    assert groups == [area.groups["Hoofdstraat"].id]
    assert auth.check_credentials(
        session, email="new@shop.test", password="a long secret 123", address="x"
    )


def test_only_the_hash_of_the_token_is_stored(session, mail_dir):
    area = make_area(session)
    token = _invite(session, area)
    stored = session.exec(select(Invite)).one()
    assert token not in stored.token_hash
    assert stored.token_hash != token


def test_a_used_invite_is_refused(session, mail_dir):
    area = make_area(session)
    token = _invite(session, area)
    invites.accept_invite(session, token=token, name="A", password="a long secret 123")
    session.commit()
    with pytest.raises(InvalidInput, match="invite_used"):
        invites.open_invite(session, token=token)
    with pytest.raises(InvalidInput, match="invite_used"):
        invites.accept_invite(
            session, token=token, name="B", password="another secret!"
        )


def test_an_expired_invite_is_refused(session, mail_dir):
    area = make_area(session)
    token = _invite(session, area)
    invite = session.exec(select(Invite)).one()
    invite.expires_at = utcnow() - timedelta(minutes=1)
    session.add(invite)
    session.commit()
    with pytest.raises(InvalidInput, match="invite_expired"):
        invites.accept_invite(
            session, token=token, name="A", password="a long secret 1"
        )


def test_a_revoked_invite_is_refused(session, mail_dir):
    area = make_area(session)
    token = _invite(session, area)
    invite = session.exec(select(Invite)).one()
    invites.revoke_invite(
        session, actor=area.actor(session, "admin"), invite_id=invite.id
    )
    session.commit()
    with pytest.raises(InvalidInput, match="invite_revoked"):
        invites.open_invite(session, token=token)


def test_an_unknown_token_is_refused(session):
    make_area(session)
    with pytest.raises(InvalidInput, match="invite_unknown"):
        invites.open_invite(session, token="made-up")


def test_resend_replaces_the_link(session, mail_dir):
    area = make_area(session)
    first = _invite(session, area)
    invite = session.exec(select(Invite)).one()
    invites.resend_invite(
        session, actor=area.actor(session, "admin"), invite_id=invite.id
    )
    session.commit()
    second = _last_token()

    assert second != first
    with pytest.raises(InvalidInput, match="invite_unknown"):
        invites.open_invite(session, token=first)
    assert invites.open_invite(session, token=second).email == "new@shop.test"


def test_a_new_invite_for_the_same_address_revokes_the_old(session, mail_dir):
    area = make_area(session)
    first = _invite(session, area)
    second = _invite(session, area)
    with pytest.raises(InvalidInput, match="invite_revoked"):
        invites.open_invite(session, token=first)
    assert invites.open_invite(session, token=second)


def test_resending_an_old_invite_revokes_the_newer_one(session, mail_dir):
    area = make_area(session)
    _invite(session, area)
    _invite(session, area, role=Role.ADMIN)
    older, _newer = session.exec(select(Invite).order_by(Invite.id)).all()
    invites.resend_invite(
        session, actor=area.actor(session, "admin"), invite_id=older.id
    )
    session.commit()

    still_open = session.exec(
        select(Invite.id).where(col(Invite.revoked_at).is_(None))
    ).all()
    assert still_open == [older.id]


def test_an_existing_account_joins_with_its_own_password(session, mail_dir):
    area = make_area(session)
    other = make_area(session, "Winkelcentrum Noord")
    officer_email = area.people["officer"].email
    invites.create_invite(
        session,
        actor=other.actor(session, "admin"),
        email=officer_email,
        role=Role.POLICE,
        company_id=None,
        group_ids=[],
    )
    session.commit()
    token = _last_token()
    assert invites.open_invite(session, token=token).has_account

    with pytest.raises(InvalidInput, match="invite_wrong_password"):
        invites.accept_invite(session, token=token, name="", password="not my password")
    invites.accept_invite(session, token=token, name="", password=PASSWORD)
    session.commit()
    memberships = session.exec(
        select(Membership).where(Membership.user_id == area.people["officer"].id)
    ).all()
    assert {m.community_id for m in memberships} == {
        area.community.id,
        other.community.id,
    }


@pytest.mark.parametrize(
    ("email", "overrides", "key"),
    [
        ("not-an-address", {}, "email_invalid"),
        ("new@shop.test", {"role": "king"}, "role_unknown"),
        ("shop_owner@binnenstad.test", {}, "already_member"),
    ],
)
def test_bad_invites_are_refused_and_nothing_is_sent(
    session, mail_dir, email, overrides, key
):
    area = make_area(session)
    with pytest.raises(InvalidInput, match=key):
        _invite(session, area, email=email, **overrides)
    session.rollback()
    assert session.exec(select(Invite)).all() == []
    assert deliver_mail() == 0
    assert list(mail_dir.glob("*.eml")) == []


def test_a_company_or_group_of_another_area_is_refused(session, mail_dir):
    area = make_area(session)
    other = make_area(session, "Winkelcentrum Noord")
    with pytest.raises(InvalidInput, match="company_unknown"):
        _invite(session, area, company_id=other.companies["Vereniging"].id)
    session.rollback()
    with pytest.raises(InvalidInput, match="group_unknown"):
        _invite(session, area, group_ids=[other.groups["Veiligheid"].id])


def test_weak_password_on_accept_leaves_the_invite_usable(session, mail_dir):
    area = make_area(session)
    token = _invite(session, area)
    with pytest.raises(InvalidInput, match="password_too_short"):
        invites.accept_invite(session, token=token, name="Nina", password="short")
    session.rollback()
    assert invites.open_invite(session, token=token)


@pytest.mark.parametrize("persona", ["shop_owner", "officer", "guard"])
def test_only_admins_invite(session, mail_dir, persona):
    area = make_area(session)
    with pytest.raises(PermissionDenied):
        invites.create_invite(
            session,
            actor=area.actor(session, persona),
            email="x@y.test",
            role=Role.ENTREPRENEUR,
            company_id=None,
            group_ids=[],
        )
