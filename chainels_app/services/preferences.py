"""Mail preferences per member and per kind, and unsubscribing without a login.

Every kind is mailed at once by default. Warnings can be set to a digest or off
like any other kind, but an alarm addressed to a member is always mailed: its
mode cannot be changed. An unsubscribe link carries a signed token naming the
member and the kind, so it works from any mail client without a session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging

from sqlmodel import Session, select

from chainels_app.models import MailKind, MailMode, MailPreference, User, utcnow
from chainels_app.services.errors import InvalidInput
from chainels_app.settings import get_settings

logger = logging.getLogger(__name__)

# The kinds a member chooses a mode for, in the order the settings page shows.
CHOOSABLE = (
    MailKind.ANNOUNCEMENT,
    MailKind.SURVEY,
    MailKind.EVENT,
    MailKind.WARNING,
    MailKind.COMMENT,
)
# Mail that always goes out at once, whatever was chosen.
ALWAYS_INSTANT = (MailKind.ALARM, MailKind.INVITE, MailKind.PASSWORD_RESET)
ALL_KINDS = "all"


def modes_of(session: Session, *, user_id: int) -> dict[str, str]:
    """The member's mode for every choosable kind."""
    chosen = {
        p.kind: p.mode
        for p in session.exec(
            select(MailPreference).where(MailPreference.user_id == user_id)
        )
    }
    return {kind.value: chosen.get(kind, MailMode.INSTANT) for kind in CHOOSABLE}


def mode_for(chosen: dict[str, str], kind: str) -> str:
    """The mode that applies to one mail, given a member's choices."""
    if kind in ALWAYS_INSTANT:
        return MailMode.INSTANT
    return chosen.get(kind, MailMode.INSTANT)


def set_mode(session: Session, *, user: User, kind: str, mode: str) -> None:
    """Choose how one kind of mail reaches the member."""
    if kind not in CHOOSABLE:
        raise InvalidInput("error.mail_kind_fixed")
    if mode not in MailMode.__members__.values():
        raise InvalidInput("error.invalid_input")
    row = session.get(MailPreference, (user.id, kind))
    if row is None:
        row = MailPreference(user_id=user.id, kind=kind, mode=mode)
    row.mode = mode
    row.updated_at = utcnow()
    session.add(row)


def _signature(user_id: int, kind: str) -> str:
    key = get_settings().secret_key.encode()
    digest = hmac.new(key, f"unsubscribe:{user_id}:{kind}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:18]).decode()


def unsubscribe_token(user_id: int, kind: str) -> str:
    """A token that turns one kind (or ``all``) off for one member."""
    return f"{user_id}.{kind}.{_signature(user_id, kind)}"


def read_token(token: str) -> tuple[int, str]:
    """The member and kind a token names; refuses anything forged."""
    try:
        user_id, kind, signature = token.split(".", 2)
        user = int(user_id)
    except ValueError:
        raise InvalidInput("error.unsubscribe_invalid") from None
    valid = kind in (*CHOOSABLE, ALL_KINDS)
    if not valid or not hmac.compare_digest(signature, _signature(user, kind)):
        raise InvalidInput("error.unsubscribe_invalid")
    return user, kind


def unsubscribe(session: Session, *, token: str) -> str:
    """Turn mail off as the token says; returns the kind (or ``all``)."""
    user_id, kind = read_token(token)
    user = session.get(User, user_id)
    if user is None:
        raise InvalidInput("error.unsubscribe_invalid")
    for each in CHOOSABLE if kind == ALL_KINDS else (kind,):
        set_mode(session, user=user, kind=each, mode=MailMode.OFF)
    logger.info("user %s unsubscribed from %s mail", user_id, kind)
    return kind
