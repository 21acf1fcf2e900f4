"""Staff sign-in in a real browser: password, code, enrolment, throttling, roles, sign-out."""

from __future__ import annotations

from typing import Any

from loket.services import administration as admin
from tests.browser.conftest import LiveServer, assert_accessible, sign_in
from tests.conftest import PASSWORD


def test_an_officer_signs_in_with_password_and_code_and_lands_on_the_console(
    page: Any, live_server: LiveServer
) -> None:
    page.goto(f"{live_server.url}/staff/sign-in")
    assert_accessible(page)
    sign_in(page, live_server, "an")
    assert page.url.endswith("/officer")
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["__Host-loket-staff"]
    assert session["httpOnly"] and session["secure"] and session["sameSite"] == "Strict"


def test_a_wrong_code_is_refused_with_a_clear_message_and_the_form_stays(
    page: Any, live_server: LiveServer
) -> None:
    page.goto(f"{live_server.url}/staff/sign-in")
    page.fill("#username", "an")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.fill("#code", "000000")
    page.click("button[type=submit]")
    summary = page.locator("#error-summary")
    assert "klopt niet" in summary.inner_text()  # the browser asks for Dutch (nl-BE)
    assert page.url.endswith("/staff/sign-in/code")
    assert_accessible(page)


def test_a_wrong_password_keeps_the_username_and_repeated_failures_throttle(
    page: Any, live_server: LiveServer
) -> None:
    for _ in range(5):
        page.goto(f"{live_server.url}/staff/sign-in")
        page.fill("#username", "an")
        page.fill("#password", "wrong password here")
        page.click("button[type=submit]")
    assert page.input_value("#username") == "an"
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    # Five failures from this address: even the right password waits now.
    assert page.locator("#error-summary").is_visible()
    assert page.url.endswith("/staff/sign-in")


def test_a_host_is_denied_the_officer_console_with_a_403_page(
    page: Any, live_server: LiveServer
) -> None:
    sign_in(page, live_server, "tom")
    response = page.goto(f"{live_server.url}/officer")
    assert response is not None and response.status == 403
    assert page.locator("h1").inner_text()


def test_signing_out_everywhere_ends_every_session_of_the_account(
    browser: Any, live_server: LiveServer
) -> None:
    first = browser.new_context().new_page()
    second = browser.new_context().new_page()
    sign_in(first, live_server, "an")
    sign_in(second, live_server, "an")
    first.check("input[name=everywhere]")
    first.click("form.sign-out button[type=submit]")
    first.wait_for_url("**/staff/sign-in")
    second.goto(f"{live_server.url}/officer")
    assert second.url.endswith("/staff/sign-in")
    first.context.close()
    second.context.close()


def test_a_password_an_administrator_set_is_replaced_before_the_console_opens(
    page: Any, live_server: LiveServer
) -> None:
    container = live_server.container
    ids = live_server.staff_ids
    given = admin.set_password(
        admin.AdminContext(staff=container.staff, queue=container.queue),
        ids["admin"],
        ids["an"],
        None,
    )
    assert given is not None
    page.goto(f"{live_server.url}/staff/sign-in")
    page.fill("#username", "an")
    page.fill("#password", given)
    page.click("button[type=submit]")
    page.fill("#code", live_server.code("an"))
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/sign-in/password")
    assert_accessible(page)
    # No sign-in yet: the console sends the visitor back to sign in.
    page.goto(f"{live_server.url}/officer")
    assert "/staff/sign-in" in page.url
    page.goto(f"{live_server.url}/staff/sign-in/password")
    page.fill("#password", "crisp yellow tulips 2027")
    page.fill("#repeated", "crisp yellow tulips 2028")
    page.click("button[type=submit]")
    assert "niet hetzelfde" in page.locator("#error-summary").inner_text()
    page.fill("#password", given)
    page.fill("#repeated", given)
    page.click("button[type=submit]")
    assert "ander wachtwoord" in page.locator("#error-summary").inner_text()
    page.fill("#password", "crisp yellow tulips 2027")
    page.fill("#repeated", "crisp yellow tulips 2027")
    page.click("button[type=submit]")
    page.wait_for_url("**/officer")
    # The old password no longer signs in; the new one does, straight to the console.
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/staff/sign-in")
    page.fill("#username", "an")
    page.fill("#password", "crisp yellow tulips 2027")
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/sign-in/code")
