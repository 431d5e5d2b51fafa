"""Keep a tab's state from outliving the session it was loaded for.

A browser tab keeps its Reflex token across page loads, and hydration sends the
whole stored state before any page handler runs. When the session cookie of the
new connection is not the one the state was loaded for (logged out elsewhere,
expired, another person), the tab's state is wiped before it is sent.
"""

from __future__ import annotations

import logging
from typing import Any

from reflex.middleware import Middleware
from reflex.state import BaseState

from chainels_app.state.common import forget_tab, session_key
from chainels_app.state.session import SessionState

logger = logging.getLogger(__name__)

_HYDRATE_EVENTS = (".hydrate_and_load", ".hydrate")


class ForgetOtherSessions(Middleware):
    """Wipe the tab's state on hydration when its session has changed."""

    async def preprocess(self, app: Any, state: BaseState, event: Any) -> None:
        """Runs before every event; acts only on hydration."""
        if not event.name.endswith(_HYDRATE_EVENTS):
            return None
        session_state = await state.get_state(SessionState)
        if session_state._loaded_for not in ("", session_key(state)):
            logger.info("tab state from another session wiped before hydration")
            await forget_tab(state)
        return None
