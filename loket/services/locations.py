"""Looking up desks and their opening status."""

from __future__ import annotations

from loket.domain.locations import Location
from loket.services.queue import QueueContext


def list_locations(ctx: QueueContext) -> list[Location]:
    with ctx.uow(read_only=True) as uow:
        return [location for location in uow.locations.list() if location.is_active]


def get_location(ctx: QueueContext, slug: str) -> Location:
    """The desk with this slug. Errors: location.unknown."""
    with ctx.uow(read_only=True) as uow:
        return uow.locations.by_slug(slug)
