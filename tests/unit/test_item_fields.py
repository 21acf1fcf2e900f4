"""Lists of items with fields every item must have (`required_fields` in a form file)."""

from __future__ import annotations

import pytest

from loket.domain.errors import Invalid
from loket.domain.forms import FormSchemaError, parse_form, validate_answer
from tests.unit.test_forms import CTX, form_data, label, question


def test_an_item_without_a_required_field_is_refused_at_that_field_of_that_row() -> None:
    things = question(
        "items", fields=["description", "brand"], required_fields=["description"], max_items=3
    )
    assert things.required_fields == ("description",)
    rows = [{"description": "phone", "brand": "Fairphone"}, {"brand": "Gucci"}, {}]
    with pytest.raises(Invalid) as refused:
        validate_answer(things, rows, CTX)
    assert (refused.value.code, refused.value.field) == (
        "answer.item_field_missing",
        "q-1-description",
    )
    # Empty rows are not items; a complete list passes.
    assert validate_answer(things, [{"description": "phone"}, {}, {}], CTX) == [
        {"description": "phone"}
    ]


def test_without_required_fields_any_filled_part_makes_an_item() -> None:
    things = question("items", fields=["description", "brand"])
    assert things.required_fields == ()
    assert validate_answer(things, [{"brand": "Gazelle"}], CTX) == [{"brand": "Gazelle"}]


@pytest.mark.parametrize(
    ("extra", "fault"),
    [
        ({"type": "text", "required_fields": ["description"]}, "only a list of items"),
        ({"type": "items", "fields": ["brand"], "required_fields": ["serial"]}, "must be some of"),
        ({"type": "items", "required_fields": []}, "must be some of"),
        ({"type": "items", "required_fields": "description"}, "must be some of"),
    ],
)
def test_a_bad_required_fields_entry_stops_the_form_with_its_place(
    extra: dict[str, object], fault: str
) -> None:
    data = form_data(questions=[{"id": "q", "label": label(), **extra}])
    with pytest.raises(FormSchemaError) as broken:
        parse_form(data, "report.theft.yaml")
    assert "questions[0] (q).required_fields" in str(broken.value)
    assert fault in str(broken.value)
