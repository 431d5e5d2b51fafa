"""The app's backend under uvicorn with cProfile on the event-loop thread.

``python bench/fanout/profiled_backend.py PORT STATS``: SIGUSR1 starts profiling,
SIGUSR2 stops it and writes the stats to STATS. The benchmark's ``--profile``
flag starts this instead of Granian and profiles only the measured posts.
"""

from __future__ import annotations

import cProfile
import importlib
import signal
import sys
from pathlib import Path

import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    """Serve until terminated, profiling between the two signals."""
    port, stats = int(sys.argv[1]), sys.argv[2]
    profiler = cProfile.Profile()

    def start(*_args: object) -> None:
        profiler.enable()

    def stop(*_args: object) -> None:
        profiler.disable()
        profiler.dump_stats(stats)

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    asgi = importlib.import_module("chainels_app.chainels_app").app()
    config = uvicorn.Config(
        asgi, host="127.0.0.1", port=port, lifespan="on", log_level="warning"
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
