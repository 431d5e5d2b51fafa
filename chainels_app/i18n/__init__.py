"""Message catalogues: Dutch by default, English available."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import dates

from chainels_app.i18n import en, nl

logger = logging.getLogger(__name__)

DEFAULT_LOCALE = "nl"
CATALOGUES: dict[str, dict[str, str]] = {"nl": nl.MESSAGES, "en": en.MESSAGES}
LOCALES = tuple(CATALOGUES)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def catalogue(locale: str) -> dict[str, str]:
    """Every message of a locale, falling back to Dutch."""
    return CATALOGUES.get(locale, CATALOGUES[DEFAULT_LOCALE])


def translate(locale: str, key: str, **params: Any) -> str:
    """One message with its parameters filled in."""
    text = catalogue(locale).get(key)
    if text is None:
        logger.warning("missing message %s for locale %s", key, locale)
        text = CATALOGUES[DEFAULT_LOCALE].get(key, key)
    return text.format(**params) if params else text


def format_datetime(value: datetime, locale: str) -> str:
    """A moment as the reader expects it: Amsterdam time, their language."""
    return dates.format_datetime(
        value, "d MMM yyyy HH:mm", tzinfo=AMSTERDAM, locale=catalogue_locale(locale)
    )


def catalogue_locale(locale: str) -> str:
    """The Babel locale for one of ours."""
    return "en_GB" if locale == "en" else "nl_NL"
