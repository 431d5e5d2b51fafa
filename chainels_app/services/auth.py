"""Passwords, logins, sessions and password resets.

A login never says whether an e-mail address exists: an unknown address costs
the same hashing work, is throttled under the same key scheme, and gets the same
message. Sessions are rows keyed by the hash of a random cookie token.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, delete, func, select

from chainels_app import routes
from chainels_app.models import (
    AuthSession,
    LoginAttempt,
    MailKind,
    Membership,
    OneTimeToken,
    Role,
    TokenPurpose,
    User,
    utcnow,
)
from chainels_app.services import audit, outbox
from chainels_app.services.errors import DomainError, InvalidInput, NotAuthenticated
from chainels_app.services.tokens import new_token, token_hash, use_once
from chainels_app.settings import get_settings

logger = logging.getLogger(__name__)

# OWASP's argon2id profile: 19 MiB, two passes, one lane (about 30 ms here).
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY_HASH = _hasher.hash("not a password of anybody")

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
LOGIN_TICKET_SECONDS = 60
_PRIVILEGED_ROLES = (Role.ADMIN, Role.POLICE)
_TOUCH_INTERVAL = timedelta(seconds=60)


def normalize_email(email: str) -> str:
    """The form in which addresses are stored and compared."""
    return email.strip().lower()


def check_password_rules(password: str) -> None:
    """Refuse a password that is too short or absurdly long."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("error.password_too_short", minimum=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput("error.password_too_long", maximum=MAX_PASSWORD_LENGTH)


def hash_password(password: str) -> str:
    """The argon2id hash of a password that passes the rules."""
    check_password_rules(password)
    return _hasher.hash(password)


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def user_by_email(session: Session, email: str) -> User | None:
    """The user with this address, if any."""
    return session.exec(
        select(User).where(User.email == normalize_email(email))
    ).first()


def _account_key(email: str) -> str:
    return token_hash(f"account:{normalize_email(email)}")


def _failures_since(session: Session, column, value: str, since: datetime) -> int:
    return session.exec(
        select(func.count())
        .select_from(LoginAttempt)
        .where(column == value, LoginAttempt.at > since)
    ).one()


def _is_throttled(
    session: Session, *, account_key: str, address: str, user: User | None
) -> bool:
    settings = get_settings()
    hour_ago = utcnow() - timedelta(hours=1)
    # A password reset lifts the lock: failures before it no longer count.
    since = max(hour_ago, user.password_changed_at) if user else hour_ago
    per_account = _failures_since(session, LoginAttempt.account_key, account_key, since)
    if per_account >= settings.login_failures_per_account_hour:
        return True
    per_address = _failures_since(session, LoginAttempt.address, address, hour_ago)
    return per_address >= settings.login_failures_per_address_hour


def check_credentials(
    session: Session, *, email: str, password: str, address: str
) -> User:
    """The user these credentials belong to; one message for every failure.

    A failed attempt is committed before the refusal is raised: the caller's
    transaction rolls back on the error, and the failure must still count
    towards the throttle. Call this before writing anything else.
    """
    account_key = _account_key(email)
    user = user_by_email(session, email)
    if _is_throttled(session, account_key=account_key, address=address, user=user):
        logger.warning("login refused: throttled (address=%s)", address)
        raise DomainError("error.login_throttled")

    matches = _password_matches(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not matches or not user.is_active:
        session.add(LoginAttempt(account_key=account_key, address=address[:64]))
        session.commit()
        raise DomainError("error.login_failed")

    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        session.add(user)
    return user


def issue_login_ticket(session: Session, *, user: User) -> str:
    """A single-use ticket, valid for seconds, swapped for a cookie over HTTP."""
    ticket = new_token()
    session.add(
        OneTimeToken(
            token_hash=token_hash(ticket),
            purpose=TokenPurpose.LOGIN_TICKET,
            user_id=user.id,
            expires_at=utcnow() + timedelta(seconds=LOGIN_TICKET_SECONDS),
        )
    )
    return ticket


def _redeem(session: Session, *, token: str, purpose: TokenPurpose) -> OneTimeToken:
    row = session.exec(
        select(OneTimeToken).where(
            OneTimeToken.token_hash == token_hash(token),
            OneTimeToken.purpose == purpose,
        )
    ).first()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise InvalidInput(f"error.{purpose}_invalid")
    use_once(session, OneTimeToken, row.id, f"error.{purpose}_invalid")
    return row


def _idle_minutes_for(session: Session, user: User) -> int:
    settings = get_settings()
    privileged = session.exec(
        select(Membership.id).where(
            Membership.user_id == user.id,
            col(Membership.role).in_([str(role) for role in _PRIVILEGED_ROLES]),
        )
    ).first()
    if privileged is not None:
        return settings.session_idle_minutes_privileged
    return settings.session_idle_minutes


def start_session(session: Session, *, ticket: str) -> str:
    """Swap a login ticket for a new session; returns the cookie token."""
    row = _redeem(session, token=ticket, purpose=TokenPurpose.LOGIN_TICKET)
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise InvalidInput("error.login_ticket_invalid")

    token = new_token()
    now = utcnow()
    absolute = timedelta(minutes=get_settings().session_absolute_minutes)
    session.add(
        AuthSession(
            token_hash=token_hash(token),
            user_id=user.id,
            idle_minutes=_idle_minutes_for(session, user),
            last_seen_at=now,
            expires_at=now + absolute,
        )
    )
    audit.record(session, action="login", actor_id=user.id)
    logger.info("user %s logged in", user.id)
    return token


def authenticate(session: Session, *, token: str | None, touch: bool = True) -> User:
    """The user of a live session token; NotAuthenticated otherwise.

    ``touch`` counts this as the member's activity, postponing the idle timeout.
    """
    if not token:
        raise NotAuthenticated
    row = session.exec(
        select(AuthSession).where(AuthSession.token_hash == token_hash(token))
    ).first()
    if row is None:
        raise NotAuthenticated

    now = utcnow()
    idle_deadline = row.last_seen_at + timedelta(minutes=row.idle_minutes)
    if row.expires_at <= now or idle_deadline <= now:
        # The refusal rolls the transaction back; housekeeping deletes the row.
        raise NotAuthenticated("error.session_expired")

    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated
    if touch and now - row.last_seen_at > _TOUCH_INTERVAL:
        row.last_seen_at = now
        session.add(row)
    return user


def end_session(session: Session, *, token: str | None) -> None:
    """Delete the session behind a cookie token, if there is one."""
    if not token:
        return
    session.exec(delete(AuthSession).where(AuthSession.token_hash == token_hash(token)))


def request_password_reset(session: Session, *, email: str) -> None:
    """Mail a reset link when the address has an account; silent otherwise."""
    user = user_by_email(session, email)
    if user is None or not user.is_active:
        logger.info("password reset asked for an unknown or inactive address")
        return

    token = new_token()
    settings = get_settings()
    session.add(
        OneTimeToken(
            token_hash=token_hash(token),
            purpose=TokenPurpose.PASSWORD_RESET,
            user_id=user.id,
            expires_at=utcnow() + timedelta(minutes=settings.reset_ttl_minutes),
        )
    )
    link = settings.public_base_url + routes.reset_link(token)
    outbox.queue_message(
        session,
        kind=MailKind.PASSWORD_RESET,
        to=user.email,
        locale=user.locale,
        params={"link": link},
    )


def reset_password(session: Session, *, token: str, password: str) -> User:
    """Set a new password from a reset link and end every session of the user."""
    check_password_rules(password)
    row = _redeem(session, token=token, purpose=TokenPurpose.PASSWORD_RESET)
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise InvalidInput("error.password_reset_invalid")

    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    session.add(user)
    session.exec(delete(AuthSession).where(AuthSession.user_id == user.id))
    session.exec(
        delete(OneTimeToken).where(
            OneTimeToken.user_id == user.id,
            OneTimeToken.purpose == TokenPurpose.PASSWORD_RESET,
            col(OneTimeToken.used_at).is_(None),
        )
    )
    audit.record(session, action="password_reset", actor_id=user.id)
    return user


def set_locale(session: Session, *, user: User, locale: str) -> None:
    """Remember the user's interface language."""
    from chainels_app.i18n import LOCALES

    if locale not in LOCALES:
        raise InvalidInput
    user.locale = locale
    session.add(user)


def purge_expired(session: Session) -> None:
    """Delete ended sessions, used or stale tokens, and old login failures."""
    now = utcnow()
    session.exec(delete(AuthSession).where(AuthSession.expires_at <= now))
    session.exec(delete(OneTimeToken).where(OneTimeToken.expires_at <= now))
    session.exec(delete(LoginAttempt).where(LoginAttempt.at <= now - timedelta(days=1)))
