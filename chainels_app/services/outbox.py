"""The transactional outbox: mail written with the change, sent by a worker.

A post, invite or reset writes one :class:`OutboxJob` in its own transaction, so
the author's request never waits for mail and a rollback never mails. The worker
expands a job into one :class:`OutboxMail` per recipient (its idempotency key,
job and address, is unique, so expanding twice adds nothing), claims due mails
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers never share one),
sends them in batches and records each outcome: sent, retried later with
exponential back-off and jitter (or when the provider says), or failed.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, case, exists, insert, or_
from sqlmodel import Session, col, func, select

from chainels_app import routes
from chainels_app.models import (
    Comment,
    Community,
    Company,
    GroupMember,
    MailMode,
    MailPreference,
    MailStatus,
    MailSuppression,
    Membership,
    OutboxJob,
    OutboxMail,
    Post,
    PostGroup,
    User,
    utcnow,
)
from chainels_app.services import audience, preferences
from chainels_app.services.mail_templates import (
    UNSUBSCRIBE_TAG,
    CommentForMail,
    Content,
    PostForMail,
    comment_content,
    digest_content,
    message_content,
    post_content,
)
from chainels_app.services.transport import MailBatch, Outcome, Recipient
from chainels_app.settings import get_settings

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_DELAY_SECONDS = 6 * 3600
EXPAND_CHUNK = 1000
POST_JOB = "post"
DIGEST_JOB = "digest"
COMMENT_JOB = "comment"


@dataclass(frozen=True)
class Claimed:
    """A claimed mail, detached from its session."""

    id: int
    job_id: int
    key: str
    address: str
    user_id: int | None
    locale: str
    kind: str
    attempts: int


def queue_post(session: Session, *, post: Post) -> OutboxJob:
    """Mail a new post to its recipients, once this transaction commits."""
    job = OutboxJob(kind=POST_JOB, ref_id=post.id, community_id=post.community_id)
    session.add(job)
    return job


def queue_comment(session: Session, *, comment: Comment, community_id: int) -> None:
    """Tell the post's author about a reaction, once this transaction commits."""
    session.add(
        OutboxJob(kind=COMMENT_JOB, ref_id=comment.id, community_id=community_id)
    )


def queue_message(
    session: Session, *, kind: str, to: str, locale: str, params: dict[str, str]
) -> OutboxJob:
    """Mail one message (an invitation, a reset link) to one address."""
    payload = json.dumps({"to": to, "locale": locale, "params": params})
    job = OutboxJob(kind=kind, payload=payload)
    session.add(job)
    return job


def _locked(query, session: Session, of=None):
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True, of=of)
    return query


def _post_recipients(session: Session, post: Post) -> list[tuple]:
    """Members the post is addressed to, with their mode; one query."""
    query = (
        select(User.id, User.email, User.locale, MailPreference.mode)
        .join(Membership, Membership.user_id == User.id)
        .join(
            MailPreference,
            and_(MailPreference.user_id == User.id, MailPreference.kind == post.kind),
            isouter=True,
        )
        .where(
            Membership.community_id == post.community_id,
            col(User.is_active).is_(True),
            User.id != post.author_id,
            ~exists().where(MailSuppression.email == User.email),
            or_(
                col(MailPreference.mode).is_(None),
                MailPreference.mode != MailMode.OFF,
            ),
        )
    )
    if not post.to_everyone:
        query = query.where(
            exists(
                select(PostGroup.post_id)
                .join(GroupMember, GroupMember.group_id == PostGroup.group_id)
                .where(
                    PostGroup.post_id == post.id,
                    GroupMember.membership_id == Membership.id,
                )
            )
        )
    return list(session.exec(query))


def _comment_recipients(session: Session, comment_id: int) -> list[tuple]:
    """The author of the commented post, unless they wrote the comment or opted out."""
    comment = session.get(Comment, comment_id)
    post = session.get(Post, comment.post_id) if comment else None
    if post is None or post.deleted_at is not None or post.author_id is None:
        return []
    if post.author_id == comment.author_id:
        return []
    author = session.get(User, post.author_id)
    if author is None or not author.is_active:
        return []
    if session.get(MailSuppression, author.email) is not None:
        return []
    chosen = preferences.modes_of(session, user_id=author.id)
    mode = preferences.mode_for(chosen, COMMENT_JOB)
    if mode == MailMode.OFF:
        return []
    return [(author.id, author.email, author.locale, mode)]


def _insert_ignoring_duplicates(session: Session, rows: list[dict]) -> None:
    dialect = session.get_bind().dialect.name
    for start in range(0, len(rows), EXPAND_CHUNK):
        chunk = rows[start : start + EXPAND_CHUNK]
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            statement = pg_insert(OutboxMail).on_conflict_do_nothing(
                index_elements=["idempotency_key"]
            )
        else:
            statement = insert(OutboxMail).prefix_with("OR IGNORE")
        session.exec(statement, params=chunk)


def _mail_rows(job: OutboxJob, recipients: list[tuple], kind: str) -> list[dict]:
    now = utcnow()
    return [
        {
            "job_id": job.id,
            "idempotency_key": f"{job.id}:{email}",
            "to_address": email,
            "user_id": user_id,
            "locale": locale,
            "kind": kind,
            "status": MailStatus.DIGEST
            if mode == MailMode.DIGEST
            else MailStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": "",
            "created_at": now,
        }
        for user_id, email, locale, mode in recipients
    ]


def _expand(session: Session, job: OutboxJob) -> int:
    if job.kind == POST_JOB:
        post = session.get(Post, job.ref_id)
        if post is None or post.deleted_at is not None:
            return 0
        recipients = _post_recipients(session, post)
        rows = _mail_rows(job, recipients, post.kind)
    elif job.kind == DIGEST_JOB:
        return 0  # written whole by queue_digests
    elif job.kind == COMMENT_JOB:
        rows = _mail_rows(job, _comment_recipients(session, job.ref_id), COMMENT_JOB)
    else:
        payload = json.loads(job.payload)
        suppressed = session.get(MailSuppression, payload["to"]) is not None
        recipients = (
            [] if suppressed else [(None, payload["to"], payload["locale"], None)]
        )
        rows = _mail_rows(job, recipients, job.kind)
        if not rows:
            job.payload = ""  # the link in it goes to nobody: do not keep it
            session.add(job)
    _insert_ignoring_duplicates(session, rows)
    return len(rows)


def expand_due(session: Session, *, limit: int = 20) -> int:
    """Turn waiting jobs into one mail per recipient; returns mails written."""
    jobs = session.exec(
        _locked(
            select(OutboxJob)
            .where(col(OutboxJob.expanded_at).is_(None))
            .order_by(OutboxJob.id)
            .limit(limit),
            session,
        )
    ).all()
    written = 0
    for job in jobs:
        written += _expand(session, job)
        job.expanded_at = utcnow()
        session.add(job)
    if jobs:
        logger.info("outbox: %s jobs expanded into %s mails", len(jobs), written)
    return written


def claim_due(session: Session, *, limit: int) -> list[Claimed]:
    """Take due mails for this worker, for the length of a lease."""
    now = utcnow()
    waiting = and_(
        col(OutboxMail.status) == MailStatus.PENDING,
        col(OutboxMail.next_attempt_at) <= now,
    )
    # A worker that died mid-batch left these; their lease has run out.
    abandoned = and_(
        col(OutboxMail.status) == MailStatus.SENDING,
        col(OutboxMail.locked_until) < now,
    )
    due = or_(waiting, abandoned)
    mails = session.exec(
        _locked(
            select(OutboxMail).where(due).order_by(OutboxMail.id).limit(limit), session
        )
    ).all()
    for mail in mails:
        mail.status = MailStatus.SENDING
        mail.locked_until = now + timedelta(seconds=get_settings().mail_lease_seconds)
        mail.attempts += 1
        session.add(mail)
    return [
        Claimed(
            id=m.id,
            job_id=m.job_id,
            key=m.idempotency_key,
            address=m.to_address,
            user_id=m.user_id,
            locale=m.locale,
            kind=m.kind,
            attempts=m.attempts,
        )
        for m in mails
    ]


def _unsubscribe_headers(mail: Claimed) -> tuple[dict[str, str], dict[str, str]]:
    if mail.user_id is None:
        return {}, {}
    kind = mail.kind if mail.kind in preferences.CHOOSABLE else preferences.ALL_KINDS
    token = preferences.unsubscribe_token(mail.user_id, kind)
    url = get_settings().public_base_url + routes.unsubscribe_url(token)
    headers = {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return {UNSUBSCRIBE_TAG: url}, headers


def _post_for_mail(session: Session, post_id: int) -> PostForMail | None:
    row = session.exec(
        select(Post, User.name, Company.name, Community.name)
        .join(User, User.id == Post.author_id, isouter=True)
        .join(Company, Company.id == Post.company_id, isouter=True)
        .join(Community, Community.id == Post.community_id)
        .where(Post.id == post_id, col(Post.deleted_at).is_(None))
    ).first()
    if row is None:
        return None
    post, author, company, community = row
    from chainels_app.services.media import mail_thumbnails

    images = (
        mail_thumbnails(session, post_id=post.id) if get_settings().mail_images else ()
    )
    return PostForMail(
        id=post.id,
        kind=post.kind,
        title=post.title,
        body=post.body,
        body_html=post.body_html,
        author=author or "",
        company=company or "",
        community=community,
        images=tuple(images),
    )


def _comment_for_mail(session: Session, comment_id: int) -> CommentForMail | None:
    row = session.exec(
        select(Comment, Post.title, User.name, Company.name)
        .join(Post, Post.id == Comment.post_id)
        .join(User, User.id == Comment.author_id, isouter=True)
        .join(Company, Company.id == Comment.company_id, isouter=True)
        .where(Comment.id == comment_id, col(Post.deleted_at).is_(None))
    ).first()
    if row is None:
        return None
    comment, title, author, company = row
    return CommentForMail(
        post_id=comment.post_id,
        post_title=title,
        author=author or "",
        company=company or "",
        body=comment.body,
    )


def _content(session: Session, job: OutboxJob, locale: str) -> Content | None:
    if job.kind == POST_JOB:
        post = _post_for_mail(session, job.ref_id)
        return post_content(post, locale) if post else None
    if job.kind == COMMENT_JOB:
        comment = _comment_for_mail(session, job.ref_id)
        return comment_content(comment, locale) if comment else None
    if job.kind == DIGEST_JOB:
        found = [_post_for_mail(session, i) for i in json.loads(job.payload)["posts"]]
        shown = [post for post in found if post is not None]
        return digest_content(shown, locale) if shown else None
    payload = json.loads(job.payload)
    return message_content(job.kind, payload["locale"], payload["params"])


def build_batches(
    session: Session, mails: list[Claimed], max_batch: int
) -> tuple[list[MailBatch], list[Outcome]]:
    """Group claimed mails by job and language; content is rendered once a group.

    Mails whose post is gone, or whose address was suppressed since, get a final
    outcome straight away instead of a batch.
    """
    suppressed = set(
        session.exec(
            select(MailSuppression.email).where(
                col(MailSuppression.email).in_({m.address for m in mails})
            )
        )
    )
    groups: dict[tuple[int, str], list[Claimed]] = {}
    skipped: list[Outcome] = []
    for mail in mails:
        if mail.address in suppressed:
            skipped.append(Outcome(key=mail.key, sent=False, error="suppressed"))
        else:
            groups.setdefault((mail.job_id, mail.locale), []).append(mail)

    batches = []
    for (job_id, locale), members in groups.items():
        content = _content(session, session.get(OutboxJob, job_id), locale)
        if content is None:
            skipped += [
                Outcome(key=m.key, sent=False, error="post gone") for m in members
            ]
            continue
        for start in range(0, len(members), max_batch):
            recipients = []
            for mail in members[start : start + max_batch]:
                substitutions, headers = _unsubscribe_headers(mail)
                recipients.append(
                    Recipient(mail.key, mail.address, substitutions, headers)
                )
            batches.append(
                MailBatch(
                    subject=content.subject,
                    text=content.text,
                    html=content.html,
                    recipients=tuple(recipients),
                    inline_images=content.inline_images,
                )
            )
    return batches, skipped


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """When to try again: when the provider says, else exponential with jitter."""
    if retry_after:
        # A rate-limit reset: everyone waiting for it should not return at once.
        return timedelta(seconds=retry_after + random.uniform(0, 1))
    base = get_settings().mail_retry_seconds
    ceiling = min(MAX_DELAY_SECONDS, base * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def record(session: Session, *, outcomes: list[Outcome]) -> None:
    """Store what became of each mail of one batch."""
    by_key = {outcome.key: outcome for outcome in outcomes}
    mails = session.exec(
        select(OutboxMail).where(col(OutboxMail.idempotency_key).in_(list(by_key)))
    ).all()
    now = utcnow()
    # One delay per kind of refusal, not per mail: mails refused together come
    # back together in one request. Jitter per mail would split a batch into
    # many small requests, each again at risk of being refused.
    delays: dict[tuple[int, float | None], timedelta] = {}
    for mail in mails:
        outcome = by_key[mail.idempotency_key]
        mail.locked_until = None
        mail.last_error = outcome.error[:500]
        if outcome.sent:
            mail.status, mail.sent_at = MailStatus.SENT, now
        elif outcome.retry_after is not None and mail.attempts < MAX_ATTEMPTS:
            mail.status = MailStatus.PENDING
            refusal = (mail.attempts, outcome.retry_after)
            if refusal not in delays:
                delays[refusal] = backoff(*refusal)
            mail.next_attempt_at = now + delays[refusal]
        else:
            mail.status = MailStatus.FAILED
        session.add(mail)
        if mail.status != MailStatus.PENDING:
            _forget_secrets(session, mail.job_id)


def _forget_secrets(session: Session, job_id: int) -> None:
    """A message job holds a link with a token; once handled, it goes."""
    job = session.get(OutboxJob, job_id)
    if job is not None and job.kind != POST_JOB and job.payload:
        job.payload = ""
        session.add(job)


def _retry_all(batch: MailBatch, error: str) -> list[Outcome]:
    return [
        Outcome(key=r.key, sent=False, retry_after=0, error=error)
        for r in batch.recipients
    ]


def send_due(transport, *, limit: int = 1000) -> int:
    """One round of the worker: expand, claim, send, record. Returns mails handled.

    Each step is its own transaction: a crash while sending leaves the claimed
    mails to be taken again when their lease runs out.
    """
    from chainels_app.db import session_scope

    with session_scope() as session:
        expand_due(session)
    with session_scope() as session:
        claimed = claim_due(session, limit=limit)
    if not claimed:
        return 0
    with session_scope() as session:
        batches, skipped = build_batches(session, claimed, transport.max_batch)
        record(session, outcomes=skipped)
    for batch in batches:
        try:
            outcomes = transport.send(batch)
        except Exception as error:
            logger.exception("outbox: a batch of %s failed", len(batch.recipients))
            outcomes = _retry_all(batch, type(error).__name__)
        # Recorded batch by batch: a worker killed mid-round resends only what
        # it had not handed over yet.
        with session_scope() as session:
            record(session, outcomes=outcomes)
    return len(claimed)


def _digest_mails():
    """Waiting digest mails with the post each one shows (a comment: its post)."""
    post_id = case(
        (OutboxJob.kind == COMMENT_JOB, Comment.post_id), else_=OutboxJob.ref_id
    ).label("post_id")
    return (
        select(OutboxMail, post_id)
        .join(OutboxJob, OutboxJob.id == OutboxMail.job_id)
        .join(
            Comment,
            and_(OutboxJob.kind == COMMENT_JOB, Comment.id == OutboxJob.ref_id),
            isouter=True,
        )
        .where(OutboxMail.status == MailStatus.DIGEST)
    )


def _still_readable(session: Session) -> set[int]:
    """The waiting digest mails whose member may read their post today.

    A day passes between a post and its digest: the member may have left the
    community or its group, or turned that kind of mail off since.
    """
    mails = _digest_mails().subquery()
    return set(
        session.exec(
            select(mails.c.id)
            .join(Post, Post.id == mails.c.post_id)
            .join(
                Membership,
                and_(
                    Membership.user_id == mails.c.user_id,
                    audience.readable_by_membership(),
                ),
            )
            .join(User, User.id == mails.c.user_id)
            .join(
                MailPreference,
                and_(
                    MailPreference.user_id == User.id,
                    MailPreference.kind == mails.c.kind,
                ),
                isouter=True,
            )
            .where(
                col(User.is_active).is_(True),
                or_(
                    col(MailPreference.mode).is_(None),
                    MailPreference.mode != MailMode.OFF,
                ),
            )
        ).all()
    )


def queue_digests(session: Session) -> int:
    """Gather each member's waiting digest mails into one digest mail."""
    waiting = session.exec(
        # Only the mail rows: a comment's row is on the outer side of a join.
        _locked(_digest_mails().order_by(OutboxMail.id), session, of=OutboxMail)
    ).all()
    readable = _still_readable(session)
    per_member: dict[tuple[int | None, str, str], list[int]] = {}
    for mail, post_id in waiting:
        mail.status = MailStatus.DIGESTED
        session.add(mail)
        if mail.id not in readable:
            continue
        key = (mail.user_id, mail.to_address, mail.locale)
        posts_of_member = per_member.setdefault(key, [])
        if post_id not in posts_of_member:
            posts_of_member.append(post_id)
    for (user_id, address, locale), post_ids in per_member.items():
        job = OutboxJob(
            kind=DIGEST_JOB, ref_id=user_id, payload=json.dumps({"posts": post_ids})
        )
        job.expanded_at = utcnow()
        session.add(job)
        session.flush()
        session.add(
            OutboxMail(
                job_id=job.id,
                idempotency_key=f"{job.id}:{address}",
                to_address=address,
                user_id=user_id,
                locale=locale,
                kind=DIGEST_JOB,
            )
        )
    return len(per_member)


def pending_count(session: Session) -> int:
    """Mails still to send (for the tests and the health page)."""
    return session.exec(
        select(func.count())
        .select_from(OutboxMail)
        .where(col(OutboxMail.status).in_([MailStatus.PENDING, MailStatus.SENDING]))
    ).one()
