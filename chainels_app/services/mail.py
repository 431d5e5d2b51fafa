"""Outgoing mail.

A service queues a message on its database session; the message goes out only
when that transaction commits, so a refused or failed action never mails. The
``console`` backend writes each message to the log and as an ``.eml`` file in the
mail folder, which is what a laptop and the browser tests read.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from sqlalchemy import event
from sqlmodel import Session

from chainels_app.i18n import translate
from chainels_app.settings import get_settings

logger = logging.getLogger(__name__)

_PENDING = "pending_mail"


@dataclass(frozen=True)
class Mail:
    """One message to one recipient."""

    to: str
    subject: str
    text: str


def compose(*, to: str, locale: str, template: str, **params: str) -> Mail:
    """Build a message from the catalogue's ``mail.<template>.*`` entries."""
    return Mail(
        to=to,
        subject=translate(locale, f"mail.{template}.subject", **params),
        text=translate(locale, f"mail.{template}.body", **params),
    )


def queue(session: Session, mail: Mail) -> None:
    """Send the message once the session's transaction commits."""
    if not session.in_transaction():
        # Begin now, so a rollback before any write still discards the mail.
        session.begin()
    session.info.setdefault(_PENDING, []).append(mail)


def _to_message(mail: Mail) -> EmailMessage:
    settings = get_settings()
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="chainels.local")
    message.set_content(mail.text)
    return message


def deliver(mail: Mail) -> Path:
    """Hand one message to the console backend; returns the file written."""
    settings = get_settings()
    settings.mail_dir.mkdir(parents=True, exist_ok=True)
    message = _to_message(mail)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = settings.mail_dir / f"{stamp}-{secrets.token_hex(4)}.eml"
    path.write_bytes(message.as_bytes())
    logger.info("mail %s written to %s", message["Message-ID"], path.name)
    return path


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    for mail in session.info.pop(_PENDING, []):
        try:
            deliver(mail)
        except OSError:
            # TODO(#4): the outbox table retries; until then a failed write is lost.
            logger.exception("mail to the console backend failed")


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, _previous_transaction: object) -> None:
    session.info.pop(_PENDING, None)
