"""The confirmation rules of a report drafted with an officer: each side confirms one version,
any change voids both, submission needs both on exactly the confirmed text."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from loket.domain.codraft import SharedDraft, Side, fingerprint
from loket.domain.errors import Invalid, Refused

AT = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
ANSWERS = {"how": ["phone"], "words": "He said he would come."}


def make_shared(**overrides: Any) -> SharedDraft:
    values: dict[str, Any] = {
        "ticket_id": "t1",
        "draft_id": "d1",
        "started_by": Side.OFFICER,
        "created_at": AT,
        "updated_at": AT,
    }
    return SharedDraft(**(values | overrides))


def confirm_both(shared: SharedDraft, answers: dict[str, Any], version: int = 3) -> None:
    shared.confirm(
        Side.CITIZEN,
        seen_version=version,
        draft_version=version,
        answers=answers,
        at=AT,
        citizen_name="Sam  Jansen",
    )
    shared.confirm(
        Side.OFFICER,
        seen_version=version,
        draft_version=version,
        answers=answers,
        at=AT,
        officer_id=7,
    )


def test_both_confirmations_of_the_same_text_allow_submission() -> None:
    shared = make_shared()
    confirm_both(shared, ANSWERS)
    assert shared.is_confirmed_by_both(ANSWERS)
    assert (shared.citizen_name, shared.officer_id) == ("Sam Jansen", 7)
    shared.check_both_confirmed(dict(reversed(ANSWERS.items())))  # key order does not matter


def test_one_confirmation_is_not_enough() -> None:
    shared = make_shared()
    shared.confirm(
        Side.OFFICER, seen_version=3, draft_version=3, answers=ANSWERS, at=AT, officer_id=7
    )
    with pytest.raises(Refused) as refused:
        shared.check_both_confirmed(ANSWERS)
    assert refused.value.code == "codraft.not_confirmed"


def test_a_change_after_the_confirmations_voids_both_and_marks_the_officers_change() -> None:
    shared = make_shared()
    confirm_both(shared, ANSWERS)
    shared.changed(Side.OFFICER, "words", AT)
    assert shared.citizen is None and shared.officer is None and shared.citizen_name is None
    assert shared.officer_changes == ["words"]
    # The citizen changing the same answer takes the officer's mark away.
    shared.changed(Side.CITIZEN, "words", AT)
    assert shared.officer_changes == []


def test_a_change_made_elsewhere_is_caught_by_the_fingerprint() -> None:
    shared = make_shared()
    confirm_both(shared, ANSWERS)
    elsewhere = ANSWERS | {"words": "Something else."}
    assert not shared.is_confirmed_by_both(elsewhere)
    with pytest.raises(Refused):
        shared.check_both_confirmed(elsewhere)


def test_confirming_a_version_that_is_no_longer_current_is_refused() -> None:
    shared = make_shared()
    with pytest.raises(Refused) as refused:
        shared.confirm(Side.OFFICER, seen_version=2, draft_version=3, answers=ANSWERS, at=AT)
    assert refused.value.code == "codraft.changed_meanwhile"
    assert refused.value.params == {"version": 3}
    assert shared.officer is None


def test_confirming_twice_changes_nothing_the_second_time() -> None:
    shared = make_shared()
    first = shared.confirm(
        Side.OFFICER, seen_version=3, draft_version=3, answers=ANSWERS, at=AT, officer_id=7
    )
    second = shared.confirm(
        Side.OFFICER, seen_version=3, draft_version=3, answers=ANSWERS, at=AT, officer_id=7
    )
    assert (first, second) == (True, False)


@pytest.mark.parametrize("name", [None, "", "   "])
def test_the_citizen_confirms_with_their_full_name(name: str | None) -> None:
    shared = make_shared()
    with pytest.raises(Invalid) as refused:
        shared.confirm(
            Side.CITIZEN,
            seen_version=1,
            draft_version=1,
            answers=ANSWERS,
            at=AT,
            citizen_name=name,
        )
    assert (refused.value.code, refused.value.field) == ("codraft.name_missing", "full_name")


def test_fingerprints_differ_for_different_answers_only() -> None:
    assert fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": 1})
    assert fingerprint({"a": "x"}) != fingerprint({"a": "y"})
