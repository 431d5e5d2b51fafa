"""Errors the services raise, each carrying a catalogue key a user can read."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal with a message for the user, by catalogue key and parameters."""

    key = "error.generic"

    def __init__(self, key: str | None = None, **params: Any) -> None:
        self.key = key or self.key
        self.params = params
        super().__init__(self.key)


class NotAuthenticated(DomainError):
    """No valid session: the visitor must log in."""

    key = "error.not_authenticated"


class PermissionDenied(DomainError):
    """The acting user may not do this."""

    key = "error.permission_denied"


class NotFound(DomainError):
    """The thing does not exist, or the acting user may not know it does."""

    key = "error.not_found"


class InvalidInput(DomainError):
    """The input cannot be accepted as it is."""

    key = "error.invalid_input"
