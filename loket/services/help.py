"""Calling the host: a citizen at a kiosk asks for help, a host on site answers it."""

from __future__ import annotations

from loket.domain.errors import NotFound, Refused
from loket.domain.help import HelpRequest, HelpState, check_kiosk_label
from loket.services.queue import QueueContext, retrying


def request_help(ctx: QueueContext, *, location_slug: str, kiosk: str | None = None) -> HelpRequest:
    """Call the host to a desk.

    A second press while the desk has an open or acknowledged call returns that call, so a
    worried citizen pressing three times does not send the host three alerts.
    Errors: location.unknown, location.inactive, help.invalid_kiosk.
    Events: HelpRequested (only for a new call).
    """
    label = check_kiosk_label(kiosk)

    def attempt() -> HelpRequest:
        with ctx.uow() as uow:
            location = uow.locations.by_slug(location_slug)
            if location.id is None:
                raise NotFound("location.unknown")
            if not location.is_active:
                raise Refused("location.inactive")
            active = uow.help.active_at(location.id)
            if active is not None:
                return active
            help_request = HelpRequest.raise_at(
                location_id=location.id,
                location_code=location.code,
                kiosk=label,
                at=ctx.clock.now(),
            )
            uow.help.add(help_request)
            uow.commit()
            return help_request

    return retrying(attempt)


def acknowledge_help(ctx: QueueContext, staff_id: int, help_id: str) -> HelpRequest:
    """A host saw the call and is on the way.

    Acknowledging a call that is already acknowledged returns it (two hosts, one click each).
    Errors: help.unknown, help.illegal_transition (it was resolved).
    Events: HelpAcknowledged.
    """

    def attempt() -> HelpRequest:
        with ctx.uow() as uow:
            help_request = uow.help.get_for_update(help_id)
            if help_request.state is HelpState.ACKNOWLEDGED:
                return help_request
            help_request.acknowledge(staff_id, ctx.clock.now())
            uow.help.save(help_request)
            uow.commit()
            return help_request

    return retrying(attempt)


def resolve_help(ctx: QueueContext, staff_id: int, help_id: str) -> HelpRequest:
    """The citizen has been helped; the call leaves the host's list.

    Resolving a resolved call returns it (a retried request).
    Errors: help.unknown.
    Events: HelpResolved.
    """

    def attempt() -> HelpRequest:
        with ctx.uow() as uow:
            help_request = uow.help.get_for_update(help_id)
            if help_request.state is HelpState.RESOLVED:
                return help_request
            help_request.resolve(staff_id, ctx.clock.now())
            uow.help.save(help_request)
            uow.commit()
            return help_request

    return retrying(attempt)


def active_help(ctx: QueueContext, location_slug: str | None = None) -> list[HelpRequest]:
    """Open and acknowledged calls, oldest first, of one desk or all. Errors: location.unknown."""
    with ctx.uow(read_only=True) as uow:
        if location_slug is None:
            return uow.help.active()
        location = uow.locations.by_slug(location_slug)
        if location.id is None:
            raise NotFound("location.unknown")
        return uow.help.active(location.id)
