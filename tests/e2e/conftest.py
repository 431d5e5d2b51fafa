"""One production server and one Chromium for all the browser tests.

Both are package-scoped: every browser test lives here, so that is once per
session, and they are gone before other packages run. (A live sync Playwright
holds an asyncio loop in the main thread, which breaks pytest-asyncio tests
that run after it.)

The server is the real thing: ``reflex run --env prod --single-port`` on a
temporary data folder that was migrated and seeded first. ``.web`` is kept
between runs, so only the first run pays for ``npm install``; every run still
recompiles (the build embeds the port). Each test gets a fresh browser context.

The build writes into the shared ``.web``, which a ``make run`` started from the
same checkout also serves from. Set ``E2E_WEB_WORKDIR`` to a folder of its own
(kept between runs as well) to leave that one alone.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = PROJECT_ROOT / ".venv" / "bin"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

START_TIMEOUT_S = 300
STEP_TIMEOUT_MS = 20_000
LOG_TAIL_LINES = 60


@dataclass(frozen=True)
class AppServer:
    """The running production server and the folders it writes to."""

    base_url: str
    data_dir: Path
    mail_dir: Path
    log_path: Path

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines the server wrote."""
        if not self.log_path.exists():
            return "(no server log)"
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


_server: AppServer | None = None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_env(data_dir: Path, mail_dir: Path, base_url: str) -> dict[str, str]:
    env = dict(os.environ)
    # The outer test session points these at its own throw-away database.
    for name in ("DATABASE_URL", "REDIS_URL", "CHAINELS_ENV"):
        env.pop(name, None)
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        REFLEX_USE_NPM="1",
        REFLEX_TELEMETRY_ENABLED="false",
        DATA_DIR=str(data_dir),
        MAIL_DIR=str(mail_dir),
        PUBLIC_BASE_URL=base_url,
    )
    if env.get("E2E_WEB_WORKDIR"):
        env["REFLEX_WEB_WORKDIR"] = env["E2E_WEB_WORKDIR"]
    return env


def _prepare_database(env: dict[str, str], log_path: Path) -> None:
    steps = (
        [str(VENV_BIN / "alembic"), "upgrade", "head"],
        [str(VENV_BIN / "python"), "-m", "chainels_app.seed"],
    )
    with log_path.open("a") as log:
        for command in steps:
            done = subprocess.run(
                command,
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
            )
            if done.returncode != 0:
                pytest.fail(
                    f"{' '.join(command)} failed:\n{log_path.read_text()}",
                    pytrace=False,
                )


def _answers(url: str, *, expect_text: str = "") -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body = response.read().decode(errors="replace")
    except (urllib.error.URLError, OSError):
        return False
    return response.status == 200 and expect_text in body


def _wait_until_served(
    process: subprocess.Popen[bytes], server: AppServer, timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    checks = (
        (f"{server.base_url}/api/health", "ok"),
        (f"{server.base_url}/login/", "<html"),
    )
    pending = list(checks)
    while pending:
        if process.poll() is not None:
            pytest.fail(
                f"the server exited with {process.returncode}:\n{server.log_tail()}",
                pytrace=False,
            )
        if time.monotonic() > deadline:
            pytest.fail(
                f"the server did not answer within {timeout_s:.0f} s:\n"
                f"{server.log_tail()}",
                pytrace=False,
            )
        url, text = pending[0]
        if _answers(url, expect_text=text):
            pending.pop(0)
        else:
            time.sleep(0.5)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="package")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """A seeded production server on a free port, for all the browser tests."""
    global _server
    data_dir = tmp_path_factory.mktemp("e2e-data")
    port = _free_port()
    server = AppServer(
        base_url=f"http://localhost:{port}",
        data_dir=data_dir,
        mail_dir=data_dir / "mail",
        log_path=data_dir / "server.log",
    )
    env = _server_env(server.data_dir, server.mail_dir, server.base_url)
    _prepare_database(env, server.log_path)

    started = time.monotonic()
    with server.log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                str(VENV_BIN / "reflex"),
                "run",
                "--env",
                "prod",
                "--single-port",
                "--frontend-port",
                str(port),
                "--backend-port",
                str(port),
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_served(process, server, START_TIMEOUT_S)
        sys.stderr.write(
            f"\n[e2e] server ready on {server.base_url} after "
            f"{time.monotonic() - started:.1f} s (log: {server.log_path})\n"
        )
        _server = server
        yield server
    finally:
        _server = None
        _stop(process)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, once for all the browser tests."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM} (make chromium installs it)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def new_context(
    browser: Browser, app_server: AppServer
) -> Iterator[Callable[[], BrowserContext]]:
    """Open more fresh contexts (a second person, a stolen cookie) in one test."""
    opened: list[BrowserContext] = []

    def open_context() -> BrowserContext:
        context = browser.new_context(base_url=app_server.base_url, locale="nl-NL")
        context.set_default_timeout(STEP_TIMEOUT_MS)
        opened.append(context)
        return context

    expect.set_options(timeout=STEP_TIMEOUT_MS)
    yield open_context
    for context in opened:
        context.close()


@pytest.fixture
def context(new_context: Callable[[], BrowserContext]) -> BrowserContext:
    """A fresh context: no cookies, no storage."""
    return new_context()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A tab in the test's fresh context."""
    return context.new_page()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """On a failed browser test, show what the server logged."""
    report = yield
    if (
        report.failed
        and _server is not None
        and "app_server" in getattr(item, "fixturenames", ())
    ):
        report.sections.append(("server log (tail)", _server.log_tail()))
    return report
