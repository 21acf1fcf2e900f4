"""Bad answers on the report pages, per question type, in Dutch and English: each refused with
a translated message next to the field at fault, and everything typed still in the form."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from loket.adapters.db import schema as t
from loket.services import reports as svc
from loket.web.app import create_app
from loket.web.i18n import gettext_for
from loket.web.problems import MESSAGES
from tests.conftest import World, add_officer
from tests.identity import verify_online
from tests.integration.test_call_interpreter import sign_in
from tests.integration.test_handover_pages import text_of
from tests.integration.test_report_pages import BASE, KIOSK, answer, csrf, start
from tests.report_answers import MARKUP, PNG, valid_raw

# The first bytes of a Windows program: what a .exe renamed to .jpg really is.
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\0" * 512
TEN_MB = 10 * 1024 * 1024


@dataclass(frozen=True)
class Case:
    """One bad answer: where it is typed, what the page must say, and what it must keep."""

    form: str
    question: str
    data: dict[str, Any]
    field: str  # the id of the input the message belongs to
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    kept: dict[str, str] = field(default_factory=dict)  # input id -> value shown again
    upload: tuple[str, bytes] | None = None
    base: str = ""


CASES = {
    "a moment in the future": Case(
        "report.bicycle_theft", "when", {"date": "2027-02-01", "time": "18:30"}, "when-date",
        "answer.in_future", kept={"when-date": "2027-02-01", "when-time": "18:30"}, base=KIOSK,
    ),
    "a moment without its time": Case(
        "report.bicycle_theft", "when", {"date": "2027-01-11", "time": ""}, "when-time",
        "answer.time_missing", kept={"when-date": "2027-01-11"},
    ),
    "a day in the future": Case(
        "report.vandalism", "when", {"value": "2027-03-01"}, "when", "answer.in_future",
        kept={"when": "2027-03-01"},
    ),
    "a day that does not exist": Case(
        "report.online_fraud", "when", {"value": "2027-02-30"}, "when", "answer.invalid_date",
        kept={"when": "2027-02-30"},
    ),
    "a missing required text": Case(
        "report.online_fraud", "website", {"value": "  "}, "website", "answer.required"
    ),
    "a missing required choice": Case(
        "report.online_fraud", "role", {}, "role-0", "answer.required"
    ),
    "a choice that is not offered": Case(
        "report.online_fraud", "role", {"value": "hacker"}, "role-0", "answer.invalid_choice"
    ),
    "a missing required multiple choice": Case(
        "tip.nuisance", "kind", {}, "kind-0", "answer.required"
    ),
    "a place without its town": Case(
        "report.bicycle_theft", "where", {"street": "Stationsplein", "postcode": "3511"},
        "where-city", "answer.place_incomplete",
        kept={"where-street": "Stationsplein", "where-postcode": "3511"},
    ),
    "a frame number that is too short": Case(
        "report.bicycle_theft", "bicycle",
        {"0-brand": "Gazelle", "0-colour": "black", "0-frame_number": "12"},
        "bicycle-0-frame_number", "answer.frame_number",
        kept={"bicycle-0-brand": "Gazelle", "bicycle-0-frame_number": "12"}, base=KIOSK,
    ),
    "a frame number without a digit": Case(
        "report.bicycle_theft", "bicycle",
        {"0-description": "<b>racer</b>", "0-frame_number": "ABC-DEF-GH"},
        "bicycle-0-frame_number", "answer.frame_number",
        kept={"bicycle-0-description": "<b>racer</b>", "bicycle-0-frame_number": "ABC-DEF-GH"},
    ),
    "a list of items with nothing filled in": Case(
        "report.theft", "items", {"0-description": " ", "1-brand": ""},
        "items-0-description", "answer.required",
    ),
    "an item without its required description": Case(
        "report.theft", "items",
        {"0-description": "phone", "1-brand": "Gucci", "1-colour": "red"},
        "items-1-description", "answer.item_field_missing",
        kept={"items-0-description": "phone", "items-1-brand": "Gucci", "items-1-colour": "red"},
    ),
    "a serial number that is too long in the second item": Case(
        "report.theft", "items",
        {"0-description": "phone", "0-brand": "Fairphone", "1-description": "wallet",
         "1-serial": "S" * 201},
        "items-1-serial", "answer.too_long", {"maximum": 200},
        kept={"items-0-brand": "Fairphone", "items-1-description": "wallet"},
    ),
    "an account number that does not match its pattern": Case(
        "report.online_fraud", "account", {"value": "12345 <i>x</i>"}, "account",
        "answer.pattern", kept={"account": "12345 <i>x</i>"},
    ),
    "an amount that is not a number": Case(
        "report.online_fraud", "amount", {"value": "twenty euro"}, "amount",
        "answer.invalid_amount", kept={"amount": "twenty euro"},
    ),
    "a negative amount": Case(
        "report.bicycle_theft", "value", {"value": "-50"}, "value", "answer.invalid_amount",
        kept={"value": "-50"},
    ),
    "an amount below the minimum": Case(
        "report.online_fraud", "amount", {"value": "0,00"}, "amount", "answer.amount_too_low",
        {"minimum": "0.01"}, kept={"amount": "0,00"},
    ),
    "an amount above the maximum": Case(
        "report.vandalism", "cost", {"value": "2000000"}, "cost", "answer.amount_too_high",
        {"maximum": "1000000"}, kept={"cost": "2000000"},
    ),
    "a free text that is too short": Case(
        "tip.anonymous", "description", {"value": "<b>x"}, "description", "answer.too_short",
        {"minimum": 10}, kept={"description": "<b>x"},
    ),
    "a free text that is too long": Case(
        "report.vandalism", "damage", {"value": "<p>" + "x" * 1998}, "damage",
        "answer.too_long", {"maximum": 2000}, kept={"damage": "<p>" + "x" * 1998},
    ),
    "a program renamed to a photo": Case(
        "report.vandalism", "photo", {}, "photo", "document.type_not_allowed",
        upload=("holiday.jpg", EXE),
    ),
    "a photo just over the size limit": Case(
        "report.bicycle_theft", "photo", {}, "photo", "document.too_large", {"maximum_mb": 10},
        upload=("bike.png", PNG + b"\0" * (TEN_MB - len(PNG) + 1)),
    ),
}  # fmt: skip


@pytest.fixture(params=["en", "nl"])
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(world: World, language: str) -> Iterator[TestClient]:
    app = create_app(container=world.container)
    with TestClient(app, base_url=BASE, headers={"Accept-Language": language}) as client:
        yield client


def draft_at(client: TestClient, world: World, base: str, code: str, question_id: str) -> str:
    """A draft started on the pages and answered (validly) up to `question_id`."""
    if base:
        client.get(f"{base}?lang={client.headers['Accept-Language']}")
    start(client, base, code)
    with world.container.engine.connect() as conn:
        draft_id = str(conn.execute(select(t.report_drafts.c.id)).scalar_one())
    answer_until(world, draft_id, question_id)
    return draft_id


def answer_until(world: World, draft_id: str, question_id: str | None) -> None:
    """Answer the draft's open questions validly up to `question_id` (None: all of them)."""
    ctx = world.container.reports
    progress = svc.load_draft(ctx, draft_id)
    while (following := progress.next_question) is not None and following.id != question_id:
        progress = svc.answer(ctx, draft_id, following.id, valid_raw(progress.form, following))
    assert question_id is None or following is not None, f"{question_id} is not asked"


def message(code: str, params: dict[str, Any], language: str) -> str:
    template = MESSAGES[code][1]
    translated = gettext_for(language).gettext(template)
    if language != "en":
        assert translated != template, f"{code} has no {language} translation"
    return translated % params


def input_tag(page: str, element_id: str) -> str:
    found = re.search(rf'<(?:input|textarea|fieldset)\b[^>]*\bid="{element_id}"[^>]*>', page)
    assert found is not None, f"no input #{element_id}"
    return found.group(0)


def shown_value(page: str, element_id: str) -> str:
    area = re.search(rf'<textarea\b[^>]*\bid="{element_id}"[^>]*>(.*?)</textarea>', page, re.S)
    if area is not None:
        return html.unescape(area.group(1))
    value = re.search(r'\bvalue="([^"]*)"', input_tag(page, element_id))
    return html.unescape(value.group(1)) if value else ""


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_bad_answer_is_refused_next_to_its_field_in_the_citizens_language(
    client: TestClient, world: World, language: str, case: Case
) -> None:
    draft_id = draft_at(client, world, case.base, case.form, case.question)
    page = f"{case.base}/report/q/{case.question}"
    files = {"file": (case.upload[0], case.upload[1], "image/jpeg")} if case.upload else None
    refused = answer(client, page, case.data, files=files)

    assert refused.status_code == MESSAGES[case.code][0], refused.text[:300]
    text = refused.text
    assert f'<html lang="{language}"' in text
    error = re.search(rf'<p class="error-message" id="{case.field}-error">(.*?)</p>', text, re.S)
    assert error is not None, f"no message next to #{case.field}"
    assert html.unescape(error.group(1)).strip() == message(case.code, case.params, language)
    # The field (or its group) points to its message, which screen readers then read; the
    # summary at the top links to the field.
    assert re.search(rf'aria-describedby="[^"]*\b{case.field}-error\b', text)
    assert f'href="#{case.field}"' in text
    for element_id, value in case.kept.items():
        assert shown_value(text, element_id) == value, element_id
    # Nothing of the refused answer was saved.
    answers = svc.load_draft(world.container.reports, draft_id).draft.answers
    assert case.question not in answers
    with world.container.engine.connect() as conn:
        files_kept = conn.execute(select(func.count()).select_from(t.report_files)).scalar_one()
    assert files_kept == 0


def test_markup_typed_in_a_refused_answer_is_shown_as_text(
    client: TestClient, world: World
) -> None:
    draft_at(client, world, "", "report.online_fraud", "account")
    typed = '"><script>window.hacked=1</script>'
    refused = answer(client, "/report/q/account", {"value": typed})
    assert refused.status_code == 422
    assert "<script>window.hacked" not in refused.text
    assert shown_value(refused.text, "account") == typed


def test_an_upload_over_the_body_limit_returns_to_its_question_with_the_message(
    client: TestClient, world: World, language: str
) -> None:
    draft_at(client, world, KIOSK, "report.vandalism", "photo")
    page = f"{KIOSK}/report/q/photo"
    kept = answer(client, page, {}, files={"file": ("car.png", PNG, "image/png")})
    assert kept.status_code == 303
    huge = PNG + b"\0" * (12 * 1024 * 1024)  # refused by the body limit, before the page runs
    refused = answer(client, page, {}, files={"file": ("car.png", huge, "image/png")})
    assert refused.status_code == 303
    assert refused.headers["location"] == f"{page}?too_large=1"
    shown = client.get(refused.headers["location"])
    error = re.search(r'<p class="error-message" id="photo-error">(.*?)</p>', shown.text, re.S)
    assert error is not None
    expected = message("document.too_large", {"maximum_mb": 10}, language)
    assert html.unescape(error.group(1)).strip() == expected
    assert 'id="photo-kept"' in shown.text and "car.png" in shown.text  # the file given before
    assert re.search(r'aria-describedby="[^"]*\bphoto-error\b', shown.text)
    # A contact document (the API) keeps its problem+json answer.
    api = client.post(
        "/api/v1/calls/x/documents", content=b"\0" * (TEN_MB + 100 * 1024),
        headers={"Content-Type": "application/octet-stream"},
    )  # fmt: skip
    assert api.status_code == 413 and api.headers["content-type"] == "application/problem+json"


def test_markup_in_free_text_is_text_on_the_pages_for_the_officer_and_in_the_statement(
    client: TestClient, world: World, language: str
) -> None:
    draft_id = draft_at(client, world, "", "report.bicycle_theft", "bicycle")
    item = {"0-description": MARKUP, "0-frame_number": "GZ 123456"}
    assert answer(client, "/report/q/bicycle", item).status_code == 303
    answer_until(world, draft_id, "details")
    assert answer(client, "/report/q/details", {"value": MARKUP}).status_code == 303
    answer_until(world, draft_id, None)
    verify_online(world.container, draft_id)  # a bicycle theft needs a verified identity

    check = client.get("/report/check").text
    assert "<script>window.hacked" not in check and "<b>bold</b>" not in check
    details = re.search(r'id="answer-details".*?class="answer-text">(.*?)</', check, re.S)
    assert details is not None and html.unescape(details.group(1)) == MARKUP
    typed_name = "Anna <i>de</i> Vries"
    sent = client.post(
        "/report/submit",
        data={"csrf_token": csrf(check), "confirm": "yes", "full_name": typed_name},
        follow_redirects=False,
    )
    assert sent.headers["location"] == "/report/done"
    found = re.search(r'id="reference">([^<]+)<', client.get("/report/done").text)
    assert found is not None
    reference = found.group(1)

    add_officer(world, "olaf")
    sign_in(client, world, "olaf")
    officer_page = client.get(f"/officer/reports/{reference}").text
    assert "<script>window.hacked" not in officer_page and "<b>bold</b>" not in officer_page
    shown = [html.unescape(dd) for dd in re.findall(r"<dd>(.*?)</dd>", officer_page, re.S)]
    assert MARKUP in shown  # the details, as typed
    assert any(MARKUP in answer for answer in shown if answer != MARKUP)  # the item
    pdf = client.get(f"/officer/reports/{reference}/statement.pdf").content
    text = " ".join(text_of(pdf).split())
    # The literal characters, in the Dutch text and (in English) the citizen's own.
    assert text.count(" ".join(MARKUP.split())) >= 2
    assert typed_name in text
