"""The audit log: who did what, when, in which community."""

from __future__ import annotations

import logging

from sqlmodel import Session, col, select

from chainels_app.models import AuditEvent
from chainels_app.services.access import Actor, require_admin

logger = logging.getLogger(__name__)


def record(
    session: Session,
    *,
    action: str,
    actor_id: int | None,
    community_id: int | None = None,
    subject: str = "",
    detail: str = "",
) -> AuditEvent:
    """Add an audit event to the current transaction."""
    event = AuditEvent(
        community_id=community_id,
        actor_id=actor_id,
        action=action,
        subject=subject[:120],
        detail=detail[:1000],
    )
    session.add(event)
    return event


def recent_events(
    session: Session, *, actor: Actor, limit: int = 50
) -> list[AuditEvent]:
    """The community's newest audit events, for its administrators."""
    require_admin(actor)
    return list(
        session.exec(
            select(AuditEvent)
            .where(AuditEvent.community_id == actor.community_id)
            .order_by(col(AuditEvent.id).desc())
            .limit(limit)
        )
    )
