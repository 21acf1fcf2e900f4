"""The chat with the virtual agent, at the kiosk (/kiosk/{slug}/assistant) and at home (/assistant).

Works without JavaScript: the question is a form that posts and redirects, the transcript is
rendered by the server. With JavaScript (assistant.js) the same form posts to the API and the
reply is added in place. The conversation's id lives in the citizen's signed session cookie,
so the kiosk's reset forgets it. Also: the actions a reply offers, for the API and the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from loket.domain.assistant import EMERGENCY, MAX_QUESTION_LENGTH, ActionKind, Reply
from loket.domain.catalogue import ServiceKind, service_by_code
from loket.domain.errors import DomainError
from loket.domain.i18n import N_
from loket.domain.locations import Location, LocationKind
from loket.domain.staff import Role, StaffMember
from loket.services import assistant as assistant_service
from loket.services import locations as location_service
from loket.web.deps import ContainerDep, client_address
from loket.web.i18n import gettext_for
from loket.web.pages import NATIVE_NAMES, citizen, render
from loket.web.pages.officer import lang_query, local_time
from loket.web.pages.staff_auth import check_staff_csrf, require_staff, staff_csrf, staff_language
from loket.web.problems import MESSAGES
from loket.web.sessions import CitizenSession, citizen_session, store_citizen_session

router = APIRouter(include_in_schema=False)

SERVICE_CODE = "assistant"
CsrfField = Annotated[str | None, Form(alias="csrf_token")]

ACTION_LABELS = {
    "start_report": N_("Start your report"),
    "start_tip": N_("Give your tip"),
    "handover": N_("Talk to an officer"),
    "callback": N_("Request a callback"),
    "referral": N_("What to do"),
    "link": N_("Read more"),
    "call": N_("Call 112"),
}


@dataclass(frozen=True)
class Action:
    """A button under a reply: a link (GET) or a small form (POST, with `fields`)."""

    kind: str
    label: str
    method: str
    url: str
    fields: dict[str, str]

    def to_json(self, translate: Any) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": translate(self.label),
            "method": self.method,
            "url": self.url,
            "fields": self.fields,
        }


def _actions(
    kind: ActionKind, intent: str, service: str | None, path: str | None, base: str, mode: str
) -> list[Action]:
    if kind is ActionKind.REPORT and service:
        is_tip = service_by_code(service).kind is ServiceKind.TIP
        key = "start_tip" if is_tip else "start_report"
        return [Action(key, ACTION_LABELS[key], "POST", f"{base}/reports/start", {"form": service})]
    if kind is ActionKind.HANDOVER:
        return [
            Action("handover", ACTION_LABELS["handover"], "POST", f"{base}/assistant/handover", {})
        ]
    if kind is ActionKind.CALLBACK:
        return [
            Action("callback", ACTION_LABELS["callback"], "GET", f"{base}/services/callback", {})
        ]
    if kind is ActionKind.REFERRAL:
        return [
            Action("referral", ACTION_LABELS["referral"], "GET", f"{base}/referral/{intent}", {})
        ]
    if kind is ActionKind.LINK and path:
        return [Action("link", ACTION_LABELS["link"], "GET", f"{base}{path}", {})]
    if kind is ActionKind.EMERGENCY and mode != "kiosk":
        # A phone can dial; a kiosk cannot (its emergency banner says what to do instead).
        return [Action("call", ACTION_LABELS["call"], "GET", "tel:112", {})]
    return []


def reply_actions(container: ContainerDep, reply: Reply, base: str, mode: str) -> list[Action]:
    found = _actions(reply.action, reply.intent, reply.service, reply.path, base, mode)
    if reply.also is not None:
        entry = container.assistant.source.current().knowledge.entry(reply.also)
        found += _actions(entry.action, entry.intent, entry.service, entry.path, base, mode)
    return found


# -- routes ---------------------------------------------------------------------------------


@router.get("/assistant", response_class=HTMLResponse)
def home_chat(request: Request, container: ContainerDep) -> Response:
    return _chat_page(request, container, _home_desk(container), mode="home")


@router.get("/kiosk/{slug}/assistant", response_class=HTMLResponse)
def kiosk_chat(request: Request, slug: str, container: ContainerDep) -> Response:
    location = location_service.get_location(container.queue, slug)
    return _chat_page(request, container, location, mode="kiosk")


@router.get("/services/assistant")
def home_tile(request: Request) -> Response:
    """The start page's tile of the assistant (and old links to it) lead to the chat."""
    return RedirectResponse("/assistant", status_code=303)


@router.get("/kiosk/{slug}/services/assistant")
def kiosk_tile(slug: str, container: ContainerDep) -> Response:
    location = location_service.get_location(container.queue, slug)
    return RedirectResponse(f"/kiosk/{location.slug}/assistant", status_code=303)


@router.post("/assistant", response_class=HTMLResponse)
def home_ask(
    request: Request,
    container: ContainerDep,
    text: Annotated[str, Form(max_length=MAX_QUESTION_LENGTH * 4)] = "",
    csrf_token_field: CsrfField = None,
) -> Response:
    return _ask(request, container, _home_desk(container), text, csrf_token_field, mode="home")


@router.post("/kiosk/{slug}/assistant", response_class=HTMLResponse)
def kiosk_ask(
    request: Request,
    slug: str,
    container: ContainerDep,
    text: Annotated[str, Form(max_length=MAX_QUESTION_LENGTH * 4)] = "",
    csrf_token_field: CsrfField = None,
) -> Response:
    location = location_service.get_location(container.queue, slug)
    return _ask(request, container, location, text, csrf_token_field, mode="kiosk")


@router.post("/assistant/handover", response_class=HTMLResponse)
def home_handover(
    request: Request, container: ContainerDep, csrf_token_field: CsrfField = None
) -> Response:
    return _handover(request, container, _home_desk(container), csrf_token_field, mode="home")


@router.post("/kiosk/{slug}/assistant/handover", response_class=HTMLResponse)
def kiosk_handover(
    request: Request, slug: str, container: ContainerDep, csrf_token_field: CsrfField = None
) -> Response:
    location = location_service.get_location(container.queue, slug)
    return _handover(request, container, location, csrf_token_field, mode="kiosk")


# -- steps ----------------------------------------------------------------------------------


def _home_desk(container: ContainerDep) -> Location:
    return location_service.get_location(container.queue, citizen.ONLINE_DESK)


def _gate(
    request: Request,
    container: ContainerDep,
    location: Location,
    session: CitizenSession,
    mode: str,
) -> Response | None:
    """The chat is shown where the desk offers it, while it is open; else the usual pages."""
    if mode == "kiosk":
        if location.kind is LocationKind.ONLINE:
            return RedirectResponse("/assistant", status_code=303)
        if citizen._chosen_language(request, session) is None:
            return RedirectResponse(f"/kiosk/{location.slug}", status_code=303)
    if not citizen._is_open(container, location):
        return citizen._closed_page(request, container, location, session, mode=mode)
    if not location.offers(SERVICE_CODE):
        raise DomainError("location.service_not_offered")
    return None


def _chat_page(
    request: Request,
    container: ContainerDep,
    location: Location,
    *,
    mode: str,
    status_code: int = 200,
    error: tuple[str, dict[str, Any]] | None = None,
    entered: str = "",
) -> Response:
    session = citizen_session(request)
    gated = _gate(request, container, location, session, mode)
    if gated is not None:
        return gated
    if session.conversation_id is None:
        # Minted now, so the page's script and its plain form share one conversation.
        session.conversation_id = assistant_service.new_conversation_id()
    language = citizen.page_language(request, session)
    translate = gettext_for(language).gettext
    base = citizen.base_path(location, mode)
    lines = assistant_service.transcript(container.assistant, session.conversation_id)
    knowledge = container.assistant.source.current().knowledge
    turns = _turns(container, lines, base, mode)
    latest_emergency = bool(turns) and turns[-1]["is_emergency"]
    return citizen._page(
        request,
        container,
        "citizen/assistant.html",
        language,
        location,
        session,
        mode=mode,
        status_code=status_code,
        turns=turns,
        suggestions=knowledge.suggested(language),
        error=error,
        entered=entered,
        max_length=MAX_QUESTION_LENGTH,
        latest_emergency=latest_emergency,
        conversation_id=session.conversation_id,
        page_text={
            "you": translate(N_("You")),
            "agent": translate(N_("Wout, virtual agent")),
            "failed": translate(N_("Your question could not be sent. Please try again.")),
            "empty": translate(MESSAGES["assistant.empty_question"][1]),
            "emergency_heading": translate(N_("Emergency")),
            "also": translate(N_("You also asked:")),
        },
    )


def _turns(container: ContainerDep, lines: list[Any], base: str, mode: str) -> list[dict[str, Any]]:
    """The transcript as question/answer turns; the latest answer carries its buttons."""
    turns: list[dict[str, Any]] = []
    knowledge = container.assistant.source.current().knowledge
    for line in lines:
        if line.speaker.value == "citizen":
            turns.append({"question": line.text, "answer": None, "is_emergency": False})
            continue
        if not turns:
            continue
        turns[-1]["answer"] = line.text
        turns[-1]["intent"] = line.intent
        turns[-1]["is_emergency"] = line.intent == EMERGENCY
    if turns and turns[-1].get("intent") is not None:
        intent = turns[-1]["intent"]
        entry = knowledge.intents.get(intent)
        if entry is not None:
            turns[-1]["actions"] = _actions(
                entry.action, entry.intent, entry.service, entry.path, base, mode
            )
    return turns


def _ask(
    request: Request,
    container: ContainerDep,
    location: Location,
    text: str,
    csrf: str | None,
    *,
    mode: str,
) -> Response:
    session = citizen_session(request)
    base = citizen.base_path(location, mode)
    citizen.check_form(request, session, csrf, location, f"{base}/assistant")
    gated = _gate(request, container, location, session, mode)
    if gated is not None:
        return gated
    allowed, retry_after = request.app.state.assistant_limiter.allow(client_address(request))
    try:
        if not allowed:
            raise DomainError("request.rate_limited", retry_after=retry_after)
        answered = assistant_service.ask(
            container.assistant,
            text,
            conversation_id=session.conversation_id,
            language=citizen.page_language(request, session),
            channel=mode,
            location_slug=location.slug,
        )
    except DomainError as error:
        status, _ = MESSAGES.get(error.code, (422, error.code))
        return _chat_page(
            request,
            container,
            location,
            mode=mode,
            status_code=status,
            error=(error.code, error.params),
            entered=text[: MAX_QUESTION_LENGTH * 2],
        )
    session.conversation_id = answered.conversation.id
    response = RedirectResponse(f"{base}/assistant#latest", status_code=303)
    store_citizen_session(request, response, session)
    return response


def _handover(
    request: Request,
    container: ContainerDep,
    location: Location,
    csrf: str | None,
    *,
    mode: str,
) -> Response:
    session = citizen_session(request)
    base = citizen.base_path(location, mode)
    citizen.check_form(request, session, csrf, location, f"{base}/assistant")
    if session.conversation_id is None:
        return RedirectResponse(f"{base}/assistant", status_code=303)
    language = citizen.page_language(request, session)
    speaks = language if language in location.languages else location.languages[0]
    ticket = assistant_service.hand_over(
        container.assistant,
        container.queue,
        session.conversation_id,
        location_slug=location.slug,
        language=speaks,
        channel=mode,
    )
    session.ticket_id = ticket.id
    target = f"{base}/ticket" if mode == "kiosk" else f"/t/{ticket.id}"
    response = RedirectResponse(target, status_code=303)
    store_citizen_session(request, response, session)
    return response


# -- the supervisor's page: unanswered questions and the knowledge base ------------------------

SupervisorMember = Annotated[StaffMember, require_staff(Role.SUPERVISOR)]


@router.get("/supervisor/assistant", response_class=HTMLResponse)
def supervisor_page(
    request: Request, member: SupervisorMember, container: ContainerDep
) -> Response:
    return _supervisor_page(request, member, container)


@router.post("/supervisor/assistant/reload", response_class=HTMLResponse)
def supervisor_reload(
    request: Request,
    member: SupervisorMember,
    container: ContainerDep,
    csrf_token_field: CsrfField = None,
) -> Response:
    """Read the knowledge base again now; a broken file keeps the old answers and is shown."""
    check_staff_csrf(request, csrf_token_field)
    fault = container.assistant_source.reload()
    query = lang_query(request)
    flag = "reloaded=0" if fault else "reloaded=1"
    return RedirectResponse(
        f"/supervisor/assistant{query}{'&' if query else '?'}{flag}", status_code=303
    )


@router.post("/supervisor/assistant/unanswered/{question_id}/handled", response_class=HTMLResponse)
def supervisor_handled(
    request: Request,
    question_id: int,
    member: SupervisorMember,
    container: ContainerDep,
    csrf_token_field: CsrfField = None,
) -> Response:
    check_staff_csrf(request, csrf_token_field)
    assistant_service.mark_handled(container.assistant, question_id, f"staff:{member.id}")
    return RedirectResponse(f"/supervisor/assistant{lang_query(request)}", status_code=303)


def _supervisor_page(request: Request, member: StaffMember, container: ContainerDep) -> Response:
    language = staff_language(request, member)
    show_all = request.query_params.get("all") == "1"
    questions = assistant_service.unanswered_questions(
        container.assistant, include_handled=show_all
    )
    return render(
        request,
        "supervisor/assistant.html",
        language,
        personal=True,
        member=member,
        csrf=staff_csrf(request),
        lang_query=lang_query(request),
        questions=questions,
        show_all=show_all,
        status=container.assistant_source.status(),
        reloaded=request.query_params.get("reloaded"),
        local_time=local_time,
        native_names=NATIVE_NAMES,
    )
