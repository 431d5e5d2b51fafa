"""Random tokens and the keyed hashes under which they are stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from chainels_app.settings import get_settings


def new_token() -> str:
    """A URL-safe random token of 256 bits."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The keyed hash stored in place of a token; a database leak reveals none."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()
