"""Referral pages through the real app: what to do, the nearest police station with its hours,
an officer to talk to; and the links from the service pages."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from loket.web.app import create_app
from tests.conftest import FakeClock, World
from tests.integration.test_report_pages import BASE

PEER = "/kiosk/peer"  # a police office in Peer (BE)
UTRECHT = "/kiosk/utrecht-stationsplein"  # a public place in Utrecht (NL)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    app = create_app(container=world.container)
    with TestClient(app, base_url=BASE, headers={"Accept-Language": "en"}) as client:
        yield client


def stations(html: str) -> list[str]:
    return re.findall(r'<li data-station="([^"]+)">', html)


def test_a_lost_foreign_passport_at_a_kiosk_names_the_nearest_station_first(
    client: TestClient,
) -> None:
    client.get(f"{PEER}?lang=en")
    page = client.get(f"{PEER}/referral/lost.passport_foreign")
    assert page.status_code == 200
    assert "embassy or consulate" in page.text and "declaration of loss" in page.text
    shown = stations(page.text)
    assert shown[0] == "peer" and len(shown) == 3  # the same municipality first
    assert "nearest" in page.text
    assert "Open day and night." in page.text or "Open now" in page.text
    assert 'id="ticket-contact-video"' in page.text  # talk to an officer


def test_a_station_says_until_when_it_is_open_or_when_it_opens_next(
    client: TestClient, clock: FakeClock
) -> None:
    # Tuesday 10:00 in Brussels: As is open until 18:00; Genk never closes.
    page = client.get("/referral/lost.passport_foreign?station=as")
    assert "Open now, until 18:00." in page.text
    assert (
        "Open day and night."
        in client.get("/referral/lost.passport_foreign?station=genk-politiehuis").text
    )
    clock.advance(hours=12)  # Tuesday 22:00: As opens again on Wednesday at 08:00
    closed = client.get("/referral/lost.passport_foreign?station=as")
    assert re.search(r"Closed now\. Opens on Wednesday.*08:00", closed.text)


def test_at_home_the_citizen_chooses_a_station(client: TestClient) -> None:
    everything = client.get("/referral/lost.passport_foreign")
    listed = stations(everything.text)
    assert len(listed) >= 4 and 'id="station"' in everything.text
    chosen = client.get("/referral/lost.passport_foreign?station=bree")
    assert stations(chosen.text) == ["bree"]
    assert 'value="bree" selected' in chosen.text


def test_the_agents_topics_exist_and_an_unknown_one_is_not_found(client: TestClient) -> None:
    for topic in ("lost.property", "lost.id_document", "identity.no_login"):
        page = client.get(f"/referral/{topic}")
        assert page.status_code == 200, topic
        assert f'data-topic="{topic}"' in page.text
    assert "municipality" in client.get("/referral/lost.id_document").text
    assert 'id="stations"' not in client.get("/referral/lost.property").text
    assert client.get("/referral/lost.nothing").status_code == 404
    assert client.get("/referral/..%2Fetc").status_code == 404


def test_service_pages_link_to_the_referrals(client: TestClient) -> None:
    reports = client.get("/services/report")
    assert 'href="/referral/identity.no_login"' in reports.text
    tips = client.get("/services/tip")
    assert 'href="/referral/nuisance.neighbours"' in tips.text
    assert 'href="/tips/follow-up"' in tips.text
    assert 'href="/status"' in reports.text
    client.get(f"{UTRECHT}?lang=en")
    info = client.get(f"{UTRECHT}/services/information")
    assert f'href="{UTRECHT}/referral/lost.passport_foreign"' in info.text
