"""Invitations: the only way into a community.

An admin invites an address for a company, a role and groups. The link carries a
random token whose keyed hash is all the database keeps; it expires, works once,
and can be revoked or sent again (which replaces the token).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from chainels_app import routes
from chainels_app.models import (
    Company,
    Group,
    Invite,
    MailKind,
    Membership,
    Role,
    User,
    utcnow,
)
from chainels_app.services import audit, outbox
from chainels_app.services.access import Actor, require_admin
from chainels_app.services.auth import (
    check_password_rules,
    hash_password,
    normalize_email,
    user_by_email,
)
from chainels_app.services.directory import join_community
from chainels_app.services.errors import InvalidInput, NotFound
from chainels_app.services.tokens import new_token, token_hash, use_once
from chainels_app.settings import get_settings

logger = logging.getLogger(__name__)

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


class InviteStatus:
    """The states an invitation can be in."""

    PENDING = "pending"
    USED = "used"
    REVOKED = "revoked"
    EXPIRED = "expired"


def status_of(invite: Invite, now: datetime | None = None) -> str:
    """Where an invitation stands."""
    if invite.used_at is not None:
        return InviteStatus.USED
    if invite.revoked_at is not None:
        return InviteStatus.REVOKED
    if invite.expires_at <= (now or utcnow()):
        return InviteStatus.EXPIRED
    return InviteStatus.PENDING


@dataclass(frozen=True)
class InviteDetails:
    """What the invitee sees before accepting."""

    email: str
    community_name: str
    company_name: str
    role: str
    has_account: bool


def check_email(email: str) -> str:
    """The normalized address, or a clear refusal."""
    normalized = normalize_email(email)
    if len(normalized) > 254 or not _EMAIL.match(normalized):
        raise InvalidInput("error.email_invalid")
    return normalized


def _check_targets(
    session: Session, actor: Actor, company_id: int | None, group_ids: list[int]
) -> None:
    if company_id is not None:
        company = session.get(Company, company_id)
        if company is None or company.community_id != actor.community_id:
            raise InvalidInput("error.company_unknown")
    if group_ids:
        found = session.exec(
            select(Group.id).where(
                col(Group.id).in_(group_ids), Group.community_id == actor.community_id
            )
        ).all()
        if len(set(found)) != len(set(group_ids)):
            raise InvalidInput("error.group_unknown")


def _is_member(session: Session, email: str, community_id: int) -> bool:
    return (
        session.exec(
            select(Membership.id)
            .join(User, User.id == Membership.user_id)
            .where(User.email == email, Membership.community_id == community_id)
        ).first()
        is not None
    )


def _send(session: Session, invite: Invite, token: str, community_name: str) -> None:
    settings = get_settings()
    invite.sent_at = utcnow()
    invite.expires_at = invite.sent_at + timedelta(days=settings.invite_ttl_days)
    invite.token_hash = token_hash(token)
    session.add(invite)
    existing = user_by_email(session, invite.email)
    outbox.queue_message(
        session,
        kind=MailKind.INVITE,
        to=invite.email,
        locale=existing.locale if existing else "nl",
        params={
            "community": community_name,
            "link": settings.public_base_url + routes.invite_link(token),
            "days": str(settings.invite_ttl_days),
        },
    )


def _community_name(session: Session, community_id: int) -> str:
    from chainels_app.models import Community

    community = session.get(Community, community_id)
    return community.name if community else ""


def create_invite(
    session: Session,
    *,
    actor: Actor,
    email: str,
    role: str,
    company_id: int | None,
    group_ids: list[int],
) -> Invite:
    """Invite an address into the actor's community and mail the link."""
    require_admin(actor)
    address = check_email(email)
    if role not in Role.__members__.values():
        raise InvalidInput("error.role_unknown")
    _check_targets(session, actor, company_id, group_ids)
    if _is_member(session, address, actor.community_id):
        raise InvalidInput("error.already_member")

    _revoke_open_invites(session, address, actor.community_id)

    invite = Invite(
        token_hash="",
        email=address,
        community_id=actor.community_id,
        company_id=company_id,
        role=role,
        group_ids=",".join(str(group_id) for group_id in sorted(set(group_ids))),
        invited_by_id=actor.user_id,
        expires_at=utcnow(),
        sent_at=utcnow(),
    )
    _send(session, invite, new_token(), _community_name(session, actor.community_id))
    session.flush()
    audit.record(
        session,
        action="invite_created",
        actor_id=actor.user_id,
        community_id=actor.community_id,
        subject=f"invite:{invite.id}",
        detail=f"role={role}",
    )
    logger.info(
        "(community=%s) invite %s created by user %s",
        actor.community_id,
        invite.id,
        actor.user_id,
    )
    return invite


def _revoke_open_invites(
    session: Session, address: str, community_id: int, *, keep: int | None = None
) -> None:
    # One open invitation per address and community: the newest replaces others.
    for old in session.exec(
        select(Invite).where(
            Invite.email == address,
            Invite.community_id == community_id,
            col(Invite.used_at).is_(None),
            col(Invite.revoked_at).is_(None),
        )
    ):
        if old.id != keep:
            old.revoked_at = utcnow()
            session.add(old)


def _invite_of(session: Session, actor: Actor, invite_id: int) -> Invite:
    require_admin(actor)
    invite = session.get(Invite, invite_id)
    if invite is None or invite.community_id != actor.community_id:
        raise NotFound
    return invite


def revoke_invite(session: Session, *, actor: Actor, invite_id: int) -> Invite:
    """Withdraw an invitation that has not been used."""
    invite = _invite_of(session, actor, invite_id)
    if invite.used_at is not None:
        raise InvalidInput("error.invite_used")
    invite.revoked_at = invite.revoked_at or utcnow()
    session.add(invite)
    audit.record(
        session,
        action="invite_revoked",
        actor_id=actor.user_id,
        community_id=actor.community_id,
        subject=f"invite:{invite.id}",
    )
    return invite


def resend_invite(session: Session, *, actor: Actor, invite_id: int) -> Invite:
    """Send a fresh link; the previous link stops working."""
    invite = _invite_of(session, actor, invite_id)
    if invite.used_at is not None:
        raise InvalidInput("error.invite_used")
    if _is_member(session, invite.email, actor.community_id):
        raise InvalidInput("error.already_member")
    _revoke_open_invites(session, invite.email, actor.community_id, keep=invite.id)
    invite.revoked_at = None
    _send(session, invite, new_token(), _community_name(session, actor.community_id))
    audit.record(
        session,
        action="invite_resent",
        actor_id=actor.user_id,
        community_id=actor.community_id,
        subject=f"invite:{invite.id}",
    )
    return invite


def list_invites(session: Session, *, actor: Actor, limit: int = 200) -> list[Invite]:
    """The community's invitations, newest first."""
    require_admin(actor)
    return list(
        session.exec(
            select(Invite)
            .where(Invite.community_id == actor.community_id)
            .order_by(col(Invite.id).desc())
            .limit(limit)
        )
    )


def _usable_invite(session: Session, token: str) -> Invite:
    invite = session.exec(
        select(Invite).where(Invite.token_hash == token_hash(token))
    ).first()
    if invite is None:
        raise InvalidInput("error.invite_unknown")
    status = status_of(invite)
    if status != InviteStatus.PENDING:
        raise InvalidInput(f"error.invite_{status}")
    return invite


def open_invite(session: Session, *, token: str) -> InviteDetails:
    """What the invitation behind a link offers; refuses unusable links."""
    invite = _usable_invite(session, token)
    company = session.get(Company, invite.company_id) if invite.company_id else None
    return InviteDetails(
        email=invite.email,
        community_name=_community_name(session, invite.community_id),
        company_name=company.name if company else "",
        role=invite.role,
        has_account=user_by_email(session, invite.email) is not None,
    )


def _use_up(session: Session, invite: Invite) -> None:
    # Before the account is written: of two acceptances at once, the second
    # waits on this row and is then refused, instead of failing on the e-mail.
    use_once(session, Invite, invite.id, "error.invite_used")


def _account_for(session: Session, invite: Invite, name: str, password: str) -> User:
    """The account that accepts, once the invitation is used up for it."""
    from chainels_app.services.auth import _password_matches

    user = user_by_email(session, invite.email)
    if user is not None:
        # An existing account joins by proving it knows its own password.
        if not _password_matches(user.password_hash, password):
            raise InvalidInput("error.invite_wrong_password")
        _use_up(session, invite)
        return user

    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidInput("error.name_required")
    check_password_rules(password)
    _use_up(session, invite)
    user = User(
        email=invite.email,
        name=name,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    return user


def accept_invite(session: Session, *, token: str, name: str, password: str) -> User:
    """Create the account (or add the community to it) and use up the invitation."""
    invite = _usable_invite(session, token)
    user = _account_for(session, invite, name, password)

    join_community(
        session,
        user=user,
        community_id=invite.community_id,
        company_id=invite.company_id,
        role=invite.role,
        group_ids=[int(g) for g in filter(None, invite.group_ids.split(","))],
    )

    user.current_community_id = invite.community_id
    session.add(user)
    audit.record(
        session,
        action="invite_accepted",
        actor_id=user.id,
        community_id=invite.community_id,
        subject=f"invite:{invite.id}",
    )
    logger.info(
        "(community=%s) invite %s accepted by user %s",
        invite.community_id,
        invite.id,
        user.id,
    )
    return user
