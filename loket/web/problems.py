"""Errors as problem+json (RFC 9457), with a message in the caller's language."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from loket.domain.errors import ConcurrentUpdate, DomainError, Forbidden, Invalid, NotFound, Refused
from loket.domain.i18n import N_
from loket.web.i18n import gettext_for, negotiate

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://loket.invalid/problems/"

# code -> (HTTP status, English message; the catalogs translate it). Parameters use
# %(name)s so translators can move them.
MESSAGES: dict[str, tuple[int, str]] = {
    "location.unknown": (404, N_("This desk does not exist.")),
    "location.closed": (
        409,
        N_(
            "This desk is closed now. Look at when it opens again, or use another desk, the website or the phone."
        ),
    ),
    "location.inactive": (
        409,
        N_("This desk is out of service. Please use another desk, the website or the phone."),
    ),
    "location.service_not_offered": (422, N_("This desk does not offer this service.")),
    "service.unknown": (422, N_("This service does not exist.")),
    "service.not_queued": (
        422,
        N_("The virtual agent needs no ticket. Ask your question in the chat instead."),
    ),
    "ticket.unknown": (404, N_("This ticket does not exist.")),
    "ticket.language_not_offered": (422, N_("This desk does not offer help in this language.")),
    "ticket.language_missing": (422, N_("Choose the language you want to speak with the officer.")),
    "ticket.invalid_priority": (422, N_("The priority must be between 0 and %(maximum)s.")),
    "ticket.illegal_transition": (
        409,
        N_("Ticket %(ticket)s cannot do “%(step)s” while it is “%(state)s”."),
    ),
    "ticket.not_yours": (409, N_("Ticket %(ticket)s is not assigned to you.")),
    "ticket.transfer_to_self": (422, N_("You cannot transfer a contact to yourself.")),
    "ticket.note_too_long": (422, N_("The note is too long (at most %(maximum)s characters).")),
    "ticket.changed": (
        409,
        N_("Someone else changed ticket %(ticket)s at the same time. Please try again."),
    ),
    "idempotency.key_reused": (
        422,
        N_("This Idempotency-Key was already used for a different request."),
    ),
    "idempotency.invalid_key": (400, N_("The Idempotency-Key must be 1 to 200 characters.")),
    "officer.not_available": (409, N_("Set your status to available before taking a ticket.")),
    "officer.already_serving": (409, N_("Finish or transfer ticket %(ticket)s first.")),
    "officer.serving": (409, N_("You are still serving a contact. Finish or transfer it first.")),
    "officer.invalid_status": (422, N_("Choose one of the statuses.")),
    "ticket.outcome_missing": (422, N_("Choose how the contact ended.")),
    "ticket.invalid_outcome": (422, N_("This is not one of the outcomes.")),
    "board.invalid_target": (
        422,
        N_("Enter the target wait as a whole number of minutes from %(minimum)s to %(maximum)s."),
    ),
    "figures.invalid_range": (422, N_("The last day must not be before the first day.")),
    "figures.range_too_long": (422, N_("Choose at most %(maximum)s days.")),
    "figures.invalid_date": (422, N_("Enter a date as year-month-day, for example 2027-01-31.")),
    "figures.invalid_week": (422, N_("Write the week as year-W-number, for example 2027-W02.")),
    "figures.invalid_target": (422, N_("Choose one of the target waits in the list.")),
    "survey.unknown": (404, N_("This survey does not exist. Check the link.")),
    "survey.not_offered": (409, N_("The survey opens when your contact has ended.")),
    "survey.expired": (410, N_("This survey has closed. Thank you all the same.")),
    "survey.already_answered": (409, N_("This survey has already been answered. Thank you!")),
    "survey.answer_required": (422, N_("Answer at least one question.")),
    "survey.answer_invalid": (422, N_("Choose one of the answers.")),
    "survey.comment_too_long": (422, N_("Write at most %(maximum)s characters.")),
    "callback.unknown": (404, N_("This callback request does not exist.")),
    "callback.unavailable": (
        409,
        N_(
            "Callbacks cannot be booked at the moment. Please call the police or talk to an officer now."
        ),
    ),
    "callback.mode_invalid": (422, N_("Choose a phone call or a video call.")),
    "callback.language_not_offered": (422, N_("Choose one of the languages the officers speak.")),
    "callback.phone_invalid": (
        422,
        N_("Enter a phone number we can call, like 0470 12 34 56 or +31 6 12345678."),
    ),
    "callback.email_invalid": (422, N_("Enter an e-mail address like name@example.be.")),
    "callback.illegal_transition": (
        409,
        N_("Callback %(reference)s cannot do “%(step)s” while it is “%(state)s”."),
    ),
    "callback.not_in_service": (
        409,
        N_("Accept ticket %(ticket)s before you record how the call went."),
    ),
    "callback.outcome_invalid": (422, N_("Choose whether you reached the citizen.")),
    "callback.changed": (
        409,
        N_("Someone else changed this callback at the same time. Please try again."),
    ),
    "slot.past": (422, N_("This time has passed or is too soon. Choose a later time.")),
    "slot.too_far": (422, N_("Choose a time within the next %(days)s days.")),
    "slot.outside_hours": (
        422,
        N_("Choose one of the times shown: the back office is closed at this time."),
    ),
    "slot.full": (409, N_("This time was just taken by someone else. Choose another time.")),
    "slot.missing": (422, N_("Choose a time.")),
    "staff.unknown": (404, N_("This staff member does not exist.")),
    "staff.not_an_officer": (409, N_("This staff member does not serve the queue.")),
    "staff.username_taken": (409, N_("This username is already taken.")),
    "staff.invalid_username": (
        422,
        N_("A username may contain only letters, digits, dots and hyphens."),
    ),
    "staff.no_role": (422, N_("Give the staff member at least one role.")),
    "staff.password_too_short": (
        422,
        N_("The password must have at least %(minimum)s characters."),
    ),
    "staff.password_too_common": (422, N_("This password is too easy to guess.")),
    "staff.password_not_new": (422, N_("Choose a password other than the one you were given.")),
    "staff.passwords_differ": (422, N_("The two passwords are not the same.")),
    "staff.invalid_name": (422, N_("Enter the full name (at most %(maximum)s characters).")),
    "staff.invalid_role": (422, N_("This is not one of the roles.")),
    "staff.invalid_language": (422, N_("“%(language)s” is not a two-letter language code.")),
    "staff.own_account": (
        409,
        N_("You cannot close your own account or take away your own administrator role."),
    ),
    "hours.invalid_time": (
        422,
        N_("Enter times as HH:MM, for example 09:00 or 17:30. Use 24:00 for midnight."),
    ),
    "hours.invalid_range": (422, N_("The closing time must be later than the opening time.")),
    "hours.overlapping_ranges": (422, N_("The opening hours of this day overlap.")),
    "hours.always_open_with_weekly": (
        422,
        N_("A desk that is always open has no weekly hours: clear them, or untick always open."),
    ),
    "hours.invalid_date": (422, N_("Enter a real date, for example 2027-12-25.")),
    "hours.exception_in_past": (422, N_("The date must be today or later.")),
    "hours.reason_too_long": (422, N_("The reason is too long (at most 200 characters).")),
    "hours.missing_ranges": (
        422,
        N_("Enter the opening hours of that day, or choose closed all day."),
    ),
    "hours.duplicate_exception": (409, N_("There are already special hours for %(date)s.")),
    "hours.unknown_day": (422, N_("These opening hours are not valid.")),
    "hours.not_an_object": (422, N_("These opening hours are not valid.")),
    "hours.invalid_weekly": (422, N_("These opening hours are not valid.")),
    "hours.invalid_exception": (422, N_("These opening hours are not valid.")),
    "hours.invalid_always_open": (422, N_("These opening hours are not valid.")),
    "hours.unknown_field": (422, N_("These opening hours are not valid.")),
    "location.invalid_code": (
        422,
        N_(
            "The code must be 2 to 4 capital letters, for example HH. Ticket numbers start with it."
        ),
    ),
    "location.invalid_slug": (
        422,
        N_(
            "The web address may contain only small letters, digits and single hyphens, "
            "for example bree or as-centrum."
        ),
    ),
    "location.invalid_name": (422, N_("Enter the name of the desk.")),
    "location.invalid_municipality": (422, N_("Enter the municipality.")),
    "location.invalid_kind": (422, N_("Choose what kind of place this is.")),
    "location.invalid_time_zone": (
        422,
        N_("“%(time_zone)s” is not a known time zone. Use a name like Europe/Brussels."),
    ),
    "location.no_language": (422, N_("Choose at least one language.")),
    "location.invalid_language": (422, N_("“%(language)s” is not a two-letter language code.")),
    "location.duplicate_language": (422, N_("Each language can be chosen only once.")),
    "location.invalid_country": (
        422,
        N_("The country must be two capital letters, for example BE."),
    ),
    "location.code_taken": (409, N_("Another desk already has the code %(value)s.")),
    "location.slug_taken": (409, N_("Another desk already has the web address %(slug)s.")),
    "auth.failed": (401, N_("The username, password or code is not correct.")),
    "auth.throttled": (429, N_("Too many failed attempts. Try again in %(retry_after)s seconds.")),
    "auth.required": (401, N_("Please sign in.")),
    "auth.missing_fields": (422, N_("Enter your username and your password.")),
    "auth.password_change_required": (
        403,
        N_("Choose your own password first: sign in once in the browser."),
    ),
    "auth.already_enrolled": (
        409,
        N_("Your authenticator app is already set up. Sign in with its code."),
    ),
    "request.expired_form": (403, N_("This form has expired. Please try again.")),
    "auth.forbidden": (403, N_("Your role does not allow this.")),
    "help.unknown": (404, N_("This call for the host does not exist.")),
    "help.illegal_transition": (
        409,
        N_("This call for the host cannot do “%(step)s” while it is “%(state)s”."),
    ),
    "help.invalid_kiosk": (
        422,
        N_("A kiosk name has at most %(maximum)s letters, digits, spaces, dots or hyphens."),
    ),
    "help.changed": (409, N_("Someone else answered this call at the same time.")),
    "contact.not_participant": (403, N_("Only the people in this conversation can see it.")),
    "contact.not_in_progress": (
        409,
        N_("This conversation has ended. Take a new ticket if you need more help."),
    ),
    "chat.empty": (422, N_("Type a message first.")),
    "chat.too_long": (422, N_("A message can have at most %(maximum)s characters.")),
    "document.empty": (422, N_("This file is empty. Choose another file.")),
    "document.too_large": (
        413,
        N_("This file is too large. A file can be at most %(maximum_mb)s MB."),
    ),
    "document.type_not_allowed": (
        415,
        N_("This file cannot be sent. Send a PDF, or a photo as JPEG or PNG."),
    ),
    "document.too_many": (
        409,
        N_("This conversation already has %(maximum)s files. No more can be added."),
    ),
    "document.unknown": (404, N_("This file does not exist.")),
    "document.infected": (
        422,
        N_("This file contains a virus or other harmful content and was not sent."),
    ),
    "document.scanner_unavailable": (
        503,
        N_("Files cannot be checked for viruses at the moment. Try again in a few minutes."),
    ),
    "document.blocked": (
        422,
        N_("The virus scanner flagged this file as harmful. It cannot be opened."),
    ),
    "statement.signature_invalid": (
        422,
        N_("The signature could not be read. Please sign again."),
    ),
    "statement.confirmation_required": (
        422,
        N_("Sign the statement, or confirm it with your verified identity."),
    ),
    "statement.empty_text": (422, N_("This answer is required.")),
    "statement.text_too_long": (422, N_("This text can have at most %(maximum)s characters.")),
    "statement.version_mismatch": (
        409,
        N_("This statement was corrected meanwhile. Open the latest version and try again."),
    ),
    "statement.not_latest": (
        409,
        N_("This statement was corrected meanwhile. Open the latest version and try again."),
    ),
    "call.bad_message": (400, N_("This call message could not be read.")),
    "call.unknown_type": (400, N_("This kind of call message is not known.")),
    "call.unsupported_version": (400, N_("This version of the call message is not supported.")),
    "call.bad_field": (422, N_("The call message has a wrong value in “%(field)s”.")),
    "call.too_large": (413, N_("The call message is too large (at most %(maximum)s).")),
    "call.bad_token": (401, N_("This call link has expired. Open the call again from your page.")),
    "call.not_participant": (403, N_("You are not a participant in this call.")),
    "call.not_video": (409, N_("Ticket %(ticket)s is not a video contact.")),
    "call.ended": (409, N_("This call has ended.")),
    "call.already_joined": (409, N_("This connection has already joined the call.")),
    "call.illegal_transition": (409, N_("The call cannot do “%(step)s” while it is “%(state)s”.")),
    # Interpreters invited into a call (loket/domain/invitations.py).
    "invitation.unknown": (404, N_("This invitation does not exist.")),
    "invitation.unusable": (
        410,
        N_(
            "This invitation is no longer valid: it has expired, was withdrawn or the call is over."
        ),
    ),
    "invitation.used": (
        409,
        N_("This link has already been used in another browser. Ask the officer for a new one."),
    ),
    "invitation.not_yours": (403, N_("This invitation is meant for someone else.")),
    "invitation.not_interpreter": (422, N_("Choose an interpreter from the list.")),
    # Guided reports and tips (loket/domain/forms.py, loket/domain/reports.py).
    "form.unknown": (404, N_("This form does not exist.")),
    "form.unknown_question": (404, N_("This question is not part of your form.")),
    "draft.unknown": (
        404,
        N_("We cannot find your answers. They may have been deleted. Please start again."),
    ),
    "draft.expired": (
        410,
        N_("Your answers were kept for a limited time and have been deleted. Please start again."),
    ),
    "draft.submitted": (409, N_("You have already sent this form.")),
    "draft.incomplete": (422, N_("Please answer every question before you send the form.")),
    "draft.changed": (
        409,
        N_("Your answers were changed at the same time elsewhere. Please try again."),
    ),
    "resume.invalid": (
        404,
        N_("This code is not valid or has expired. Check the code, or start again."),
    ),
    "report.unknown": (404, N_("This report does not exist.")),
    "statement.unknown": (404, N_("This report has no signed statement.")),
    "statement.changed": (409, N_("This statement was stored at the same time. Please reload.")),
    "download.invalid": (
        404,
        N_("This code is not known. Check the code on your acknowledgement screen or e-mail."),
    ),
    "download.expired": (
        410,
        N_("This code has expired: it was valid for 24 hours. Ask the police for a new copy."),
    ),
    "download.used": (
        410,
        N_("This code has already been used. Ask the police for a new copy, with your reference."),
    ),
    "email.invalid": (422, N_("Enter an e-mail address like name@example.org.")),
    "statement.not_signed": (
        422,
        N_("Sign the statement in the box, or tick the box below it and type your full name."),
    ),
    "statement.typed_confirmation_incomplete": (
        422,
        N_("Tick the box and type your full name, or sign in the box above."),
    ),
    "report.changed": (409, N_("This report was changed at the same time. Please try again.")),
    "report.needs_officer": (
        409,
        N_("This report must be made with a police officer. Talk to an officer by video."),
    ),
    "identification.required": (
        409,
        N_("Please confirm who you are before you sign: online, or with an officer on camera."),
    ),
    "identification.online_failed": (
        400,
        N_(
            "We could not verify your identity online. Try again, or let an officer check your identity document on camera."
        ),
    ),
    "identification.not_online": (
        409,
        N_("For this report an officer checks your identity document on camera."),
    ),
    "identification.no_subject": (
        400,
        N_(
            "We could not verify your identity online. Try again, or let an officer check your identity document on camera."
        ),
    ),
    "identification.document_type": (422, N_("Choose the type of document.")),
    "identification.document_suffix": (
        422,
        N_("Enter the last four characters of the document number: letters and digits."),
    ),
    "identification.face_not_confirmed": (
        422,
        N_("Confirm that the face on camera matches the photo on the document."),
    ),
    "identification.not_your_contact": (
        409,
        N_("You can check an identity only in a contact you are serving."),
    ),
    "identification.no_check": (404, N_("This contact has no identity check.")),
    "report.illegal_transition": (
        409,
        N_("Report %(reference)s cannot do “%(step)s” while it is “%(state)s”."),
    ),
    # A report drafted with an officer in a call (loket/domain/codraft.py).
    "codraft.none": (404, N_("There is no report in this call yet.")),
    "codraft.changed_meanwhile": (
        409,
        N_("This was changed meanwhile by the other side. Check the new text, then try again."),
    ),
    "codraft.changed": (409, N_("The report was changed at the same time. Please try again.")),
    "codraft.name_missing": (
        422,
        N_("Tick the box and type your full name to confirm the text."),
    ),
    "codraft.file_elsewhere": (
        409,
        N_("A file cannot be given here. Send it as a document in the call."),
    ),
    "codraft.not_confirmed": (
        409,
        N_("The citizen and the officer must both confirm the final text before it is sent."),
    ),
    "answer.required": (422, N_("Please answer this question.")),
    "answer.too_short": (422, N_("Please write at least %(minimum)s characters.")),
    "answer.too_long": (422, N_("Please write at most %(maximum)s characters.")),
    "answer.pattern": (422, N_("This does not look right. Check the example under the question.")),
    "answer.invalid_date": (422, N_("Enter a real date.")),
    "answer.date_missing": (422, N_("Enter the date.")),
    "answer.time_missing": (422, N_("Enter the time. If you are not sure, give your best guess.")),
    "answer.invalid_time": (422, N_("Enter a real time, such as 14:30.")),
    "answer.in_future": (422, N_("This moment is in the future. Enter when it happened.")),
    "answer.invalid_choice": (422, N_("Choose one of the options.")),
    "answer.invalid_amount": (422, N_("Enter an amount in euros, such as 250 or 12.50.")),
    "answer.amount_too_low": (422, N_("The amount must be at least € %(minimum)s.")),
    "answer.amount_too_high": (422, N_("The amount must be at most € %(maximum)s.")),
    "answer.frame_number": (
        422,
        N_(
            "This does not look like a frame number. It has letters and digits, usually 5 to 24 of them."
        ),
    ),
    "answer.too_many_items": (422, N_("Enter at most %(maximum)s items.")),
    "answer.item_field_missing": (
        422,
        N_("Fill this in for each item, or empty the other fields of this item."),
    ),
    "answer.place_incomplete": (422, N_("Enter the street (or describe the spot) and the town.")),
    # Coming back to a tip or report (loket/domain/follow_up.py), referrals.
    "follow_up.invalid": (
        404,
        N_("The reference and passphrase do not match a tip. Check both and try again."),
    ),
    "follow_up.too_short": (422, N_("Please write at least %(minimum)s characters.")),
    "follow_up.too_long": (422, N_("Please write at most %(maximum)s characters.")),
    "status.invalid": (
        404,
        N_("The reference and code do not match a report. Check both and try again."),
    ),
    "referral.unknown": (404, N_("This page does not exist.")),
    "export.failed": (
        503,
        N_(
            "The report could not be exported: the export folder cannot be written. Try again later."
        ),
    ),
    "request.invalid": (422, N_("Some of the input is not valid.")),
    "request.too_large": (413, N_("The request is too large.")),
    "request.rate_limited": (429, N_("Too many requests. Please wait a moment and try again.")),
    "request.bad_origin": (403, N_("This page may not connect from another site.")),
    "request.not_found": (404, N_("This page does not exist.")),
    "request.method_not_allowed": (405, N_("This method is not allowed here.")),
    "assistant.empty_question": (422, N_("Type your question.")),
    "assistant.question_too_long": (
        422,
        N_("Your question is too long. Use at most %(maximum)s characters."),
    ),
    "assistant.bad_conversation": (422, N_("This is not a conversation id.")),
    "assistant.unknown_conversation": (
        404,
        N_("This conversation has ended. Ask your question again."),
    ),
    "assistant.changed": (409, N_("Please send your question again.")),
}

FIELD_MESSAGES: dict[str, str] = {
    "missing": N_("This field is required."),
    "string_too_long": N_("This text is too long."),
    "string_too_short": N_("This text is too short."),
    "string_type": N_("This must be text."),
    "int_type": N_("This must be a whole number."),
    "int_parsing": N_("This must be a whole number."),
    "enum": N_("This is not one of the allowed values."),
    "literal_error": N_("This is not one of the allowed values."),
    "extra_forbidden": N_("This field is not expected."),
    "json_invalid": N_("The body is not valid JSON."),
    "model_attributes_type": N_("The body must be a JSON object."),
    "dict_type": N_("The body must be a JSON object."),
    "greater_than_equal": N_("This number is too small."),
    "less_than_equal": N_("This number is too large."),
    "string_pattern_mismatch": N_("This value has the wrong form."),
}
FALLBACK_FIELD_MESSAGE = N_("This value is not valid.")
# Where pydantic says a value came from; the field name alone is what the caller needs.
_SOURCES = ("body", "query", "path", "header")

_STATUS_BY_KIND: list[tuple[type[DomainError], int]] = [
    (NotFound, 404),
    (Invalid, 422),
    (Forbidden, 403),
    (ConcurrentUpdate, 409),
    (Refused, 409),
]


def language_of(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"), request.query_params.get("lang"))


def problem(
    request: Request,
    code: str,
    *,
    status: int | None = None,
    field: str | None = None,
    params: dict[str, Any] | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    language = language_of(request)
    known_status, message = MESSAGES.get(code, (status or 400, code))
    params = params or {}
    translated = gettext_for(language).gettext(message)
    try:
        detail = translated % {key: plain(value) for key, value in params.items()}
    except (KeyError, ValueError, TypeError):
        detail = translated
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": detail,
        "status": status or known_status,
        "detail": detail,
        "code": code,
        "language": language,
    }
    if field:
        body["field"] = field
    if errors:
        body["errors"] = errors
    extras = {key: plain(value) for key, value in params.items()}
    if extras:
        body["params"] = extras
    return JSONResponse(
        body,
        status_code=status or known_status,
        media_type=PROBLEM_JSON,
        headers={"Content-Language": language, **(headers or {})},
    )


def domain_error_response(request: Request, error: DomainError) -> JSONResponse:
    status = next((code for kind, code in _STATUS_BY_KIND if isinstance(error, kind)), 400)
    if error.code in MESSAGES:
        status = MESSAGES[error.code][0]
    headers = {}
    if "retry_after" in error.params:
        headers["Retry-After"] = str(error.params["retry_after"])
    return problem(
        request, error.code, status=status, field=error.field, params=error.params, headers=headers
    )


def validation_error_response(request: Request, error: RequestValidationError) -> JSONResponse:
    translate = gettext_for(language_of(request)).gettext
    errors = []
    for item in error.errors():
        location = [
            str(part)
            for part in item.get("loc", ())
            if part not in ("body", "query", "path", "header")
        ]
        message = FIELD_MESSAGES.get(item.get("type", ""), FALLBACK_FIELD_MESSAGE)
        errors.append({"field": ".".join(location) or None, "message": translate(message)})
    first = next((e["field"] for e in errors if e["field"]), None)
    return problem(request, "request.invalid", field=first, errors=errors)


def http_error_response(request: Request, error: HTTPException) -> JSONResponse:
    code = {
        404: "request.not_found",
        405: "request.method_not_allowed",
        413: "request.too_large",
        401: "auth.required",
        403: "auth.forbidden",
        429: "request.rate_limited",
    }.get(error.status_code)
    if code is None:
        return problem(request, "request.invalid", status=error.status_code)
    return problem(request, code, status=error.status_code, headers=dict(error.headers or {}))


def plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return value
