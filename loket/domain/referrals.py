"""Referrals: what a citizen does when the desk cannot handle their case, and where to go.

A topic's key is the virtual agent's intent name (`lost.passport_foreign`), so the agent and
the pages link to the same address. Each topic says what to do, step by step; the page adds
the nearest regular police station with its opening hours and an offer to talk to an officer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from loket.domain.errors import NotFound
from loket.domain.i18n import N_
from loket.domain.locations import Location, LocationKind


@dataclass(frozen=True)
class Topic:
    """One case the desk refers elsewhere; texts are N_-marked English."""

    key: str
    title: str
    summary: str
    steps: tuple[str, ...]
    # Whether a regular police station is part of the answer (a declaration of loss is).
    needs_station: bool = True


TOPICS: Mapping[str, Topic] = {
    topic.key: topic
    for topic in (
        Topic(
            key="lost.property",
            title=N_("You lost something"),
            summary=N_("Lost property is not a crime: you do not report it to the police desk."),
            steps=(
                N_(
                    "Look it up in the lost and found register of the municipality where you"
                    " lost it (in the Netherlands: verlorenofgevonden.nl; in Belgium: the"
                    " municipality's lost property office)."
                ),
                N_(
                    "Lost on public transport or at a station? Ask the transport company's"
                    " lost property service."
                ),
                N_("Do you think it was stolen? Then make a report of theft instead."),
            ),
            needs_station=False,
        ),
        Topic(
            key="lost.passport_foreign",
            title=N_("You lost a foreign passport"),
            summary=N_(
                "Only your own country can replace your passport. The police give you a"
                " declaration of loss, which your embassy or consulate will ask for."
            ),
            steps=(
                N_(
                    "Ask a police station for a declaration of loss (bring another identity"
                    " document if you have one)."
                ),
                N_(
                    "Contact the embassy or consulate of your country: they issue a new"
                    " passport or an emergency travel document."
                ),
                N_("Do you think it was stolen? Then tell the officer: that is a report of theft."),
            ),
        ),
        Topic(
            key="lost.id_document",
            title=N_("You lost your identity card or passport"),
            summary=N_(
                "A lost Dutch or Belgian identity card or passport is reported to your"
                " municipality, which also makes the new one."
            ),
            steps=(
                N_(
                    "Report the loss to the municipality where you are registered (in"
                    " Belgium: also call Doc Stop, 00800 2123 2123, to block the document)."
                ),
                N_("Abroad? Report it to the local police and to your embassy or consulate."),
                N_("Do you think it was stolen? Then make a report of theft at the police."),
            ),
            needs_station=False,
        ),
        Topic(
            key="identity.no_login",
            title=N_("You cannot log in with DigiD, itsme or eID"),
            summary=N_(
                "You can still make your report: an officer checks your identity document"
                " on camera in a video call."
            ),
            steps=(
                N_("Have your passport, identity card or residence permit at hand."),
                N_("Take a ticket to talk to an officer by video, here or at home."),
                N_("Or go to a police station during its opening hours."),
            ),
        ),
        Topic(
            key="nuisance.neighbours",
            title=N_("You have a dispute with your neighbours"),
            summary=N_(
                "For a dispute with neighbours, the municipality or community mediation can"
                " often help better than the police."
            ),
            steps=(
                N_("Talk to your neighbours first, if you feel safe doing so."),
                N_(
                    "Ask your municipality for community mediation (buurtbemiddeling): it is"
                    " free and confidential."
                ),
                N_("Is there a crime, a threat or violence? Then contact the police."),
            ),
            needs_station=False,
        ),
    )
}

# Catalogue services whose `referral` text a topic page explains further (see
# domain/catalogue.py): the service page links to it.
SERVICE_TOPICS: Mapping[str, str] = {
    "report.bicycle_theft": "identity.no_login",
    "report.theft": "identity.no_login",
    "report.vandalism": "identity.no_login",
    "report.online_fraud": "identity.no_login",
    "tip.nuisance": "nuisance.neighbours",
}

# Lost things and documents: the desk's information page links to these.
LOST_TOPICS = ("lost.property", "lost.passport_foreign", "lost.id_document")


def topic(key: str) -> Topic:
    """The topic; raises NotFound("referral.unknown")."""
    found = TOPICS.get(key)
    if found is None:
        raise NotFound("referral.unknown", field="topic")
    return found


@dataclass(frozen=True)
class Station:
    """A regular police station and when it is open, as seen at one moment."""

    location: Location
    is_open: bool
    next_opening_at: datetime | None
    closes_at: datetime | None


def police_stations(
    locations: Iterable[Location], at: datetime, *, near: Location | None = None
) -> list[Station]:
    """Active police offices, nearest first when `near` is a desk: the same municipality,
    then the same country, then the rest, each by name."""

    def rank(location: Location) -> tuple[int, int, str]:
        if near is None or near.kind is LocationKind.ONLINE:
            return (0, 0, location.name)
        return (
            location.municipality != near.municipality,
            location.country != near.country,
            location.name,
        )

    found = [
        location
        for location in locations
        if location.kind is LocationKind.POLICE_OFFICE and location.is_active
    ]
    return [
        Station(
            location=location,
            is_open=location.is_open_at(at),
            next_opening_at=None if location.is_open_at(at) else location.next_opening_after(at),
            closes_at=location.closes_at(at) if location.is_open_at(at) else None,
        )
        for location in sorted(found, key=rank)
    ]
