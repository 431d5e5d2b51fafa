"""Lean websocket tabs for the fan-out benchmark, all on one asyncio loop.

:class:`ReflexTab` speaks Reflex's own protocol (Socket.IO 5 over Engine.IO 4 on
``/_event``) the way the browser's client does, without python-socketio's
per-client machinery, so a thousand tabs fit in one process. :class:`BareTab` is
a plain websocket. Both stamp the arrival time of the first frame that carries a
given marker (a post's unique title) before decoding anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from typing import Any

import aiohttp

NAMESPACE = "/_event"
ROOT_STATE = "reflex___state____state"
HYDRATED = "is_hydrated_rx_state_"

# Engine.IO packet types, followed by Socket.IO ones inside a "4" message.
_OPEN, _PING, _PONG, _MESSAGE = "0", "2", "3", "4"
_SIO_CONNECT = f"40{NAMESPACE},"
_SIO_EVENT = f"42{NAMESPACE},"


class _Tab:
    """Arrival times of marked frames, shared by both kinds of tab."""

    def __init__(self) -> None:
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.arrivals: dict[str, float] = {}
        self.frame_sizes: dict[str, int] = {}
        self._watched: dict[str, asyncio.Event] = {}
        self._reader: asyncio.Task | None = None

    def watch(self, marker: str) -> asyncio.Event:
        """An event set when a frame containing ``marker`` arrives."""
        return self._watched.setdefault(marker, asyncio.Event())

    def _stamp(self, text: str) -> None:
        now = time.perf_counter()
        for marker, arrived in self._watched.items():
            if not arrived.is_set() and marker in text:
                self.arrivals[marker] = now
                self.frame_sizes[marker] = len(text)
                arrived.set()

    async def close(self) -> None:
        """Close the socket and stop reading."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self.ws is not None and not self.ws.closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 2)


class ReflexTab(_Tab):
    """One browser tab on the app, with its own client token and cookie."""

    def __init__(
        self, http: aiohttp.ClientSession, base: str, *, cookie: str, origin: str
    ) -> None:
        super().__init__()
        self.http = http
        self.base = base.replace("http://", "ws://")
        self.token = str(uuid.uuid4())
        self.headers = {"Cookie": cookie, "Origin": origin}
        self._hydrated = asyncio.Event()

    async def connect(self, timeout: float = 30) -> None:
        """Open the socket and join Reflex's namespace."""
        url = f"{self.base}{NAMESPACE}/?EIO=4&transport=websocket&token={self.token}"
        self.ws = await self.http.ws_connect(
            url, headers=self.headers, timeout=aiohttp.ClientWSTimeout(ws_close=5)
        )
        opening = await asyncio.wait_for(self.ws.receive_str(), timeout)
        if not opening.startswith(_OPEN):
            msg = f"unexpected Engine.IO opening {opening[:80]!r}"
            raise ConnectionError(msg)
        await self.ws.send_str(_SIO_CONNECT)
        joined = await asyncio.wait_for(self.ws.receive_str(), timeout)
        if not joined.startswith(_SIO_CONNECT):
            msg = f"namespace refused: {joined[:200]!r}"
            raise ConnectionError(msg)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            text: str = message.data
            if text == _PING:
                await self.ws.send_str(_PONG)
            elif text.startswith(_SIO_EVENT):
                self._stamp(text)
                if not self._hydrated.is_set() and HYDRATED in text:
                    self._note_hydration(text)

    def _note_hydration(self, text: str) -> None:
        _name, update = json.loads(text[len(_SIO_EVENT) :])
        root = (update.get("delta") or {}).get(ROOT_STATE, {})
        if root.get(HYDRATED) is True:
            self._hydrated.set()

    async def send(self, name: str, payload: dict[str, Any], path: str) -> None:
        """Send one event, as the frontend does."""
        assert self.ws is not None
        router_data = {"pathname": path, "asPath": path, "query": {}}
        event = {"name": name, "payload": payload, "router_data": router_data}
        await self.ws.send_str(_SIO_EVENT + json.dumps(["event", event]))

    async def hydrate(self, path: str, timeout: float = 60) -> None:
        """Hydrate ``path`` and wait until its on_load chain has finished."""
        self._hydrated.clear()
        await self.send(f"{ROOT_STATE}.hydrate_and_load", {}, path)
        await asyncio.wait_for(self._hydrated.wait(), timeout)


class BareTab(_Tab):
    """One plain websocket client of the bare broadcast server."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        super().__init__()
        self.http = http
        self.url = url

    async def connect(self) -> None:
        """Open the socket."""
        self.ws = await self.http.ws_connect(self.url)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            self._stamp(message.data)
