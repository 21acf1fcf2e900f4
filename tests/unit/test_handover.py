"""One-time download codes and the typed confirmation, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loket.domain.errors import Invalid, NotFound
from loket.domain.handover import DownloadCode, hash_download_code
from loket.domain.reports import hash_resume_code
from loket.domain.statements import Confirmation
from tests.statements import signature_png

AT = datetime(2027, 1, 13, 9, 0, tzinfo=UTC)


def test_a_download_code_is_stored_only_as_its_hash_and_works_once() -> None:
    issued, code = DownloadCode.issue("c1", "r1", AT)
    assert issued.code_hash == hash_download_code(code) != hash_resume_code(code)
    assert code not in issued.code_hash
    issued.use(AT + timedelta(hours=23, minutes=59))
    with pytest.raises(NotFound, match=r"download\.used"):
        issued.use(AT + timedelta(hours=1))


def test_a_download_code_expires_after_24_hours() -> None:
    issued, _ = DownloadCode.issue("c1", "r1", AT)
    with pytest.raises(NotFound, match=r"download\.expired"):
        issued.use(AT + timedelta(hours=24))


def test_a_typed_name_confirms_alone_and_is_cleaned() -> None:
    confirmation = Confirmation(typed_name="  Anna\u202e de Vries ")
    assert confirmation.kind == "typed_name"
    assert confirmation.typed_name == "Anna de Vries"


@pytest.mark.parametrize(
    "given",
    [
        {"typed_name": "Anna", "signature_png": None, "verified_identity": "DigiD: A"},
        {"typed_name": "   "},
        {},
    ],
)
def test_a_confirmation_needs_exactly_one_non_empty_way(given: dict[str, object]) -> None:
    with pytest.raises(Invalid):
        Confirmation(**given)  # type: ignore[arg-type]


def test_a_drawn_signature_and_a_typed_name_together_are_refused() -> None:
    with pytest.raises(Invalid):
        Confirmation(signature_png=signature_png(), typed_name="Anna")
