"""Offering the satisfaction survey after a contact, and keeping its anonymous answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from loket.domain.audit import AuditAction, AuditRecord
from loket.domain.errors import ConcurrentUpdate, NotFound, Refused
from loket.domain.figures import figure_channel
from loket.domain.i18n import N_
from loket.domain.reports import Report
from loket.domain.surveys import (
    Survey,
    SurveyContext,
    SurveyInvitation,
    check_answers,
    hash_token,
    is_token,
    survey_token,
)
from loket.domain.tickets import Outcome, Ticket, TicketState
from loket.services.ports import Clock, Notification, Notifier, UnitOfWork, UnitOfWorkFactory
from loket.services.queue import retrying


@dataclass(frozen=True)
class SurveysContext:
    uow: UnitOfWorkFactory
    clock: Clock
    survey: Survey
    # Derives each contact's token; a key of its own (from the service key), so a survey
    # token says nothing about cookies or other tokens.
    key: bytes
    notifier: Notifier
    public_url: str
    # How long after the contact the survey can be answered.
    validity: timedelta = timedelta(days=14)


def offer_for_ticket(ctx: SurveysContext, ticket_id: str) -> str:
    """The survey token of a finished contact (the same each time it is asked for).

    Errors: ticket.unknown, survey.not_offered (the contact is not finished),
    survey.expired, survey.already_answered.
    """
    with ctx.uow(read_only=True) as uow:
        ticket = uow.tickets.get(ticket_id)
    if ticket.state is not TicketState.FINISHED or ticket.finished_at is None:
        raise Refused("survey.not_offered")
    if ticket.finished_at + ctx.validity <= ctx.clock.now():
        raise Refused("survey.expired")
    return _offer(ctx, f"ticket:{ticket.id}", _ticket_context(ticket))


def offer_for_report(ctx: SurveysContext, report: Report) -> str:
    """The survey token after a report or tip was sent without an officer.

    Errors: survey.expired, survey.already_answered.
    """
    if report.submitted_at + ctx.validity <= ctx.clock.now():
        raise Refused("survey.expired")
    is_report = report.form_code.startswith("report.")
    context = SurveyContext(
        location_id=report.location_id,
        service_code=report.form_code,
        channel=figure_channel(report.channel, report.form_code).value,
        outcome=Outcome.REPORT_TAKEN.value if is_report else None,
        language=report.language,
    )
    return _offer(ctx, f"report:{report.id}", context)


def _offer(ctx: SurveysContext, contact_ref: str, context: SurveyContext) -> str:
    token = survey_token(ctx.key, contact_ref)

    def attempt() -> str:
        with ctx.uow() as uow:
            found = uow.surveys.invitation(hash_token(token))
            if found is not None:
                if found.is_answered:
                    raise Refused("survey.already_answered")
                return token
            now = ctx.clock.now()
            uow.surveys.add_invitation(SurveyInvitation.offer(token, context, now, ctx.validity))
            uow.commit()
        return token

    return retrying(attempt)


def open_survey(ctx: SurveysContext, token: str) -> SurveyContext:
    """What the survey is about, to ask it in the contact's language.

    Errors: survey.unknown, survey.already_answered, survey.expired.
    """
    with ctx.uow(read_only=True) as uow:
        invitation = _invitation(uow, token)
    if invitation.is_answered or invitation.context is None:
        raise Refused("survey.already_answered")
    if invitation.expires_at <= ctx.clock.now():
        raise Refused("survey.expired")
    return invitation.context


def answer_survey(ctx: SurveysContext, token: str, raw: Mapping[str, str]) -> None:
    """Keep the answers, linked to the kind of contact only; the token is then used up.

    A second submit of the same token is refused (survey.already_answered): one answer per
    contact. Errors: survey.unknown, survey.expired, and the survey.* codes of the answers.
    """
    answers = check_answers(ctx.survey, raw)

    def attempt() -> None:
        with ctx.uow() as uow:
            invitation = _invitation(uow, token, for_update=True)
            answer = invitation.answer(answers, ctx.clock.now())
            uow.surveys.save_invitation(invitation)
            uow.surveys.add_answer(answer)
            uow.commit()

    retrying(attempt)


def _invitation(uow: UnitOfWork, token: str, *, for_update: bool = False) -> SurveyInvitation:
    if not is_token(token):
        raise NotFound("survey.unknown")
    found = uow.surveys.invitation(hash_token(token), for_update=for_update)
    if found is None:
        raise NotFound("survey.unknown")
    return found


def _ticket_context(ticket: Ticket) -> SurveyContext:
    return SurveyContext(
        location_id=ticket.location_id,
        service_code=ticket.service_code,
        channel=figure_channel(ticket.channel, ticket.service_code).value,
        outcome=None if ticket.outcome is None else ticket.outcome.value,
        language=ticket.language,
    )


def invite_by_email(ctx: SurveysContext, since: datetime) -> int:
    """E-mail a survey link after each video callback that reached the citizen since then.

    The citizen gave their address for the callback's join link; the survey link goes to
    the same address once. Run on a beat on every node, each passing the time of its last
    run: the token is derived from the contact, so a second node finds the invitation and
    sends nothing. Reading the address is an audited read of personal data.
    """
    with ctx.uow(read_only=True) as uow:
        reached = uow.surveys.reached_callbacks(since)
        for callback_id, *_ in reached:
            uow.audit.record(
                AuditRecord(
                    actor="system",
                    action=AuditAction.READ,
                    subject_type="callback",
                    subject_id=callback_id,
                    at=ctx.clock.now(),
                    details={"purpose": "survey_invitation"},
                    personal_data=True,
                )
            )
    sent = 0
    for _, ticket_id, address, language in reached:
        with ctx.uow(read_only=True) as uow:
            ticket = uow.tickets.get(ticket_id)
        if ticket.state is not TicketState.FINISHED:
            continue
        token = survey_token(ctx.key, f"ticket:{ticket.id}")
        try:
            with ctx.uow() as uow:
                if uow.surveys.invitation(hash_token(token)) is not None:
                    continue
                uow.surveys.add_invitation(
                    SurveyInvitation.offer(
                        token, _ticket_context(ticket), ctx.clock.now(), ctx.validity
                    )
                )
                uow.commit()
        except ConcurrentUpdate:
            continue  # another node invited first
        ctx.notifier.send(
            Notification(
                kind="survey.invitation",
                to=address,
                language=language,
                subject=N_("How was your contact with the police?"),
                body=N_(
                    "Thank you for your contact with the police. Would you tell us how it went? "
                    "Four short questions, anonymous, within two weeks:\n%(link)s\n"
                ),
                params={"link": f"{ctx.public_url.rstrip('/')}/survey/{token}"},
            )
        )
        sent += 1
    return sent
