"""The SMTP transport: one connection per batch, one message per recipient.

Each recipient gets its own SMTP transaction, so a refusal of one address never
stops the others. Replies map onto :class:`Outcome` the way the outbox worker
expects: a 5xx reply is final, a 4xx reply asks for a retry, and a lost session
leaves every recipient not yet accepted to be tried again.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.utils import parseaddr

from chainels_app.services.transport import (
    MailBatch,
    Outcome,
    Recipient,
    to_message,
)
from chainels_app.settings import Settings, get_settings

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30.0
# 0: the outbox backs off exponentially (with jitter) from its own base delay.
REFUSED_RETRY_SECONDS = 0.0
SESSION_RETRY_SECONDS = 0.0


class SmtpTransport:
    """Delivers batches through the SMTP server the settings name."""

    max_batch = 100

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        # Tests pass a context that trusts their own certificate.
        self.tls_context = tls_context or ssl.create_default_context()

    def send(self, batch: MailBatch) -> list[Outcome]:
        """Send every recipient its own message over one SMTP session."""
        outcomes: dict[str, Outcome] = {}
        try:
            with self._connect() as smtp:
                for recipient in batch.recipients:
                    outcome = self._send_one(smtp, batch, recipient)
                    outcomes[recipient.key] = outcome
        except (smtplib.SMTPException, OSError) as error:
            # Whoever has no outcome yet was not accepted, or (a timeout after
            # DATA) we cannot know: retrying risks a duplicate, never a loss.
            # A refused sender (MAIL FROM) lands here too: it is our setting,
            # not the recipients' fault, so nobody fails for good over it.
            logger.warning(
                "smtp session to %s:%s ended after %s of %s recipients: %s",
                self.settings.smtp_host,
                self.settings.smtp_port,
                len(outcomes),
                len(batch.recipients),
                _describe(error),
            )
            for recipient in batch.recipients:
                outcomes.setdefault(recipient.key, _session_lost(recipient, error))

        ordered = [outcomes[recipient.key] for recipient in batch.recipients]
        _log_counts(ordered)
        return ordered

    def _connect(self) -> smtplib.SMTP:
        """Open, secure and authenticate one session."""
        settings = self.settings
        smtp = smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS
        )
        try:
            if settings.smtp_starttls:
                smtp.starttls(context=self.tls_context)
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _send_one(
        self, smtp: smtplib.SMTP, batch: MailBatch, recipient: Recipient
    ) -> Outcome:
        """One transaction; refusals of this recipient end here, the rest raise."""
        try:
            message = to_message(batch, recipient, self.settings)
        except ValueError as error:
            # A header that cannot be written (e.g. a line break) never will be.
            logger.exception("smtp message for %s cannot be built", recipient.key)
            return Outcome(key=recipient.key, sent=False, error=str(error))

        try:
            smtp.send_message(
                message,
                from_addr=parseaddr(self.settings.mail_from)[1],
                to_addrs=[recipient.address],
            )
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            return _refused(recipient, code, reply)
        except smtplib.SMTPDataError as error:
            return _refused(recipient, error.smtp_code, error.smtp_error)
        except smtplib.SMTPNotSupportedError as error:
            # An address that needs SMTPUTF8 on a server without it.
            return Outcome(key=recipient.key, sent=False, error=str(error))
        return Outcome(key=recipient.key, sent=True)


def _refused(recipient: Recipient, code: int, reply: bytes | str) -> Outcome:
    """Map the server's refusal of one recipient onto an outcome."""
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    retry_after = None if 500 <= code < 600 else REFUSED_RETRY_SECONDS
    return Outcome(
        key=recipient.key,
        sent=False,
        retry_after=retry_after,
        error=f"{code} {reply}",
    )


def _session_lost(recipient: Recipient, error: BaseException) -> Outcome:
    """A recipient the lost session never got to, or lost halfway."""
    return Outcome(
        key=recipient.key,
        sent=False,
        retry_after=SESSION_RETRY_SECONDS,
        error=_describe(error),
    )


def _describe(error: BaseException) -> str:
    """The error's kind and code only: server replies may quote addresses."""
    code = getattr(error, "smtp_code", None)
    name = type(error).__name__
    return f"{name} {code}" if code is not None else name


def _log_counts(outcomes: list[Outcome]) -> None:
    sent = sum(outcome.sent for outcome in outcomes)
    retry = sum(
        not outcome.sent and outcome.retry_after is not None for outcome in outcomes
    )
    logger.info(
        "smtp batch done: %s sent, %s to retry, %s failed",
        sent,
        retry,
        len(outcomes) - sent - retry,
    )
