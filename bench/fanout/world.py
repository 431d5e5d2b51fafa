"""A community of N members, written straight into the database.

Hashing N passwords with argon2 would take minutes and the benchmark never logs
in with a password: it needs members, memberships and live sessions, whose
cookie tokens it keeps. Rows go in with bulk inserts; the session tokens are
stored as the app stores them (keyed hash), so the app authenticates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from bench.crowd import add_members
from chainels_app.api.auth import SESSION_COOKIE
from chainels_app.models import (
    AuthSession,
    Community,
    Group,
    GroupKind,
    Post,
    PostKind,
    Role,
    utcnow,
)
from chainels_app.services.tokens import new_token, token_hash

HISTORY_BODY = "<p>" + "Een eerder bericht uit de wijk. " * 12 + "</p>"


@dataclass(frozen=True)
class World:
    """The cookies of the poster (an admin) and of every reading member."""

    poster_cookie: str
    member_cookies: list[str]


def _session_rows(user_ids: list[int]) -> tuple[list[dict], list[str]]:
    now = utcnow()
    tokens = [new_token() for _ in user_ids]
    rows = [
        {
            "token_hash": token_hash(token),
            "user_id": user_id,
            "idle_minutes": 12 * 60,
            "created_at": now,
            "last_seen_at": now,
            "expires_at": now + timedelta(hours=12),
        }
        for user_id, token in zip(user_ids, tokens, strict=True)
    ]
    return rows, tokens


def _history(community_id: int, poster_id: int, count: int) -> list[Post]:
    return [
        Post(
            community_id=community_id,
            author_id=poster_id,
            author_role=Role.ADMIN,
            kind=PostKind.ANNOUNCEMENT,
            title=f"Eerder bericht {number}",
            body=HISTORY_BODY,
            body_html=HISTORY_BODY,
        )
        for number in range(count)
    ]


def seed(engine: Engine, members: int, history: int) -> World:
    """One community: an admin poster, ``members`` readers, ``history`` posts.

    The posts fill each reader's first feed page, so a live delta (which carries
    the tab's whole card list) has the size it has in real use.
    """
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        community = Community(name="Bench", slug="bench")
        session.add(community)
        session.flush()
        session.add(
            Group(community_id=community.id, name="Plein", kind=GroupKind.STREET)
        )
        user_ids = add_members(
            session,
            community_id=community.id,
            count=members,
            address="member{n}@bench.test",
            first_role=Role.ADMIN,
        )
        rows, tokens = _session_rows(user_ids)
        session.execute(insert(AuthSession.__table__), rows)
        session.add_all(_history(community.id, user_ids[0], history))
        session.commit()
    cookies = [f"{SESSION_COOKIE}={token}" for token in tokens]
    return World(poster_cookie=cookies[0], member_cookies=cookies[1:])
