"""Who may see a community, who may post what, and who may administer.

Every other service starts by turning the logged-in user into an :class:`Actor`
for the community being acted in, then asks this module before it reads or
writes. A community the user does not belong to answers "not found", so its
existence is not revealed either.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session, select

from chainels_app.models import Community, GroupMember, Membership, Role, User
from chainels_app.services.errors import NotFound, PermissionDenied


class Permission(StrEnum):
    """The things a role may do in its community."""

    READ = "read"
    POST_ANNOUNCEMENT = "post_announcement"
    POST_SURVEY = "post_survey"
    POST_EVENT = "post_event"
    POST_WARNING = "post_warning"
    RAISE_ALARM = "raise_alarm"
    VIEW_BANS = "view_bans"
    ADMINISTER = "administer"


_EVERY_MEMBER = {
    Permission.READ,
    Permission.POST_ANNOUNCEMENT,
    Permission.POST_SURVEY,
    Permission.POST_EVENT,
    Permission.RAISE_ALARM,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.POLICE: frozenset(
        _EVERY_MEMBER | {Permission.POST_WARNING, Permission.VIEW_BANS}
    ),
    Role.SECURITY: frozenset(
        _EVERY_MEMBER | {Permission.POST_WARNING, Permission.VIEW_BANS}
    ),
    Role.MUNICIPALITY: frozenset(_EVERY_MEMBER),
    Role.MARKETING: frozenset(_EVERY_MEMBER),
    Role.ENTREPRENEUR: frozenset(_EVERY_MEMBER | {Permission.VIEW_BANS}),
}


@dataclass(frozen=True)
class Actor:
    """A user acting in one community, with the role and company there."""

    user_id: int
    community_id: int
    membership_id: int
    company_id: int | None
    role: Role

    def can(self, permission: Permission) -> bool:
        """Whether this actor's role carries the permission."""
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        """Raise unless this actor's role carries the permission."""
        if not self.can(permission):
            raise PermissionDenied

    @property
    def is_admin(self) -> bool:
        """Whether this actor administers the community."""
        return self.can(Permission.ADMINISTER)


def membership_of(session: Session, *, user_id: int, community_id: int) -> Membership:
    """The user's membership of a community, or NotFound."""
    membership = session.exec(
        select(Membership).where(
            Membership.user_id == user_id, Membership.community_id == community_id
        )
    ).first()
    if membership is None:
        raise NotFound
    return membership


def actor_in(session: Session, *, user: User, community_id: int) -> Actor:
    """The user as an actor in the given community; NotFound if not a member."""
    if not user.is_active:
        raise PermissionDenied
    membership = membership_of(session, user_id=user.id, community_id=community_id)
    return Actor(
        user_id=user.id,
        community_id=community_id,
        membership_id=membership.id,
        company_id=membership.company_id,
        role=Role(membership.role),
    )


def current_actor(session: Session, *, user: User) -> Actor:
    """The user as an actor in the community they last chose.

    Falls back to their first community when the chosen one is gone or was never
    set, and remembers that choice.
    """
    if user.current_community_id is not None:
        try:
            return actor_in(session, user=user, community_id=user.current_community_id)
        except NotFound:
            pass
    first = session.exec(
        select(Membership.community_id)
        .where(Membership.user_id == user.id)
        .order_by(Membership.id)
    ).first()
    if first is None:
        raise NotFound("error.no_community")
    user.current_community_id = first
    session.add(user)
    return actor_in(session, user=user, community_id=first)


def require_admin(actor: Actor) -> None:
    """Raise unless the actor administers their community."""
    actor.require(Permission.ADMINISTER)


def communities_of(session: Session, *, user: User) -> list[Community]:
    """The communities the user belongs to, by name."""
    return list(
        session.exec(
            select(Community)
            .join(Membership, Membership.community_id == Community.id)
            .where(Membership.user_id == user.id)
            .order_by(Community.name)
        )
    )


def switch_community(session: Session, *, user: User, community_id: int) -> Actor:
    """Make another of the user's communities the current one."""
    actor = actor_in(session, user=user, community_id=community_id)
    user.current_community_id = community_id
    session.add(user)
    return actor


def group_ids_of(session: Session, *, actor: Actor) -> set[int]:
    """The groups the actor belongs to in their community."""
    return set(
        session.exec(
            select(GroupMember.group_id).where(
                GroupMember.membership_id == actor.membership_id
            )
        )
    )
