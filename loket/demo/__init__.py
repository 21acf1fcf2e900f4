"""Demo data: the desks of police zone CARMA, the Utrecht Smart Police Station, the online desk."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from loket.domain.locations import Location, LocationKind, OpeningHours


def load_demo_locations() -> list[Location]:
    """Build the demo locations from `locations.json` (ids are None: not stored yet)."""
    text = resources.files(__package__).joinpath("locations.json").read_text(encoding="utf-8")
    return [_location_from_dict(item) for item in json.loads(text)["locations"]]


def _location_from_dict(data: dict[str, Any]) -> Location:
    return Location(
        id=None,
        code=data["code"],
        slug=data["slug"],
        name=data["name"],
        municipality=data["municipality"],
        kind=LocationKind(data["kind"]),
        time_zone=data["time_zone"],
        languages=tuple(data["languages"]),
        service_codes=frozenset(data["service_codes"]),
        hours=OpeningHours.from_dict(data["hours"]),
        country=data.get("country", "BE"),
        is_active=data.get("is_active", True),
    )
