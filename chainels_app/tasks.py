"""Background work that runs beside the app in every worker."""

from __future__ import annotations

import asyncio
import logging

from chainels_app import db
from chainels_app.services import auth

logger = logging.getLogger(__name__)

HOUSEKEEPING_INTERVAL_SECONDS = 3600


async def housekeeping() -> None:
    """Delete ended sessions, stale tokens and old login failures, hourly."""
    while True:
        try:
            await db.run(auth.purge_expired)
        except Exception:
            logger.exception("housekeeping failed; trying again next round")
        await asyncio.sleep(HOUSEKEEPING_INTERVAL_SECONDS)
