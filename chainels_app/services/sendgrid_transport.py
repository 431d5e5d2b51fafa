"""Mail through SendGrid's v3 API, and the suppressions its event webhook reports.

One request carries up to 1,000 recipients, each as a personalization with its own
substitutions, headers and idempotency key (``custom_args``, which SendGrid echoes
in its events). SendGrid answers per request, so every recipient of a request gets
that request's outcome.
"""

from __future__ import annotations

import base64
import logging
import time
from email.utils import parseaddr
from http.client import HTTPException
from typing import Any

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from chainels_app.models import MailSuppression, utcnow
from chainels_app.services.auth import normalize_email
from chainels_app.services.transport import MailBatch, Outcome, Recipient
from chainels_app.settings import Settings, get_settings

logger = logging.getLogger(__name__)

# The client logs every payload (addresses) and request header (the API key) at
# DEBUG; a debug log level for the whole app must not leak them.
logging.getLogger("python_http_client.client").setLevel(logging.INFO)

IDEMPOTENCY_ARG = "idempotency_key"
REQUEST_TIMEOUT_SECONDS = 30
# 0: the outbox backs off exponentially; only a rate-limit reset names a time.
SERVER_RETRY_SECONDS = 0.0
RATE_LIMIT_RETRY_SECONDS = 60.0
SUPPRESSING_EVENTS = frozenset(
    {"bounce", "dropped", "spamreport", "unsubscribe", "group_unsubscribe"}
)
_MAX_ADDRESS_LENGTH = 254
_INSERTS = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}


class SendGridTransport:
    """Sends batches with the official SendGrid client."""

    max_batch = 1000

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self._api = SendGridAPIClient(
            api_key=self.settings.sendgrid_api_key, host=self.settings.sendgrid_host
        )

    def send(self, batch: MailBatch) -> list[Outcome]:
        """One request per ``max_batch`` recipients; one outcome per recipient."""
        outcomes: list[Outcome] = []
        for start in range(0, len(batch.recipients), self.max_batch):
            chunk = batch.recipients[start : start + self.max_batch]
            outcomes.extend(self._send_request(batch, chunk))
        return outcomes

    def _send_request(
        self, batch: MailBatch, recipients: tuple[Recipient, ...]
    ) -> list[Outcome]:
        body = request_body(batch, recipients, sender=self.settings.mail_from)
        try:
            self._api.client.mail.send.post(
                request_body=body, timeout=REQUEST_TIMEOUT_SECONDS
            )
        except HTTPError as error:
            return _refused(recipients, error)
        except (OSError, HTTPException) as error:
            logger.warning(
                "sendgrid unreachable for %s recipients: %s",
                len(recipients),
                type(error).__name__,
            )
            error_text = f"sendgrid unreachable: {type(error).__name__}"
            return _outcomes(recipients, SERVER_RETRY_SECONDS, error_text)

        logger.info("sendgrid accepted a request for %s recipients", len(recipients))
        return [Outcome(key=recipient.key, sent=True) for recipient in recipients]


def request_body(
    batch: MailBatch, recipients: tuple[Recipient, ...], *, sender: str
) -> dict[str, Any]:
    """The ``/v3/mail/send`` JSON for one request."""
    name, address = parseaddr(sender)
    content = [{"type": "text/plain", "value": batch.text}]
    if batch.html:
        content.append({"type": "text/html", "value": batch.html})
    body: dict[str, Any] = {
        "from": {"email": address, "name": name} if name else {"email": address},
        "subject": batch.subject,
        "personalizations": [_personalization(r) for r in recipients],
        "content": content,
    }
    if batch.inline_images:
        body["attachments"] = [
            {
                "content": base64.b64encode(image.data).decode("ascii"),
                "type": image.content_type,
                "filename": image.filename,
                "disposition": "inline",
                "content_id": image.cid,
            }
            for image in batch.inline_images
        ]
    return body


def _personalization(recipient: Recipient) -> dict[str, Any]:
    personalization: dict[str, Any] = {
        "to": [{"email": recipient.address}],
        "custom_args": {IDEMPOTENCY_ARG: recipient.key},
    }
    if recipient.substitutions:
        personalization["substitutions"] = dict(recipient.substitutions)
    if recipient.headers:
        personalization["headers"] = dict(recipient.headers)
    return personalization


def _refused(recipients: tuple[Recipient, ...], error: HTTPError) -> list[Outcome]:
    status = int(error.status_code)
    if status == 429:
        retry_after: float | None = _seconds_until_reset(error.headers)
    elif status >= 500:
        retry_after = SERVER_RETRY_SECONDS
    else:
        retry_after = None
    log = logger.error if status in (401, 403) else logger.warning
    log(
        "sendgrid answered %s for %s recipients (retry in %s s)",
        status,
        len(recipients),
        retry_after,
    )
    return _outcomes(recipients, retry_after, f"sendgrid HTTP {status}")


def _seconds_until_reset(headers: Any) -> float:
    """Seconds until ``X-RateLimit-Reset`` (a Unix time), at least one."""
    raw = headers.get("X-RateLimit-Reset") if headers is not None else None
    try:
        reset = float(raw)
    except (TypeError, ValueError):
        return RATE_LIMIT_RETRY_SECONDS
    return max(1.0, reset - time.time())


def _outcomes(
    recipients: tuple[Recipient, ...], retry_after: float | None, error: str
) -> list[Outcome]:
    return [
        Outcome(key=r.key, sent=False, retry_after=retry_after, error=error)
        for r in recipients
    ]


def addresses_to_suppress(events: list[Any]) -> dict[str, str]:
    """The addresses SendGrid's events say to stop mailing, each with its reason."""
    found: dict[str, str] = {}
    for event in events:
        if not isinstance(event, dict):
            continue
        kind, email = event.get("event"), event.get("email")
        if kind not in SUPPRESSING_EVENTS or not isinstance(email, str):
            continue
        # A block is the receiving server refusing this message (content, IP
        # reputation), not the address being dead: the next mail may well arrive.
        if kind == "bounce" and event.get("type") == "blocked":
            continue
        address = normalize_email(email)
        if address and len(address) <= _MAX_ADDRESS_LENGTH:
            found.setdefault(address, kind)
    return found


def suppress(session: Session, *, email: str, reason: str) -> bool:
    """Stop all mail to an address; an address already suppressed keeps its row.

    Returns whether the address was newly suppressed.
    """
    insert = _INSERTS[session.get_bind().dialect.name]
    statement = insert(MailSuppression).values(
        email=normalize_email(email), reason=reason[:20], created_at=utcnow()
    )
    # ON CONFLICT rather than read-then-insert: SendGrid posts events for the
    # same address concurrently, and both requests would see no row.
    statement = statement.on_conflict_do_nothing(index_elements=["email"])
    added = session.exec(statement.returning(MailSuppression.email))
    return added.scalar_one_or_none() is not None
