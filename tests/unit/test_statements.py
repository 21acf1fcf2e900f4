"""Statements: what a valid one holds, how a drawn signature is checked, versions."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from loket.domain.errors import Invalid, Refused
from loket.domain.statements import (
    Answer,
    Confirmation,
    SignedStatement,
    StatementText,
    check_signature_png,
)
from tests.statements import MADE_AT, dutch_text, english_text, make_statement, signature_png

PDF = b"%PDF-1.7\n% a signed document stands in here\n%%EOF\n"


def test_a_statement_keeps_answers_in_the_order_they_were_asked() -> None:
    statement = make_statement()
    assert [a.label for a in statement.dutch.answers][:2] == [
        "Wanneer is uw fiets gestolen?",
        "Merk en kleur",
    ]
    assert statement.languages == ("nl",)
    assert statement.translation is None


def test_a_statement_with_a_translation_has_both_languages() -> None:
    statement = make_statement(texts=(dutch_text(), english_text()))
    assert statement.languages == ("nl", "en")
    assert statement.translation == english_text()


@pytest.mark.parametrize(
    ("texts", "code"),
    [
        ((), "statement.dutch_text_required"),
        ((english_text(),), "statement.dutch_text_required"),
        ((dutch_text(), dutch_text()), "statement.same_language_twice"),
        ((dutch_text(), english_text(), english_text()), "statement.too_many_languages"),
        (
            (dutch_text(), StatementText("en", english_text().answers[:2])),
            "statement.translation_incomplete",
        ),
    ],
)
def test_the_dutch_text_comes_first_and_a_translation_is_complete(
    texts: tuple[StatementText, ...], code: str
) -> None:
    with pytest.raises(Invalid) as caught:
        make_statement(texts=texts)
    assert caught.value.code == code


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        make_statement(made_at=MADE_AT.replace(tzinfo=None))
    assert caught.value.code == "statement.naive_time"


def test_control_characters_and_direction_overrides_are_removed_from_answers() -> None:
    answer = Answer("Label\x00", "abc\u202edef\r\nnext\x07")
    assert answer.label == "Label"
    assert answer.text == "abcdef\nnext"  # a Windows line break becomes one line break


def test_an_overlong_answer_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        Answer("Label", "x" * 10_001)
    assert caught.value.code == "statement.text_too_long"


def test_the_citizen_confirms_with_exactly_one_of_signature_or_verified_identity() -> None:
    with pytest.raises(Invalid):
        Confirmation()
    with pytest.raises(Invalid):
        Confirmation(signature_png=signature_png(), verified_identity="DigiD")
    assert Confirmation(verified_identity="Identity verified with itsme").kind == (
        "verified_identity"
    )


def test_a_drawn_signature_is_recognised_by_its_content() -> None:
    assert check_signature_png(signature_png(300, 90)) == (300, 90)


@pytest.mark.parametrize(
    "content",
    [
        b"GIF89a" + b"\x00" * 40,
        b"\xff\xd8\xff\xe0" + b"\x00" * 40,
        b"\x89PNG\r\n\x1a\n",
        signature_png()[:16] + b"\x00\x00\x00\x00" + signature_png()[20:],
        signature_png()[:16] + b"\x00\x01\x00\x00" + signature_png()[20:],
        b"\x89PNG\r\n\x1a\n" + b"\x00" * (600 * 1024),
    ],
    ids=["gif", "jpeg", "truncated", "zero width", "too wide", "too large"],
)
def test_anything_but_a_sane_png_is_not_a_signature(content: bytes) -> None:
    with pytest.raises(Invalid) as caught:
        Confirmation(signature_png=content)
    assert caught.value.code == "statement.signature_invalid"


def test_a_correction_is_a_new_version_naming_the_hash_of_the_previous_document() -> None:
    first = make_statement()
    signed = SignedStatement.of(first, PDF)
    later = MADE_AT + timedelta(days=2)
    second = first.corrected(
        signed,
        texts=(dutch_text(),),
        confirmation=Confirmation(verified_identity="DigiD"),
        made_at=later,
    )
    assert (second.version, second.previous_sha256) == (2, signed.sha256)
    assert second.case_reference == first.case_reference
    assert first.version == 1  # the signed statement itself did not change
    second.check_follows(signed)


def test_a_version_that_does_not_follow_the_signed_one_is_refused() -> None:
    signed = SignedStatement.of(make_statement(), PDF)
    forged = make_statement(version=2, previous_sha256="0" * 64)
    with pytest.raises(Refused) as caught:
        forged.check_follows(signed)
    assert caught.value.code == "statement.version_mismatch"
    with pytest.raises(Refused):
        forged.check_follows(None)
    make_statement().check_follows(None)


def test_only_the_latest_signed_version_can_be_corrected() -> None:
    other = SignedStatement.of(make_statement(case_reference="PL0100-2027-000999"), PDF)
    with pytest.raises(Refused) as caught:
        make_statement().corrected(
            other,
            texts=(dutch_text(),),
            confirmation=Confirmation(verified_identity="DigiD"),
            made_at=datetime.now().astimezone(),
        )
    assert caught.value.code == "statement.not_latest"


def test_a_version_above_one_needs_the_previous_hash() -> None:
    with pytest.raises(Invalid):
        make_statement(version=2)
    with pytest.raises(Invalid):
        make_statement(previous_sha256="a" * 64)


def test_a_signed_statement_is_bound_to_its_document_hash() -> None:
    signed = SignedStatement.of(make_statement(), PDF)
    with pytest.raises(Invalid):
        replace(signed, document=PDF + b" ")
