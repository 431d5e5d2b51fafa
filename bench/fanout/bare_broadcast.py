"""The baseline: a bare ASGI websocket broadcast, served by Granian.

Listeners connect to ``/ws``; a poster connects to ``/ws?poster=1`` and sends
``{"title": ..., "size": ...}``. The server builds one frame of ``size``
characters carrying the title and sends it to every listener in turn: no state,
no lock, no per-tab work beyond the send itself.
"""

from __future__ import annotations

import json
from typing import Any

_listeners: set[Any] = set()


def _frame(title: str, size: int) -> str:
    head = json.dumps({"title": title, "padding": ""})[:-2]
    return head + "x" * max(0, size - len(head) - 2) + '"}'


async def _broadcast(text: str) -> None:
    order = json.loads(text)
    frame = _frame(order["title"], int(order["size"]))
    for send in list(_listeners):
        try:
            await send({"type": "websocket.send", "text": frame})
        except Exception:
            # A listener that left is dropped; the others still get the frame.
            _listeners.discard(send)


async def app(scope: dict, receive: Any, send: Any) -> None:
    """The ASGI entry point."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] != "websocket":
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return

    poster = b"poster=1" in scope.get("query_string", b"")
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    if not poster:
        _listeners.add(send)
    try:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            if poster and message.get("text"):
                await _broadcast(message["text"])
    finally:
        _listeners.discard(send)
