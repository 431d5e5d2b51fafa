"""Every path of the app, and builders for the ones that take arguments."""

from __future__ import annotations

from urllib.parse import urlencode

HOME = "/"
LOGIN = "/login"
FORGOT_PASSWORD = "/forgot"
RESET_PASSWORD = "/reset"
INVITE = "/invite"
FEED = "/feed"
ADMIN_MEMBERS = "/admin/members"
ADMIN_INVITES = "/admin/invites"
ADMIN_COMPANIES = "/admin/companies"
ADMIN_GROUPS = "/admin/groups"

POST_DETAIL = "/post"
SETTINGS = "/settings"

# HTTP routes beside the Reflex app.
MEDIA = "/media/{attachment_id:int}/{variant}"
AUTH_TICKET = "/auth/ticket"
AUTH_LOGOUT = "/auth/logout"
HEALTH = "/api/health"
UNSUBSCRIBE = "/unsubscribe"
SENDGRID_EVENTS = "/api/sendgrid/events"

PUBLIC_PAGES = (LOGIN, FORGOT_PASSWORD, RESET_PASSWORD, INVITE)
MEMBER_PAGES = (HOME, FEED, POST_DETAIL, SETTINGS)
ADMIN_PAGES = (ADMIN_MEMBERS, ADMIN_INVITES, ADMIN_COMPANIES, ADMIN_GROUPS)


def invite_link(token: str) -> str:
    """The path an invitation mail links to."""
    return f"{INVITE}?{urlencode({'t': token})}"


def reset_link(token: str) -> str:
    """The path a password-reset mail links to."""
    return f"{RESET_PASSWORD}?{urlencode({'t': token})}"


def media_url(attachment_id: int, variant: str = "display") -> str:
    """Where a member's browser fetches an attachment (checked per request)."""
    return f"/media/{attachment_id}/{variant}"


def post_detail(post_id: int) -> str:
    """The page of one post."""
    return f"{POST_DETAIL}?{urlencode({'id': post_id})}"


def unsubscribe_url(token: str) -> str:
    """The page a mail's unsubscribe link opens (and one-click POSTs to)."""
    return f"{UNSUBSCRIBE}?{urlencode({'t': token})}"


def login_url(next_path: str) -> str:
    """The login page, coming back to ``next_path`` afterwards."""
    return f"{LOGIN}?{urlencode({'next': next_path})}"


def ticket_url(ticket: str, next_path: str = FEED) -> str:
    """The HTTP route that swaps a login ticket for the session cookie."""
    return f"{AUTH_TICKET}?{urlencode({'t': ticket, 'next': next_path})}"


def safe_next(path: str | None) -> str:
    """A local path to continue to after login; anything else goes to the feed."""
    if not path or not path.startswith("/") or path.startswith("//"):
        return FEED
    if "\\" in path or path.startswith(("/auth/", "/api/")):
        return FEED
    return path
