"""Valid answers to any report or tip question, chosen from the form's own definition.

Shared by the integration and browser tests, so they follow the forms in content/forms/
(new questions, reordered ones, conditions) without a list of answers per form.
"""

from __future__ import annotations

from typing import Any

from loket.domain.forms import Form, Question, QuestionType, Upload

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
# Every moment is before the browser and integration tests' clocks (12 January 2027).
DAY = "2027-01-10"
TIME = "18:30"
# Markup and script in free text: kept as typed and shown as text everywhere.
MARKUP = '<script>window.hacked = 1</script><b>bold</b> & "quoted"'
IBAN = "NL91ABNA0417164300"
FRAME_NUMBER = "GZ 123456"
ITEM = {
    "description": "black e-bike",
    "brand": "Gazelle",
    "colour": "black",
    "serial": "SN-4471-22",
    "frame_number": FRAME_NUMBER,
}


def choice_for(form: Form, question: Question) -> str:
    """A fact is answered "no" (so the report stays self-service); otherwise the option that
    opens a later question if there is one (more of the form is exercised), else the first."""
    if question.fact:
        return "no"
    for later in form.questions:
        if later.show_if is not None and later.show_if.question == question.id:
            opening = [o.value for o in question.options if o.value in later.show_if.values]
            if opening:
                return opening[0]
    return question.options[0].value


def valid_raw(form: Form, question: Question, free_text: str = "Seen near the station") -> Any:
    """An answer in the shape the pages post and `validate_answer` takes."""
    kind = question.type
    if kind is QuestionType.TEXT:
        return IBAN if question.pattern else "marktplaats.example"
    if kind is QuestionType.LONG_TEXT:
        return free_text
    if kind is QuestionType.DATE:
        return DAY
    if kind is QuestionType.DATETIME:
        return {"date": DAY, "time": TIME}
    if kind is QuestionType.PLACE:
        return {"street": "Markt 1", "postcode": "3990", "city": "Peer"}
    if kind is QuestionType.PERSON:
        return {"age": "about 30", "clothing": "red jacket"}
    if kind is QuestionType.CHOICE:
        return choice_for(form, question)
    if kind is QuestionType.MULTI_CHOICE:
        return [question.options[0].value]
    if kind is QuestionType.AMOUNT:
        return "125,50"
    if kind is QuestionType.ITEMS:
        fields = question.fields or tuple(ITEM)
        return [{name: ITEM[name] for name in fields}]
    if kind is QuestionType.FILE:
        return Upload("photo.png", PNG)
    raise AssertionError(f"no valid answer for a {kind} question")
