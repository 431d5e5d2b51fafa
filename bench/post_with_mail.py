"""Publishing with mail on costs at most 1.2x publishing with mail off.

A community of 20,000 members on a throw-away SQLite database. The same posts
are published twice, alternating: once as the app does (the post writes its
outbox job in its own transaction) and once with the outbox step left out, the
baseline measured in the same run. Prints medians and their ratio.

    python bench/post_with_mail.py [--members 20000] [--posts 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup(members: int):
    from sqlmodel import Session, SQLModel

    from bench.crowd import add_members
    from chainels_app import db
    from chainels_app.models import Community, Role, User
    from chainels_app.services.access import actor_in

    engine = db.get_engine()
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        community = Community(name="Bench", slug="bench")
        session.add(community)
        session.flush()
        ids = add_members(
            session,
            community_id=community.id,
            count=members,
            address="lid{n}@bench.test",
            first_role=Role.POLICE,
        )
        session.commit()
        officer = session.get(User, ids[0])
        return actor_in(session, user=officer, community_id=community.id)


def _publish_once(actor, number: int) -> float:
    from chainels_app.db import session_scope
    from chainels_app.models import PostKind
    from chainels_app.services import posts

    started = time.perf_counter()
    with session_scope() as session:
        posts.create_post(
            session,
            actor=actor,
            kind=PostKind.ANNOUNCEMENT,
            title=f"Bericht {number}",
            body="Let op **briefjes** van 50 euro.",
            group_ids=[],
        )
    return time.perf_counter() - started


def main() -> int:
    """Measure and print; exits 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--posts", type=int, default=40)
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="bench-mail-")
    os.environ["DATA_DIR"] = folder
    os.environ.pop("DATABASE_URL", None)
    from chainels_app.services import outbox

    actor = _setup(args.members)
    queue_post = outbox.queue_post
    with_mail, without_mail = [], []
    for number in range(args.posts):
        outbox.queue_post = queue_post
        with_mail.append(_publish_once(actor, number))
        outbox.queue_post = lambda session, *, post: None
        without_mail.append(_publish_once(actor, number))
    outbox.queue_post = queue_post

    on, off = statistics.median(with_mail), statistics.median(without_mail)
    print(f"Publishing to {args.members:,} members, {args.posts} posts each way")  # noqa: T201
    print(f"  mail on  (outbox job)   median {on * 1000:7.2f} ms")  # noqa: T201
    print(f"  mail off (baseline)     median {off * 1000:7.2f} ms")  # noqa: T201
    verdict = "met" if on / off <= 1.2 else "MISSED"
    print(f"  ratio on/off = {on / off:.2f}x (goal <= 1.2x: {verdict})")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
