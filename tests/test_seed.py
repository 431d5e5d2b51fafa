"""The demo area: who is in it, and what each of them finds in the feed."""

from __future__ import annotations

from sqlmodel import func, select

from chainels_app.models import Company, Group, OutboxJob, User
from chainels_app.seed import DEMO_PASSWORD, POSTS, seed_demo_area
from chainels_app.services import auth, feed
from chainels_app.services.access import actor_in


def _feed_titles(session, email: str) -> list[str]:
    user = session.exec(select(User).where(User.email == email)).one()
    actor = actor_in(session, user=user, community_id=user.current_community_id)
    return [post.title for post in feed.feed_page(session, actor=actor)]


def test_the_demo_area_has_its_people_groups_and_first_posts(session):
    people = seed_demo_area(session)
    session.commit()

    assert len(people) == 12
    assert session.exec(select(func.count()).select_from(Company)).one() == 12
    groups = set(session.exec(select(Group.name)).all())
    assert groups == {"Hoofdstraat", "Marktstraat", "Kerkstraat", "Veiligheid"}
    auth.check_credentials(
        session, email="bakkerij@demo.example", password=DEMO_PASSWORD, address="t"
    )

    everyone = [title for _, title, _, group in reversed(POSTS) if group is None]
    safety = [title for _, title, _, group in POSTS if group == "Veiligheid"]
    assert _feed_titles(session, "bakkerij@demo.example") == everyone
    assert _feed_titles(session, "wijkagent@demo.example")[0] == safety[0]
    # Every post is mailed too, like any other post.
    assert session.exec(select(func.count()).select_from(OutboxJob)).one() == 3
