"""Random tokens, the keyed hashes under which they are stored, single use."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlmodel import Session, col, update

from chainels_app.models import utcnow
from chainels_app.services.errors import InvalidInput
from chainels_app.settings import get_settings


def new_token() -> str:
    """A URL-safe random token of 256 bits."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The keyed hash stored in place of a token; a database leak reveals none."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def use_once(session: Session, table: type, row_id: int, refusal: str) -> None:
    """Mark a single-use row used, in one statement; refuse if someone was first.

    Reading ``used_at`` and then writing it would let two requests at the same
    moment both pass; the conditional UPDATE lets only one of them change it.
    """
    marked = session.exec(
        update(table)
        .where(table.id == row_id, col(table.used_at).is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    if marked.rowcount != 1:
        raise InvalidInput(refusal)
