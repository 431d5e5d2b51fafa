"""Who may see a post, and whom a member may address.

A member sees a post when it is for everyone, when they are in one of its
groups, when they wrote it, or when they administer the community. Every read of
posts goes through :func:`visibility`, so no other path can show more.
"""

from __future__ import annotations

from sqlalchemy import and_, exists, or_, true
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col, select

from chainels_app.models import Group, GroupMember, Membership, Post, PostGroup, Role
from chainels_app.services.access import ROLE_PERMISSIONS, Actor, Permission
from chainels_app.services.errors import NotFound

# Roles that may address any group, not only the groups they are in.
_ADDRESS_ANY_GROUP = (Role.ADMIN, Role.POLICE, Role.SECURITY)
_SEE_EVERY_POST = [
    role for role, can in ROLE_PERMISSIONS.items() if Permission.ADMINISTER in can
]


def _in_groups_of(membership_id) -> ColumnElement[bool]:
    return exists(
        select(PostGroup.post_id)
        .join(GroupMember, GroupMember.group_id == PostGroup.group_id)
        .where(
            PostGroup.post_id == Post.id,
            GroupMember.membership_id == membership_id,
        )
    )


def visibility(actor: Actor) -> ColumnElement[bool]:
    """The SQL condition for posts the actor may see."""
    actor.require(Permission.READ)
    if actor.is_admin:
        audience: ColumnElement[bool] = true()
    else:
        audience = or_(
            col(Post.to_everyone).is_(True),
            Post.author_id == actor.user_id,
            _in_groups_of(actor.membership_id),
        )
    return and_(
        Post.community_id == actor.community_id,
        col(Post.deleted_at).is_(None),
        audience,
    )


def readable_by_membership() -> ColumnElement[bool]:
    """The SQL condition that the joined ``Membership`` may see the joined ``Post``.

    The rule of :func:`visibility`, for many members at once (whom to mail).
    """
    return and_(
        Membership.community_id == Post.community_id,
        col(Post.deleted_at).is_(None),
        or_(
            col(Post.to_everyone).is_(True),
            Post.author_id == Membership.user_id,
            col(Membership.role).in_(_SEE_EVERY_POST),
            _in_groups_of(Membership.id),
        ),
    )


def visible_post(session: Session, *, actor: Actor, post_id: int) -> Post:
    """The post, if the actor may see it; NotFound otherwise."""
    post = session.exec(
        select(Post).where(Post.id == post_id, visibility(actor))
    ).first()
    if post is None:
        raise NotFound
    return post


def addressable_groups(session: Session, *, actor: Actor) -> list[Group]:
    """The groups the actor may address a post to."""
    actor.require(Permission.READ)
    query = select(Group).where(Group.community_id == actor.community_id)
    if actor.role not in _ADDRESS_ANY_GROUP:
        query = query.join(GroupMember, GroupMember.group_id == Group.id).where(
            GroupMember.membership_id == actor.membership_id
        )
    return list(session.exec(query.order_by(Group.name)))
