"""Live fan-out: how long a new post takes to reach N open feed tabs.

The app's backend runs under Granian (one worker, SQLite in a temporary folder,
no frontend build). N members each open ``/feed`` over Reflex's own socket
protocol, so each tab's ``FeedState.listen`` runs; an admin's tab then publishes
K posts through ``ComposerState.publish``. For every receiving tab we take the
time from sending the publish event to the arrival of the delta that carries the
post's title. The baseline is a bare Granian websocket broadcast of a frame of the
same size to N plain websocket clients, measured the same way. Everything runs on
the loopback interface; the figures that matter are the ratios.

    python bench/live_fanout.py [--tabs 100,1000] [--posts 5] [--history 20]
    python bench/live_fanout.py --tabs 1000 --profile   # where the app's time goes
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pstats
import secrets
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from bench.fanout.servers import (  # noqa: E402
    app_backend,
    bare_server,
    profiled_app_backend,
    reflex_env,
)
from bench.fanout.wire import BareTab, ReflexTab  # noqa: E402

ORIGIN = "http://localhost:3000"
FEED = "/feed"
COMPOSER = "reflex___state____state.chainels_app___state___composer____composer_state"
PUBLISH = f"{COMPOSER}.publish"
CONCURRENT_OPENS = 32
DELIVERY_TIMEOUT = 60.0
GOAL_RATIO = 3.0
GOAL_P95_SECONDS = 1.0


def say(line: str = "") -> None:
    """Write one line of the report."""
    print(line, flush=True)  # noqa: T201 - the report is the benchmark's output


@dataclass
class Run:
    """One path measured at one number of tabs."""

    path: str
    tabs: int
    latencies: list[float]
    missed: int
    frame_size: int
    setup_seconds: float

    def percentile(self, share: float) -> float:
        """The latency below which ``share`` of the deliveries arrived."""
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def _bounded(jobs: Sequence[Callable[[], Awaitable[Any]]], limit: int) -> None:
    gate = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[Any]]) -> None:
        async with gate:
            await job()

    await asyncio.gather(*(run(job) for job in jobs))


async def _deliver(
    tabs: Sequence[Any], send: Callable[[str], Awaitable[None]], title: str
) -> tuple[list[float], int, int]:
    """Send one post; the latency of every tab that got it, misses, frame size."""
    arrived = [tab.watch(title) for tab in tabs]
    started = time.perf_counter()
    await send(title)
    waiting = [asyncio.create_task(event.wait()) for event in arrived]
    _done, pending = await asyncio.wait(waiting, timeout=DELIVERY_TIMEOUT)
    for task in pending:
        task.cancel()
    got = [tab for tab in tabs if title in tab.arrivals]
    sizes = sorted(tab.frame_sizes[title] for tab in got) or [0]
    latencies = [tab.arrivals[title] - started for tab in got]
    return latencies, len(tabs) - len(got), sizes[len(sizes) // 2]


async def _posts(
    path: str,
    tabs: Sequence[Any],
    send: Callable[[str], Awaitable[None]],
    k: int,
    on_measure: Callable[[bool], None] = lambda _on: None,
) -> tuple[list[float], int, int]:
    """A warm-up post, then ``k`` measured posts, one after the other."""
    await _deliver(tabs, send, f"warm-up {uuid.uuid4().hex}")
    on_measure(True)
    latencies: list[float] = []
    missed = size = 0
    for number in range(k):
        title = f"{path} post {number} {uuid.uuid4().hex}"
        got, lost, size = await _deliver(tabs, send, title)
        latencies += got
        missed += lost
        await asyncio.sleep(0.3)
    on_measure(False)
    return latencies, missed, size


async def measure_app(
    base: str, world: Any, k: int, on_measure: Callable[[bool], None]
) -> Run:
    """N feed tabs on the app; an admin's tab publishes ``k`` posts."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        poster = ReflexTab(http, base, cookie=world.poster_cookie, origin=ORIGIN)
        tabs = [
            ReflexTab(http, base, cookie=cookie, origin=ORIGIN)
            for cookie in world.member_cookies
        ]

        async def open_feed(tab: ReflexTab) -> None:
            await tab.connect()
            await tab.hydrate(FEED)

        started = time.perf_counter()
        await _bounded(
            [lambda t=t: open_feed(t) for t in [poster, *tabs]], CONCURRENT_OPENS
        )
        setup = time.perf_counter() - started
        # The listeners start as background events right after hydration.
        await asyncio.sleep(1.0)

        async def publish(title: str) -> None:
            form = {"kind": "announcement", "title": title, "body": "Bench."}
            await poster.send(PUBLISH, {"form": form}, FEED)

        try:
            latencies, missed, size = await _posts("app", tabs, publish, k, on_measure)
        finally:
            await asyncio.gather(*(tab.close() for tab in [poster, *tabs]))
    return Run("app", len(tabs), latencies, missed, size, setup)


async def measure_bare(url: str, n: int, frame_size: int, k: int) -> Run:
    """N plain websocket clients of the bare server; frames of ``frame_size``."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        poster = BareTab(http, f"{url}?poster=1")
        tabs = [BareTab(http, url) for _ in range(n)]
        started = time.perf_counter()
        await _bounded([tab.connect for tab in [poster, *tabs]], 100)
        setup = time.perf_counter() - started

        async def publish(title: str) -> None:
            assert poster.ws is not None
            await poster.ws.send_json({"title": title, "size": frame_size})

        try:
            latencies, missed, size = await _posts("bare", tabs, publish, k)
        finally:
            await asyncio.gather(*(tab.close() for tab in [poster, *tabs]))
    return Run("bare", n, latencies, missed, size, setup)


def _settings_env(folder: Path) -> dict[str, str]:
    return {
        "DATA_DIR": str(folder),
        "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PUBLIC_BASE_URL": ORIGIN,
        "MAIL_DIR": str(folder / "mail"),
    }


def _seed(n: int, history: int, folder: Path) -> tuple[Any, dict[str, str]]:
    from bench.fanout.world import seed
    from chainels_app import db
    from chainels_app.settings import get_settings

    settings = _settings_env(folder)
    # Tokens are hashed with the secret key the backend will use.
    os.environ.update(settings)
    get_settings.cache_clear()
    engine = db.make_engine(settings["DATABASE_URL"])
    world = seed(engine, n, history)
    engine.dispose()
    return world, reflex_env(folder, **settings)


def measure(n: int, k: int, history: int, folder: Path) -> tuple[Run, Run]:
    """Both paths at ``n`` tabs, each against a fresh server."""
    world, env = _seed(n, history, folder)
    with app_backend(env, folder / "app.log") as base:
        app = asyncio.run(measure_app(base, world, k, lambda _on: None))
    with bare_server(folder / "bare.log") as url:
        bare = asyncio.run(measure_bare(url, n, app.frame_size, k))
    return app, bare


def profile(n: int, k: int, history: int, folder: Path) -> None:
    """Profile the event loop of the app while it delivers ``k`` posts."""
    world, env = _seed(n, history, folder)
    stats = folder / "fanout.pstats"
    with profiled_app_backend(env, folder / "app.log", stats) as (base, proc):

        def toggle(on: bool) -> None:
            os.kill(proc.pid, signal.SIGUSR1 if on else signal.SIGUSR2)

        run = asyncio.run(measure_app(base, world, k, toggle))
        time.sleep(1)
    say(f"{n} tabs under uvicorn+cProfile: p95 {_ms(run.percentile(0.95))} ms")
    for order in ("tottime", "cumulative"):
        pstats.Stats(str(stats), stream=sys.stdout).sort_stats(order).print_stats(30)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


def report(runs: list[tuple[Run, Run]], k: int) -> None:
    """The table, the ratios and the verdict against the issue's goal."""
    say(f"Live fan-out, {k} posts per size (latency from publish to delta)")
    say(
        f"{'tabs':>6} {'path':<5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
        f"{'missed':>6} {'frame B':>8} {'setup s':>8}"
    )
    for pair in runs:
        for run in pair:
            say(
                f"{run.tabs:>6} {run.path:<5} {_ms(run.percentile(0.5))} "
                f"{_ms(run.percentile(0.95))} {_ms(max(run.latencies, default=0))} "
                f"{run.missed:>6} {run.frame_size:>8} {run.setup_seconds:>8.1f}"
            )
    say()
    for app, bare in runs:
        ratio = app.percentile(0.95) / bare.percentile(0.95)
        say(f"{app.tabs:>6} tabs: app/bare p95 = {ratio:.1f}x")
    app, bare = runs[-1]
    ratio = app.percentile(0.95) / bare.percentile(0.95)
    met = (
        ratio <= GOAL_RATIO
        and app.percentile(0.95) < GOAL_P95_SECONDS
        and app.missed == 0
    )
    say(
        f"goal at {app.tabs} tabs (p95 <= {GOAL_RATIO:.0f}x bare, "
        f"< {GOAL_P95_SECONDS:.0f} s, none missed): {'met' if met else 'MISSED'}"
    )


def main() -> int:
    """Run every size and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tabs", default="100,1000")
    parser.add_argument("--posts", type=int, default=5)
    parser.add_argument("--history", type=int, default=20, help="posts in a feed")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    sizes = [int(size) for size in args.tabs.split(",")]
    from chainels_app.state.feed import FRESH_LIMIT

    if args.posts + 1 > FRESH_LIMIT:
        # With the warm-up post, more would overflow the live cards of a tab,
        # and an overflowing post is counted, not delivered as a card.
        parser.error(f"--posts can be at most {FRESH_LIMIT - 1}")

    with tempfile.TemporaryDirectory(prefix="live-fanout-") as tmp:
        os.environ.pop("REDIS_URL", None)
        runs = []
        for n in sizes:
            folder = Path(tmp) / f"n{n}"
            folder.mkdir()
            if args.profile:
                profile(n, args.posts, args.history, folder)
            else:
                runs.append(measure(n, args.posts, args.history, folder))
        if runs:
            report(runs, args.posts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
