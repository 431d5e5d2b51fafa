"""Companies, groups and members as administrators keep them."""

from __future__ import annotations

import pytest
from sqlmodel import select

from chainels_app.models import GroupKind, Membership, Role
from chainels_app.services import directory
from chainels_app.services.errors import InvalidInput
from tests.factories import make_area


def test_admin_adds_a_company_and_a_group(session):
    area = make_area(session)
    admin = area.actor(session, "admin")
    directory.create_company(
        session, actor=admin, name="  Slagerij Vers ", city="Voorbeeldstad"
    )
    directory.create_group(
        session, actor=admin, name="Kerkstraat", kind=GroupKind.STREET
    )
    names = [c.name for c in directory.list_companies(session, actor=admin)]
    assert "Slagerij Vers" in names
    kinds = {g.name: g.kind for g in directory.list_groups(session, actor=admin)}
    assert kinds["Kerkstraat"] == GroupKind.STREET


@pytest.mark.parametrize(
    ("call", "key"),
    [
        (
            lambda s, a: directory.create_company(s, actor=a, name="   "),
            "name_required",
        ),
        (
            lambda s, a: directory.create_company(s, actor=a, name="Vereniging"),
            "company_exists",
        ),
        (
            lambda s, a: directory.create_group(s, actor=a, name="X", kind="castle"),
            "group_kind_unknown",
        ),
        (
            lambda s, a: directory.create_group(
                s, actor=a, name="Veiligheid", kind="working_group"
            ),
            "group_exists",
        ),
        (
            lambda s, a: directory.create_company(s, actor=a, name="x" * 161),
            "text_too_long",
        ),
    ],
)
def test_bad_directory_input_is_refused(session, call, key):
    area = make_area(session)
    with pytest.raises(InvalidInput, match=key):
        call(session, area.actor(session, "admin"))


def test_roles_change_and_members_leave_but_not_the_admin_themself(session):
    area = make_area(session)
    admin = area.actor(session, "admin")
    owner = area.actor(session, "shop_owner")

    directory.change_role(
        session, actor=admin, membership_id=owner.membership_id, role=Role.SECURITY
    )
    assert session.get(Membership, owner.membership_id).role == Role.SECURITY
    with pytest.raises(InvalidInput, match="cannot_change_self"):
        directory.change_role(
            session, actor=admin, membership_id=admin.membership_id, role=Role.POLICE
        )

    with pytest.raises(InvalidInput, match="cannot_change_self"):
        directory.remove_member(session, actor=admin, membership_id=admin.membership_id)

    directory.remove_member(session, actor=admin, membership_id=owner.membership_id)
    remaining = session.exec(select(Membership.id)).all()
    assert owner.membership_id not in remaining
    rows = directory.list_members(session, actor=admin)
    assert {r.name for r in rows} == {"Admin", "Officer", "Guard"}
    officer = next(r for r in rows if r.name == "Officer")
    assert officer.group_names == ("Veiligheid",)
    assert officer.company_name == "Politie Centrum"
