"""Referral pages: what to do when the desk cannot handle a case (a lost foreign passport,
lost property, no DigiD), the nearest regular police station with its opening hours, and an
offer to talk to an officer. Topic keys are the virtual agent's intent names."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from babel.dates import format_time
from fastapi import APIRouter, Request
from fastapi.responses import Response

from loket.domain import referrals
from loket.domain.errors import DomainError
from loket.domain.locations import Location
from loket.services import locations as location_service
from loket.web.deps import ContainerDep
from loket.web.pages import citizen
from loket.web.pages.tips import Fields, citizen_route, page
from loket.web.sessions import citizen_session

router = APIRouter(include_in_schema=False)

_TOPIC = re.compile(r"^[a-z]+\.[a-z_]{1,40}$")
# At a kiosk: the nearest station and a few more; at home the citizen chooses.
_KIOSK_STATIONS = 3


def _referral(
    request: Request,
    container: ContainerDep,
    location: Location,
    mode: str,
    fields: Fields,
    *,
    topic: str,
) -> Response:
    if not _TOPIC.match(topic):
        raise DomainError("referral.unknown")
    found = referrals.topic(topic)
    session = citizen_session(request)
    language = citizen.page_language(request, session)
    now = container.queue.clock.now()
    stations = referrals.police_stations(
        location_service.list_locations(container.queue),
        now,
        near=location if mode == "kiosk" else None,
    )
    chosen_slug = request.query_params.get("station", "")
    shown = stations[:_KIOSK_STATIONS] if mode == "kiosk" else stations
    if mode != "kiosk" and chosen_slug:
        shown = [s for s in stations if s.location.slug == chosen_slug] or stations
    offered = {service.code: service for service in citizen._offered(location, mode)}
    talk = offered.get("contact.video")
    return page(
        request,
        container,
        "citizen/referral.html",
        location,
        mode,
        topic=found,
        stations=[_station(s, language) for s in shown] if found.needs_station else [],
        choices=[(s.location.slug, _station_name(s.location)) for s in stations],
        chosen=chosen_slug,
        talk=talk if talk is not None and citizen._is_open(container, location) else None,
        ticket_key=citizen._new_key(),
    )


def _station(station: referrals.Station, language: str) -> dict[str, Any]:
    location = station.location
    opens = station.next_opening_at
    closes = station.closes_at
    return {
        "slug": location.slug,
        "name": _station_name(location),
        "is_open": station.is_open,
        "always_open": location.hours.is_always_open,
        "closes": None if closes is None else _time(closes, location, language),
        "opens": None if opens is None else citizen._format_moment(opens, location, language),
    }


def _station_name(location: Location) -> str:
    if location.municipality and location.municipality not in location.name:
        return f"{location.name} ({location.municipality})"
    return location.name


def _time(moment: datetime, location: Location, language: str) -> str:
    locale = citizen._DATE_LOCALES.get(language, language)  # 18:00, not 6:00 PM, in English
    return str(format_time(moment.astimezone(location.zone), "short", locale=locale))


citizen_route(router, "GET", "/referral/{topic}", _referral)
