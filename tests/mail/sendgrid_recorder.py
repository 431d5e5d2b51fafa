"""A stand-in for SendGrid's ``POST /v3/mail/send`` on 127.0.0.1, for tests.

It checks the API key, records every authorized request and answers 202, or, when
told to, fails a seeded-random fraction of requests with 429 (with an
``X-RateLimit-Reset``) or 5xx, or every request with one status. Use it as a
context manager or through the :func:`sendgrid_recorder` fixture::

    with SendGridRecorder(fail_rate=0.2, fail_status=429) as recorder:
        transport = SendGridTransport(recorder.settings(tmp_path))
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from chainels_app.settings import Settings, load_settings

API_KEY = "SG.recorder-test-key"
MAIL_SEND_PATH = "/v3/mail/send"
MAX_PERSONALIZATIONS = 1000


@dataclass(frozen=True)
class RecordedRequest:
    """One request the recorder received, and the status it answered."""

    body: dict[str, Any]
    status: int

    @property
    def accepted(self) -> bool:
        """Whether SendGrid would have taken these mails."""
        return self.status == 202

    @property
    def addresses(self) -> list[str]:
        """Every ``to`` address, in order."""
        return [
            to["email"]
            for personalization in self.body.get("personalizations", [])
            for to in personalization.get("to", [])
        ]


class SendGridRecorder:
    """A threaded HTTP server that behaves like SendGrid's mail send endpoint."""

    def __init__(
        self,
        *,
        api_key: str = API_KEY,
        fail_rate: float = 0.0,
        fail_status: int = 429,
        seed: int = 0,
        reset_in: float = 5.0,
    ) -> None:
        self.api_key = api_key
        self.fail_rate = fail_rate
        self.fail_status = fail_status
        self.reset_in = reset_in
        self.requests: list[RecordedRequest] = []
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._hold_after: int | None = None
        self._released = threading.Event()
        self.held = threading.Event()
        self.dropped = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def url(self) -> str:
        """The base URL to use as ``sendgrid_host``."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def settings(self, data_dir: Path) -> Settings:
        """Settings whose SendGrid backend is this recorder, with its API key."""
        return load_settings(
            {
                "DATA_DIR": str(data_dir),
                "MAIL_BACKEND": "sendgrid",
                "SENDGRID_API_KEY": self.api_key,
                "SENDGRID_HOST": self.url,
            }
        )

    @property
    def personalizations(self) -> list[dict[str, Any]]:
        """Every personalization received, accepted or not, in order."""
        return [
            personalization
            for request in self.requests
            for personalization in request.body.get("personalizations", [])
        ]

    @property
    def accepted(self) -> Counter[str]:
        """How many mails each address got, from requests answered 202 only."""
        return Counter(
            address
            for request in self.requests
            if request.accepted
            for address in request.addresses
        )

    def fail(self, status: int, rate: float = 1.0, seed: int | None = None) -> None:
        """Answer ``status`` to this fraction of the requests from now on.

        Which requests fail follows a random generator seeded with ``seed`` (or
        the constructor's), so a test sees the same failures on every run.
        """
        with self._lock:
            self.fail_status, self.fail_rate = status, rate
            if seed is not None:
                self._random.seed(seed)

    def hold_after(self, count: int) -> None:
        """Keep every request after the first ``count`` waiting, unanswered.

        A test kills the sender while a request waits, then calls
        :meth:`release`: the waiting requests are dropped as if the network had
        lost them before SendGrid read them, so none of their mails went out.
        """
        self._hold_after = count

    def release(self) -> None:
        """Let waiting requests go (dropped) and stop holding new ones."""
        self._hold_after = None
        self._released.set()

    def should_drop(self) -> bool:
        """Called by the handler: wait while holding; True means drop it."""
        with self._lock:
            hold = (
                self._hold_after is not None and len(self.requests) >= self._hold_after
            )
        if not hold:
            return False
        self.held.set()
        self._released.wait(timeout=60)
        with self._lock:
            self.dropped += 1
        return True

    def start(self) -> SendGridRecorder:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SendGridRecorder:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def answer(self, authorization: str | None, raw: bytes) -> tuple[int, dict, dict]:
        """Record one request; the status, headers and JSON body to answer."""
        if authorization != f"Bearer {self.api_key}":
            return _error(401, "The provided authorization grant is invalid")
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(400, "Bad Request")
        status, headers, reply = self._decide(body)
        with self._lock:
            self.requests.append(RecordedRequest(body=body, status=status))
        return status, headers, reply

    def _decide(self, body: Any) -> tuple[int, dict, dict]:
        problem = _invalid(body)
        if problem:
            return _error(400, problem)
        with self._lock:
            failing = self.fail_rate > 0 and self._random.random() < self.fail_rate
            status = self.fail_status
        if not failing:
            return 202, {}, {}
        if status == 429:
            reset = int(time.time() + self.reset_in)
            status, headers, reply = _error(429, "too many requests")
            return status, {**headers, "X-RateLimit-Reset": str(reset)}, reply
        return _error(status, "simulated failure")


def _invalid(body: Any) -> str:
    """What SendGrid would reject in a body, or empty."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    personalizations = body.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        return "personalizations are required"
    if len(personalizations) > MAX_PERSONALIZATIONS:
        return f"at most {MAX_PERSONALIZATIONS} personalizations"
    if not body.get("from", {}).get("email"):
        return "from.email is required"
    if not body.get("content") and not body.get("template_id"):
        return "content is required"
    return ""


def _error(status: int, message: str) -> tuple[int, dict, dict]:
    return status, {}, {"errors": [{"message": message}]}


def _handler_for(recorder: SendGridRecorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if recorder.should_drop():
                self.close_connection = True
                return
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path != MAIL_SEND_PATH:
                self._reply(*_error(404, "not found"))
                return
            self._reply(*recorder.answer(self.headers.get("Authorization"), raw))

        def _reply(self, status: int, headers: dict, reply: dict) -> None:
            data = json.dumps(reply).encode() if reply else b""
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests read :attr:`SendGridRecorder.requests` instead."""

    return Handler


@pytest.fixture
def sendgrid_recorder() -> Iterator[SendGridRecorder]:
    """A recorder that accepts every request; tests may tell it to fail some."""
    with SendGridRecorder() as recorder:
        yield recorder
