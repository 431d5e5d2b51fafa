"""Posts: recipients, visibility, paging, editing, removal, comments, votes."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from chainels_app.models import AuditEvent, PostKind
from chainels_app.services import feed, live, posts, reactions
from chainels_app.services.errors import InvalidInput, NotFound, PermissionDenied
from tests.factories import make_area


def _post(session, area, persona="officer", groups=(), title="Nepbiljetten", **kw):
    post = posts.create_post(
        session,
        actor=area.actor(session, persona),
        kind=kw.pop("kind", PostKind.ANNOUNCEMENT),
        title=title,
        body=kw.pop("body", "Let op **briefjes** van 50 euro."),
        group_ids=[area.groups[name].id for name in groups],
        **kw,
    )
    session.commit()
    return post


def _titles(session, area, persona, **kw):
    page = feed.feed_page(session, actor=area.actor(session, persona), **kw)
    return [summary.title for summary in page]


def test_a_post_to_everyone_reaches_every_member(session):
    area = make_area(session)
    _post(session, area)
    for persona in ("admin", "officer", "guard", "shop_owner"):
        assert _titles(session, area, persona) == ["Nepbiljetten"]


def test_a_group_post_reaches_only_that_group(session):
    area = make_area(session)
    post = _post(session, area, groups=("Veiligheid",), title="Alleen veiligheid")

    assert _titles(session, area, "guard") == ["Alleen veiligheid"]
    assert _titles(session, area, "admin") == ["Alleen veiligheid"]
    assert _titles(session, area, "shop_owner") == []
    owner = area.actor(session, "shop_owner")
    with pytest.raises(NotFound):
        feed.post_summary(session, actor=owner, post_id=post.id)
    with pytest.raises(NotFound):
        reactions.add_comment(session, actor=owner, post_id=post.id, body="hoi")
    with pytest.raises(NotFound):
        reactions.set_vote(session, actor=owner, post_id=post.id, voted=True)


def test_another_community_sees_nothing(session):
    area = make_area(session)
    other = make_area(session, "Winkelcentrum Noord")
    post = _post(session, area)
    assert _titles(session, other, "admin") == []
    with pytest.raises(NotFound):
        feed.post_summary(session, actor=other.actor(session, "admin"), post_id=post.id)


def test_author_company_role_and_safe_html_are_shown(session):
    area = make_area(session)
    _post(session, area, body="Zie https://politie.nl <script>x()</script>")
    (summary,) = feed.feed_page(session, actor=area.actor(session, "shop_owner"))
    assert summary.author_name == "Officer"
    assert summary.company_name == "Politie Centrum"
    assert summary.author_role == "police"
    assert '<a href="https://politie.nl"' in summary.body_html
    assert "<script>" not in summary.body_html


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"title": "   "}, "post_title_required"),
        ({"title": "x" * 201}, "text_too_long"),
        ({"body": "x" * 10_001}, "text_too_long"),
        ({"kind": "poem"}, "post_kind_unknown"),
        ({"kind": PostKind.WARNING}, "post_kind_unknown"),
    ],
)
def test_bad_posts_are_refused(session, kwargs, key):
    area = make_area(session)
    with pytest.raises(InvalidInput, match=key):
        _post(session, area, **kwargs)


def test_members_address_only_their_own_groups(session):
    area = make_area(session)
    with pytest.raises(InvalidInput, match="recipients_not_allowed"):
        _post(session, area, persona="shop_owner", groups=("Veiligheid",))
    session.rollback()
    _post(session, area, persona="shop_owner", groups=("Hoofdstraat",))
    _post(session, area, persona="officer", groups=("Hoofdstraat",))
    assert len(_titles(session, area, "shop_owner")) == 2


def test_another_communitys_group_is_refused(session):
    area = make_area(session)
    other = make_area(session, "Winkelcentrum Noord")
    with pytest.raises(InvalidInput, match="recipients_not_allowed"):
        posts.create_post(
            session,
            actor=area.actor(session, "admin"),
            kind=PostKind.ANNOUNCEMENT,
            title="x",
            body="",
            group_ids=[other.groups["Veiligheid"].id],
        )


def test_feed_pages_newest_first_and_filters(session):
    area = make_area(session)
    for number in range(25):
        _post(session, area, title=f"Bericht {number}")
    _post(session, area, groups=("Veiligheid",), title="Groep")

    first = feed.feed_page(session, actor=area.actor(session, "guard"))
    assert [s.title for s in first[:2]] == ["Groep", "Bericht 24"]
    assert len(first) == feed.PAGE_SIZE
    more = feed.feed_page(
        session, actor=area.actor(session, "guard"), before_id=first[-1].id
    )
    assert [s.title for s in more][-1] == "Bericht 0"
    assert len(first) + len(more) == 26

    group = area.groups["Veiligheid"].id
    assert _titles(session, area, "guard", group_id=group) == ["Groep"]
    assert _titles(session, area, "guard", kind=PostKind.EVENT) == []
    newer = feed.feed_page(
        session, actor=area.actor(session, "guard"), after_id=first[1].id
    )
    assert [s.title for s in newer] == ["Groep"]


def test_authors_edit_and_delete_only_their_own(session):
    area = make_area(session)
    post = _post(session, area)
    owner = area.actor(session, "shop_owner")
    officer = area.actor(session, "officer")
    with pytest.raises(PermissionDenied):
        posts.edit_post(session, actor=owner, post_id=post.id, title="x", body="")
    with pytest.raises(PermissionDenied):
        posts.delete_post(session, actor=owner, post_id=post.id)

    posts.edit_post(session, actor=officer, post_id=post.id, title="Nieuw", body="")
    assert _titles(session, area, "shop_owner") == ["Nieuw"]
    posts.delete_post(session, actor=officer, post_id=post.id)
    assert _titles(session, area, "shop_owner") == []


def test_admin_removes_any_post_with_a_logged_reason(session):
    area = make_area(session)
    post = _post(session, area)
    admin = area.actor(session, "admin")
    with pytest.raises(PermissionDenied):
        posts.remove_post(
            session, actor=area.actor(session, "guard"), post_id=post.id, reason="x"
        )
    with pytest.raises(InvalidInput, match="reason_required"):
        posts.remove_post(session, actor=admin, post_id=post.id, reason=" ")

    posts.remove_post(session, actor=admin, post_id=post.id, reason="Privacy")
    session.commit()
    assert _titles(session, area, "shop_owner") == []
    logged = session.exec(
        select(AuditEvent).where(AuditEvent.action == "post_removed")
    ).one()
    assert logged.detail == "Privacy"
    assert logged.subject == f"post:{post.id}"


def test_comments_and_votes_are_counted(session):
    area = make_area(session)
    post = _post(session, area)
    owner = area.actor(session, "shop_owner")
    reactions.add_comment(session, actor=owner, post_id=post.id, body="Ook gezien!")
    with pytest.raises(InvalidInput, match="comment_empty"):
        reactions.add_comment(session, actor=owner, post_id=post.id, body="  ")

    assert reactions.set_vote(session, actor=owner, post_id=post.id, voted=True) == 1
    assert reactions.set_vote(session, actor=owner, post_id=post.id, voted=True) == 1
    guard = area.actor(session, "guard")
    assert reactions.set_vote(session, actor=guard, post_id=post.id, voted=True) == 2
    assert reactions.set_vote(session, actor=owner, post_id=post.id, voted=False) == 1
    session.commit()

    summary = feed.post_summary(session, actor=guard, post_id=post.id)
    assert (summary.comment_count, summary.vote_count, summary.voted) == (1, 1, True)
    (comment,) = reactions.comments_of(session, actor=guard, post_id=post.id)
    assert (comment.author_name, comment.company_name) == (
        "Shop Owner",
        "Bakkerij De Korf",
    )


async def test_events_are_published_after_commit_only(session):
    area = make_area(session)
    broker = live.get_broker()
    async with broker.listen(area.community.id) as queue:
        posts.create_post(
            session,
            actor=area.actor(session, "officer"),
            kind=PostKind.ANNOUNCEMENT,
            title="Teruggedraaid",
            body="",
            group_ids=[],
        )
        session.rollback()
        _post(session, area, groups=("Veiligheid",), title="Verstuurd")
        received = await asyncio.wait_for(queue.get(), timeout=5)

    assert queue.empty()
    assert received.kind == live.POST_CREATED
    assert received.data["title"] == "Verstuurd"
    assert received.group_ids == (area.groups["Veiligheid"].id,)
    guard_groups = {area.groups["Veiligheid"].id}
    assert received.reaches(user_id=0, group_ids=guard_groups, is_admin=False)
    assert not received.reaches(user_id=0, group_ids=set(), is_admin=False)
    assert received.reaches(user_id=0, group_ids=set(), is_admin=True)
