"""The service catalogue: what a citizen can do at a desk or at home, and who must handle it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from loket.domain.errors import Invalid, NotFound
from loket.domain.i18n import N_

_CODE_PATTERN = re.compile(r"^[a-z]+(?:\.[a-z_]+)?$")


class ServiceKind(StrEnum):
    REPORT = "report"
    TIP = "tip"
    INFORMATION = "information"
    VIDEO_CALL = "video_call"
    CALLBACK = "callback"
    ASSISTANT = "assistant"


class Channel(StrEnum):
    """Where the citizen starts a service."""

    KIOSK = "kiosk"
    HOME = "home"  # The citizen's own device, in a browser.
    VIDEO = "video"  # In a video call with an officer.
    PHONE = "phone"
    ASSISTANT = "assistant"  # Started by the virtual agent from a chat.


class IdentificationLevel(StrEnum):
    """How sure we are who the citizen is, weakest first; levels compare in that order."""

    ANONYMOUS = "anonymous"
    SELF_DECLARED = "self_declared"
    VERIFIED_ONLINE = "verified_online"  # OIDC: DigiD, itsme or eID.
    VERIFIED_BY_OFFICER = "verified_by_officer"  # Identity document checked on camera.

    @property
    def rank(self) -> int:
        return _LEVEL_ORDER.index(self)

    # A StrEnum would otherwise compare alphabetically, and "verified_by_officer" would sort
    # below "verified_online".
    def __lt__(self, other: str) -> bool:
        return self.rank < IdentificationLevel(other).rank

    def __le__(self, other: str) -> bool:
        return self.rank <= IdentificationLevel(other).rank

    def __gt__(self, other: str) -> bool:
        return self.rank > IdentificationLevel(other).rank

    def __ge__(self, other: str) -> bool:
        return self.rank >= IdentificationLevel(other).rank


_LEVEL_ORDER = tuple(IdentificationLevel)


@dataclass(frozen=True)
class Service:
    """One service of the catalogue; `title`, `description` and `referral` are N_-marked English."""

    code: str
    kind: ServiceKind
    title: str
    description: str
    channels: frozenset[Channel]
    identification: IdentificationLevel
    is_self_service: bool  # An unmanned desk can handle it without an officer.
    needs_officer: bool  # Taking it puts a ticket in the officer queue.
    referral: str | None  # Where to go when the desk cannot handle it.
    default_priority: int = 0

    def __post_init__(self) -> None:
        if not _CODE_PATTERN.match(self.code):
            raise Invalid("service.invalid_code", field="code", service=self.code)
        if not self.channels:
            raise Invalid("service.no_channel", field="channels", service=self.code)
        if self.is_self_service and self.needs_officer:
            raise Invalid("service.self_service_needs_officer", service=self.code)


# Choices, following Dutch (politie.nl) and Belgian (Police-on-web) practice:
# - Bicycle theft, theft, vandalism and online fraud can be reported online in both countries
#   when there is no known suspect, after logging in with DigiD, itsme or eID. So these are
#   self-service; who cannot log in is helped by an officer on camera instead of turned away
#   (the Utrecht pilot lost visitors without DigiD).
# - Burglary needs an officer: the police want to hear it first-hand, arrange forensic
#   traces and victim support, and a home burglary is a priority crime in both countries.
# - A threat needs an officer in a call: the officer judges the danger, and a threat can
#   need immediate action, so it also goes ahead of other tickets.
# - An anonymous tip stores nothing that identifies the tipster; a nuisance tip asks for
#   contact details so the community officer can follow up.
# - Officer-taken reports require identity verified by the officer, who signs the statement.
_VERIFY_BY_CAMERA = N_(
    "If you cannot log in with DigiD, itsme or eID, ask for a video call: "
    "an officer can check your identity document on camera."
)
_URGENT = N_(
    "If you are in danger or it is happening now, call 112. Otherwise, when this desk is "
    "closed, go to a police station or ask for a callback."
)
_SELF_SERVICE_REPORT_CHANNELS = frozenset({Channel.KIOSK, Channel.HOME, Channel.ASSISTANT})
_OFFICER_REPORT_CHANNELS = frozenset({Channel.KIOSK, Channel.HOME, Channel.VIDEO})

CATALOGUE: tuple[Service, ...] = (
    Service(
        code="report.bicycle_theft",
        kind=ServiceKind.REPORT,
        title=N_("Report a stolen bicycle"),
        description=N_(
            "Report the theft of a bicycle, e-bike or scooter when you do not know who did it."
        ),
        channels=_SELF_SERVICE_REPORT_CHANNELS,
        identification=IdentificationLevel.VERIFIED_ONLINE,
        is_self_service=True,
        needs_officer=False,
        referral=_VERIFY_BY_CAMERA,
    ),
    Service(
        code="report.theft",
        kind=ServiceKind.REPORT,
        title=N_("Report a theft"),
        description=N_(
            "Report the theft of your belongings, such as a phone, wallet or bag, when you do "
            "not know who did it."
        ),
        channels=_SELF_SERVICE_REPORT_CHANNELS,
        identification=IdentificationLevel.VERIFIED_ONLINE,
        is_self_service=True,
        needs_officer=False,
        referral=_VERIFY_BY_CAMERA,
    ),
    Service(
        code="report.burglary",
        kind=ServiceKind.REPORT,
        title=N_("Report a burglary"),
        description=N_(
            "Report a break-in at your home, business or car. An officer takes your "
            "report in a video call and arranges a search for traces if needed."
        ),
        channels=_OFFICER_REPORT_CHANNELS,
        identification=IdentificationLevel.VERIFIED_BY_OFFICER,
        is_self_service=False,
        needs_officer=True,
        referral=_URGENT,
        default_priority=1,
    ),
    Service(
        code="report.vandalism",
        kind=ServiceKind.REPORT,
        title=N_("Report vandalism"),
        description=N_(
            "Report damage to your property, such as a car, bicycle or window, when you do "
            "not know who did it."
        ),
        channels=_SELF_SERVICE_REPORT_CHANNELS,
        identification=IdentificationLevel.VERIFIED_ONLINE,
        is_self_service=True,
        needs_officer=False,
        referral=_VERIFY_BY_CAMERA,
    ),
    Service(
        code="report.online_fraud",
        kind=ServiceKind.REPORT,
        title=N_("Report online fraud"),
        description=N_(
            "Report fraud when buying or selling online, for example you paid and never "
            "received the goods."
        ),
        channels=_SELF_SERVICE_REPORT_CHANNELS,
        identification=IdentificationLevel.VERIFIED_ONLINE,
        is_self_service=True,
        needs_officer=False,
        referral=_VERIFY_BY_CAMERA,
    ),
    Service(
        code="report.threat",
        kind=ServiceKind.REPORT,
        title=N_("Report a threat"),
        description=N_(
            "Report that someone threatened you. An officer talks with you in a video call "
            "and takes your report."
        ),
        channels=_OFFICER_REPORT_CHANNELS,
        identification=IdentificationLevel.VERIFIED_BY_OFFICER,
        is_self_service=False,
        needs_officer=True,
        referral=_URGENT,
        default_priority=2,
    ),
    Service(
        code="tip.anonymous",
        kind=ServiceKind.TIP,
        title=N_("Give an anonymous tip"),
        description=N_(
            "Tell the police about a crime without giving your name. We store nothing that "
            "identifies you; a reference code lets you add to your tip later."
        ),
        channels=frozenset({Channel.KIOSK, Channel.HOME}),
        identification=IdentificationLevel.ANONYMOUS,
        is_self_service=True,
        needs_officer=False,
        referral=None,
    ),
    Service(
        code="tip.nuisance",
        kind=ServiceKind.TIP,
        title=N_("Report nuisance"),
        description=N_(
            "Tell us about nuisance in your neighbourhood, such as noise, loitering or "
            "dangerous traffic, so the community officer can follow it up."
        ),
        channels=frozenset({Channel.KIOSK, Channel.HOME, Channel.ASSISTANT, Channel.PHONE}),
        identification=IdentificationLevel.SELF_DECLARED,
        is_self_service=True,
        needs_officer=False,
        referral=N_(
            "For a dispute with neighbours, the municipality or community mediation can "
            "often help better than the police."
        ),
    ),
    Service(
        code="info.general",
        kind=ServiceKind.INFORMATION,
        title=N_("Find information"),
        description=N_("Answers to common questions about the police and what to do when."),
        channels=frozenset({Channel.KIOSK, Channel.HOME, Channel.ASSISTANT}),
        identification=IdentificationLevel.ANONYMOUS,
        is_self_service=True,
        needs_officer=False,
        referral=None,
    ),
    Service(
        code="contact.video",
        kind=ServiceKind.VIDEO_CALL,
        title=N_("Talk to an officer"),
        description=N_(
            "Talk to a police officer by video, without an appointment: tell your story, ask "
            "a question or make a report."
        ),
        channels=frozenset({Channel.KIOSK, Channel.HOME, Channel.ASSISTANT}),
        identification=IdentificationLevel.ANONYMOUS,
        is_self_service=False,
        needs_officer=True,
        referral=N_("When no officer is available, ask for a callback at a time that suits you."),
    ),
    Service(
        code="contact.callback",
        kind=ServiceKind.CALLBACK,
        title=N_("Ask for a callback"),
        description=N_(
            "Choose a time and whether you want a video call or an ordinary phone call; an "
            "officer contacts you then."
        ),
        channels=frozenset({Channel.KIOSK, Channel.HOME, Channel.ASSISTANT, Channel.PHONE}),
        # A phone number or video link is needed to call back, so the citizen gives a name.
        identification=IdentificationLevel.SELF_DECLARED,
        is_self_service=False,
        # The callback becomes a ticket in the officer queue at the time chosen.
        needs_officer=True,
        referral=None,
    ),
    Service(
        code="assistant",
        kind=ServiceKind.ASSISTANT,
        title=N_("Chat with the virtual agent"),
        description=N_(
            "Ask the virtual agent your question, in your own words and language. It can "
            "start a service for you or pass you to an officer."
        ),
        channels=frozenset({Channel.KIOSK, Channel.HOME}),
        identification=IdentificationLevel.ANONYMOUS,
        is_self_service=True,
        needs_officer=False,
        referral=None,
    ),
)

_BY_CODE = {service.code: service for service in CATALOGUE}


def service_by_code(code: str) -> Service:
    """The catalogue entry for `code`; raises NotFound("service.unknown")."""
    try:
        return _BY_CODE[code]
    except KeyError:
        raise NotFound("service.unknown", field="service", service=code) from None


def services_for(codes: Iterable[str]) -> tuple[Service, ...]:
    """The services named by `codes`, in catalogue order; raises NotFound for an unknown code."""
    wanted = set(codes)
    for code in sorted(wanted):
        service_by_code(code)
    return tuple(service for service in CATALOGUE if service.code in wanted)
