"""API of the report drafted together in a call: the draft as both sides see it, the officer's
start and corrections, the citizen's answers, both confirmations and the officer's submission.

As for chat and documents (call_exchange.py), the caller proves who they are with their call
token (`Authorization: Bearer <token>`): it names the contact and the role. Every change is
announced to the call's room as `draft.changed` with the new version tag, so both pages fetch
the draft again at once; a page that missed it (a reconnect) notices the tag by its poll of
`GET /draft/version`, which reads no answers and is therefore not audited.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from loket.adapters.events.hub import in_thread
from loket.bootstrap import Container
from loket.domain.calls import CallGrant, CallRole, envelope
from loket.domain.codraft import MAX_NAME_LENGTH, Side
from loket.domain.errors import DomainError, Forbidden, Invalid
from loket.domain.forms import (
    ITEM_FIELDS,
    PERSON_PARTS,
    PLACE_PARTS,
    Question,
    QuestionType,
    answer_text,
    part_label,
)
from loket.services import calls as call_service
from loket.services import codraft
from loket.services.codraft import Participant, SharedView
from loket.web.api.call_exchange import SERVER_CONNECTION
from loket.web.api.schemas import Strict
from loket.web.deps import ContainerDep, bearer_token
from loket.web.problems import PROBLEM_JSON, domain_error_response, language_of

router = APIRouter(prefix="/api/v1/calls/draft", tags=["calls"])


class DraftStart(Strict):
    form: str = Field(min_length=3, max_length=64, pattern=r"^report\.[a-z_]+$")


class AnswerChange(Strict):
    version: int = Field(ge=0)
    # The answer in the shape of its question (see domain.forms.validate_answer).
    value: Any = None


class TextConfirmation(Strict):
    version: int = Field(ge=0)
    full_name: str | None = Field(default=None, max_length=MAX_NAME_LENGTH)
    declared: bool = False


class DraftVersion(BaseModel):
    version: str | None


@router.get("")
async def read_draft(request: Request, container: ContainerDep) -> dict[str, Any]:
    """The contact's draft in the caller's language (null: none yet); an audited read.

    The officer also gets the report types they can start.
    """
    grant, who = await _participant(request, container)
    view = await in_thread(codraft.read_shared, container.reports, grant.call_id, who)
    return _state(container, view, who, language_of(request))


@router.get("/version", response_model=DraftVersion)
async def draft_version(request: Request, container: ContainerDep) -> DraftVersion:
    """The draft's version tag, for a page that checks whether it missed a change."""
    grant, who = await _participant(request, container)
    tag = await in_thread(codraft.shared_version, container.reports, grant.call_id, who)
    return DraftVersion(version=tag)


@router.post("", status_code=status.HTTP_201_CREATED)
async def start_draft(request: Request, body: DraftStart, container: ContainerDep) -> Any:
    """The officer starts a report of a chosen type for the citizen in the call."""
    grant, who = await _participant(request, container)
    view = await in_thread(
        codraft.start_draft_in_call, container.reports, grant.call_id, who, body.form
    )
    await _announce(container, grant, view)
    return _state(container, view, who, language_of(request))


@router.put("/answers/{question_id}", response_model=None)
async def change_answer(
    request: Request, question_id: str, body: AnswerChange, container: ContainerDep
) -> Response | dict[str, Any]:
    """Set one answer of the version the caller saw. A change made meanwhile by the other side
    is a 409 with the answer as it is now (`current`), never a silent overwrite."""
    grant, who = await _participant(request, container)
    language = language_of(request)
    try:
        view = await in_thread(
            lambda: codraft.correct_answer(
                container.reports,
                grant.call_id,
                who,
                question_id[:40],
                body.value,
                seen_version=body.version,
            )
        )
    except DomainError as error:
        if error.code != "codraft.changed_meanwhile":
            raise
        now = await in_thread(codraft.read_shared, container.reports, grant.call_id, who)
        return _conflict(request, error, now, question_id, language)
    await _announce(container, grant, view)
    return _state(container, view, who, language)


@router.post("/confirmations")
async def confirm(request: Request, body: TextConfirmation, container: ContainerDep) -> Any:
    """Confirm the text of the version the caller saw; the citizen ticks the declaration and
    types their full name, which the statement carries."""
    grant, who = await _participant(request, container)
    if who.side is Side.CITIZEN and not body.declared:
        raise Invalid("codraft.name_missing", field="declared")
    view = await in_thread(
        lambda: codraft.confirm_text(
            container.reports,
            grant.call_id,
            who,
            seen_version=body.version,
            citizen_name=body.full_name,
        )
    )
    await _announce(container, grant, view)
    return _state(container, view, who, language_of(request))


@router.post("/submission", status_code=status.HTTP_201_CREATED)
async def submit(request: Request, container: ContainerDep) -> Any:
    """The officer submits what both confirmed: a reference and the signed statement."""
    grant, who = await _participant(request, container)
    submission = await in_thread(
        codraft.submit_with_officer, container.handover, grant.call_id, who
    )
    view = await in_thread(codraft.read_shared, container.reports, grant.call_id, who)
    await _announce(container, grant, view)
    state = _state(container, view, who, language_of(request))
    state["statement"] = (
        None
        if submission.statement is None
        else {"version": submission.statement.version, "sha256": submission.statement.sha256}
    )
    return state


# -- helpers --------------------------------------------------------------------------------


async def _participant(request: Request, container: Container) -> tuple[CallGrant, Participant]:
    token = bearer_token(request)
    if token is None:
        raise Invalid("call.bad_token")
    grant = await in_thread(call_service.check_token, container.calls, token)
    if grant.role is CallRole.CITIZEN:
        return grant, Participant(Side.CITIZEN)
    if grant.role is CallRole.OFFICER:
        staff_id = grant.participant_id.removeprefix("staff:")
        if staff_id.isdigit():
            return grant, Participant(Side.OFFICER, int(staff_id))
    # An interpreter translates the conversation; the report is the citizen's and the officer's.
    raise Forbidden("contact.not_participant")


async def _announce(container: Container, grant: CallGrant, view: SharedView | None) -> None:
    tag = None if view is None else view.version_tag
    message = envelope("draft.changed", {"version": tag}, connection=SERVER_CONNECTION)
    message["from"] = grant.role.value
    await container.call_relay.publish(grant.call_id, message)


def _conflict(
    request: Request,
    error: DomainError,
    view: SharedView | None,
    question_id: str,
    language: str,
) -> Response:
    response = domain_error_response(request, error)
    body = json.loads(bytes(response.body))
    if view is not None and question_id in {q.id for q in view.form.questions}:
        question = view.form.question(question_id)
        value = view.draft.answers.get(question_id)
        body["current"] = {
            "question": question_id,
            "version": view.draft.version,
            "text": answer_text(question, value, language),
            "value": _editable_value(question, value),
        }
    return JSONResponse(
        body,
        status_code=response.status_code,
        media_type=PROBLEM_JSON,
        headers={"Content-Language": language},
    )


def _state(
    container: Container, view: SharedView | None, who: Participant, language: str
) -> dict[str, Any]:
    state: dict[str, Any] = {"draft": None if view is None else _draft(view, language)}
    if who.side is Side.OFFICER:
        state["forms"] = [
            {"code": form.code, "title": form.title.in_language(language)}
            for form in codraft.reportable_forms(container.reports)
        ]
    return state


def _draft(view: SharedView, language: str) -> dict[str, Any]:
    answers = view.draft.answers
    marked = set(view.shared.officer_changes)
    return {
        "version": view.draft.version,
        "tag": view.version_tag,
        "form": view.form.code,
        "title": view.form.title.in_language(language),
        "started_by": view.shared.started_by.value,
        "complete": view.is_complete,
        "confirmed": {side.value: view.is_confirmed_by(side) for side in Side},
        "can_submit": view.can_submit,
        "reference": None if view.report is None else view.report.reference,
        "questions": [
            _question(q, answers, q.id in marked, language) for q in view.form.visible(answers)
        ],
    }


def _question(
    question: Question, answers: dict[str, Any], marked: bool, language: str
) -> dict[str, Any]:
    value = answers.get(question.id)
    kind = question.type
    parts: tuple[str, ...] = ()
    if kind is QuestionType.PLACE:
        parts = PLACE_PARTS
    elif kind is QuestionType.PERSON:
        parts = PERSON_PARTS
    elif kind is QuestionType.ITEMS:
        parts = question.fields or ITEM_FIELDS
    elif kind is QuestionType.DATETIME:
        parts = ("date", "time")
    return {
        "id": question.id,
        "type": kind.value,
        "label": question.label.in_language(language),
        "help": question.help.in_language(language) if question.help else None,
        "required": question.required,
        "answered": question.id in answers,
        "text": answer_text(question, value, language) if question.id in answers else None,
        "value": _editable_value(question, value),
        "changed_by_officer": marked,
        "editable": kind is not QuestionType.FILE,
        "options": [
            {"value": o.value, "label": o.label.in_language(language)} for o in question.options
        ],
        "parts": [{"name": name, "label": part_label(name, language)} for name in parts],
        "max_items": question.max_items if kind is QuestionType.ITEMS else 0,
        "max_length": question.length_limit
        if kind in (QuestionType.TEXT, QuestionType.LONG_TEXT)
        else None,
    }


def _editable_value(question: Question, value: Any) -> Any:
    """The answer in the shape the edit form fills in (and sends back)."""
    kind = question.type
    if kind is QuestionType.DATETIME:
        day, _, moment = value.partition("T") if isinstance(value, str) else ("", "", "")
        return {"date": day, "time": moment}
    if kind is QuestionType.MULTI_CHOICE:
        return value if isinstance(value, list) else []
    if kind in (QuestionType.PLACE, QuestionType.PERSON):
        return value if isinstance(value, dict) else {}
    if kind is QuestionType.ITEMS:
        return value if isinstance(value, list) else []
    if kind is QuestionType.FILE:
        return {"filename": value.get("filename")} if isinstance(value, dict) else None
    return value if isinstance(value, str) else ""
