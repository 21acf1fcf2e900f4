"""Translations from the Babel catalogs, and choosing the language of a request."""

from __future__ import annotations

import gettext
import io
from functools import cache
from importlib.resources import files

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

# Complete catalogs first; the others follow as translators deliver them.
LANGUAGES = ("nl", "en", "fr", "de", "ar", "tr", "pl", "uk")
DEFAULT_LANGUAGE = "nl"
RIGHT_TO_LEFT = frozenset({"ar"})


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalog of `language`, read from its .po file (no compiled files in the repo)."""
    po = files("loket") / "locale" / language / "LC_MESSAGES" / "messages.po"
    if not po.is_file():
        return gettext.NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def gettext_for(language: str) -> gettext.NullTranslations:
    return translations(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def negotiate(accept_language: str | None, explicit: str | None = None) -> str:
    """The language to answer in: an explicit choice, else the best of Accept-Language."""
    if explicit in LANGUAGES:
        return explicit  # type: ignore[return-value]
    if not accept_language:
        return DEFAULT_LANGUAGE
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        quality = 1.0
        for parameter in pieces[1:]:
            name, _, value = parameter.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, index, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE
