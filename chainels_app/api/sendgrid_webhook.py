"""SendGrid's Event Webhook: bounces, drops, complaints and unsubscribes stop mail.

SendGrid signs each delivery with ECDSA over ``timestamp + body``; anything
unsigned, or signed with another key, is refused with 403 before it is read.
"""

from __future__ import annotations

import json
import logging

from sendgrid.helpers.eventwebhook import EventWebhook
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from chainels_app import db
from chainels_app.services.sendgrid_transport import addresses_to_suppress, suppress
from chainels_app.settings import get_settings

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"


def signature_is_valid(
    *, body: bytes, signature: str, timestamp: str, public_key: str
) -> bool:
    """Whether SendGrid signed exactly this body at this timestamp."""
    if not (signature and timestamp and public_key):
        return False
    try:
        verifier = EventWebhook(public_key)
        return verifier.verify_signature(body.decode("utf-8"), signature, timestamp)
    except (ValueError, TypeError):
        # Not UTF-8, not base64, or a public key that is no EC key.
        return False


def _suppress_all(session: Session, addresses: dict[str, str]) -> int:
    return sum(
        suppress(session, email=address, reason=reason)
        for address, reason in addresses.items()
    )


async def receive_events(request: Request) -> Response:
    """Store the suppressions in one signed batch of SendGrid events."""
    body = await request.body()
    public_key = get_settings().sendgrid_webhook_public_key
    if not public_key:
        logger.error("sendgrid events refused: no webhook public key is configured")
        return Response(status_code=403)
    if not signature_is_valid(
        body=body,
        signature=request.headers.get(SIGNATURE_HEADER, ""),
        timestamp=request.headers.get(TIMESTAMP_HEADER, ""),
        public_key=public_key,
    ):
        logger.warning("sendgrid events refused: bad or missing signature")
        return Response(status_code=403)

    try:
        events = json.loads(body)
    except ValueError:
        events = None
    if not isinstance(events, list):
        logger.warning("sendgrid events refused: the body is no JSON list")
        return Response(status_code=400)

    addresses = addresses_to_suppress(events)
    added = await db.run(_suppress_all, addresses) if addresses else 0
    logger.info(
        "sendgrid events: %s received, %s addresses newly suppressed",
        len(events),
        added,
    )
    return Response(status_code=200)
