"""Named personas in a small area, for tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from chainels_app.models import (
    Community,
    Company,
    Group,
    GroupKind,
    Role,
    User,
)
from chainels_app.services.access import Actor, actor_in
from chainels_app.services.auth import hash_password
from chainels_app.services.directory import create_community, join_community

PASSWORD = "correct horse battery"


@dataclass
class Area:
    """A community with its groups, companies and people."""

    community: Community
    groups: dict[str, Group] = field(default_factory=dict)
    companies: dict[str, Company] = field(default_factory=dict)
    people: dict[str, User] = field(default_factory=dict)

    def actor(self, session: Session, persona: str) -> Actor:
        """The persona acting in this area."""
        return actor_in(
            session, user=self.people[persona], community_id=self.community.id
        )


def add_person(
    session: Session,
    area: Area,
    persona: str,
    *,
    role: Role,
    company: str | None = None,
    groups: tuple[str, ...] = (),
    email: str | None = None,
) -> User:
    """Create a user who is a member of the area."""
    user = User(
        email=email or f"{persona}@{area.community.slug}.test",
        name=persona.replace("_", " ").title(),
        password_hash=hash_password(PASSWORD),
        current_community_id=area.community.id,
    )
    session.add(user)
    session.flush()
    join_community(
        session,
        user=user,
        community_id=area.community.id,
        company_id=area.companies[company].id if company else None,
        role=role,
        group_ids=[area.groups[name].id for name in groups],
    )
    area.people[persona] = user
    return user


def make_area(session: Session, name: str = "Binnenstad") -> Area:
    """An area with an admin, an officer, a guard and two shop owners."""
    area = Area(community=create_community(session, name=name))
    for group_name, kind in (
        ("Hoofdstraat", GroupKind.STREET),
        ("Veiligheid", GroupKind.WORKING_GROUP),
    ):
        group = Group(community_id=area.community.id, name=group_name, kind=kind)
        session.add(group)
        area.groups[group_name] = group
    for company_name in ("Bakkerij De Korf", "Politie Centrum", "Vereniging"):
        company = Company(community_id=area.community.id, name=company_name)
        session.add(company)
        area.companies[company_name] = company
    session.flush()

    add_person(session, area, "admin", role=Role.ADMIN, company="Vereniging")
    add_person(
        session,
        area,
        "officer",
        role=Role.POLICE,
        company="Politie Centrum",
        groups=("Veiligheid",),
    )
    add_person(session, area, "guard", role=Role.SECURITY, groups=("Veiligheid",))
    add_person(
        session,
        area,
        "shop_owner",
        role=Role.ENTREPRENEUR,
        company="Bakkerij De Korf",
        groups=("Hoofdstraat",),
    )
    session.commit()
    return area
