"""The languages beyond the first four in a real browser: Arabic right to left, Turkish at home."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from loket.web.i18n import gettext_for
from loket.web.pages.citizen import TILES
from tests.browser.conftest import LiveServer, assert_accessible

ARABIC = re.compile(r"[\u0600-\u06FF]")
LATIN_LETTERS = re.compile(r"[A-Za-z]")


def test_the_kiosk_in_arabic_reads_right_to_left(page: Any, live_server: LiveServer) -> None:
    page.goto(f"{live_server.url}/kiosk/bree")
    page.click("[data-language=ar]")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "ar")
    expect(html).to_have_attribute("dir", "rtl")

    arabic = gettext_for("ar")
    tiles = page.locator("[data-tile]")
    expect(tiles).to_have_count(len(TILES))
    for tile in TILES:
        title = page.locator(f"#tile-{tile.key} strong")
        translated = arabic.gettext(tile.title)
        assert translated != tile.title, f"no Arabic for {tile.title!r}"
        expect(title).to_have_text(translated)
        text = title.inner_text()
        # Arabic script, and none of the English of the msgid.
        assert ARABIC.search(text), text
        assert not LATIN_LETTERS.search(text), text
        expect(page.locator(f"#tile-{tile.key}")).not_to_contain_text(tile.description)

    emergency = page.locator("#emergency")
    expect(emergency).to_be_visible()
    expect(emergency).to_contain_text("112")
    assert_accessible(page)


def test_the_online_desk_at_home_speaks_turkish(page: Any, live_server: LiveServer) -> None:
    page.goto(f"{live_server.url}/?lang=tr")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "tr")
    expect(html).not_to_have_attribute("dir", "rtl")

    turkish = gettext_for("tr")
    for tile in TILES:
        translated = turkish.gettext(tile.title)
        assert translated != tile.title, f"no Turkish for {tile.title!r}"
        expect(page.locator(f"#tile-{tile.key} strong")).to_have_text(translated)
    expect(page.locator("#tile-officer")).to_contain_text("Bir polis memuruyla görüşün")
    expect(page.locator("#emergency")).to_contain_text("112")
    assert_accessible(page)
