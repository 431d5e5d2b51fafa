"""A browser tab without the browser: Reflex's websocket protocol with a cookie.

The socket tests and the live-delivery tests both drive the backend this way;
each adds the calls its tests need on top of :class:`ReflexTab`.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

import reflex as rx
import socketio

ROOT_STATE = rx.State.get_full_name()
EVENT_NAMESPACE = "/_event"
# Reflex suffixes every var name it sends to the browser.
VAR_SUFFIX = "_rx_state_"

Update = dict[str, Any]


class ReflexTab:
    """One tab: a socket with a client token, and every update it received."""

    page = "/"
    wait_seconds = 10.0

    def __init__(
        self, base_url: str, *, headers: dict[str, str], token: str | None = None
    ):
        self.base_url = base_url
        self.headers = headers
        # A browser keeps the token in sessionStorage: one per tab, kept across
        # reconnects and full page loads such as the one after logging out.
        self.token = token or str(uuid.uuid4())
        self.updates: list[Update] = []
        self.state: dict[str, dict[str, Any]] = {}
        self._arrived = asyncio.Condition()
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("event", self._on_update, namespace=EVENT_NAMESPACE)

    async def _on_update(self, update: Update) -> None:
        for substate, values in (update.get("delta") or {}).items():
            self.state.setdefault(substate, {}).update(values)
        async with self._arrived:
            self.updates.append(update)
            self._arrived.notify_all()

    async def connect(self) -> None:
        """Open the socket; raises ``socketio.exceptions.ConnectionError``."""
        try:
            await self.sio.connect(
                f"{self.base_url}?token={self.token}",
                headers=self.headers,
                transports=["websocket"],
                socketio_path=EVENT_NAMESPACE,
                namespaces=[EVENT_NAMESPACE],
                wait_timeout=self.wait_seconds,
            )
        except socketio.exceptions.ConnectionError:
            await self.close()
            raise

    async def close(self) -> None:
        """Close the socket and its HTTP session."""
        if self.sio.connected:
            await self.sio.disconnect()
        http = getattr(self.sio.eio, "http", None)
        if http is not None and not http.closed:
            await http.close()

    async def send(
        self, name: str, payload: dict[str, Any], path: str | None = None
    ) -> None:
        """Send one event from ``path`` (the tab's page), without waiting."""
        path = path or self.page
        router_data = {"pathname": path, "asPath": path, "query": {}}
        event = {"name": name, "payload": payload, "router_data": router_data}
        await self.sio.emit("event", event, namespace=EVENT_NAMESPACE)

    async def wait_for(
        self, done: Callable[[Update], bool], *, since: int = 0
    ) -> list[Update]:
        """Wait for an update after index ``since`` that satisfies ``done``."""

        def arrived() -> bool:
            return any(done(update) for update in self.updates[since:])

        async with self._arrived:
            await asyncio.wait_for(
                self._arrived.wait_for(arrived), timeout=self.wait_seconds
            )
        return self.updates[since:]

    async def hydrate(self, path: str | None = None) -> list[Update]:
        """What a tab sends first: hydrate and run the page's on_load."""
        start = len(self.updates)
        await self.send(f"{ROOT_STATE}.hydrate_and_load", {}, path)
        return await self.wait_for(hydrated(True), since=start)

    def received_text(self) -> str:
        """Everything the backend ever sent this tab, as one searchable text."""
        return json.dumps(self.updates)


def hydrated(value: bool) -> Callable[[Update], bool]:
    """Whether an update sets the root state's ``is_hydrated`` to ``value``."""

    def check(update: Update) -> bool:
        root = (update.get("delta") or {}).get(ROOT_STATE, {})
        return root.get(f"is_hydrated{VAR_SUFFIX}") is value

    return check
