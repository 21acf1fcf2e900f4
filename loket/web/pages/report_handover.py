"""Pages of a report's handover: the confirmation read from the signature step, the
acknowledgement (downloaded at home, fetched with a one-time code from a kiosk's QR code or an
e-mail), and the officers' list of reports with the signed statement to download.

The kiosk never prints and never downloads: it shows a code. The download address carries
that code, never a reference or a name.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from loket.domain.errors import DomainError, Invalid
from loket.domain.forms import QuestionType
from loket.domain.i18n import N_
from loket.domain.locations import Location
from loket.domain.reports import Report
from loket.domain.staff import Role, StaffMember
from loket.domain.statements import Confirmation
from loket.services import handover as handover_service
from loket.services import locations as location_service
from loket.services import reports as report_service
from loket.web.deps import ContainerDep, client_address
from loket.web.pages import citizen, render
from loket.web.pages import report_export as export_pages
from loket.web.pages.staff_auth import require_staff, staff_csrf, staff_language
from loket.web.problems import MESSAGES
from loket.web.sessions import citizen_session, csrf_is_valid

if TYPE_CHECKING:
    from loket.web.pages.reports import Submitted

router = APIRouter(include_in_schema=False)

_DATA_URL = re.compile(r"^data:image/png;base64,([A-Za-z0-9+/=]+)$")
_REFERENCE = re.compile(r"^[A-Z]{2}-[A-Z0-9]{4,12}$")
_QUESTION_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
REPORT_STATE_LABELS = {
    "submitted": N_("Submitted"),
    "in_review": N_("In review"),
    "registered": N_("Registered"),
    "closed": N_("Closed"),
}
StaffReader = Annotated[StaffMember, require_staff(Role.OFFICER, Role.SUPERVISOR)]


def shown_error(error: DomainError | None) -> tuple[int, tuple[str, dict[str, Any]] | None]:
    """The HTTP status and the (message, parameters) a page shows for a domain error."""
    if error is None:
        return 200, None
    status, template = MESSAGES.get(error.code, (422, error.code))
    return status, (template, error.params)


# -- the signature step ----------------------------------------------------------------------


def confirmation_from(form: Submitted) -> Confirmation | None:
    """How the citizen confirmed the statement on the check page, or None if they did not.

    The drawn signature (a PNG data URL the pad writes into a hidden field) wins; else the
    ticked declaration with a typed full name, the way for keyboard and screen-reader users.
    """
    drawn = form.get("signature")
    if drawn:
        match = _DATA_URL.match(drawn)
        if match is None:
            raise Invalid("statement.signature_invalid", field="signature")
        try:
            png = base64.b64decode(match.group(1), validate=True)
        except (binascii.Error, ValueError):
            raise Invalid("statement.signature_invalid", field="signature") from None
        return Confirmation(signature_png=png)
    name = form.get("full_name").strip()
    ticked = form.get("confirm") == "yes"
    if ticked and name:
        return Confirmation(typed_name=name)
    if ticked or name:
        raise Invalid("statement.typed_confirmation_incomplete", field="full_name")
    return None


# -- the confirmation page and its acknowledgement --------------------------------------------


def done_context(container: ContainerDep, report: Report) -> dict[str, Any]:
    """What the confirmation page needs to offer the acknowledgement."""
    form = report_service.get_form(container.reports, report.form_code)
    return {"has_acknowledgement": form.kind != "tip"}


def acknowledgement_download(
    request: Request, container: ContainerDep, location: Location, mode: str
) -> Response:
    """The citizen's own acknowledgement, on their own device (never on a kiosk)."""
    session = citizen_session(request)
    if mode == "kiosk" or session.draft_id is None:
        raise DomainError("report.unknown")
    report, pdf = handover_service.acknowledgement_pdf(container.handover, session.draft_id)
    return pdf_response(pdf, f"acknowledgement-{report.reference}.pdf")


def acknowledgement_code(
    request: Request, container: ContainerDep, location: Location, mode: str, submitted: Submitted
) -> Response:
    """A one-time code and its QR code, to fetch the acknowledgement on one's phone."""
    session = citizen_session(request)
    base = citizen.base_path(location, mode)
    citizen.check_form(
        request, session, submitted.get("csrf_token"), location, f"{base}/report/done"
    )
    if session.draft_id is None:
        raise DomainError("report.unknown")
    check_rate(request)
    code = handover_service.issue_download_code(container.handover, session.draft_id)
    url = f"{str(request.base_url).rstrip('/')}/acknowledgement/{code}"
    language = citizen.page_language(request, session)
    # Shown once, in this response only; the kiosk forgets it at the idle reset.
    return citizen._page(
        request,
        container,
        "citizen/report_acknowledgement_code.html",
        language,
        location,
        session,
        mode=mode,
        code=code,
        qr=citizen._qr(url),
        download_url=f"{str(request.base_url).rstrip('/')}/acknowledgement",
    )


def check_rate(request: Request) -> None:
    """The public rate limit per address: codes are guessable, and e-mails cost, only in bulk."""
    allowed, retry_after = request.app.state.ticket_limiter.allow(client_address(request))
    if not allowed:
        raise DomainError("request.rate_limited", retry_after=retry_after)


def pdf_response(pdf: bytes, filename: str) -> Response:
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


# -- fetching with a one-time code (at home, from the QR code or the e-mail) -------------------


@router.get("/acknowledgement", response_class=HTMLResponse)
def redeem_page(request: Request, container: ContainerDep) -> Response:
    return _redeem_page(request, container, code="")


@router.get("/acknowledgement/{code}", response_class=HTMLResponse)
def redeem_link(request: Request, container: ContainerDep, code: str) -> Response:
    # A page with a button, not the file: mail scanners that follow links would spend the code.
    return _redeem_page(request, container, code=code[:20])


@router.post("/acknowledgement", response_class=HTMLResponse)
def redeem(
    request: Request,
    container: ContainerDep,
    code: Annotated[str, Form(max_length=40)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    session = citizen_session(request)
    if not csrf_is_valid(request, session.id, csrf_token):
        return _redeem_page(
            request, container, code=code, error=DomainError("request.expired_form")
        )
    try:
        check_rate(request)
        report, pdf = handover_service.redeem_download_code(container.handover, code)
    except DomainError as error:
        return _redeem_page(request, container, code=code, error=error)
    return pdf_response(pdf, f"acknowledgement-{report.reference}.pdf")


def _redeem_page(
    request: Request, container: ContainerDep, *, code: str, error: DomainError | None = None
) -> Response:
    session = citizen_session(request)
    location = location_service.get_location(container.queue, citizen.ONLINE_DESK)
    language = citizen.page_language(request, session)
    status, message = shown_error(error)
    return citizen._page(
        request,
        container,
        "citizen/acknowledgement_redeem.html",
        language,
        location,
        session,
        mode="home",
        status_code=status,
        error=message,
        code=code,
    )


# -- officers ----------------------------------------------------------------------------------


@router.get("/officer/reports", response_class=HTMLResponse)
def report_list(request: Request, member: StaffReader, container: ContainerDep) -> Response:
    """Submitted reports, newest first; the listing is audited."""
    found = handover_service.list_reports(
        container.handover, actor=export_pages.staff_actor(member)
    )
    language = staff_language(request, member)
    desks = {d.id: d for d in location_service.list_locations(container.queue)}
    rows = [
        {
            "reference": r.reference,
            "title": export_pages.form_title(container, r.form_code, language),
            "desk": desks[r.location_id].name if r.location_id in desks else "",
            "submitted_at": _when(r, desks.get(r.location_id), language),
            "state": r.state.value,
        }
        for r in found
    ]
    return render(
        request,
        "officer/reports.html",
        language,
        personal=True,
        member=member,
        csrf=staff_csrf(request),
        state_labels=REPORT_STATE_LABELS,
        rows=rows,
    )


@router.get("/officer/reports/{reference}", response_class=HTMLResponse)
def report_detail(
    request: Request, reference: str, member: StaffReader, container: ContainerDep
) -> Response:
    """One report with its answers; the read is audited."""
    from loket.web.pages import identification as identification_pages  # it imports this

    _check_reference(reference)
    report = report_service.read_report(
        container.reports, reference, actor=export_pages.staff_actor(member)
    )
    language = staff_language(request, member)
    form = report_service.get_form(container.reports, report.form_code)
    lines = form.statement_lines(report.answers, language)
    stored = handover_service.statement_of(container.handover, reference)
    # Attached files open through the virus scanner (see file_download), one link each.
    files = [
        (q.id, q.label.in_language(language), report.answers[q.id]["filename"])
        for q in form.visible(report.answers)
        if q.type is QuestionType.FILE and isinstance(report.answers.get(q.id), dict)
    ]
    return render(
        request,
        "officer/report.html",
        language,
        personal=True,
        member=member,
        csrf=staff_csrf(request),
        state_labels=REPORT_STATE_LABELS,
        report=report,
        title=form.title.in_language(language),
        lines=lines,
        statement=stored,
        identification=identification_pages.LEVEL_LABELS[report.identification],
        files=files,
        **export_pages.officer_context(request, container, report, member, language),
    )


@router.get("/officer/reports/{reference}/statement.pdf")
def statement_download(reference: str, member: StaffReader, container: ContainerDep) -> Response:
    """The signed statement PDF; the download is audited."""
    _check_reference(reference)
    pdf = handover_service.download_statement(
        container.handover, reference, actor=export_pages.staff_actor(member)
    )
    return pdf_response(pdf, f"statement-{reference}.pdf")


@router.get("/officer/reports/{reference}/files/{question_id}")
def file_download(
    reference: str, question_id: str, member: StaffReader, container: ContainerDep
) -> Response:
    """A file the citizen attached, after the virus scanner passed it again; audited."""
    _check_reference(reference)
    if not _QUESTION_ID.match(question_id):
        raise DomainError("document.unknown")
    found = report_service.open_report_file(
        container.reports, reference, question_id, actor=export_pages.staff_actor(member)
    )
    return Response(
        found.content,
        media_type=found.content_type.value,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.filename)}",
            "Cache-Control": "no-store",
            # Opened anyway (a PDF viewer), it runs nothing and reaches nothing of ours.
            "Content-Security-Policy": "sandbox; default-src 'none'",
        },
    )


def _when(report: Report, desk: Location | None, language: str) -> str:
    zone = desk.zone if desk is not None else ZoneInfo("Europe/Amsterdam")
    return format_datetime(report.submitted_at, "short", tzinfo=zone, locale=language)


def _check_reference(reference: str) -> None:
    if not _REFERENCE.match(reference):
        raise DomainError("report.unknown")
