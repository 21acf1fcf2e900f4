"""API routes: parse, call one use case, map the result; rules live in the services."""

from __future__ import annotations

from datetime import datetime
from math import ceil
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status

from loket.domain.catalogue import CATALOGUE
from loket.domain.errors import DomainError
from loket.domain.estimate import WaitEstimate
from loket.domain.locations import Location
from loket.domain.staff import Role, StaffMember
from loket.domain.tickets import Ticket
from loket.services import locations as location_service
from loket.services import queue as queue_service
from loket.services import staff as staff_service
from loket.web.api import schemas
from loket.web.deps import (
    ContainerDep,
    CurrentStaff,
    LanguageDep,
    bearer_token,
    client_address,
    officer_id,
    require,
)
from loket.web.i18n import gettext_for

router = APIRouter(prefix="/api/v1")

ServingStaff = Annotated[StaffMember, require(Role.OFFICER, Role.SUPERVISOR)]
Supervisor = Annotated[StaffMember, require(Role.SUPERVISOR)]
QueueWatcher = Annotated[StaffMember, require(Role.OFFICER, Role.SUPERVISOR, Role.HOST)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]


class RateLimited(DomainError):
    """Too many requests from one address."""


# -- public ---------------------------------------------------------------------------------


@router.get("/locations", response_model=list[schemas.LocationPublic], tags=["public"])
def list_locations(container: ContainerDep) -> list[schemas.LocationPublic]:
    now = container.queue.clock.now()
    return [_location(loc, now) for loc in location_service.list_locations(container.queue)]


@router.get("/locations/{slug}", response_model=schemas.LocationPublic, tags=["public"])
def get_location(slug: str, container: ContainerDep) -> schemas.LocationPublic:
    location = location_service.get_location(container.queue, slug)
    return _location(location, container.queue.clock.now())


@router.get("/services", response_model=list[schemas.ServicePublic], tags=["public"])
def list_services(language: LanguageDep) -> list[schemas.ServicePublic]:
    _ = gettext_for(language).gettext
    return [
        schemas.ServicePublic(
            code=s.code,
            kind=s.kind.value,
            title=_(s.title),
            description=_(s.description),
            channels=sorted(c.value for c in s.channels),
            identification=s.identification.value,
            is_self_service=s.is_self_service,
            needs_officer=s.needs_officer,
            referral=None if s.referral is None else _(s.referral),
        )
        for s in CATALOGUE
    ]


@router.post(
    "/tickets",
    response_model=schemas.TicketPublic,
    status_code=status.HTTP_201_CREATED,
    tags=["public"],
)
def take_ticket(
    body: schemas.TicketCreate,
    request: Request,
    response: Response,
    container: ContainerDep,
    idempotency_key: IdempotencyKey = None,
) -> schemas.TicketPublic:
    """Take a ticket. Send an `Idempotency-Key` so that a retry returns the same ticket."""
    allowed, retry_after = request.app.state.ticket_limiter.allow(client_address(request))
    if not allowed:
        raise RateLimited("request.rate_limited", retry_after=retry_after)
    ticket = queue_service.take_ticket(
        container.queue,
        location_slug=body.location,
        service_code=body.service,
        language=body.language,
        channel=body.channel,
        idempotency_key=idempotency_key,
    )
    response.headers["Location"] = f"/api/v1/tickets/{ticket.id}"
    return _ticket_status(container, ticket.id, body.location)


@router.get("/tickets/{ticket_id}", response_model=schemas.TicketPublic, tags=["public"])
def get_ticket(ticket_id: str, container: ContainerDep, response: Response) -> schemas.TicketPublic:
    response.headers["Cache-Control"] = "no-store"
    return _ticket_status(container, ticket_id, None)


@router.post("/tickets/{ticket_id}/cancel", response_model=schemas.TicketPublic, tags=["public"])
def cancel_ticket(ticket_id: str, container: ContainerDep) -> schemas.TicketPublic:
    queue_service.cancel_ticket(container.queue, ticket_id)
    return _ticket_status(container, ticket_id, None)


# -- staff sign-in --------------------------------------------------------------------------


@router.post("/auth/token", response_model=schemas.TokenPublic, tags=["staff"])
def create_token(
    body: schemas.TokenCreate, request: Request, container: ContainerDep
) -> schemas.TokenPublic:
    """Sign in with username, password and the current code of the authenticator app."""
    allowed, retry_after = request.app.state.sign_in_limiter.allow(client_address(request))
    if not allowed:
        raise RateLimited("request.rate_limited", retry_after=retry_after)
    signed_in = staff_service.sign_in(
        container.staff,
        username=body.username,
        password=body.password,
        totp_code=body.code,
        address=client_address(request),
    )
    return schemas.TokenPublic(
        token=signed_in.token,
        expires_at=signed_in.expires_at,
        username=signed_in.member.username,
        roles=sorted(r.value for r in signed_in.member.roles),
    )


@router.delete("/auth/token", status_code=status.HTTP_204_NO_CONTENT, tags=["staff"])
def delete_token(
    request: Request, container: ContainerDep, member: CurrentStaff, everywhere: bool = False
) -> Response:
    """Sign out this token, or with `everywhere=true` every token of the account."""
    token = bearer_token(request)
    assert token is not None and member.id is not None
    staff_service.sign_out(container.staff, token, everywhere=everywhere)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- the staff's queue ----------------------------------------------------------------------


@router.get("/queue", response_model=schemas.QueuePublic, tags=["staff"])
def get_queue(container: ContainerDep, member: QueueWatcher) -> schemas.QueuePublic:
    view = queue_service.queue_view(container.queue)
    names = {o.id: o.username for o in view.officers}
    return schemas.QueuePublic(
        at=view.at,
        tickets=[
            schemas.QueueTicket(
                id=t.id,
                number=t.number,
                location_code=t.location_code,
                location_id=t.location_id,
                service=t.service_code,
                language=t.language,
                priority=t.priority,
                state=t.state.value,
                officer=names.get(t.officer_id) if t.officer_id is not None else None,
                is_returned=t.is_returned,
                note=t.note,
                taken_at=t.taken_at,
                waited_seconds=max(0, int((view.at - t.taken_at).total_seconds())),
            )
            for t in view.tickets
        ],
        officers=[_officer(o) for o in view.officers],
    )


@router.get("/officer/contacts", response_model=list[schemas.ContactPublic], tags=["officer"])
def my_contacts(container: ContainerDep, member: ServingStaff) -> list[schemas.ContactPublic]:
    return [_contact(t) for t in queue_service.contacts_of(container.queue, officer_id(member))]


@router.post(
    "/officer/next",
    response_model=schemas.ContactPublic,
    responses={204: {"description": "No ticket waits that this officer covers."}},
    tags=["officer"],
)
def next_ticket(container: ContainerDep, member: ServingStaff) -> schemas.ContactPublic | Response:
    """Offer the officer the best waiting ticket they cover; asking twice returns one offer."""
    ticket = queue_service.offer_next(container.queue, officer_id(member))
    if ticket is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return _contact(ticket)


@router.post(
    "/officer/tickets/{ticket_id}/accept", response_model=schemas.ContactPublic, tags=["officer"]
)
def accept_ticket(
    ticket_id: str,
    container: ContainerDep,
    member: ServingStaff,
    body: schemas.AcceptRequest | None = None,
) -> schemas.ContactPublic:
    booth = body.booth if body else None
    return _contact(
        queue_service.accept_ticket(container.queue, officer_id(member), ticket_id, booth)
    )


@router.post(
    "/officer/tickets/{ticket_id}/finish", response_model=schemas.ContactPublic, tags=["officer"]
)
def finish_ticket(
    ticket_id: str, body: schemas.FinishRequest, container: ContainerDep, member: ServingStaff
) -> schemas.ContactPublic:
    return _contact(
        queue_service.finish_ticket(
            container.queue, officer_id(member), ticket_id, body.outcome, body.note
        )
    )


@router.post(
    "/officer/tickets/{ticket_id}/hold", response_model=schemas.ContactPublic, tags=["officer"]
)
def hold_ticket(
    ticket_id: str, container: ContainerDep, member: ServingStaff
) -> schemas.ContactPublic:
    return _contact(queue_service.hold_ticket(container.queue, officer_id(member), ticket_id))


@router.post(
    "/officer/tickets/{ticket_id}/resume", response_model=schemas.ContactPublic, tags=["officer"]
)
def resume_ticket(
    ticket_id: str, container: ContainerDep, member: ServingStaff
) -> schemas.ContactPublic:
    return _contact(queue_service.resume_ticket(container.queue, officer_id(member), ticket_id))


@router.post(
    "/officer/tickets/{ticket_id}/transfer", response_model=schemas.ContactPublic, tags=["officer"]
)
def transfer_ticket(
    ticket_id: str, body: schemas.TransferRequest, container: ContainerDep, member: ServingStaff
) -> schemas.ContactPublic:
    """Transfer to a colleague (`to_officer`), or back to the head of the queue (null)."""
    to_id = _staff_id(container, body.to_officer)
    return _contact(
        queue_service.transfer_ticket(
            container.queue, officer_id(member), ticket_id, to_officer_id=to_id, note=body.note
        )
    )


@router.post("/officer/heartbeat", tags=["officer"])
def heartbeat(container: ContainerDep, member: ServingStaff) -> dict[str, int]:
    """The console is alive: keeps the leases on the contacts it serves."""
    return {"renewed": queue_service.renew_leases(container.queue, officer_id(member))}


@router.put("/officer/status", response_model=schemas.OfficerPublic, tags=["officer"])
def set_my_status(
    body: schemas.StatusUpdate, container: ContainerDep, member: ServingStaff
) -> schemas.OfficerPublic:
    return _officer(
        queue_service.set_officer_status(container.queue, officer_id(member), body.status)
    )


# -- supervisor -----------------------------------------------------------------------------


@router.post(
    "/supervisor/tickets/{ticket_id}/reassign",
    response_model=schemas.ContactPublic,
    tags=["supervisor"],
)
def reassign_ticket(
    ticket_id: str, body: schemas.ReassignRequest, container: ContainerDep, member: Supervisor
) -> schemas.ContactPublic:
    """Move an open ticket to a named officer, or back to the queue (null)."""
    to_id = _staff_id(container, body.to_officer)
    return _contact(
        queue_service.reassign_ticket(
            container.queue, officer_id(member), ticket_id, to_officer_id=to_id
        )
    )


@router.put(
    "/supervisor/officers/{username}/status",
    response_model=schemas.OfficerPublic,
    tags=["supervisor"],
)
def set_officer_status(
    username: str, body: schemas.StatusUpdate, container: ContainerDep, member: Supervisor
) -> schemas.OfficerPublic:
    target = staff_service.find_staff(container.staff, username)
    assert target.id is not None
    return _officer(queue_service.set_officer_status(container.queue, target.id, body.status))


# -- mapping --------------------------------------------------------------------------------


def _staff_id(container: ContainerDep, username: str | None) -> int | None:
    if username is None:
        return None
    return staff_service.find_staff(container.staff, username).id


def _location(location: Location, now: datetime) -> schemas.LocationPublic:
    return schemas.LocationPublic(
        slug=location.slug,
        code=location.code,
        name=location.name,
        municipality=location.municipality,
        kind=location.kind.value,
        country=location.country,
        time_zone=location.time_zone,
        languages=list(location.languages),
        services=sorted(location.service_codes),
        opening=schemas.OpeningStatus(
            is_open=location.is_open_at(now),
            is_always_open=location.hours.is_always_open,
            closes_at=location.closes_at(now),
            next_opening_at=location.next_opening_after(now),
        ),
        hours=location.hours.to_dict(),
    )


def _ticket_status(
    container: ContainerDep, ticket_id: str, slug: str | None
) -> schemas.TicketPublic:
    found = queue_service.ticket_status(container.queue, ticket_id)
    ticket = found.ticket
    return schemas.TicketPublic(
        id=ticket.id,
        number=ticket.number,
        location=slug or found.location_slug,
        service=ticket.service_code,
        language=ticket.language,
        state=ticket.state.value,
        position=found.position,
        estimated_wait=None if found.estimate is None else _wait(found.estimate),
        taken_at=ticket.taken_at,
        called_at=ticket.accepted_at,
    )


def _wait(estimate: WaitEstimate) -> schemas.WaitPublic:
    def minutes(seconds: float | None) -> int | None:
        return None if seconds is None else ceil(seconds / 60)

    return schemas.WaitPublic(
        is_known=estimate.is_known,
        minutes=estimate.minutes_rounded(),
        low_minutes=minutes(estimate.low_seconds),
        high_minutes=minutes(estimate.high_seconds),
    )


def _contact(ticket: Ticket) -> schemas.ContactPublic:
    return schemas.ContactPublic(
        id=ticket.id,
        number=ticket.number,
        location_code=ticket.location_code,
        service=ticket.service_code,
        language=ticket.language,
        priority=ticket.priority,
        state=ticket.state.value,
        is_returned=ticket.is_returned,
        note=ticket.note,
        taken_at=ticket.taken_at,
        offered_at=ticket.offered_at,
        accepted_at=ticket.accepted_at,
        lease_expires_at=ticket.lease_expires_at,
        outcome=None if ticket.outcome is None else ticket.outcome.value,
    )


def _officer(member: StaffMember) -> schemas.OfficerPublic:
    return schemas.OfficerPublic(
        username=member.username,
        display_name=member.display_name,
        roles=sorted(r.value for r in member.roles),
        status=member.status.value,
        status_since_at=member.status_since_at,
        languages=sorted(member.skills.languages),
        services=sorted(member.skills.services),
    )
