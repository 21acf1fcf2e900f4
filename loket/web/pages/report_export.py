"""Officers' side of a report beyond its answers: what a tipster added later, and exporting
the report to the police back-end (a button on the report page; audited, recorded)."""

from __future__ import annotations

import re
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from loket.domain.errors import DomainError
from loket.domain.reports import Report
from loket.domain.staff import Role, StaffMember
from loket.services import export as export_service
from loket.services import follow_up as follow_up_service
from loket.services import reports as report_service
from loket.web.deps import ContainerDep
from loket.web.pages import render
from loket.web.pages.officer import SERVICE_TITLES
from loket.web.pages.staff_auth import check_staff_csrf, require_staff, staff_csrf, staff_language

router = APIRouter(include_in_schema=False)

_REFERENCE = re.compile(r"^[A-Z]{2}-[A-Z0-9]{4,12}$")
StaffReader = Annotated[StaffMember, require_staff(Role.OFFICER, Role.SUPERVISOR)]
_ZONE = ZoneInfo("Europe/Amsterdam")


def officer_context(
    request: Request, container: ContainerDep, report: Report, member: StaffMember, language: str
) -> dict[str, Any]:
    """What the officer report page shows besides the answers: additions and exports."""
    additions = follow_up_service.follow_ups_for(
        container.follow_up, report, actor=staff_actor(member)
    )
    exports = export_service.exports_of(container.export, report.reference)
    return {
        "follow_ups": [
            {"at": _when(item.added_at, language), "text": item.text} for item in additions
        ],
        "exports": [{"at": _when(e.exported_at, language), "record": e} for e in exports[:5]],
        "exported": request.query_params.get("exported") == "1",
    }


@router.get("/officer/tips", response_class=HTMLResponse)
def tip_list(request: Request, member: StaffReader, container: ContainerDep) -> Response:
    """Tips, newest first, with how many additions each has; the listing is audited."""
    found = follow_up_service.list_tips(container.follow_up, actor=staff_actor(member))
    language = staff_language(request, member)
    rows = [
        {
            "reference": tip.reference,
            "title": form_title(container, tip.form_code, language),
            "submitted_at": _when(tip.submitted_at, language),
            "additions": additions,
        }
        for tip, additions in found
    ]
    return render(
        request,
        "officer/tips.html",
        language,
        personal=True,
        member=member,
        csrf=staff_csrf(request),
        rows=rows,
    )


@router.post("/officer/reports/{reference}/export")
def export_report(
    request: Request,
    reference: str,
    member: StaffReader,
    container: ContainerDep,
    csrf_token_field: Annotated[str | None, Form(alias="csrf_token")] = None,
) -> Response:
    """Export the report (JSON + signed PDF) through the configured exporter; audited."""
    check_staff_csrf(request, csrf_token_field)
    if not _REFERENCE.match(reference):
        raise DomainError("report.unknown")
    try:
        export_service.export_report(container.export, reference, actor=staff_actor(member))
    except OSError:
        # The folder (a mounted share, usually) is not writable now: nothing was recorded.
        raise DomainError("export.failed") from None
    return RedirectResponse(f"/officer/reports/{reference}?exported=1", status_code=303)


def _when(moment: Any, language: str) -> str:
    return str(format_datetime(moment, "short", tzinfo=_ZONE, locale=language))


def staff_actor(member: StaffMember) -> str:
    """How the audit trail and the services name a member of staff."""
    return f"staff:{member.id}"


def form_title(container: ContainerDep, code: str, language: str) -> str:
    """A report type's title in `language`; for a type no longer in the content, the
    service's title or, failing that, the code."""
    try:
        return report_service.get_form(container.reports, code).title.in_language(language)
    except DomainError:
        return SERVICE_TITLES.get(code, code)
