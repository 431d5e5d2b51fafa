"""The authorization matrix: communities are sealed, admin services are admins'.

Every public service function that takes an ``actor`` must appear in one of the
tables below; :func:`test_every_actor_service_is_in_the_matrix` fails otherwise,
so a new service cannot skip this matrix.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from sqlmodel import select

from chainels_app import services
from chainels_app.models import Attachment, Invite, Membership, Post, PostKind, Role
from chainels_app.services import (
    access,
    audience,
    audit,
    directory,
    feed,
    invites,
    media,
    posts,
    reactions,
)
from chainels_app.services.errors import InvalidInput, NotFound, PermissionDenied
from tests.factories import make_area


@pytest.fixture
def two_areas(session, mail_dir):
    """Area A and area B, each with its people and one open invitation."""
    area_a = make_area(session, "Binnenstad")
    area_b = make_area(session, "Winkelcentrum Noord")
    for area in (area_a, area_b):
        document = media.store_upload(
            session,
            actor=area.actor(session, "officer"),
            filename="a.pdf",
            data=b"%PDF-1.4\n",
        )
        posts.create_post(
            session,
            actor=area.actor(session, "officer"),
            kind=PostKind.ANNOUNCEMENT,
            title=f"Nieuws uit {area.community.name}",
            body="",
            group_ids=[],
            attachment_ids=[document.id],
        )
        invites.create_invite(
            session,
            actor=area.actor(session, "admin"),
            email=f"pending@{area.community.slug}.test",
            role=Role.ENTREPRENEUR,
            company_id=None,
            group_ids=[],
        )
    session.commit()
    return area_a, area_b


def _ids_of_b(session, area_b):
    invite = session.exec(
        select(Invite).where(Invite.community_id == area_b.community.id)
    ).one()
    membership = session.exec(
        select(Membership).where(
            Membership.community_id == area_b.community.id,
            Membership.user_id == area_b.people["shop_owner"].id,
        )
    ).one()
    post = session.exec(
        select(Post).where(Post.community_id == area_b.community.id)
    ).one()
    attachment = session.exec(
        select(Attachment).where(Attachment.community_id == area_b.community.id)
    ).one()
    return invite.id, membership.id, post.id, attachment.id


# Calls that act on one of B's things by id: an admin of A must get NotFound.
CROSS_COMMUNITY_BY_ID = {
    "invites.revoke_invite": lambda s, a, ids: invites.revoke_invite(
        s, actor=a, invite_id=ids[0]
    ),
    "invites.resend_invite": lambda s, a, ids: invites.resend_invite(
        s, actor=a, invite_id=ids[0]
    ),
    "directory.change_role": lambda s, a, ids: directory.change_role(
        s, actor=a, membership_id=ids[1], role=Role.ADMIN
    ),
    "directory.remove_member": lambda s, a, ids: directory.remove_member(
        s, actor=a, membership_id=ids[1]
    ),
    "audience.visible_post": lambda s, a, ids: audience.visible_post(
        s, actor=a, post_id=ids[2]
    ),
    "feed.post_summary": lambda s, a, ids: feed.post_summary(
        s, actor=a, post_id=ids[2]
    ),
    "posts.edit_post": lambda s, a, ids: posts.edit_post(
        s, actor=a, post_id=ids[2], title="x", body=""
    ),
    "posts.delete_post": lambda s, a, ids: posts.delete_post(
        s, actor=a, post_id=ids[2]
    ),
    "posts.remove_post": lambda s, a, ids: posts.remove_post(
        s, actor=a, post_id=ids[2], reason="x"
    ),
    "reactions.add_comment": lambda s, a, ids: reactions.add_comment(
        s, actor=a, post_id=ids[2], body="x"
    ),
    "reactions.comments_of": lambda s, a, ids: reactions.comments_of(
        s, actor=a, post_id=ids[2]
    ),
    "reactions.set_vote": lambda s, a, ids: reactions.set_vote(
        s, actor=a, post_id=ids[2], voted=True
    ),
    "media.open_attachment": lambda s, a, ids: media.open_attachment(
        s, actor=a, attachment_id=ids[3], variant="display"
    ),
}

# Writes that can only land in the actor's own community, whatever is sent.
OWN_COMMUNITY_WRITES = {
    "media.store_upload": lambda s, a: (
        media.store_upload(
            s, actor=a, filename="a.pdf", data=b"%PDF-1.4\n"
        ).community_id
    ),
}

# Writing into another community by naming its groups: refused as invalid input.
CROSS_COMMUNITY_WRITES = {
    "posts.create_post": lambda s, a, b: posts.create_post(
        s,
        actor=a,
        kind=PostKind.ANNOUNCEMENT,
        title="x",
        body="",
        group_ids=[b.groups["Veiligheid"].id],
    ),
}

# Functions that take an actor but build a query condition instead of reading.
NOT_DATA_ACCESS = {"audience.visibility"}

# Listings: what an admin of A gets must hold nothing of B.
LISTINGS = {
    "directory.list_companies": lambda s, a: [
        c.community_id for c in directory.list_companies(s, actor=a)
    ],
    "directory.list_groups": lambda s, a: [
        g.community_id for g in directory.list_groups(s, actor=a)
    ],
    "invites.list_invites": lambda s, a: [
        i.community_id for i in invites.list_invites(s, actor=a)
    ],
    "audit.recent_events": lambda s, a: [
        e.community_id for e in audit.recent_events(s, actor=a)
    ],
    "directory.get_community": lambda s, a: [directory.get_community(s, actor=a).id],
    "feed.feed_page": lambda s, a: [
        audience.visible_post(s, actor=a, post_id=p.id).community_id
        for p in feed.feed_page(s, actor=a)
    ],
    "audience.addressable_groups": lambda s, a: [
        g.community_id for g in audience.addressable_groups(s, actor=a)
    ],
}

# Admin services: a shop owner (or officer) must get PermissionDenied.
ADMIN_ONLY = {
    "directory.list_members": lambda s, a: directory.list_members(s, actor=a),
    "directory.create_company": lambda s, a: directory.create_company(
        s, actor=a, name="Nieuw"
    ),
    "directory.create_group": lambda s, a: directory.create_group(
        s, actor=a, name="Nieuw", kind="street"
    ),
    "directory.change_role": lambda s, a: directory.change_role(
        s, actor=a, membership_id=1, role=Role.ADMIN
    ),
    "directory.remove_member": lambda s, a: directory.remove_member(
        s, actor=a, membership_id=1
    ),
    "invites.create_invite": lambda s, a: invites.create_invite(
        s, actor=a, email="x@y.test", role="admin", company_id=None, group_ids=[]
    ),
    "invites.list_invites": lambda s, a: invites.list_invites(s, actor=a),
    "invites.revoke_invite": lambda s, a: invites.revoke_invite(
        s, actor=a, invite_id=1
    ),
    "invites.resend_invite": lambda s, a: invites.resend_invite(
        s, actor=a, invite_id=1
    ),
    "audit.recent_events": lambda s, a: audit.recent_events(s, actor=a),
    "posts.remove_post": lambda s, a: posts.remove_post(
        s, actor=a, post_id=1, reason="x"
    ),
}


@pytest.mark.parametrize("name", sorted(CROSS_COMMUNITY_BY_ID))
def test_admin_of_a_cannot_touch_b_by_id(session, two_areas, name):
    area_a, area_b = two_areas
    ids = _ids_of_b(session, area_b)
    with pytest.raises(NotFound):
        CROSS_COMMUNITY_BY_ID[name](session, area_a.actor(session, "admin"), ids)


@pytest.mark.parametrize("name", sorted(CROSS_COMMUNITY_WRITES))
def test_admin_of_a_cannot_write_into_b(session, two_areas, name):
    area_a, area_b = two_areas
    with pytest.raises(InvalidInput):
        CROSS_COMMUNITY_WRITES[name](session, area_a.actor(session, "admin"), area_b)


@pytest.mark.parametrize("name", sorted(OWN_COMMUNITY_WRITES))
def test_writes_land_in_the_actors_own_community(session, two_areas, name):
    area_a, _ = two_areas
    written = OWN_COMMUNITY_WRITES[name](session, area_a.actor(session, "shop_owner"))
    assert written == area_a.community.id


@pytest.mark.parametrize("name", sorted(LISTINGS))
def test_listings_of_a_hold_nothing_of_b(session, two_areas, name):
    area_a, _ = two_areas
    seen = LISTINGS[name](session, area_a.actor(session, "admin"))
    assert seen, "the listing should show A's own things"
    assert set(seen) == {area_a.community.id}


def test_members_of_a_do_not_list_members_of_b(session, two_areas):
    area_a, _ = two_areas
    rows = directory.list_members(session, actor=area_a.actor(session, "admin"))
    emails = {row.email for row in rows}
    assert emails == {user.email for user in area_a.people.values()}


@pytest.mark.parametrize("persona", ["shop_owner", "officer", "guard"])
@pytest.mark.parametrize("name", sorted(ADMIN_ONLY))
def test_non_admins_cannot_reach_admin_services(session, two_areas, persona, name):
    area_a, _ = two_areas
    with pytest.raises(PermissionDenied):
        ADMIN_ONLY[name](session, area_a.actor(session, persona))


def test_a_member_of_a_is_no_actor_in_b(session, two_areas):
    area_a, area_b = two_areas
    user = area_a.people["shop_owner"]
    with pytest.raises(NotFound):
        access.actor_in(session, user=user, community_id=area_b.community.id)
    with pytest.raises(NotFound):
        access.switch_community(session, user=user, community_id=area_b.community.id)
    assert [c.id for c in access.communities_of(session, user=user)] == [
        area_a.community.id
    ]


def test_current_actor_falls_back_when_the_chosen_community_is_gone(session, two_areas):
    area_a, area_b = two_areas
    user = area_a.people["shop_owner"]
    user.current_community_id = area_b.community.id
    session.add(user)
    assert access.current_actor(session, user=user).community_id == area_a.community.id


def test_every_actor_service_is_in_the_matrix():
    covered = (
        set(CROSS_COMMUNITY_BY_ID)
        | set(CROSS_COMMUNITY_WRITES)
        | set(OWN_COMMUNITY_WRITES)
        | set(LISTINGS)
        | set(ADMIN_ONLY)
        | NOT_DATA_ACCESS
    )
    missing = []
    for info in pkgutil.iter_modules(services.__path__):
        if info.name == "access":  # the checks themselves
            continue
        module = importlib.import_module(f"chainels_app.services.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ != module.__name__ or name.startswith("_"):
                continue
            qualified = f"{info.name}.{name}"
            takes_actor = "actor" in inspect.signature(fn).parameters
            if takes_actor and qualified not in covered:
                missing.append(qualified)
    assert missing == [], f"add these to the authorization matrix: {missing}"
