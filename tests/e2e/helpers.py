"""What a person does in the browser, and what they read in their mailbox.

Reflex serves prerendered HTML: a page shows its text before React and the
websocket are ready, and a form submitted that early is a native GET. So every
step first waits for the page to be *live*:

- a member page renders its top bar only once ``SessionState.guard`` has loaded
  the member, so the logout button is the sign (see :func:`expect_member_page`);
- a public page looks the same before and after, so :func:`open_public` waits
  for the state update in which Reflex marks the tab hydrated (the on_load
  handlers have then run).

Client-side redirects (``rx.redirect``) do not update ``page.url`` here, so
paths are read from ``location`` (see :func:`wait_for_path`).
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import time
from email.message import EmailMessage
from pathlib import Path

from playwright.sync_api import Page, WebSocket, expect

LOGOUT_BUTTON = re.compile(r"^(Uitloggen|Log out)$")
EMAIL_LABEL = re.compile(r"^(E-mailadres|E-mail address)$")
PASSWORD_LABEL = re.compile(r"^(Wachtwoord|Password)$")
LOGIN_BUTTON = re.compile(r"^(Inloggen|Log in)$")

_HYDRATED = re.compile(r'is_hydrated_rx_state_\\?"\s*:\s*true')
_HYDRATE_TIMEOUT_MS = 20_000


def _hydrated_frame(payload: str | bytes) -> bool:
    text = payload.decode(errors="replace") if isinstance(payload, bytes) else payload
    return bool(_HYDRATED.search(text))


def open_public(page: Page, path: str) -> None:
    """Open a public page and wait until it is live (state hydrated, on_load run).

    The listener is attached to the websocket as soon as the page opens it, so
    the hydration frame cannot slip by before the test starts waiting.
    """
    sockets: list[WebSocket] = []
    seen: list[bool] = []

    def watch(socket: WebSocket) -> None:
        sockets.append(socket)
        socket.on("framereceived", lambda f: _hydrated_frame(f) and seen.append(True))

    page.on("websocket", watch)
    try:
        page.goto(path)
        if not sockets:
            page.wait_for_event("websocket", timeout=_HYDRATE_TIMEOUT_MS)
        if not seen:
            sockets[-1].wait_for_event(
                "framereceived", predicate=_hydrated_frame, timeout=_HYDRATE_TIMEOUT_MS
            )
    finally:
        page.remove_listener("websocket", watch)


def wait_for_path(page: Page, prefix: str) -> None:
    """Wait until the tab's location starts with ``prefix``.

    ``page.url`` misses React Router's client-side navigation, ``location`` does not.
    """
    page.wait_for_function("prefix => location.pathname.startsWith(prefix)", arg=prefix)


def expect_member_page(page: Page) -> None:
    """Wait until the member shell is shown: the session was loaded."""
    expect(page.get_by_role("button", name=LOGOUT_BUTTON)).to_be_visible()


def expect_login_page(page: Page) -> None:
    """Wait until the tab is on the login page and shows the login form."""
    wait_for_path(page, "/login")
    expect(page.get_by_role("button", name=LOGIN_BUTTON)).to_be_visible()


def login(page: Page, address: str, password: str) -> None:
    """Log in through the form and wait for the feed (or the page asked for)."""
    open_public(page, "/login")
    page.get_by_label(EMAIL_LABEL).fill(address)
    page.get_by_label(PASSWORD_LABEL).fill(password)
    page.get_by_role("button", name=LOGIN_BUTTON).click()
    expect_member_page(page)


def logout(page: Page) -> None:
    """Press the logout button and wait for the login page."""
    page.get_by_role("button", name=LOGOUT_BUTTON).click()
    expect_login_page(page)


def _recipients(message: EmailMessage) -> str:
    return str(message.get("To", "")).lower()


def mails_to(mail_dir: Path, address: str) -> list[EmailMessage]:
    """Every message the console backend wrote to ``address``, oldest first."""
    if not mail_dir.exists():
        return []
    messages = []
    for path in sorted(mail_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
        message = email.message_from_bytes(
            path.read_bytes(), policy=email.policy.default
        )
        if address.lower() in _recipients(message):
            messages.append(message)
    return messages


def read_invite_link(mail_dir: Path, address: str, timeout: float = 20) -> str:
    """The invitation link in the newest mail to ``address``.

    The server's mail worker sends from the outbox within a second or two, so
    this waits for the mail to arrive.
    """
    deadline = time.monotonic() + timeout
    while not (messages := mails_to(mail_dir, address)):
        assert time.monotonic() < deadline, f"no mail to {address} in {mail_dir}"
        time.sleep(0.2)
    body = messages[-1].get_body(preferencelist=("plain",))
    assert body is not None, f"the mail to {address} has no text part"
    match = re.search(r"https?://\S+/invite\?t=\S+", body.get_content())
    assert match, f"no invitation link in the mail to {address}"
    return match.group(0)


def session_cookie(page: Page, name: str = "chainels_session") -> dict:
    """The session cookie of the page's context, as Playwright reports it."""
    cookies = [c for c in page.context.cookies() if c["name"] == name]
    assert cookies, f"no {name} cookie in {json.dumps(page.context.cookies())}"
    return dict(cookies[0])
