"""Every table of the product.

Timestamps are timezone-aware UTC (:class:`UTCDateTime` restores the zone that
SQLite drops). Enumerations are stored as short strings so migrations stay simple
on both SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp that is always stored and returned as aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            msg = "naive datetimes are not stored; use aware UTC"
            raise ValueError(msg)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def timestamp(*, nullable: bool = False, index: bool = False) -> Any:
    """A timezone-aware timestamp column."""
    return Field(
        default=None,
        sa_column=Column(UTCDateTime(), nullable=nullable, index=index),
    )


def created_at() -> Any:
    """A creation timestamp filled in at insert."""
    return Field(
        default_factory=utcnow,
        sa_column=Column(UTCDateTime(), nullable=False),
    )


def foreign_key(target: str, *, ondelete: str = "CASCADE", nullable: bool = False):
    """An indexed integer foreign key column."""
    return Field(
        default=None,
        sa_column=Column(
            Integer,
            ForeignKey(target, ondelete=ondelete),
            nullable=nullable,
            index=True,
        ),
    )


class Role(StrEnum):
    """What a member does in a community."""

    ADMIN = "admin"
    POLICE = "police"
    SECURITY = "security"
    MUNICIPALITY = "municipality"
    MARKETING = "marketing"
    ENTREPRENEUR = "entrepreneur"


class GroupKind(StrEnum):
    """The kinds of group inside a community."""

    STREET = "street"
    BUILDING = "building"
    WORKING_GROUP = "working_group"


class Locale(StrEnum):
    """The languages of the interface."""

    NL = "nl"
    EN = "en"


class TokenPurpose(StrEnum):
    """What a single-use token is for."""

    LOGIN_TICKET = "login_ticket"
    PASSWORD_RESET = "password_reset"


class Community(SQLModel, table=True):
    """A closed business district: a city centre, a shopping centre, a park."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    slug: str = Field(max_length=80, unique=True, index=True)
    city: str = Field(default="", max_length=120)
    created_at: datetime = created_at()


class Group(SQLModel, table=True):
    """A street, a building or a working group inside a community."""

    __tablename__ = "community_group"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = foreign_key("community.id")
    name: str = Field(max_length=120)
    kind: str = Field(default=GroupKind.STREET, max_length=20)
    created_at: datetime = created_at()


class Company(SQLModel, table=True):
    """A shop, business or organisation on whose behalf members act."""

    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = foreign_key("community.id")
    name: str = Field(max_length=160)
    street_address: str = Field(default="", max_length=200)
    postal_code: str = Field(default="", max_length=12)
    city: str = Field(default="", max_length=120)
    phone: str = Field(default="", max_length=40)
    email: str = Field(default="", max_length=254)
    website: str = Field(default="", max_length=200)
    created_at: datetime = created_at()


class User(SQLModel, table=True):
    """A person with a login; belongs to communities through memberships."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(max_length=120)
    password_hash: str = Field(max_length=255)
    locale: str = Field(default=Locale.NL, max_length=5)
    is_active: bool = Field(default=True)
    current_community_id: int | None = foreign_key(
        "community.id", ondelete="SET NULL", nullable=True
    )
    password_changed_at: datetime = created_at()
    created_at: datetime = created_at()


class Membership(SQLModel, table=True):
    """A user's place in one community: the company acted for and the role."""

    __table_args__ = (UniqueConstraint("user_id", "community_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = foreign_key("app_user.id")
    community_id: int = foreign_key("community.id")
    company_id: int | None = foreign_key(
        "company.id", ondelete="SET NULL", nullable=True
    )
    role: str = Field(default=Role.ENTREPRENEUR, max_length=20)
    created_at: datetime = created_at()


class GroupMember(SQLModel, table=True):
    """A membership's place in a group."""

    __tablename__ = "group_member"

    group_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("community_group.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    membership_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("membership.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        )
    )


class Invite(SQLModel, table=True):
    """A single-use invitation; only the hash of its token is stored."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    email: str = Field(max_length=254, index=True)
    community_id: int = foreign_key("community.id")
    company_id: int | None = foreign_key(
        "company.id", ondelete="SET NULL", nullable=True
    )
    role: str = Field(default=Role.ENTREPRENEUR, max_length=20)
    group_ids: str = Field(default="", max_length=400)
    invited_by_id: int | None = foreign_key(
        "app_user.id", ondelete="SET NULL", nullable=True
    )
    created_at: datetime = created_at()
    expires_at: datetime = timestamp()
    sent_at: datetime = timestamp()
    used_at: datetime | None = timestamp(nullable=True)
    revoked_at: datetime | None = timestamp(nullable=True)


class AuthSession(SQLModel, table=True):
    """A logged-in browser; the cookie holds the token, the row its hash."""

    __tablename__ = "auth_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = foreign_key("app_user.id")
    idle_minutes: int
    created_at: datetime = created_at()
    last_seen_at: datetime = timestamp()
    expires_at: datetime = timestamp()


class OneTimeToken(SQLModel, table=True):
    """A short-lived single-use token: a login ticket or a password reset."""

    __tablename__ = "one_time_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    purpose: str = Field(max_length=20)
    user_id: int = foreign_key("app_user.id")
    created_at: datetime = created_at()
    expires_at: datetime = timestamp()
    used_at: datetime | None = timestamp(nullable=True)


class LoginAttempt(SQLModel, table=True):
    """A failed login, kept an hour or so for throttling."""

    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    account_key: str = Field(max_length=64, index=True)
    address: str = Field(max_length=64, index=True)
    at: datetime = Field(
        default_factory=utcnow,
        sa_column=Column(UTCDateTime(), nullable=False, index=True),
    )


class AuditEvent(SQLModel, table=True):
    """Who did what, for administrators and for the privacy log."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    community_id: int | None = foreign_key(
        "community.id", ondelete="CASCADE", nullable=True
    )
    actor_id: int | None = foreign_key(
        "app_user.id", ondelete="SET NULL", nullable=True
    )
    action: str = Field(max_length=60, index=True)
    subject: str = Field(default="", max_length=120)
    detail: str = Field(default="", sa_column=Column(String(1000), default=""))
    at: datetime = created_at()


class PostKind(StrEnum):
    """The four kinds of post, each with its own behaviour."""

    ANNOUNCEMENT = "announcement"
    SURVEY = "survey"
    EVENT = "event"
    WARNING = "warning"


class AttachmentKind(StrEnum):
    """What an attached file is, judged from its content."""

    IMAGE = "image"
    VIDEO = "video"
    DOCUMENT = "document"


class Post(SQLModel, table=True):
    """One post of any kind; kind-specific details live in tables beside it."""

    __table_args__ = (Index("ix_post_feed", "community_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = foreign_key("community.id")
    author_id: int | None = foreign_key(
        "app_user.id", ondelete="SET NULL", nullable=True
    )
    company_id: int | None = foreign_key(
        "company.id", ondelete="SET NULL", nullable=True
    )
    # The author's role when posting: a post keeps saying "police" afterwards.
    author_role: str = Field(max_length=20)
    kind: str = Field(default=PostKind.ANNOUNCEMENT, max_length=20, index=True)
    title: str = Field(max_length=200)
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    body_html: str = Field(
        default="", sa_column=Column(Text, nullable=False, default="")
    )
    to_everyone: bool = Field(default=True)
    created_at: datetime = created_at()
    edited_at: datetime | None = timestamp(nullable=True)
    deleted_at: datetime | None = timestamp(nullable=True)
    removed_by_id: int | None = foreign_key(
        "app_user.id", ondelete="SET NULL", nullable=True
    )
    removal_reason: str = Field(default="", max_length=500)


class PostGroup(SQLModel, table=True):
    """A group a post is addressed to (when it is not for everyone)."""

    __tablename__ = "post_group"

    post_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("post.id", ondelete="CASCADE"), primary_key=True
        )
    )
    group_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("community_group.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        )
    )


class Attachment(SQLModel, table=True):
    """A photo, video or file in private storage, attached to a post."""

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = foreign_key("community.id")
    uploader_id: int | None = foreign_key(
        "app_user.id", ondelete="SET NULL", nullable=True
    )
    # Empty until the post is published; unclaimed uploads are purged.
    post_id: int | None = foreign_key("post.id", nullable=True)
    kind: str = Field(max_length=20)
    content_type: str = Field(max_length=100)
    original_name: str = Field(max_length=200)
    storage_key: str = Field(max_length=80, unique=True)
    size_bytes: int
    width: int | None = None
    height: int | None = None
    has_thumbnail: bool = Field(default=False)
    created_at: datetime = created_at()


class Comment(SQLModel, table=True):
    """A reaction to a post, on behalf of the author's company."""

    __table_args__ = (Index("ix_comment_post", "post_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("post.id", ondelete="CASCADE"), nullable=False
        )
    )
    author_id: int | None = foreign_key(
        "app_user.id", ondelete="SET NULL", nullable=True
    )
    company_id: int | None = foreign_key(
        "company.id", ondelete="SET NULL", nullable=True
    )
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = created_at()
    deleted_at: datetime | None = timestamp(nullable=True)


class Vote(SQLModel, table=True):
    """One member's vote for a post; withdrawn by deleting it."""

    post_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("post.id", ondelete="CASCADE"), primary_key=True
        )
    )
    user_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("app_user.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        )
    )
    created_at: datetime = created_at()


class MailMode(StrEnum):
    """How a member receives mail of one kind."""

    INSTANT = "instant"
    DIGEST = "digest"
    OFF = "off"


class MailKind(StrEnum):
    """What a mail is about; members choose a mode per post kind."""

    ANNOUNCEMENT = "announcement"
    SURVEY = "survey"
    EVENT = "event"
    WARNING = "warning"
    COMMENT = "comment"
    ALARM = "alarm"
    INVITE = "invite"
    PASSWORD_RESET = "password_reset"
    DIGEST = "digest"


class MailStatus(StrEnum):
    """Where one outgoing mail stands."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DIGEST = "digest"
    DIGESTED = "digested"


class MailPreference(SQLModel, table=True):
    """A member's choice for one kind of mail; absent means the default."""

    __tablename__ = "mail_preference"

    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
        )
    )
    kind: str = Field(sa_column=Column(String(20), primary_key=True))
    mode: str = Field(max_length=10)
    updated_at: datetime = created_at()


class MailSuppression(SQLModel, table=True):
    """An address that gets no more mail: it bounced, complained or left."""

    __tablename__ = "mail_suppression"

    email: str = Field(sa_column=Column(String(254), primary_key=True))
    reason: str = Field(max_length=20)
    created_at: datetime = created_at()


class OutboxJob(SQLModel, table=True):
    """A change that must be mailed, written in the change's own transaction.

    One row per post, invite or reset: cheap to write, so publishing stays fast;
    the mail worker expands it into one :class:`OutboxMail` per recipient.
    """

    __tablename__ = "outbox_job"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    ref_id: int | None = None
    community_id: int | None = foreign_key(
        "community.id", ondelete="CASCADE", nullable=True
    )
    payload: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = created_at()
    expanded_at: datetime | None = timestamp(nullable=True, index=True)
    locked_until: datetime | None = timestamp(nullable=True)


class OutboxMail(SQLModel, table=True):
    """One mail to one recipient; the idempotency key makes it exist once."""

    __tablename__ = "outbox_mail"
    __table_args__ = (Index("ix_outbox_mail_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = foreign_key("outbox_job.id")
    idempotency_key: str = Field(max_length=300, unique=True)
    to_address: str = Field(max_length=254)
    user_id: int | None = foreign_key("app_user.id", ondelete="SET NULL", nullable=True)
    locale: str = Field(default="nl", max_length=5)
    kind: str = Field(max_length=20)
    status: str = Field(default=MailStatus.PENDING, max_length=10)
    attempts: int = 0
    next_attempt_at: datetime = created_at()
    locked_until: datetime | None = timestamp(nullable=True)
    last_error: str = Field(default="", max_length=500)
    sent_at: datetime | None = timestamp(nullable=True)
    created_at: datetime = created_at()
