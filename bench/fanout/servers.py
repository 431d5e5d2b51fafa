"""Start and stop the servers under test as subprocesses, each in its own group."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent.parent
APP_TARGET = "chainels_app.chainels_app:app"
# Granian's default backpressure is backlog/workers (1024): more sockets than
# that would queue, which is not what we measure.
_GRANIAN_LIMITS = ("--backlog", "4096", "--backpressure", "4096")


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reflex_env(workdir: Path, **settings: str) -> dict[str, str]:
    """The environment of a backend without a frontend build, on ``workdir``."""
    from reflex_base.environment import environment

    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(
        {
            environment.REFLEX_SKIP_COMPILE.name: "true",
            # As `make run` serves it: production mode checks var types shallowly.
            environment.REFLEX_ENV_MODE.name: "prod",
            environment.REFLEX_WEB_WORKDIR.name: str(workdir / "web"),
            environment.REFLEX_STATES_WORKDIR.name: str(workdir / "states"),
            "REFLEX_TELEMETRY_ENABLED": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(settings)
    return env


def _granian(target: str, port: int, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
        *_GRANIAN_LIMITS,
        *extra,
        target,
    ]


def _spawn(command: list[str], cwd: Path, env: dict, log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until_up(proc: subprocess.Popen, url: str, log: Path, timeout: float) -> None:
    """Poll ``url`` until it answers; fail with the log's tail otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1):
            return
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    msg = f"server at {url} did not come up:\n{tail}"
    raise RuntimeError(msg)


def stop(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Terminate the server's process group, then kill it if it lingers."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout)


@contextlib.contextmanager
def app_backend(env: dict[str, str], log: Path) -> Iterator[str]:
    """The app's backend under Granian, one worker; yields its base URL."""
    port = free_port()
    command = _granian(APP_TARGET, port, "--factory")
    proc = _spawn(command, PROJECT, env, log)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(proc, f"{base}/api/health", log, timeout=90)
        yield base
    finally:
        stop(proc)


@contextlib.contextmanager
def profiled_app_backend(
    env: dict[str, str], log: Path, stats: Path
) -> Iterator[tuple[str, subprocess.Popen]]:
    """The app's backend under uvicorn and cProfile; yields its URL and process."""
    port = free_port()
    command = [
        sys.executable,
        str(HERE / "profiled_backend.py"),
        str(port),
        str(stats),
    ]
    proc = _spawn(command, PROJECT, env, log)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(proc, f"{base}/api/health", log, timeout=90)
        yield base, proc
    finally:
        stop(proc)


@contextlib.contextmanager
def bare_server(log: Path) -> Iterator[str]:
    """The bare broadcast server under Granian; yields its websocket URL."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = _spawn(_granian("bare_broadcast:app", port), HERE, env, log)
    try:
        wait_until_up(proc, f"http://127.0.0.1:{port}/", log, timeout=30)
        yield f"ws://127.0.0.1:{port}/ws"
    finally:
        stop(proc)
