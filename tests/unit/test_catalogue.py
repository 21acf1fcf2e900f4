import pytest

from loket.domain.catalogue import (
    CATALOGUE,
    Channel,
    IdentificationLevel,
    Service,
    ServiceKind,
    service_by_code,
    services_for,
)
from loket.domain.errors import Invalid, NotFound

REQUIRED_CODES = {
    "report.bicycle_theft",
    "report.theft",
    "report.burglary",
    "report.vandalism",
    "report.online_fraud",
    "report.threat",
    "tip.anonymous",
    "tip.nuisance",
    "info.general",
    "contact.video",
    "contact.callback",
    "assistant",
}


def make_service(**overrides: object) -> Service:
    fields: dict[str, object] = {
        "code": "report.test",
        "kind": ServiceKind.REPORT,
        "title": "Test",
        "description": "Test",
        "channels": frozenset({Channel.KIOSK}),
        "identification": IdentificationLevel.ANONYMOUS,
        "is_self_service": True,
        "needs_officer": False,
        "referral": None,
    }
    fields.update(overrides)
    return Service(**fields)  # type: ignore[arg-type]


def test_the_catalogue_has_every_required_service_once() -> None:
    codes = [service.code for service in CATALOGUE]
    assert set(codes) >= REQUIRED_CODES
    assert len(codes) == len(set(codes))


def test_a_service_is_found_by_its_code() -> None:
    assert service_by_code("report.burglary").kind is ServiceKind.REPORT


def test_an_unknown_service_code_is_not_found() -> None:
    with pytest.raises(NotFound) as error:
        service_by_code("report.dragon")
    assert error.value.code == "service.unknown"
    assert error.value.field == "service"
    assert error.value.params == {"service": "report.dragon"}


def test_services_for_returns_them_in_catalogue_order() -> None:
    services = services_for(["assistant", "report.theft", "report.theft"])
    assert [service.code for service in services] == ["report.theft", "assistant"]


def test_services_for_refuses_an_unknown_code() -> None:
    with pytest.raises(NotFound):
        services_for(["report.theft", "report.dragon"])


@pytest.mark.parametrize(
    "code", ["report.bicycle_theft", "report.theft", "report.vandalism", "report.online_fraud"]
)
def test_simple_reports_are_self_service_after_logging_in(code: str) -> None:
    service = service_by_code(code)
    assert service.is_self_service
    assert not service.needs_officer
    assert service.identification is IdentificationLevel.VERIFIED_ONLINE
    assert service.referral  # Who cannot log in is pointed to an officer.


@pytest.mark.parametrize("code", ["report.burglary", "report.threat"])
def test_serious_reports_need_an_officer(code: str) -> None:
    service = service_by_code(code)
    assert service.needs_officer
    assert not service.is_self_service
    assert service.identification is IdentificationLevel.VERIFIED_BY_OFFICER
    assert service.default_priority > 0


def test_a_threat_is_reported_in_a_call() -> None:
    assert Channel.VIDEO in service_by_code("report.threat").channels


def test_an_anonymous_tip_asks_for_no_identity() -> None:
    tip = service_by_code("tip.anonymous")
    assert tip.kind is ServiceKind.TIP
    assert tip.identification is IdentificationLevel.ANONYMOUS
    assert tip.is_self_service


def test_talking_to_an_officer_puts_a_ticket_in_the_queue() -> None:
    video = service_by_code("contact.video")
    assert video.kind is ServiceKind.VIDEO_CALL
    assert video.needs_officer
    assert service_by_code("contact.callback").kind is ServiceKind.CALLBACK


def test_the_virtual_agent_is_self_service() -> None:
    assistant = service_by_code("assistant")
    assert assistant.kind is ServiceKind.ASSISTANT
    assert assistant.is_self_service


def test_every_service_is_self_service_or_needs_an_officer() -> None:
    for service in CATALOGUE:
        assert service.is_self_service != service.needs_officer, service.code


def test_every_service_has_a_title_a_description_and_a_channel() -> None:
    for service in CATALOGUE:
        assert service.title
        assert service.description
        assert service.channels


def test_identification_levels_compare_from_weakest_to_strongest() -> None:
    assert (
        IdentificationLevel.ANONYMOUS
        < IdentificationLevel.SELF_DECLARED
        < IdentificationLevel.VERIFIED_ONLINE
        < IdentificationLevel.VERIFIED_BY_OFFICER
    )
    assert sorted(reversed(IdentificationLevel)) == list(IdentificationLevel)
    assert IdentificationLevel.VERIFIED_BY_OFFICER >= "verified_online"
    assert not IdentificationLevel.SELF_DECLARED >= IdentificationLevel.VERIFIED_ONLINE


def test_identification_levels_refuse_to_compare_with_unknown_text() -> None:
    with pytest.raises(ValueError, match="digid"):
        assert IdentificationLevel.ANONYMOUS < "digid"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"code": "Report Theft"}, "service.invalid_code"),
        ({"channels": frozenset()}, "service.no_channel"),
        ({"needs_officer": True}, "service.self_service_needs_officer"),
    ],
)
def test_a_service_with_bad_fields_is_refused(overrides: dict[str, object], code: str) -> None:
    with pytest.raises(Invalid) as error:
        make_service(**overrides)
    assert error.value.code == code
