"""Signed statements: what the PDF says, that pyHanko accepts the signature, tamper detection."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import unicodedata
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader
from sqlalchemy import select

from loket.adapters.db import schema as t
from loket.adapters.signing.pades import (
    DEMO_IDENTITY_FILE,
    PadesSigner,
    SigningIdentity,
    SigningIdentityError,
    load_signing_identity,
    make_demo_identity,
)
from loket.adapters.signing.render import ReportLabRenderer
from loket.config import Settings
from loket.domain.errors import Refused
from loket.domain.statements import Answer, Confirmation, SignedStatement, StatementText
from loket.services.statements import sign_statement
from loket.web.i18n import gettext_for
from tests.conftest import World
from tests.statements import MARKUP, dutch_text, english_text, make_statement


@pytest.fixture(scope="module")
def identity(tmp_path_factory: pytest.TempPathFactory) -> SigningIdentity:
    return load_signing_identity(Settings(data_dir=tmp_path_factory.mktemp("signing")))


@pytest.fixture(scope="module")
def signer(identity: SigningIdentity) -> PadesSigner:
    return PadesSigner(identity)


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str) -> str:
    """Extracted text with line breaks and runs of spaces made single spaces."""
    return " ".join(text.split())


def validate(pdf: bytes, identity: SigningIdentity) -> PdfSignatureStatus:
    root = asn1_x509.Certificate.load(identity.certificate.public_bytes(serialization.Encoding.DER))
    reader = PdfFileReader(io.BytesIO(pdf))
    (signature,) = reader.embedded_signatures
    return validate_pdf_signature(signature, ValidationContext(trust_roots=[root]))


def test_the_pdf_holds_the_reference_every_answer_the_officer_place_and_time() -> None:
    statement = make_statement()
    (text,) = pages_text(ReportLabRenderer().render(statement))
    nl = gettext_for("nl").gettext
    flattened = flat(text)
    assert "PL0100-2027-000123" in text
    for answer in statement.dutch.answers:
        assert flat(answer.label) in flattened
        assert flat(answer.text) in flattened
    assert "Inspecteur J. Peeters" in text
    assert "Politiehuis Genk, Genk" in text
    # 13:30 UTC is 14:30 in Brussels in winter.
    assert "13 januari 2027" in text and "14:30" in text
    assert nl("Statement of report (proces-verbaal van aangifte)") in flattened
    assert nl("Identity verified by an officer on camera") in flattened


def test_markup_and_script_from_the_citizen_appear_literally() -> None:
    (text,) = pages_text(ReportLabRenderer().render(make_statement()))
    assert flat(MARKUP) in flat(text)
    assert '<script>alert("x")</script>' in flat(text)


def test_a_verified_identity_confirmation_is_shown_instead_of_a_signature() -> None:
    confirmation = Confirmation(verified_identity="Geverifieerd met DigiD, <i>niveau</i> hoog")
    (text,) = pages_text(ReportLabRenderer().render(make_statement(confirmation=confirmation)))
    assert "Geverifieerd met DigiD, <i>niveau</i> hoog" in flat(text)


def test_the_citizens_language_follows_the_dutch_text_as_a_second_part() -> None:
    statement = make_statement(texts=(dutch_text(), english_text()))
    dutch, english = pages_text(ReportLabRenderer().render(statement))
    assert "Merk en kleur" in dutch and "Brand and colour" not in dutch
    assert "Brand and colour" in english and "Gazelle, blue" in english
    assert "PL0100-2027-000123" in english
    assert "January 13, 2027" in english and "2:30" in english  # Babel's English long form
    en = gettext_for("en").gettext
    assert flat(
        en("Translation into %(language)s. The Dutch text is the authoritative statement.")
        % {"language": "English"}
    ) in flat(english)


@pytest.mark.parametrize("language", ["tr", "pl", "uk"])
def test_turkish_polish_and_ukrainian_answers_print_as_typed(language: str) -> None:
    words = {
        "tr": "Bisikletim çalındı, ğüşıİ",
        "pl": "Ukradziono mój rower, łąęźż",
        "uk": "Мій велосипед вкрали, їєґщ",
    }
    answers = tuple(Answer(a.label, words[language]) for a in dutch_text().answers)
    statement = make_statement(texts=(dutch_text(), StatementText(language, answers)))
    _dutch, translated = pages_text(ReportLabRenderer().render(statement))
    assert words[language] in translated


def test_arabic_is_shaped_and_kept_in_reading_order() -> None:
    answer = "سرقت دراجتي من أمام المحطة"
    answers = tuple(Answer(a.label, answer) for a in dutch_text().answers)
    statement = make_statement(texts=(dutch_text(), StatementText("ar", answers)))
    _dutch, arabic = pages_text(ReportLabRenderer().render(statement))
    # The page holds joined letter forms (presentation forms, so shaped), laid out in visual
    # order; folded back to the base letters, in either reading direction (text extractors
    # differ), they are the words the citizen typed.
    assert any("\ufb50" <= ch <= "\ufeff" for ch in arabic)
    folded = [flat(unicodedata.normalize("NFKC", line)) for line in arabic.splitlines()]
    assert any(answer in line or answer in line[::-1] for line in folded)


def test_the_same_statement_renders_to_the_same_bytes() -> None:
    renderer = ReportLabRenderer()
    assert renderer.render(make_statement()) == renderer.render(make_statement())


def test_pyhanko_accepts_the_signature_over_the_whole_document(
    signer: PadesSigner, identity: SigningIdentity
) -> None:
    signed = signer.sign(ReportLabRenderer().render(make_statement()))
    status = validate(signed, identity)
    assert status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    assert status.bottom_line
    assert "PL0100-2027-000123" in pages_text(signed)[0]


@pytest.mark.parametrize("where", [0.0, 0.1, 0.35, 0.6, 0.85, 1.0])
def test_a_single_changed_byte_in_the_signed_range_fails_validation(
    signer: PadesSigner, identity: SigningIdentity, where: float
) -> None:
    signed = signer.sign(ReportLabRenderer().render(make_statement()))
    reader = PdfFileReader(io.BytesIO(signed))
    start1, length1, start2, length2 = reader.embedded_signatures[0].sig_object["/ByteRange"]
    # Positions spread over both signed ranges (before and after the signature value).
    signed_positions = [*range(start1, start1 + length1), *range(start2, start2 + length2)]
    position = signed_positions[round(where * (len(signed_positions) - 1))]
    tampered = bytearray(signed)
    tampered[position] ^= 0x01
    try:
        status = validate(bytes(tampered), identity)
    except Exception:
        return
    assert not (status.intact and status.valid)
    assert not status.bottom_line


def test_a_signature_from_another_key_is_not_trusted(signer: PadesSigner, tmp_path: Path) -> None:
    signed = signer.sign(ReportLabRenderer().render(make_statement()))
    stranger = load_signing_identity(Settings(data_dir=tmp_path))
    status = validate(signed, stranger)
    assert status.intact and not status.trusted and not status.bottom_line


def test_the_demo_identity_is_made_once_in_the_data_folder_readable_by_the_owner_only(
    tmp_path: Path,
) -> None:
    first = load_signing_identity(Settings(data_dir=tmp_path))
    again = load_signing_identity(Settings(data_dir=tmp_path))
    assert first.certificate == again.certificate
    mode = stat.S_IMODE(os.stat(tmp_path / DEMO_IDENTITY_FILE).st_mode)
    assert mode == 0o600


def test_a_configured_key_and_certificate_are_used_and_checked(tmp_path: Path) -> None:
    key_pem, cert_pem = make_demo_identity()
    (tmp_path / "key.pem").write_bytes(key_pem)
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    settings = Settings.from_env(
        {
            "LOKET_DATA_DIR": str(tmp_path / "data"),
            "LOKET_SIGNING_KEY_FILE": str(tmp_path / "key.pem"),
            "LOKET_SIGNING_CERT_FILE": str(tmp_path / "cert.pem"),
        }
    )
    identity = load_signing_identity(settings)
    assert identity.certificate.public_bytes(serialization.Encoding.PEM) == cert_pem
    assert not (tmp_path / "data" / DEMO_IDENTITY_FILE).exists()
    _other_key, other_cert = make_demo_identity()
    (tmp_path / "cert.pem").write_bytes(other_cert)
    with pytest.raises(SigningIdentityError, match="does not belong"):
        load_signing_identity(settings)


def test_signing_a_statement_returns_the_document_and_its_hash_and_is_audited(
    world: World,
) -> None:
    signed = sign_statement(world.container.statements, make_statement(), actor="staff:12")
    assert signed.sha256 == hashlib.sha256(signed.document).hexdigest()
    assert signed.document.startswith(b"%PDF-")
    a = t.audit_log.c
    with world.container.engine.connect() as conn:
        rows = conn.execute(
            select(a.actor, a.action, a.subject_type, a.subject_id, a.details, a.personal_data)
        ).all()
    (row,) = [r for r in rows if r.action == "sign"]
    assert (row.actor, row.subject_type, row.subject_id, row.personal_data) == (
        "staff:12",
        "statement",
        "PL0100-2027-000123/v1",
        True,
    )
    assert row.details["sha256"] == signed.sha256
    assert row.details["confirmation"] == "drawn_signature"
    assert "Gazelle" not in str(row.details)  # the trail holds the hash, never the content


def test_a_correction_is_signed_as_version_two_naming_version_ones_hash(world: World) -> None:
    ctx = world.container.statements
    first = sign_statement(ctx, make_statement(), actor="staff:12")
    corrected_text = StatementText(
        "nl", (*dutch_text().answers[:3], Answer("Wat is er gebeurd?", "Het slot was open."))
    )
    correction = first.statement.corrected(
        first,
        texts=(corrected_text,),
        confirmation=Confirmation(verified_identity="DigiD"),
        made_at=first.statement.made_at,
    )
    second = sign_statement(ctx, correction, actor="staff:12", previous=first)
    assert (second.statement.version, second.statement.previous_sha256) == (2, first.sha256)
    text = flat(pages_text(second.document)[0])
    assert first.sha256 in text and "Het slot was open." in text
    assert first.document == SignedStatement.of(first.statement, first.document).document
    with pytest.raises(Refused):
        sign_statement(ctx, correction, actor="staff:12", previous=None)
