"""Helpers of ``bench/live_fanout.py``: servers, seeding and lean socket clients."""
