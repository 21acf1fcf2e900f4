"""The administrator pages in a real browser: accounts, desks and hours, roles, accessibility."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, assert_accessible, sign_in


def test_an_administrator_creates_an_officer_who_enrols_and_chooses_a_password_at_first_sign_in(
    browser: Any, page: Any, live_server: LiveServer
) -> None:
    sign_in(page, live_server, "admin")
    assert page.url.endswith("/admin")
    assert_accessible(page)
    page.click("a[href='/admin/staff']")
    assert_accessible(page)
    page.click("#new-staff")
    assert_accessible(page)
    page.fill("#username", "piet")
    page.fill("#display-name", "Piet Claes")
    page.check("#language-en")
    page.click("#create-staff")
    password = page.locator("#initial-password").inner_text()
    assert page.locator("#created-username").inner_text() == "piet"
    assert_accessible(page)

    newcomer = browser.new_context(locale="nl-BE").new_page()
    newcomer.goto(f"{live_server.url}/staff/sign-in")
    newcomer.fill("#username", "piet")
    newcomer.fill("#password", password)
    newcomer.click("button[type=submit]")
    newcomer.wait_for_url("**/staff/sign-in/enrol")
    expect(newcomer.locator("figure.qr svg")).to_be_visible()
    secret = newcomer.locator("#totp-key").inner_text().replace(" ", "")
    newcomer.fill("#code", live_server.container.totp.current_code(secret, live_server.clock.now()))
    newcomer.click("button[type=submit]")
    # The administrator saw the initial password: piet replaces it before his console opens.
    newcomer.wait_for_url("**/staff/sign-in/password")
    newcomer.fill("#password", "grey herons at dawn 2027")
    newcomer.fill("#repeated", "grey herons at dawn 2027")
    newcomer.click("button[type=submit]")
    newcomer.wait_for_url("**/officer")
    newcomer.context.close()

    page.goto(f"{live_server.url}/admin/staff")
    row = page.locator("tr[data-username='piet']")
    expect(row).to_contain_text("Piet Claes")
    expect(row.locator(".tag.pending")).to_have_count(0)


def test_new_hours_for_a_desk_show_at_once_in_the_api(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/admin/locations")
    assert_accessible(page)
    expect(page.locator("tr[data-slug='bree'] [data-open]")).to_have_attribute("data-open", "yes")
    page.click("tr[data-slug='bree'] a[href='/admin/locations/bree/hours']")
    assert page.input_value("#tue-0-opens") == "07:00"
    page.fill("#tue-0-opens", "13:00")
    page.fill("#tue-0-closes", "17:00")
    page.click("#save-hours")

    expect(page.locator("#done")).to_be_visible()
    expect(page.locator("#open-now")).to_have_attribute("data-open", "no")
    opening = page.request.get(f"{live_server.url}/api/v1/locations/bree").json()["opening"]
    assert opening["is_open"] is False
    assert opening["next_opening_at"].startswith("2027-01-12T12:00")


def test_bad_hours_show_an_error_summary_and_keep_what_was_entered(
    page: Any, live_server: LiveServer
) -> None:
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/admin/locations/bree/hours")
    page.fill("#tue-0-closes", "25:00")
    page.fill("#thu-1-opens", "18:00")
    page.fill("#thu-1-closes", "17:00")
    page.click("#save-hours")

    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary.locator("a[href='#tue-0-closes']")).to_be_visible()
    expect(summary.locator("a[href='#thu-1-closes']")).to_be_visible()
    assert page.input_value("#tue-0-closes") == "25:00"
    assert page.input_value("#thu-1-opens") == "18:00"
    expect(page.locator("#tue-0-closes")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)  # the hours page, with its errors shown
    opening = page.request.get(f"{live_server.url}/api/v1/locations/bree").json()["opening"]
    assert opening["is_open"] is True


def test_special_hours_are_added_and_removed(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/admin/locations/as/hours")
    page.fill("#exception-date", "2027-01-12")
    page.fill("#exception-reason", "Staking")
    page.click("#add-exception")
    row = page.locator("tr[data-date='2027-01-12']")
    expect(row).to_contain_text("Staking")
    expect(page.locator("#open-now")).to_have_attribute("data-open", "no")
    row.locator("button[type=submit]").click()
    expect(page.locator("tr[data-date='2027-01-12']")).to_have_count(0)
    expect(page.locator("#open-now")).to_have_attribute("data-open", "yes")


def test_closing_an_account_signs_the_person_out(
    browser: Any, page: Any, live_server: LiveServer
) -> None:
    officer = browser.new_context(locale="nl-BE").new_page()
    sign_in(officer, live_server, "an")
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/admin/staff/{live_server.staff_ids['an']}")
    assert_accessible(page)
    page.click("#deactivate")
    expect(page.locator("#done")).to_be_visible()
    expect(page.locator("#reactivate")).to_be_visible()

    # A signed-in person is sent from the sign-in page to their own; a closed account is not.
    officer.goto(f"{live_server.url}/staff/sign-in")
    expect(officer.locator("#username")).to_be_visible()
    assert officer.url.endswith("/staff/sign-in")
    officer.context.close()


def test_the_desk_and_service_pages_pass_the_accessibility_audit(
    page: Any, live_server: LiveServer
) -> None:
    sign_in(page, live_server, "admin")
    for path in ("/admin/locations/bree", "/admin/locations/new", "/admin/services"):
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("h1")).to_be_visible()
        assert_accessible(page)
    page.goto(f"{live_server.url}/admin/locations/new")
    page.fill("#code", "lnk")
    page.fill("#slug", "la naken")
    page.fill("#name", "Politiehuis Lanaken")
    page.fill("#municipality", "Lanaken")
    page.click("#create-location")
    expect(page.locator("#error-summary a[href='#slug']")).to_be_visible()
    assert page.input_value("#code") == "LNK"


def test_an_officer_is_denied_the_administrator_pages(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server, "an")
    for path in ("/admin", "/admin/staff", "/admin/locations/bree/hours"):
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 403
    response = page.request.post(
        f"{live_server.url}/admin/staff/new",
        form={"username": "mallory", "display_name": "M", "roles": "administrator"},
    )
    assert response.status == 403
