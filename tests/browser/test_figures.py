"""The supervisor's figures in a real browser: charts for a seeded history, filters, today
live, accessibility; and the survey after a contact, answered once."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import insert

from loket.adapters.db import schema as t
from loket.domain.tickets import Outcome
from loket.services import figures as figure_service
from loket.services import queue
from tests.browser.conftest import (
    OPEN_MOMENT,
    LiveServer,
    assert_accessible,
    make_officer_available,
    sign_in,
)


def seed_history(live: LiveServer, days: int = 20, per_day: int = 30) -> int:
    """Closed tickets over the last days, written straight to the table, then rolled up."""
    rng = random.Random(3)
    with live.container.queue.uow(read_only=True) as uow:
        desks = [(loc.id, loc.code) for loc in uow.locations.list()]
    rows = []
    for day in range(1, days + 1):
        for number in range(per_day):
            location_id, code = rng.choice(desks)
            taken = OPEN_MOMENT - timedelta(days=day, minutes=rng.randrange(0, 300))
            accepted = taken + timedelta(seconds=rng.randrange(10, 1500))
            finished = accepted + timedelta(minutes=rng.randrange(2, 20))
            rows.append(
                {
                    "id": f"{day:08x}{number:08x}{rng.getrandbits(64):016x}",
                    "number": f"{code}-{number:03d}", "location_id": location_id,
                    "location_code": code,
                    "service_code": rng.choice(["info.general", "contact.video"]),
                    "language": "nl", "channel": rng.choice(["kiosk", "home"]), "priority": 0,
                    "state": "finished", "taken_at": taken, "rank_at": taken,
                    "changed_at": finished,
                    "offered_at": accepted, "accepted_at": accepted, "finished_at": finished,
                    "is_returned": False, "return_count": 0,
                    "outcome": rng.choice(["listened", "informed", "referred"]), "version": 3,
                }
            )  # fmt: skip
    with live.container.engine.begin() as conn:
        conn.execute(insert(t.tickets), rows)
    figure_service.roll_up(live.container.figures)
    return len(rows)


def test_the_figures_dashboard_draws_charts_of_the_history_and_today_live(
    page: Any, live_server: LiveServer
) -> None:
    seeded = seed_history(live_server)
    sign_in(page, live_server, "els")
    page.goto(f"{live_server.url}/supervisor/figures?lang=en")
    expect(page.locator("h1")).to_have_text("Figures")
    charts = page.locator("figure.chart svg[role=img]")
    expect(charts).to_have_count(8)  # seven for the period, one for today
    bars = page.locator("#chart-per-day rect.column-fill")
    expect(bars).to_have_count(28)
    assert page.locator("#period-key-figures [data-figure=contacts]").inner_text() == str(seeded)
    # Every chart has a table alternative with the same numbers.
    page.locator("#chart-outcomes summary").click()
    expect(page.locator("#chart-outcomes table tbody tr")).to_have_count(5)
    assert_accessible(page)
    # One desk only.
    page.select_option("#location", "bree")
    page.click("#apply-filter")
    page.wait_for_url("**location=bree**")
    shown = int(page.locator("#period-key-figures [data-figure=contacts]").inner_text())
    assert 0 < shown < seeded
    # Today, live: a contact finished now appears without reloading the page.
    make_officer_available(live_server, "an")
    ctx = live_server.container.queue
    ticket = queue.take_ticket(
        ctx, location_slug="bree", service_code="info.general", language="nl", channel="kiosk"
    )
    officer = live_server.staff_ids["an"]
    queue.offer_next(ctx, officer)
    queue.accept_ticket(ctx, officer, ticket.id)
    queue.finish_ticket(ctx, officer, ticket.id, Outcome.INFORMED)
    page.evaluate("() => new Promise((r) => setTimeout(r, 10))")
    expect(page.locator("#today-key-figures [data-figure=contacts]")).to_have_text(
        "1", timeout=40_000
    )


def test_the_survey_is_offered_on_the_ticket_page_after_the_contact_and_answered_once(
    page: Any, live_server: LiveServer
) -> None:
    make_officer_available(live_server, "an")
    ctx = live_server.container.queue
    ticket = queue.take_ticket(
        ctx, location_slug="bree", service_code="info.general", language="en", channel="kiosk"
    )
    officer = live_server.staff_ids["an"]
    queue.offer_next(ctx, officer)
    queue.accept_ticket(ctx, officer, ticket.id)
    queue.finish_ticket(ctx, officer, ticket.id, Outcome.LISTENED)
    page.goto(f"{live_server.url}/t/{ticket.id}?lang=en")
    page.click("#survey-link")
    expect(page.locator("#survey-form")).to_be_visible()
    survey_url = page.url
    assert ticket.id not in survey_url
    assert_accessible(page)
    page.click("label[for=satisfaction-4]")
    page.click("label[for=helped-1]")
    page.fill("#comment", "Quick and friendly.")
    page.click("#send-survey")
    expect(page.locator("#survey-done")).to_be_visible()
    assert_accessible(page)
    # Once answered, the same survey says so instead of asking again.
    page.goto(survey_url)
    expect(page.locator("#survey-message")).to_contain_text("already been answered")
    expect(page.locator("#send-survey")).to_have_count(0)
