"""Communities, companies, groups and members: who is who in an area."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from sqlmodel import Session, col, select

from chainels_app.models import (
    Community,
    Company,
    Group,
    GroupKind,
    GroupMember,
    Membership,
    Role,
    User,
)
from chainels_app.services import audit
from chainels_app.services.access import Actor, Permission, require_admin
from chainels_app.services.errors import InvalidInput, NotFound

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MemberRow:
    """One member as an administrator sees them."""

    membership_id: int
    user_id: int
    name: str
    email: str
    company_name: str
    role: str
    group_names: tuple[str, ...]


def _slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:80]


def create_community(session: Session, *, name: str, city: str = "") -> Community:
    """Open a new community; an operator's action, outside any community."""
    name = name.strip()
    if not name:
        raise InvalidInput("error.name_required")
    community = Community(name=name, slug=_slugify(name), city=city.strip())
    session.add(community)
    session.flush()
    logger.info("community %s created", community.id)
    return community


def join_community(
    session: Session,
    *,
    user: User,
    community_id: int,
    company_id: int | None,
    role: str,
    group_ids: list[int],
) -> Membership:
    """Make a user a member; callers have checked the right to do so."""
    membership = Membership(
        user_id=user.id, community_id=community_id, company_id=company_id, role=role
    )
    session.add(membership)
    session.flush()
    session.add_all(
        GroupMember(group_id=group_id, membership_id=membership.id)
        for group_id in group_ids
    )
    return membership


def get_community(session: Session, *, actor: Actor) -> Community:
    """The actor's community."""
    community = session.get(Community, actor.community_id)
    if community is None:
        raise NotFound
    return community


def _required_text(value: str, *, maximum: int) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput("error.name_required")
    if len(value) > maximum:
        raise InvalidInput("error.text_too_long", maximum=maximum)
    return value


def list_companies(session: Session, *, actor: Actor) -> list[Company]:
    """The community's companies by name; every member may read the directory."""
    actor.require(Permission.READ)
    return list(
        session.exec(
            select(Company)
            .where(Company.community_id == actor.community_id)
            .order_by(Company.name)
        )
    )


def create_company(
    session: Session,
    *,
    actor: Actor,
    name: str,
    street_address: str = "",
    postal_code: str = "",
    city: str = "",
    phone: str = "",
    email: str = "",
    website: str = "",
) -> Company:
    """Add a company to the community's directory."""
    require_admin(actor)
    name = _required_text(name, maximum=160)
    duplicate = session.exec(
        select(Company.id).where(
            Company.community_id == actor.community_id, Company.name == name
        )
    ).first()
    if duplicate is not None:
        raise InvalidInput("error.company_exists")

    company = Company(
        community_id=actor.community_id,
        name=name,
        street_address=street_address.strip()[:200],
        postal_code=postal_code.strip()[:12],
        city=city.strip()[:120],
        phone=phone.strip()[:40],
        email=email.strip()[:254],
        website=website.strip()[:200],
    )
    session.add(company)
    session.flush()
    audit.record(
        session,
        action="company_created",
        actor_id=actor.user_id,
        community_id=actor.community_id,
        subject=f"company:{company.id}",
    )
    return company


def list_groups(session: Session, *, actor: Actor) -> list[Group]:
    """The community's groups by name."""
    actor.require(Permission.READ)
    return list(
        session.exec(
            select(Group)
            .where(Group.community_id == actor.community_id)
            .order_by(Group.kind, Group.name)
        )
    )


def create_group(session: Session, *, actor: Actor, name: str, kind: str) -> Group:
    """Add a street, building or working group to the community."""
    require_admin(actor)
    name = _required_text(name, maximum=120)
    if kind not in GroupKind.__members__.values():
        raise InvalidInput("error.group_kind_unknown")
    duplicate = session.exec(
        select(Group.id).where(
            Group.community_id == actor.community_id, Group.name == name
        )
    ).first()
    if duplicate is not None:
        raise InvalidInput("error.group_exists")

    group = Group(community_id=actor.community_id, name=name, kind=kind)
    session.add(group)
    session.flush()
    audit.record(
        session,
        action="group_created",
        actor_id=actor.user_id,
        community_id=actor.community_id,
        subject=f"group:{group.id}",
    )
    return group


def list_members(session: Session, *, actor: Actor) -> list[MemberRow]:
    """Every member of the community with company, role and groups."""
    require_admin(actor)
    rows = session.exec(
        select(Membership, User, Company)
        .join(User, User.id == Membership.user_id)
        .join(Company, Company.id == Membership.company_id, isouter=True)
        .where(Membership.community_id == actor.community_id)
        .order_by(User.name)
    ).all()
    groups = _group_names_by_membership(session, [m.id for m, _, _ in rows])
    return [
        MemberRow(
            membership_id=membership.id,
            user_id=user.id,
            name=user.name,
            email=user.email,
            company_name=company.name if company else "",
            role=membership.role,
            group_names=tuple(groups.get(membership.id, ())),
        )
        for membership, user, company in rows
    ]


def _group_names_by_membership(
    session: Session, membership_ids: list[int]
) -> dict[int, list[str]]:
    if not membership_ids:
        return {}
    names: dict[int, list[str]] = {}
    for membership_id, name in session.exec(
        select(GroupMember.membership_id, Group.name)
        .join(Group, Group.id == GroupMember.group_id)
        .where(col(GroupMember.membership_id).in_(membership_ids))
        .order_by(Group.name)
    ):
        names.setdefault(membership_id, []).append(name)
    return names


def _membership_in_community(
    session: Session, actor: Actor, membership_id: int
) -> Membership:
    membership = session.get(Membership, membership_id)
    if membership is None or membership.community_id != actor.community_id:
        raise NotFound
    return membership


def change_role(
    session: Session, *, actor: Actor, membership_id: int, role: str
) -> Membership:
    """Give a member another role; an admin cannot demote themself."""
    require_admin(actor)
    if role not in Role.__members__.values():
        raise InvalidInput("error.role_unknown")
    membership = _membership_in_community(session, actor, membership_id)
    if membership.id == actor.membership_id:
        raise InvalidInput("error.cannot_change_self")

    membership.role = role
    session.add(membership)
    audit.record(
        session,
        action="role_changed",
        actor_id=actor.user_id,
        community_id=actor.community_id,
        subject=f"membership:{membership.id}",
        detail=f"role={role}",
    )
    return membership


def remove_member(session: Session, *, actor: Actor, membership_id: int) -> None:
    """Take a member out of the community; their account stays for others."""
    require_admin(actor)
    membership = _membership_in_community(session, actor, membership_id)
    if membership.id == actor.membership_id:
        raise InvalidInput("error.cannot_change_self")

    session.delete(membership)
    audit.record(
        session,
        action="member_removed",
        actor_id=actor.user_id,
        community_id=actor.community_id,
        subject=f"membership:{membership_id}",
    )
    logger.info(
        "(community=%s) membership %s removed by user %s",
        actor.community_id,
        membership_id,
        actor.user_id,
    )
