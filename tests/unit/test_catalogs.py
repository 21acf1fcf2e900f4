"""The message catalogs: complete in every finished language and in step with the source."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

import loket
from loket.web.i18n import gettext_for

PACKAGE = Path(loket.__file__).parent
ROOT = PACKAGE.parent
LOCALE = PACKAGE / "locale"
# Languages whose catalogs must be complete; the others in LANGUAGES follow as translators
# deliver them (a missing message falls back to English at runtime).
COMPLETE = ("nl", "en", "fr", "de", "ar", "tr", "pl", "uk")
# The same keywords as `make i18n`: pybabel's defaults plus N_ and _.
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "_": None}
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[#0 +-]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")

Key = tuple[str | tuple[str, ...], str | None]


def read_catalog(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def key(msgid: str | tuple[str, ...] | list[str], context: str | None) -> Key:
    # Plural messages have a tuple of ids (singular, plural); the rest a string.
    return (msgid if isinstance(msgid, str) else tuple(msgid), context)


def keys(catalog: Catalog) -> set[Key]:
    return {key(message.id, message.context) for message in catalog if message.id}


@cache
def extracted_from_source() -> frozenset[Key]:
    """What `pybabel extract -F babel.cfg -k N_ -k _ loket` finds now."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    return frozenset(
        key(message, context)
        for _file, _line, message, _comments, context in extract_from_dir(
            str(PACKAGE), method_map, options_map, keywords=KEYWORDS
        )
    )


def placeholders(text: str | tuple[str, ...]) -> Counter[str] | set[str]:
    """The placeholders of a message; of a plural message, those used by any of its forms
    (a language may leave the count out of a form, as in "one desk")."""
    if isinstance(text, str):
        return Counter(match.group(0) for match in PLACEHOLDER.finditer(text))
    return {match.group(0) for part in text for match in PLACEHOLDER.finditer(part)}


@pytest.fixture(scope="module")
def template() -> Catalog:
    return read_catalog(LOCALE / "messages.pot")


def test_the_template_holds_every_string_marked_in_the_source(template: Catalog) -> None:
    in_source = extracted_from_source()
    in_template = keys(template)
    new = sorted(str(msgid) for msgid, _context in in_source - in_template)
    gone = sorted(str(msgid) for msgid, _context in in_template - in_source)
    assert not new and not gone, (
        "loket/locale/messages.pot is out of date; run `make i18n` and translate.\n"
        f"{len(new)} new in the source, for example {new[:5]}\n"
        f"{len(gone)} no longer in the source, for example {gone[:5]}"
    )


def test_the_source_marks_the_service_catalogue_and_every_problem_message() -> None:
    from loket.domain.catalogue import CATALOGUE
    from loket.web.problems import FALLBACK_FIELD_MESSAGE, FIELD_MESSAGES, MESSAGES

    in_source = {msgid for msgid, _context in extracted_from_source()}
    expected = {message for _status, message in MESSAGES.values()}
    expected |= set(FIELD_MESSAGES.values()) | {FALLBACK_FIELD_MESSAGE}
    for service in CATALOGUE:
        expected |= {service.title, service.description}
        if service.referral is not None:
            expected.add(service.referral)
    assert expected <= in_source, sorted(expected - in_source)


@pytest.mark.parametrize("language", COMPLETE)
def test_every_message_is_translated_and_none_is_fuzzy(template: Catalog, language: str) -> None:
    catalog = read_catalog(LOCALE / language / "LC_MESSAGES" / "messages.po", language)
    assert keys(catalog) == keys(template), (
        f"the {language} catalog is not updated from the template; run `make i18n`"
    )
    untranslated = []
    fuzzy = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(s.strip() for s in strings):
            untranslated.append(message.id)
        if message.fuzzy:
            fuzzy.append(message.id)
    assert untranslated == [], f"untranslated in {language}: {untranslated}"
    assert fuzzy == [], f"fuzzy in {language}: {fuzzy}"


@pytest.mark.parametrize("language", COMPLETE)
def test_translations_keep_the_placeholders_of_the_original(language: str) -> None:
    catalog = read_catalog(LOCALE / language / "LC_MESSAGES" / "messages.po", language)
    wrong = [
        (message.id, message.string)
        for message in catalog
        if message.id
        and message.string
        and placeholders(message.string) != placeholders(message.id)
    ]
    assert wrong == []
    # Babel's own checks (python-format among them) agree.
    problems = [(message.id, [str(e) for e in errors]) for message, errors in catalog.check()]
    assert problems == []


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nl", "Dit loket bestaat niet."),
        ("en", "This desk does not exist."),
        ("fr", "Ce guichet n’existe pas."),
        ("de", "Diesen Schalter gibt es nicht."),
    ],
)
def test_the_running_service_reads_the_catalogs(language: str, expected: str) -> None:
    assert gettext_for(language).gettext("This desk does not exist.") == expected


def test_a_placeholder_moved_by_a_translator_still_fills_in() -> None:
    message = "Ticket %(ticket)s cannot do “%(step)s” while it is “%(state)s”."
    filled = gettext_for("nl").gettext(message) % {
        "ticket": "HH-001",
        "step": "finish",
        "state": "waiting",
    }
    assert "HH-001" in filled and "finish" in filled and "waiting" in filled
    assert filled != message % {"ticket": "HH-001", "step": "finish", "state": "waiting"}
