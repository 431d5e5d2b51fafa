"""Background work that runs beside the app in every worker."""

from __future__ import annotations

import asyncio
import logging

from chainels_app import db
from chainels_app.services import auth, media

logger = logging.getLogger(__name__)

HOUSEKEEPING_INTERVAL_SECONDS = 3600


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
