"""The outbox: every recipient once, in their language, retried, unsubscribable."""

from __future__ import annotations

import email
import re
from datetime import timedelta
from email import policy

import pytest
from sqlmodel import func, select

from chainels_app.models import (
    MailMode,
    MailStatus,
    MailSuppression,
    OutboxJob,
    OutboxMail,
    PostKind,
    utcnow,
)
from chainels_app.services import outbox, posts, preferences
from chainels_app.services.errors import InvalidInput
from chainels_app.services.transport import ConsoleTransport, Outcome
from tests.conftest import deliver_mail
from tests.factories import make_area


def _post(session, area, persona="officer", groups=(), title="Nepbiljetten"):
    post = posts.create_post(
        session,
        actor=area.actor(session, persona),
        kind=PostKind.ANNOUNCEMENT,
        title=title,
        body="Let op **briefjes** van 50 euro.",
        group_ids=[area.groups[name].id for name in groups],
    )
    session.commit()
    return post


def _mails(mail_dir) -> dict[str, list[email.message.EmailMessage]]:
    received: dict[str, list] = {}
    for path in sorted(mail_dir.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        received.setdefault(str(message["To"]), []).append(message)
    return received


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_a_post_is_queued_with_it_and_mailed_by_the_worker(session, mail_dir):
    area = make_area(session)
    area.people["guard"].locale = "en"
    session.add(area.people["guard"])
    _post(session, area)

    assert session.exec(select(func.count()).select_from(OutboxJob)).one() == 1
    assert session.exec(select(func.count()).select_from(OutboxMail)).one() == 0
    assert list(mail_dir.glob("*.eml")) == []

    assert deliver_mail() == 3
    received = _mails(mail_dir)
    assert sorted(received) == sorted(
        area.people[p].email for p in ("admin", "guard", "shop_owner")
    )
    assert all(len(messages) == 1 for messages in received.values())
    dutch = received[area.people["shop_owner"].email][0]
    english = received[area.people["guard"].email][0]
    assert "Lees en reageer in de app" in _text(dutch)
    assert "Read and respond in the app" in _text(english)
    assert "Politie Centrum" in _text(dutch)
    assert "<strong>briefjes</strong>" in dutch.get_body(("html",)).get_content()
    assert dutch["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.search(r"<(\S+)>", dutch["List-Unsubscribe"]).group(1)
    assert url in _text(dutch)
    assert "{{" not in dutch.as_string()


def test_a_group_post_mails_only_the_group(session, mail_dir):
    area = make_area(session)
    _post(session, area, persona="admin", groups=("Veiligheid",))
    deliver_mail()
    assert sorted(_mails(mail_dir)) == sorted(
        area.people[p].email for p in ("guard", "officer")
    )


def test_a_rolled_back_post_mails_nobody(session, mail_dir):
    area = make_area(session)
    posts.create_post(
        session,
        actor=area.actor(session, "officer"),
        kind=PostKind.ANNOUNCEMENT,
        title="Toch niet",
        body="",
        group_ids=[],
    )
    session.rollback()
    assert deliver_mail() == 0
    assert session.exec(select(OutboxJob)).all() == []


def test_expanding_a_job_twice_adds_no_mail(session, mail_dir):
    area = make_area(session)
    _post(session, area)
    outbox.expand_due(session)
    session.commit()
    job = session.exec(select(OutboxJob)).one()
    job.expanded_at = None
    session.add(job)
    session.commit()
    outbox.expand_due(session)
    session.commit()
    assert session.exec(select(func.count()).select_from(OutboxMail)).one() == 3


def test_one_click_unsubscribe_takes_effect_for_the_next_post(session, mail_dir):
    area = make_area(session)
    owner = area.people["shop_owner"]
    _post(session, area, title="Eerste")
    deliver_mail()
    header = _mails(mail_dir)[owner.email][0]["List-Unsubscribe"]
    token = re.search(r"t=([^>&]+)", header).group(1)

    assert preferences.unsubscribe(session, token=token) == PostKind.ANNOUNCEMENT
    session.commit()
    for path in mail_dir.glob("*.eml"):
        path.unlink()
    _post(session, area, title="Tweede")
    deliver_mail()
    assert owner.email not in _mails(mail_dir)
    assert area.people["guard"].email in _mails(mail_dir)


def test_forged_unsubscribe_tokens_are_refused(session):
    area = make_area(session)
    owner = area.people["shop_owner"]
    token = preferences.unsubscribe_token(owner.id, "announcement")
    forged = token.replace(f"{owner.id}.", f"{area.people['admin'].id}.", 1)
    with pytest.raises(InvalidInput, match="unsubscribe_invalid"):
        preferences.unsubscribe(session, token=forged)
    with pytest.raises(InvalidInput, match="unsubscribe_invalid"):
        preferences.unsubscribe(session, token="garbage")


def test_alarms_cannot_be_turned_off(session):
    area = make_area(session)
    with pytest.raises(InvalidInput, match="mail_kind_fixed"):
        preferences.set_mode(
            session, user=area.people["guard"], kind="alarm", mode=MailMode.OFF
        )
    assert preferences.mode_for({"alarm": MailMode.OFF}, "alarm") == MailMode.INSTANT


def test_a_suppressed_address_gets_nothing(session, mail_dir):
    area = make_area(session)
    session.add(MailSuppression(email=area.people["guard"].email, reason="bounce"))
    session.commit()
    _post(session, area)
    deliver_mail()
    assert area.people["guard"].email not in _mails(mail_dir)
    assert len(_mails(mail_dir)) == 2


def test_an_address_suppressed_after_queueing_is_skipped(session, mail_dir):
    area = make_area(session)
    _post(session, area)
    outbox.expand_due(session)
    session.add(MailSuppression(email=area.people["guard"].email, reason="bounce"))
    session.commit()
    deliver_mail()
    assert area.people["guard"].email not in _mails(mail_dir)
    failed = session.exec(
        select(OutboxMail).where(OutboxMail.to_address == area.people["guard"].email)
    ).one()
    assert (failed.status, failed.last_error) == (MailStatus.FAILED, "suppressed")


def test_digest_members_get_one_mail_a_day(session, mail_dir):
    area = make_area(session)
    preferences.set_mode(
        session, user=area.people["guard"], kind="announcement", mode=MailMode.DIGEST
    )
    session.commit()
    _post(session, area, title="Ochtend")
    _post(session, area, title="Middag")
    deliver_mail()
    assert area.people["guard"].email not in _mails(mail_dir)

    assert outbox.queue_digests(session) == 1
    session.commit()
    deliver_mail()
    (digest,) = _mails(mail_dir)[area.people["guard"].email]
    assert "Ochtend" in _text(digest) and "Middag" in _text(digest)
    assert digest["List-Unsubscribe"]


def test_retries_back_off_and_give_up(session):
    area = make_area(session)
    _post(session, area)
    outbox.expand_due(session)
    session.commit()
    claimed = outbox.claim_due(session, limit=10)
    session.commit()
    first = claimed[0]

    outbox.record(
        session, outcomes=[Outcome(first.key, sent=False, retry_after=0, error="503")]
    )
    session.commit()
    row = session.exec(
        select(OutboxMail).where(OutboxMail.idempotency_key == first.key)
    ).one()
    assert row.status == MailStatus.PENDING
    assert row.next_attempt_at > utcnow() + timedelta(seconds=10)

    outbox.record(session, outcomes=[Outcome(claimed[1].key, sent=False, error="550")])
    row.attempts = outbox.MAX_ATTEMPTS
    session.add(row)
    outbox.record(session, outcomes=[Outcome(first.key, sent=False, retry_after=5)])
    session.commit()
    statuses = session.exec(
        select(OutboxMail.status).where(
            OutboxMail.idempotency_key.in_([first.key, claimed[1].key])
        )
    ).all()
    assert statuses == [MailStatus.FAILED, MailStatus.FAILED]


def test_a_refused_batch_comes_back_as_one_batch(session):
    area = make_area(session)
    _post(session, area)
    outbox.expand_due(session)
    claimed = outbox.claim_due(session, limit=10)
    session.commit()
    assert len(claimed) == 3

    outbox.record(
        session,
        outcomes=[
            Outcome(m.key, sent=False, retry_after=0, error="503") for m in claimed
        ],
    )
    session.commit()
    retries = session.exec(select(OutboxMail.next_attempt_at)).all()
    assert len(set(retries)) == 1, "one jittered delay for the whole batch"


def test_a_crashed_round_is_sent_once_after_its_lease(session, mail_dir):
    area = make_area(session)
    _post(session, area)
    outbox.expand_due(session)
    claimed = outbox.claim_due(session, limit=10)
    session.commit()
    assert len(claimed) == 3
    assert deliver_mail() == 0, "claimed mails wait for their lease"

    for row in session.exec(select(OutboxMail)):
        row.locked_until = utcnow() - timedelta(seconds=1)
        session.add(row)
    session.commit()
    assert deliver_mail() == 3
    assert all(len(m) == 1 for m in _mails(mail_dir).values())


def test_invitation_links_leave_the_outbox_once_sent(session, mail_dir):
    from chainels_app.models import Role
    from chainels_app.services import invites

    area = make_area(session)
    invites.create_invite(
        session,
        actor=area.actor(session, "admin"),
        email="nieuw@winkel.test",
        role=Role.ENTREPRENEUR,
        company_id=None,
        group_ids=[],
    )
    session.commit()
    job = session.exec(select(OutboxJob)).one()
    assert "invite?t=" in job.payload
    deliver_mail()
    session.refresh(job)
    assert job.payload == ""
    assert list(_mails(mail_dir)) == ["nieuw@winkel.test"]


def test_an_invitation_to_a_suppressed_address_keeps_no_link(session, mail_dir):
    from chainels_app.models import MailSuppression, Role
    from chainels_app.services import invites

    area = make_area(session)
    session.add(MailSuppression(email="stuiter@winkel.test", reason="bounce"))
    invites.create_invite(
        session,
        actor=area.actor(session, "admin"),
        email="stuiter@winkel.test",
        role=Role.ENTREPRENEUR,
        company_id=None,
        group_ids=[],
    )
    session.commit()
    deliver_mail()
    job = session.exec(select(OutboxJob)).one()
    session.refresh(job)
    assert job.payload == ""
    assert not _mails(mail_dir)


def test_the_console_transport_reports_every_recipient(mail_dir):
    from chainels_app.services.transport import MailBatch, Recipient

    batch = MailBatch(
        subject="Hallo",
        text="Afmelden: {{unsubscribe_url}}",
        html="",
        recipients=(
            Recipient("k1", "a@b.test", {"{{unsubscribe_url}}": "https://x/1"}),
            Recipient("k2", "c@d.test", {"{{unsubscribe_url}}": "https://x/2"}),
        ),
    )
    outcomes = ConsoleTransport().send(batch)
    assert {(o.key, o.sent) for o in outcomes} == {("k1", True), ("k2", True)}
    texts = {str(m[0]["To"]): _text(m[0]) for m in _mails(mail_dir).values()}
    assert "https://x/2" in texts["c@d.test"]


def test_photos_travel_inside_the_mail_as_thumbnails(session, mail_dir):
    import io

    from PIL import Image

    from chainels_app.services import media

    area = make_area(session)
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 800), (20, 120, 60)).save(buffer, "JPEG")
    photo = media.store_upload(
        session,
        actor=area.actor(session, "officer"),
        filename="camera.jpg",
        data=buffer.getvalue(),
    )
    posts.create_post(
        session,
        actor=area.actor(session, "officer"),
        kind=PostKind.ANNOUNCEMENT,
        title="Verdachte bij de bakker",
        body="",
        group_ids=[],
        attachment_ids=[photo.id],
    )
    session.commit()
    deliver_mail()

    message = _mails(mail_dir)[area.people["shop_owner"].email][0]
    html = message.get_body(("html",)).get_content()
    (image,) = [p for p in message.walk() if p.get_content_type() == "image/jpeg"]
    cid = image["Content-ID"].strip("<>")
    assert f"cid:{cid}" in html
    assert image.get_content_disposition() == "inline"
    assert max(Image.open(io.BytesIO(image.get_content())).size) <= 640
    assert "/media/" not in html, "a mail client has no session to fetch with"


def test_two_workers_never_claim_the_same_mail(session, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED claims need PostgreSQL; SQLite runs one worker")
    from sqlmodel import Session

    area = make_area(session)
    _post(session, area)
    outbox.expand_due(session)
    session.commit()

    with Session(engine) as first, Session(engine) as second:
        mine = outbox.claim_due(first, limit=2)
        theirs = outbox.claim_due(second, limit=10)
        first.commit()
        second.commit()
    assert len(mine) == 2
    assert len(theirs) == 1
    assert {m.key for m in mine}.isdisjoint({m.key for m in theirs})


def test_a_comment_mails_the_posts_author_only(session, mail_dir):
    from chainels_app.services import reactions

    area = make_area(session)
    post = _post(session, area)
    deliver_mail()
    for path in mail_dir.glob("*.eml"):
        path.unlink()

    reactions.add_comment(
        session,
        actor=area.actor(session, "shop_owner"),
        post_id=post.id,
        body="Gezien!",
    )
    reactions.add_comment(
        session, actor=area.actor(session, "officer"), post_id=post.id, body="Dank"
    )
    session.commit()
    deliver_mail()
    (message,) = _mails(mail_dir)[area.people["officer"].email]
    assert list(_mails(mail_dir)) == [area.people["officer"].email]
    assert "Gezien!" in _text(message)
    assert "Bakkerij De Korf" in _text(message)
    assert message["Subject"] == "Shop Owner reageerde op: Nepbiljetten"


def test_a_digest_is_gathered_for_who_may_still_read(session, mail_dir):
    from chainels_app.services import directory

    area = make_area(session)
    for persona in ("guard", "shop_owner"):
        preferences.set_mode(
            session, user=area.people[persona], kind="announcement", mode="digest"
        )
    session.commit()
    _post(session, area, title="Ochtend")
    deliver_mail()
    for path in mail_dir.glob("*.eml"):
        path.unlink()

    # Between the post and the digest: one member leaves, another opts out.
    admin = area.actor(session, "admin")
    directory.remove_member(
        session,
        actor=admin,
        membership_id=area.actor(session, "shop_owner").membership_id,
    )
    preferences.set_mode(
        session, user=area.people["guard"], kind="announcement", mode="off"
    )
    session.commit()

    assert outbox.queue_digests(session) == 0
    session.commit()
    deliver_mail()
    assert not _mails(mail_dir)


def test_a_comment_in_a_digest_shows_its_own_post(session, mail_dir):
    from chainels_app.services import reactions

    area = make_area(session)
    preferences.set_mode(
        session, user=area.people["officer"], kind="comment", mode="digest"
    )
    session.commit()
    # Ids apart: the comment's id names another post, which the digest must not.
    _post(session, area, title="Vorige week")
    post = _post(session, area, title="Nepbiljetten")
    reactions.add_comment(
        session, actor=area.actor(session, "shop_owner"), post_id=post.id, body="Ja"
    )
    session.commit()
    deliver_mail()
    for path in mail_dir.glob("*.eml"):
        path.unlink()

    assert outbox.queue_digests(session) == 1
    session.commit()
    deliver_mail()
    (digest,) = _mails(mail_dir)[area.people["officer"].email]
    assert "Nepbiljetten" in _text(digest)
    assert "Vorige week" not in _text(digest)
