"""How mail leaves the building: the transport interface and the console transport.

The outbox worker hands a transport one :class:`MailBatch`: the same subject and
body for many recipients, with per-recipient substitutions (the unsubscribe link)
and headers (``List-Unsubscribe``). A transport sends it in as few requests as its
provider allows and answers one :class:`Outcome` per recipient. Transports are
synchronous; the worker runs them in a thread.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate
from html import escape
from typing import Protocol

from chainels_app.settings import Settings, get_settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InlineImage:
    """A picture embedded in the mail itself (``cid:``), never fetched."""

    cid: str
    data: bytes
    content_type: str
    filename: str


@dataclass(frozen=True)
class Recipient:
    """One recipient of a batch, with what differs for them."""

    key: str
    address: str
    substitutions: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MailBatch:
    """One message for many recipients.

    Each recipient's ``substitutions`` map a literal tag in the texts (such as
    ``{{unsubscribe_url}}``) to its value; values are HTML-escaped in the HTML.
    """

    subject: str
    text: str
    html: str
    recipients: tuple[Recipient, ...]
    inline_images: tuple[InlineImage, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """What became of one recipient's mail.

    ``sent`` is final success. Otherwise ``retry_after`` (seconds, may be 0) asks
    for another attempt; ``None`` means the failure is permanent.
    """

    key: str
    sent: bool
    retry_after: float | None = None
    error: str = ""


class Transport(Protocol):
    """Something that delivers batches."""

    max_batch: int

    def send(self, batch: MailBatch) -> list[Outcome]:
        """Deliver the batch; one outcome per recipient, in any order."""
        ...


def substitute(text: str, substitutions: dict[str, str], *, html: bool = False) -> str:
    """Fill a recipient's tags (keys such as ``{{unsubscribe_url}}``) into a text."""
    for tag, value in substitutions.items():
        text = text.replace(tag, escape(value) if html else value)
    return text


def message_id(key: str) -> str:
    """A Message-ID derived from the mail's idempotency key: a retry keeps it."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<{digest}@chainels.local>"


def to_message(
    batch: MailBatch, recipient: Recipient, settings: Settings | None = None
) -> EmailMessage:
    """The complete MIME message one recipient gets (text, HTML, inline images)."""
    settings = settings or get_settings()
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = recipient.address
    message["Subject"] = substitute(batch.subject, recipient.substitutions)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id(recipient.key)
    for name, value in recipient.headers.items():
        message[name] = value
    message.set_content(substitute(batch.text, recipient.substitutions))
    if batch.html:
        message.add_alternative(
            substitute(batch.html, recipient.substitutions, html=True), subtype="html"
        )
        html_part = message.get_payload()[-1]
        for image in batch.inline_images:
            maintype, subtype = image.content_type.split("/", 1)
            html_part.add_related(
                image.data,
                maintype=maintype,
                subtype=subtype,
                cid=f"<{image.cid}>",
                filename=image.filename,
                disposition="inline",
            )
    return message


class ConsoleTransport:
    """The laptop default: every mail to the log and as an ``.eml`` file."""

    max_batch = 1000

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()

    def send(self, batch: MailBatch) -> list[Outcome]:
        """Write one file per recipient."""
        folder = self.settings.mail_dir
        folder.mkdir(parents=True, exist_ok=True)
        outcomes = []
        for recipient in batch.recipients:
            message = to_message(batch, recipient, self.settings)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            path = folder / f"{stamp}-{secrets.token_hex(4)}.eml"
            path.write_bytes(message.as_bytes())
            logger.info("mail %s written to %s", message["Message-ID"], path.name)
            outcomes.append(Outcome(key=recipient.key, sent=True))
        return outcomes


def get_transport(settings: Settings | None = None) -> Transport:
    """The transport the settings choose."""
    settings = settings or get_settings()
    if settings.mail_backend == "smtp":
        from chainels_app.services.smtp_transport import SmtpTransport

        return SmtpTransport(settings)
    if settings.mail_backend == "sendgrid":
        from chainels_app.services.sendgrid_transport import SendGridTransport

        return SendGridTransport(settings)
    return ConsoleTransport(settings)
