"""Guided reports and tips in a real browser: at the kiosk and at home, in Dutch and English."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from loket.services import handover as handover_service
from loket.services import reports as report_service
from tests.browser.conftest import LiveServer, assert_accessible, verify_online
from tests.browser.test_handover import downloaded

KIOSK = "utrecht-stationsplein"  # NL: bicycle theft is self-service
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture
def citizen(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="en-GB", viewport={"width": 1000, "height": 1000})
    yield context.new_page()
    context.close()


def open_desk(page: Any, live: LiveServer, where: str, language: str) -> str:
    """The desk's start page in `language`; returns the base path of its pages."""
    if where == "kiosk":
        page.goto(f"{live.url}/kiosk/{KIOSK}")
        page.click(f"[data-language={language}]")
        base = f"/kiosk/{KIOSK}"
    else:
        page.goto(f"{live.url}/?lang={language}")
        base = ""
    expect(page.locator("html")).to_have_attribute("lang", language)
    return base


def draw_signature(page: Any) -> None:
    """Sign on the pad with the mouse: a few strokes across the canvas."""
    pad = page.locator("#signature-canvas")
    expect(pad).to_be_visible()
    pad.scroll_into_view_if_needed()  # the mouse draws only inside the viewport
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] * 0.7)
    page.mouse.down()
    for step in range(1, 12):
        x = box["x"] + 20 + step * box["width"] / 14
        y = box["y"] + box["height"] * (0.3 if step % 2 else 0.7)
        page.mouse.move(x, y, steps=4)
    page.mouse.up()
    expect(page.locator("#signature")).to_have_value(re.compile(r"^data:image/png;base64,"))


def confirm_by_keyboard(page: Any, name: str) -> None:
    """The alternative to drawing, by keyboard only: tick the box, type the name."""
    page.focus("#confirm")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.type(name)
    expect(page.locator("#confirm")).to_be_checked()
    expect(page.locator("#full-name")).to_have_value(name)


def go_on(page: Any, check: bool) -> None:
    if check:
        assert_accessible(page)
    page.click("#continue")


TITLES = {"nl": "Stond de fiets op slot?", "en": "Was the bicycle locked?"}
YES = {"nl": "Ja", "en": "Yes"}


@pytest.mark.parametrize(
    ("where", "language"), [("kiosk", "nl"), ("kiosk", "en"), ("home", "nl"), ("home", "en")]
)
def test_a_bicycle_theft_is_reported_from_start_to_reference(
    citizen: Any, live_server: LiveServer, where: str, language: str, tmp_path: Any
) -> None:
    check = (where, language) == ("kiosk", "en")  # axe once per page type
    base = open_desk(citizen, live_server, where, language)
    citizen.click("#tile-report")
    citizen.click("#start-report-bicycle_theft")
    citizen.wait_for_url(f"**{base}/report/q/when")
    expect(citizen.locator("#progress")).to_contain_text("1")
    # A moment in the future is refused next to the field, and the values stay.
    citizen.fill("#when-date", "2027-02-01")
    citizen.fill("#when-time", "18:30")
    citizen.click("#continue")
    expect(citizen.locator("#when-date-error")).to_be_visible()
    expect(citizen.locator("#when-time")).to_have_value("18:30")
    if check:
        assert_accessible(citizen)
    citizen.fill("#when-date", "2027-01-11")
    go_on(citizen, check)
    citizen.fill("#where-street", "Stationsplein")
    citizen.fill("#where-city", "Utrecht")
    go_on(citizen, check)
    citizen.fill("#bicycle-0-brand", "Gazelle")
    citizen.fill("#bicycle-0-colour", "black")
    citizen.fill("#bicycle-0-frame_number", "12")
    citizen.click("#continue")
    expect(citizen.locator("#bicycle-0-frame_number-error")).to_be_visible()
    expect(citizen.locator("#bicycle-0-brand")).to_have_value("Gazelle")
    citizen.fill("#bicycle-0-frame_number", "GZ 123456")
    go_on(citizen, check)
    expect(citizen.locator("legend h1")).to_have_text(TITLES[language])
    citizen.check("#locked-0")
    go_on(citizen, check)
    for question in ("seen", "perpetrator_known", "violence"):
        citizen.check(f"#{question}-1")  # no
        citizen.click("#continue")
    citizen.fill("#value", "850")
    go_on(citizen, check)
    citizen.fill("#details", "Taken at night")
    go_on(citizen, check)
    photo = tmp_path / "bike.png"
    photo.write_bytes(PNG)
    citizen.set_input_files("#photo", str(photo))
    go_on(citizen, check)
    # A bicycle theft needs an identity verified online: the TEST provider of the live server.
    citizen.wait_for_url(f"**{base}/report/identify")
    verify_online(citizen)
    citizen.wait_for_url(f"**{base}/report/check")
    expect(citizen.locator("#answer-locked .answer-text")).to_have_text(YES[language])
    expect(citizen.locator("#answer-bicycle .answer-text")).to_contain_text("GZ 123456")
    if check:
        assert_accessible(citizen)
    if where == "home":
        draw_signature(citizen)
    else:
        confirm_by_keyboard(citizen, "Anna de Vries")
    citizen.click("#send")
    citizen.wait_for_url(f"**{base}/report/done")
    expect(citizen.locator("#reference")).to_have_text(re.compile(r"^AG-[2-9A-Z]{8}$"))
    if check:
        assert_accessible(citizen)
    reference = citizen.locator("#reference").inner_text()
    if where == "home":
        pdf = downloaded(citizen, "#acknowledgement-download", tmp_path)
        assert pdf.startswith(b"%PDF-")
    else:
        expect(citizen.locator("#acknowledgement-download")).to_have_count(0)
        citizen.click("#acknowledgement-code")
        expect(citizen.locator("#acknowledgement-qr svg")).to_be_visible()
        expect(citizen.locator("#acknowledgement-code-text")).to_have_text(
            re.compile(r"^[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}$")
        )
        if check:
            assert_accessible(citizen)
    statement = handover_service.statement_of(live_server.container.handover, reference)
    assert statement is not None
    report = report_service.read_report(live_server.container.reports, reference, actor="test")
    assert report.answers["bicycle"] == [
        {"brand": "Gazelle", "colour": "black", "frame_number": "GZ 123456"}
    ]
    assert report.language == language


def test_an_anonymous_tip_shows_markup_as_text_and_change_returns_to_the_check(
    citizen: Any, live_server: LiveServer
) -> None:
    open_desk(citizen, live_server, "home", "en")
    citizen.click("#tile-tip")
    assert_accessible(citizen)
    citizen.click("#start-tip-anonymous")
    citizen.check("#subject-0")
    citizen.click("#continue")
    typed = "<script>window.hacked = 1</script><b>dealing</b> at the corner"
    citizen.fill("#description", typed)
    citizen.click("#continue")
    citizen.fill("#where-street", "Markt")
    citizen.fill("#where-city", "Peer")
    citizen.click("#continue")
    # Back from the person question keeps the place given before.
    citizen.click("#back")
    expect(citizen.locator("#where-street")).to_have_value("Markt")
    citizen.click("#continue")
    citizen.fill("#person-clothing", "red jacket")
    citizen.click("#continue")
    citizen.wait_for_url("**/report/check")
    expect(citizen.locator("#answer-description .answer-text")).to_have_text(typed)
    assert citizen.evaluate("window.hacked") is None
    citizen.click("#change-subject")
    expect(citizen.locator("#subject-0")).to_be_checked()
    citizen.check("#subject-1")
    citizen.click("#continue")
    citizen.wait_for_url("**/report/check")
    expect(citizen.locator("#answer-subject .answer-text")).to_have_text("Weapons")
    citizen.click("#send")
    expect(citizen.locator("#reference")).to_have_text(re.compile(r"^ME-"))


def test_a_code_taken_at_the_kiosk_continues_the_report_at_home(
    citizen: Any, browser: Any, live_server: LiveServer
) -> None:
    base = open_desk(citizen, live_server, "kiosk", "en")
    citizen.click("#tile-report")
    citizen.click("#start-report-vandalism")
    citizen.check("#target-0")
    citizen.click("#continue")
    citizen.click("#take-code")
    code = citizen.locator("#resume-code").inner_text()
    assert_accessible(citizen)
    citizen.click("#start-again")
    citizen.wait_for_url(f"**{base}")

    other = browser.new_context(locale="en-GB").new_page()
    other.goto(f"{live_server.url}/report/resume")
    other.fill("#code", "WRNG-CODE-2345")
    other.click("#resume")
    expect(other.locator("#code-error")).to_be_visible()
    assert_accessible(other)
    other.fill("#code", code.lower())
    other.click("#resume")
    other.wait_for_url("**/report/q/when")
    other.click("#back")
    expect(other.locator("#target-0")).to_be_checked()
    other.context.close()


def test_a_report_the_law_gives_to_an_officer_offers_a_video_call(
    citizen: Any, live_server: LiveServer
) -> None:
    base = open_desk(citizen, live_server, "kiosk", "en")
    citizen.click("#tile-report")
    expect(citizen.locator("#start-report-burglary")).to_have_count(0)
    expect(citizen.locator("#officer-only-report-burglary")).to_be_visible()
    assert base
    # A Belgian answer can also turn it: at home (BE) a known perpetrator means an officer.
    citizen.goto(f"{live_server.url}/?lang=en")
    citizen.click("#tile-report")
    citizen.click("#start-report-theft")
    citizen.check("#kind-0")
    citizen.click("#continue")
    citizen.goto(f"{live_server.url}/report/q/perpetrator_known")
    citizen.check("#perpetrator_known-0")
    citizen.click("#continue")
    citizen.wait_for_url("**/report/officer")
    expect(citizen.locator("#ticket-contact-video")).to_be_visible()
    assert_accessible(citizen)
