"""A report made together in a video call, in two real browser pages: the officer starts a
threat report (only an officer may take it), both answer, the officer corrects the citizen's
answer and the citizen sees it marked, both confirm, and a reference and a signed statement
result. Assertions use ids and the forms' own (Dutch) texts: they hold without the catalogs."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from loket.services import handover as handover_service
from loket.services import identification as identification_service
from tests.browser.conftest import LiveServer, assert_accessible
from tests.browser.test_calls import (
    call_in_progress,
    citizen_page,
)
from tests.integration.test_statements import flat, pages_text

__all__ = ["citizen_page"]  # the fixture, shared with the call tests


def edit(page: Any, question: str) -> None:
    page.click(f"#draft-edit-{question}")
    expect(page.locator(f"#draft-editor-{question}")).to_be_visible()


def save(page: Any, question: str) -> None:
    page.click(f"#draft-save-{question}")


def test_officer_and_citizen_draft_correct_confirm_and_send_a_threat_report_in_the_call(
    page: Any, citizen_page: Any, live_server: LiveServer
) -> None:
    ticket = call_in_progress(page, citizen_page, live_server)

    # The officer starts the report; the citizen's page shows it at once.
    expect(page.locator("#draft-start")).to_be_visible()
    page.select_option("#draft-form", "report.threat")
    page.click("#draft-start-button")
    expect(page.locator("#draft-body")).to_be_visible()
    expect(citizen_page.locator("#draft-body")).to_be_visible()
    expect(citizen_page.locator("#draft-title")).to_have_text("Aangifte bedreiging")
    # A threat needs an identity checked on camera: the console's panel offers the check.
    expect(page.locator(f"#identity-check-{ticket.id}")).to_be_visible()

    edit(page, "how")
    page.check("#draft-f-how-1")
    save(page, "how")
    expect(page.locator("#draft-text-how")).to_have_text("Telefonisch")

    # A moment in the future is refused next to the field; what was typed stays.
    edit(page, "when")
    page.fill("#draft-f-when-date", "2031-05-01")
    page.fill("#draft-f-when-time", "21:15")
    save(page, "when")
    expect(page.locator("#draft-f-when-date-error")).to_be_visible()
    expect(page.locator("#draft-f-when-date")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#draft-f-when-time")).to_have_value("21:15")
    page.fill("#draft-f-when-date", "2027-01-10")
    save(page, "when")
    expect(page.locator("#draft-text-when")).to_have_text("2027-01-10 21:15")

    edit(page, "who")  # optional: saved empty
    save(page, "who")
    expect(page.locator("#draft-editor-who")).to_have_count(0)

    # The citizen tells in their own words; the officer's console shows it live.
    edit(citizen_page, "words")
    citizen_page.fill("#draft-f-words", "Hij zei dat hij naar mijn huis zou komen.")
    save(citizen_page, "words")
    expect(page.locator("#draft-text-words")).to_have_text(
        "Hij zei dat hij naar mijn huis zou komen."
    )
    assert_accessible(citizen_page)

    # The officer corrects it; the citizen sees the new text, marked as the officer's.
    edit(page, "words")
    page.fill("#draft-f-words", "Hij zei op 10 januari dat hij naar mijn huis zou komen.")
    save(page, "words")
    expect(citizen_page.locator("#draft-text-words")).to_have_text(
        "Hij zei op 10 januari dat hij naar mijn huis zou komen."
    )
    expect(citizen_page.locator("#draft-mark-words")).to_be_visible()
    expect(citizen_page.locator("#draft-row-words")).to_have_attribute(
        "data-changed-by-officer", "yes"
    )
    assert_accessible(page)

    # A threat needs the identity an officer checked on camera. The console's check form has
    # its own browser test (test_identification.py); here the check is recorded directly and
    # both pages pick up the draft's new version on their own.
    def refreshed(response: Any) -> bool:
        return response.request.method == "GET" and response.url.endswith("/calls/draft")

    with (
        page.expect_response(refreshed, timeout=15_000),
        citizen_page.expect_response(refreshed, timeout=15_000),
    ):
        identification_service.verify_by_officer(
            live_server.container.identification,
            ticket.id,
            officer_id=live_server.staff_ids["an"],
            document_type="passport",
            document_suffix="X7Q4",
            face_matches=True,
        )

    # Both confirm: the citizen with the ticked declaration and their name, then the officer.
    expect(page.locator("#draft-submit")).to_be_disabled()
    citizen_page.check("#draft-f-declared")
    citizen_page.fill("#draft-f-full_name", "Sam Jansen")
    citizen_page.click("#draft-confirm-button")
    expect(page.locator("#draft-confirmed-citizen")).to_have_attribute("data-confirmed", "yes")
    page.click("#draft-confirm-button")
    expect(citizen_page.locator("#draft-confirmed-officer")).to_have_attribute(
        "data-confirmed", "yes"
    )
    expect(page.locator("#draft-submit")).to_be_enabled()
    page.click("#draft-submit")

    expect(page.locator("#draft-reference")).to_be_visible()
    expect(citizen_page.locator("#draft-reference")).to_be_visible()
    reference = page.locator("#draft-reference").get_attribute("data-reference")
    assert reference is not None and reference.startswith("AG-")
    expect(citizen_page.locator("#draft-reference")).to_have_attribute("data-reference", reference)
    assert_accessible(citizen_page)

    pdf = handover_service.download_statement(
        live_server.container.handover, reference, actor="staff:test"
    )
    text = flat(" ".join(pages_text(pdf)))
    assert f"An (personeelsnummer {live_server.staff_ids['an']})" in text
    assert "Sam Jansen" in text
    assert "Hij zei op 10 januari dat hij naar mijn huis zou komen." in text
