"""Forms as data: the schema check at load, each question type's validation, conditions."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from loket.adapters.forms import DEFAULT_FORMS_DIR, load_form, load_forms
from loket.domain.catalogue import CATALOGUE, ServiceKind
from loket.domain.errors import Invalid
from loket.domain.forms import (
    FORM_LANGUAGES,
    AnswerContext,
    FormSchemaError,
    Question,
    QuestionType,
    Text,
    Upload,
    parse_form,
    validate_answer,
)

NOW = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)  # 10:00 in Amsterdam
CTX = AnswerContext(NOW, ZoneInfo("Europe/Amsterdam"))
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def label(text: str = "Q") -> dict[str, str]:
    return dict.fromkeys(FORM_LANGUAGES, text)


def question(kind: str, **extra: Any) -> Question:
    data = {"id": "q", "type": kind, "label": label(), **extra}
    return parse_form(form_data(questions=[data]), "test.yaml").questions[0]


def form_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": "report.theft",
        "version": 1,
        "title": label("T"),
        "intro": label("I"),
        "questions": [{"id": "what", "type": "text", "label": label()}],
    }
    data.update(overrides)
    return data


YES_NO = [{"value": "yes", "label": label("y")}, {"value": "no", "label": label("n")}]


# -- the files ------------------------------------------------------------------------------


def test_every_report_and_tip_of_the_catalogue_has_a_valid_form() -> None:
    forms = load_forms()
    wanted = {s.code for s in CATALOGUE if s.kind in (ServiceKind.REPORT, ServiceKind.TIP)}
    assert set(forms) == wanted


def test_every_text_of_every_form_is_in_dutch_english_french_and_german() -> None:
    for form in load_forms().values():
        texts = [form.title, form.intro]
        for q in form.questions:
            texts += [q.label, *([q.help] if q.help else []), *(o.label for o in q.options)]
        for text in texts:
            assert set(FORM_LANGUAGES) <= set(text.translations), (form.code, text)


def test_a_form_file_whose_code_is_not_its_name_is_refused(tmp_path: Path) -> None:
    source = (DEFAULT_FORMS_DIR / "report.theft.yaml").read_text()
    bad = tmp_path / "report.vandalism.yaml"
    bad.write_text(source)
    with pytest.raises(FormSchemaError, match="must match the file name"):
        load_form(bad)


def test_a_form_file_that_is_not_yaml_is_refused_with_its_name(tmp_path: Path) -> None:
    bad = tmp_path / "report.theft.yaml"
    bad.write_text("code: [unclosed\n")
    with pytest.raises(FormSchemaError, match=r"report\.theft\.yaml: not valid YAML"):
        load_form(bad)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("title"), "missing key"),
        (lambda d: d["title"].pop("de"), r"title: missing translation\(s\) de"),
        (lambda d: d["questions"][0].update(type="colour"), "must be one of"),
        (lambda d: d["questions"][0].update(surprise=1), "unknown key"),
        (lambda d: d["questions"].append(dict(d["questions"][0])), "used twice"),
        (lambda d: d["questions"][0].update(pattern="[a-"), "not a valid pattern"),
        (lambda d: d["questions"][0].update(type="choice"), "a choice needs options"),
        (lambda d: d["questions"][0].update(not_future=True), "only date questions"),
        (lambda d: d["questions"][0].update(min_length=10, max_length=5), "larger than"),
        (lambda d: d.update(code="theft"), "must look like"),
        (
            lambda d: d["questions"].append(
                {
                    "id": "later",
                    "type": "text",
                    "label": label(),
                    "show_if": {"question": "nope", "equals": "yes"},
                }
            ),
            "must name an earlier question",
        ),
    ],
)
def test_a_bad_form_is_refused_with_a_message_naming_the_fault(change: Any, message: str) -> None:
    data = copy.deepcopy(form_data())
    change(data)
    with pytest.raises(FormSchemaError, match=message):
        parse_form(data, "bad.yaml")


def test_a_condition_must_use_an_option_of_the_question_it_names() -> None:
    data = form_data(
        questions=[
            {"id": "seen", "type": "choice", "label": label(), "options": YES_NO},
            {
                "id": "who",
                "type": "person",
                "label": label(),
                "show_if": {"question": "seen", "equals": "maybe"},
            },
        ]
    )
    with pytest.raises(FormSchemaError, match="values must be options of 'seen'"):
        parse_form(data, "bad.yaml")


# -- answers per type -----------------------------------------------------------------------


def refused(q: Question, raw: Any) -> Invalid:
    with pytest.raises(Invalid) as caught:
        validate_answer(q, raw, CTX)
    return caught.value


def test_a_missing_required_answer_is_refused_and_an_optional_one_is_none() -> None:
    assert refused(question("text"), "   ").code == "answer.required"
    assert validate_answer(question("text", required=False), "", CTX) is None


def test_markup_in_free_text_is_kept_as_text() -> None:
    typed = '<script>alert("x")</script> & <b>bold</b>'
    assert validate_answer(question("long_text"), typed, CTX) == typed


def test_text_loses_control_characters_and_keeps_line_breaks_only_when_long() -> None:
    assert validate_answer(question("text"), "a\u202eb\nc\x07", CTX) == "ab c"
    assert validate_answer(question("long_text"), "a\r\nb", CTX) == "a\nb"


def test_text_length_and_pattern_rules_are_applied() -> None:
    assert refused(question("text", min_length=5), "abc").code == "answer.too_short"
    assert refused(question("text", max_length=3), "abcd").params == {"maximum": 3}
    assert refused(question("text", pattern="[0-9]+"), "12a").code == "answer.pattern"
    assert validate_answer(question("text", pattern="[0-9]+"), "123", CTX) == "123"


def test_a_date_in_the_future_is_refused_where_the_form_says_so() -> None:
    assert refused(question("date", not_future=True), "2027-01-13").code == "answer.in_future"
    assert validate_answer(question("date", not_future=True), "2027-01-12", CTX) == "2027-01-12"
    assert validate_answer(question("date"), "2027-01-13", CTX) == "2027-01-13"
    assert refused(question("date"), "12-01-2027").code == "answer.invalid_date"


def test_a_moment_later_today_is_in_the_future_by_the_desks_clock() -> None:
    q = question("datetime", not_future=True)
    assert validate_answer(q, {"date": "2027-01-12", "time": "09:59"}, CTX) == "2027-01-12T09:59"
    error = refused(q, {"date": "2027-01-12", "time": "10:30"})
    assert (error.code, error.field) == ("answer.in_future", "q-date")
    assert refused(q, {"date": "2027-01-12", "time": ""}).field == "q-time"
    assert refused(q, {"date": "2027-01-12", "time": "25:00"}).code == "answer.invalid_time"


def test_a_choice_must_be_one_of_its_options_and_multiple_keep_the_forms_order() -> None:
    options = [*YES_NO, {"value": "maybe", "label": label()}]
    assert refused(question("choice", options=options), "perhaps").code == "answer.invalid_choice"
    multi = question("multi_choice", options=options)
    assert validate_answer(multi, ["maybe", "yes", "maybe"], CTX) == ["yes", "maybe"]
    assert refused(multi, []).code == "answer.required"


def test_an_amount_is_in_euros_with_a_comma_or_a_point_and_within_its_range() -> None:
    q = question("amount", min=0, max=1000)
    assert validate_answer(q, "€ 12,5", CTX) == "12.50"
    assert validate_answer(q, "999.99", CTX) == "999.99"
    assert refused(q, "12.345").code == "answer.invalid_amount"
    assert refused(q, "ten").code == "answer.invalid_amount"
    assert refused(q, "1000.01").code == "answer.amount_too_high"


def test_a_frame_number_is_checked_loosely_for_its_shape() -> None:
    q = question("items", fields=["brand", "frame_number"], max_items=2)
    good = [{"brand": "Gazelle", "frame_number": "gz 1234-5678"}, {"brand": ""}]
    assert validate_answer(q, good, CTX) == [{"brand": "Gazelle", "frame_number": "GZ 1234-5678"}]
    for bad in ("12", "no-digits-here", "<script>1234", "1234567890123456789012345"):
        error = refused(q, [{"brand": "Gazelle", "frame_number": bad}])
        assert (error.code, error.field) == ("answer.frame_number", "q-0-frame_number")


def test_a_list_of_items_needs_one_item_and_no_more_than_allowed() -> None:
    q = question("items", fields=["description"], max_items=1)
    assert refused(q, [{"description": ""}]).code == "answer.required"
    assert refused(q, [{"description": "a"}, {"description": "b"}]).code == "answer.too_many_items"


def test_a_place_needs_a_street_or_spot_and_a_town() -> None:
    q = question("place")
    assert validate_answer(q, {"street": "Stationsplein 1", "city": "Utrecht"}, CTX) == {
        "street": "Stationsplein 1",
        "city": "Utrecht",
    }
    error = refused(q, {"street": "Stationsplein 1"})
    assert (error.code, error.field) == ("answer.place_incomplete", "q-city")


def test_a_person_description_keeps_only_what_was_filled_in() -> None:
    q = question("person", required=False)
    assert validate_answer(q, {"age": "about 20", "clothing": "red jacket", "name": ""}, CTX) == {
        "age": "about 20",
        "clothing": "red jacket",
    }
    assert validate_answer(q, {}, CTX) is None


def test_a_file_is_checked_by_its_content_not_its_name() -> None:
    q = question("file")
    kept = validate_answer(q, Upload("bike.png", PNG), CTX)
    assert kept["content_type"] == "image/png"
    assert kept["filename"] == "bike.png"
    error = refused(q, Upload("bike.png", b"MZ\x90\x00 not an image"))
    assert (error.code, error.field) == ("document.type_not_allowed", "q")
    small = AnswerContext(NOW, CTX.zone, max_upload_bytes=10)
    with pytest.raises(Invalid, match=r"document\.too_large"):
        validate_answer(q, Upload("bike.png", PNG), small)


# -- conditions and text --------------------------------------------------------------------


def test_a_question_with_a_condition_is_shown_only_after_the_answer_it_names() -> None:
    form = load_forms()["report.bicycle_theft"]
    asked = [q.id for q in form.visible({"seen": "no"})]
    assert "suspect" not in asked
    assert "suspect" in [q.id for q in form.visible({"seen": "yes"})]


def test_changing_an_answer_drops_answers_to_questions_it_now_hides() -> None:
    form = load_forms()["report.bicycle_theft"]
    answers = {"seen": "no", "suspect": {"age": "20"}, "locked": "yes"}
    assert form.relevant_answers(answers) == {"seen": "no", "locked": "yes"}


def test_answers_become_statement_lines_in_the_order_asked_in_any_language() -> None:
    form = load_forms()["report.bicycle_theft"]
    answers = {
        "when": "2027-01-11T18:30",
        "where": {"street": "Stationsplein", "city": "Utrecht"},
        "locked": "yes",
    }
    assert form.statement_lines(answers, "nl") == [
        ("Wanneer is uw fiets gestolen?", "2027-01-11 18:30"),
        ("Waar stond de fiets?", "Straat: Stationsplein; Plaats: Utrecht"),
        ("Stond de fiets op slot?", "Ja"),
    ]
    assert form.statement_lines(answers, "en")[2] == ("Was the bicycle locked?", "Yes")


def test_a_text_missing_in_a_language_falls_back_to_english() -> None:
    assert Text({"en": "Hello", "nl": "Hallo"}).in_language("tr") == "Hello"


def test_question_types_are_all_documented() -> None:
    documented = (Path(__file__).parents[2] / "docs" / "forms.md").read_text()
    for kind in QuestionType:
        assert f"`{kind.value}`" in documented
