"""Message catalogues: Dutch by default, English available."""

from __future__ import annotations

import logging
from typing import Any

from chainels_app.i18n import en, nl

logger = logging.getLogger(__name__)

DEFAULT_LOCALE = "nl"
CATALOGUES: dict[str, dict[str, str]] = {"nl": nl.MESSAGES, "en": en.MESSAGES}
LOCALES = tuple(CATALOGUES)


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
