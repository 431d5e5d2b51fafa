"""Large communities inserted in bulk, for benchmarks and the mail tests.

Thousands of members are two ``INSERT`` statements here instead of thousands of
ORM objects. They share one password hash (``-`` matches no password), so
nobody logs in as them unless a caller hashes a real one.
"""

from __future__ import annotations

from sqlalchemy import insert
from sqlmodel import Session, select

from chainels_app.models import Membership, Role, User, utcnow


def add_members(
    session: Session,
    *,
    community_id: int,
    count: int,
    address: str,
    first_role: Role,
    english_every: int = 0,
    password_hash: str = "-",
) -> list[int]:
    """Add ``count`` entrepreneurs after one member with ``first_role``.

    Args:
        address: The e-mail address with ``{n}`` for the member's number,
            0 being the first member.
        english_every: Every n-th member reads English; 0 means nobody does.

    Returns:
        The new members' user ids, the first member's first.
    """
    now = utcnow()
    start = session.exec(select(User.id).order_by(User.id.desc())).first() or 0
    session.exec(
        insert(User),
        params=[
            {
                "email": address.format(n=n),
                "name": f"Lid {n}",
                "password_hash": password_hash,
                "locale": "en" if english_every and n % english_every == 0 else "nl",
                "is_active": True,
                "current_community_id": community_id,
                "password_changed_at": now,
                "created_at": now,
            }
            for n in range(count + 1)
        ],
    )
    ids = session.exec(select(User.id).where(User.id > start).order_by(User.id)).all()
    session.exec(
        insert(Membership),
        params=[
            {
                "user_id": user_id,
                "community_id": community_id,
                "role": first_role if n == 0 else Role.ENTREPRENEUR,
                "created_at": now,
            }
            for n, user_id in enumerate(ids)
        ],
    )
    return list(ids)
