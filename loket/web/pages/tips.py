"""Tip follow-up pages: the secret on the confirmation page (a tip's passphrase, a report's
status code), a new one on request, and adding information to a tip with reference and
passphrase. Served at the kiosk (/kiosk/{slug}/...) and at home (/...).

Nothing about the visitor is stored: the rate limit keys on the address in this node's memory
only, and the follow-up is written with no address, agent, session or ticket.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from loket.domain.errors import DomainError
from loket.domain.follow_up import FOLLOW_UP_MAX_LENGTH, AccessPurpose
from loket.domain.locations import Location, LocationKind
from loket.services import follow_up as follow_up_service
from loket.services import locations as location_service
from loket.web.deps import ContainerDep
from loket.web.pages import at_kiosk_and_home, citizen
from loket.web.pages import report_handover as handover_pages
from loket.web.sessions import citizen_session, csrf_is_valid

router = APIRouter(include_in_schema=False)

Fields = Mapping[str, str]
Step = Callable[..., Response]


def citizen_route(router: APIRouter, method: str, path: str, step: Step) -> None:
    """Serve `step(request, container, location, mode, fields, **path)` at the kiosk and home.

    The posted fields are read on the event loop, the step runs in a worker thread (it reads
    the database and may hash slowly).
    """

    async def endpoint(request: Request, container: ContainerDep) -> Response:
        fields: dict[str, str] = {}
        if method == "POST":
            async with request.form() as form:
                fields = {k: v for k, v in form.items() if isinstance(v, str)}
        return await run_in_threadpool(_run, step, request, container, fields)

    at_kiosk_and_home(router, method, path, endpoint, step.__name__, f"_{method.lower()}")


def _run(step: Step, request: Request, container: ContainerDep, fields: Fields) -> Response:
    params = dict(request.path_params)
    slug = params.pop("slug", None)
    if slug is None:
        location = location_service.get_location(container.queue, citizen.ONLINE_DESK)
        mode = "home"
    else:
        location = location_service.get_location(container.queue, slug)
        if location.kind is LocationKind.ONLINE:
            raise DomainError("location.unknown")
        mode = "kiosk"
    return step(request, container, location, mode, fields, **params)


def page(
    request: Request,
    container: ContainerDep,
    template: str,
    location: Location,
    mode: str,
    **context: Any,
) -> Response:
    session = citizen_session(request)
    language = citizen.page_language(request, session)
    return citizen._page(
        request, container, template, language, location, session, mode=mode, **context
    )


# -- the secret on the confirmation page --------------------------------------------------------


def done_context(container: ContainerDep, draft_id: str) -> dict[str, Any]:
    """The confirmation page's secret: shown the first time, afterwards an offer of a new one."""
    access = follow_up_service.first_access(container.follow_up, draft_id)
    return {"access": access, "access_is_tip": access.purpose is AccessPurpose.FOLLOW_UP}


def _renew(
    request: Request, container: ContainerDep, location: Location, mode: str, fields: Fields
) -> Response:
    session = citizen_session(request)
    base = citizen.base_path(location, mode)
    citizen.check_form(request, session, fields.get("csrf_token"), location, f"{base}/report/done")
    if session.draft_id is None:
        raise DomainError("report.unknown")
    handover_pages.check_rate(request)
    access = follow_up_service.renew_access(container.follow_up, session.draft_id)
    # Shown once, in this response only: not in an address, a log or the session.
    return page(
        request,
        container,
        "citizen/report_access.html",
        location,
        mode,
        access=access,
        access_is_tip=access.purpose is AccessPurpose.FOLLOW_UP,
    )


# -- adding to a tip --------------------------------------------------------------------------


def _follow_up_page(
    request: Request,
    container: ContainerDep,
    location: Location,
    mode: str,
    fields: Fields,
    *,
    error: DomainError | None = None,
) -> Response:
    status, message = handover_pages.shown_error(error)
    return page(
        request,
        container,
        "citizen/tip_follow_up.html",
        location,
        mode,
        status_code=status,
        error=message,
        error_field=None if error is None else error.field,
        reference=fields.get("reference", "")[:40],
        text=fields.get("text", "")[: FOLLOW_UP_MAX_LENGTH + 1000],
        max_length=FOLLOW_UP_MAX_LENGTH,
    )


def _add_follow_up(
    request: Request, container: ContainerDep, location: Location, mode: str, fields: Fields
) -> Response:
    session = citizen_session(request)
    base = citizen.base_path(location, mode)
    if not csrf_is_valid(request, session.id, fields.get("csrf_token")):
        return _follow_up_page(
            request, container, location, mode, fields, error=DomainError("request.expired_form")
        )
    try:
        handover_pages.check_rate(request)
        report = follow_up_service.add_follow_up(
            container.follow_up,
            fields.get("reference", "")[:40],
            fields.get("passphrase", "")[:80],
            fields.get("text", "")[: FOLLOW_UP_MAX_LENGTH + 1000],
        )
    except DomainError as error:
        # The passphrase is never shown back: it is typed again.
        return _follow_up_page(request, container, location, mode, fields, error=error)
    # The answer itself, not a redirect: the reference stays out of addresses and history
    # (a reload would post again, and the same text within minutes is added once).
    return page(
        request,
        container,
        "citizen/tip_follow_up_done.html",
        location,
        mode,
        reference=report.reference,
        back_url=base or "/",
    )


def _show_follow_up(
    request: Request, container: ContainerDep, location: Location, mode: str, fields: Fields
) -> Response:
    return _follow_up_page(request, container, location, mode, {})


citizen_route(router, "POST", "/report/access", _renew)
citizen_route(router, "GET", "/tips/follow-up", _show_follow_up)
citizen_route(router, "POST", "/tips/follow-up", _add_follow_up)
