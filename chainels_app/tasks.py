"""Background work that runs beside the app in every worker."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from chainels_app import db
from chainels_app.i18n import AMSTERDAM
from chainels_app.services import auth, media, outbox
from chainels_app.services.transport import get_transport
from chainels_app.settings import get_settings

logger = logging.getLogger(__name__)

HOUSEKEEPING_INTERVAL_SECONDS = 3600
MAIL_IDLE_SECONDS = 1.0
DIGEST_CHECK_SECONDS = 60


async def housekeeping() -> None:
    """Purge ended sessions, stale tokens, login failures and stray uploads, hourly."""
    while True:
        # Each job in its own transaction, so one failing does not stop the other.
        for job in (auth.purge_expired, media.purge_unclaimed):
            try:
                await db.run(job)
            except Exception:
                logger.exception(
                    "housekeeping %s failed; retrying next round", job.__name__
                )
        await asyncio.sleep(HOUSEKEEPING_INTERVAL_SECONDS)


async def mail_worker() -> None:
    """Send what the outbox holds, round after round; rest when it is empty."""
    transport = get_transport()
    while True:
        try:
            handled = await asyncio.to_thread(outbox.send_due, transport)
        except Exception:
            logger.exception("mail round failed; trying again shortly")
            handled = 0
        if not handled:
            await asyncio.sleep(MAIL_IDLE_SECONDS)


async def digest_timer() -> None:
    """Once a day at the digest hour (Amsterdam time), gather the digests."""
    last_day = None
    while True:
        now = datetime.now(AMSTERDAM)
        if now.hour == get_settings().digest_hour and now.date() != last_day:
            try:
                count = await db.run(outbox.queue_digests)
                logger.info("daily digest: %s members", count)
                last_day = now.date()
            except Exception:
                logger.exception("daily digest failed; trying again next minute")
        await asyncio.sleep(DIGEST_CHECK_SECONDS)
