"""The status of a report, looked up with its reference and status code (at the kiosk and at
home). One answer for an unknown reference and a wrong code; rate limited per address."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from loket.domain.errors import DomainError
from loket.domain.follow_up import STATUS_LABELS, STATUS_MEANINGS
from loket.domain.locations import Location
from loket.domain.reports import ReportState
from loket.services import follow_up as follow_up_service
from loket.web.deps import ContainerDep
from loket.web.pages import citizen
from loket.web.pages import report_handover as handover_pages
from loket.web.pages.tips import Fields, citizen_route, page
from loket.web.sessions import citizen_session, csrf_is_valid

router = APIRouter(include_in_schema=False)


def _status_page(
    request: Request,
    container: ContainerDep,
    location: Location,
    mode: str,
    fields: Fields,
    *,
    error: DomainError | None = None,
    found: follow_up_service.StatusView | None = None,
) -> Response:
    status, message = handover_pages.shown_error(error)
    context: dict[str, Any] = {}
    if found is not None:
        language = citizen.page_language(request, citizen_session(request))
        when = found.changed_at.astimezone(location.zone)
        context = {
            "state_label": STATUS_LABELS[found.state],
            "state_meaning": STATUS_MEANINGS[found.state],
            "changed": citizen._format_moment(when, location, language),
            "steps": [(state.value, STATUS_LABELS[state]) for state in ReportState],
        }
    return page(
        request,
        container,
        "citizen/report_status.html",
        location,
        mode,
        status_code=status,
        error=message,
        reference=fields.get("reference", "")[:40],
        found=found,
        **context,
    )


def _show(
    request: Request, container: ContainerDep, location: Location, mode: str, fields: Fields
) -> Response:
    return _status_page(request, container, location, mode, {})


def _look_up(
    request: Request, container: ContainerDep, location: Location, mode: str, fields: Fields
) -> Response:
    session = citizen_session(request)
    if not csrf_is_valid(request, session.id, fields.get("csrf_token")):
        error = DomainError("request.expired_form")
        return _status_page(request, container, location, mode, fields, error=error)
    try:
        handover_pages.check_rate(request)
        found = follow_up_service.look_up_status(
            container.follow_up, fields.get("reference", "")[:40], fields.get("code", "")[:40]
        )
    except DomainError as error:
        return _status_page(request, container, location, mode, fields, error=error)
    # The answer itself, not a redirect: reference and code stay out of addresses.
    return _status_page(request, container, location, mode, fields, found=found)


citizen_route(router, "GET", "/status", _show)
citizen_route(router, "POST", "/status", _look_up)
