"""The catalogues: complete in both languages, and used keys exist."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from chainels_app.i18n import CATALOGUES, format_datetime, translate

SOURCE = Path(__file__).resolve().parent.parent / "chainels_app"
_KEY = re.compile(r"""["']((?:[a-z_]+\.)+[a-z_]+)["']""")
_PREFIXES = (
    "app.",
    "nav.",
    "login.",
    "reset.",
    "invite.",
    "feed.",
    "admin.",
    "lang.",
    "post.",
    "composer.",
    "settings.",
    "unsubscribe.",
)


def test_dutch_and_english_have_the_same_keys_and_placeholders():
    nl, en = CATALOGUES["nl"], CATALOGUES["en"]
    assert set(nl) == set(en)
    for key in nl:
        assert re.findall(r"{(\w+)}", nl[key]) == re.findall(r"{(\w+)}", en[key]), key


def test_every_literal_key_in_the_code_is_in_the_catalogue():
    used = set()
    for path in SOURCE.rglob("*.py"):
        if "i18n" in path.parts or path.name in ("settings.py", "models.py"):
            continue
        used |= {k for k in _KEY.findall(path.read_text()) if k.startswith(_PREFIXES)}
    assert used, "the scan should find the interface's keys"
    assert sorted(used - set(CATALOGUES["nl"])) == []


def test_error_keys_raised_by_services_are_translated():
    raised = set()
    for path in (SOURCE / "services").rglob("*.py"):
        raised |= set(re.findall(r'"(error\.[a-z_]+)"', path.read_text()))
    assert sorted(raised - set(CATALOGUES["nl"])) == []


def test_parameters_are_filled_in():
    assert translate("en", "error.password_too_short", minimum=12) == (
        "Choose a password of at least 12 characters."
    )
    assert translate("xx", "nav.feed") == "Tijdlijn"


def test_times_are_shown_in_amsterdam():
    winter_noon_utc = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)
    assert format_datetime(winter_noon_utc, "nl").endswith("12:00")
    assert "dec" in format_datetime(winter_noon_utc, "nl")
    assert "Dec" in format_datetime(winter_noon_utc, "en")
