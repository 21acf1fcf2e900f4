"""Files attached to reports pass the virus scanner (clamd's INSTREAM protocol over a real
socket) when the citizen uploads them and again before an officer opens them; with the
scanner configured but down, nothing is stored and nothing is served (fail closed)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from loket.adapters.db import schema as t
from loket.bootstrap import Container, build
from loket.config import Settings
from loket.domain.errors import DomainError
from loket.domain.forms import Upload
from loket.domain.statements import Confirmation
from loket.services import handover as handover_service
from loket.services import reports as svc
from loket.web.app import create_app
from loket.web.i18n import gettext_for
from loket.web.problems import MESSAGES
from tests.conftest import FAST_HASHER, FakeClock, World, add_officer
from tests.integration.test_call_interpreter import sign_in
from tests.integration.test_report_bad_input import answer_until
from tests.integration.test_report_pages import BASE, answer, start
from tests.integration.test_reports import BICYCLE, fill
from tests.integration.test_reports import start as start_draft
from tests.integration.test_virus_scanner import EICAR, ClamdPeer, a_closed_port, clamd
from tests.report_answers import PNG

__all__ = ["clamd"]  # the fake clamd server's fixture, used here too

# A real PNG by its first bytes, with the anti-virus test string inside.
INFECTED_PNG = PNG + EICAR


@pytest.fixture
def container(settings: Settings, clock: FakeClock, clamd: str) -> Iterator[Container]:
    """The service with the scanner configured (the world fixture builds on this one)."""
    built = build(replace(settings, clamd_url=clamd), clock=clock, hasher=FAST_HASHER)
    yield built
    built.dispose()


@pytest.fixture
def scanner_down(settings: Settings, clock: FakeClock) -> Iterator[Container]:
    """The same database after a restart with the scanner configured but not answering."""
    built = build(replace(settings, clamd_url=a_closed_port()), clock=clock, hasher=FAST_HASHER)
    yield built
    built.dispose()


def client_for(container: Container, language: str = "en") -> TestClient:
    app = create_app(container=container)
    return TestClient(app, base_url=BASE, headers={"Accept-Language": language})


def count(world: World, table: object) -> int:
    with world.container.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def error_next_to(page: str, field: str) -> str:
    found = re.search(rf'<p class="error-message" id="{field}-error">(.*?)</p>', page, re.S)
    assert found is not None, f"no message next to #{field}"
    return html.unescape(found.group(1)).strip()


def submitted_with_photo(world: World, photo: bytes = PNG) -> str:
    """A bicycle theft with a photo, submitted and signed; its reference."""
    draft_id = start_draft(world)
    fill(world, draft_id, [*BICYCLE[:-1], ("photo", Upload("bike.png", photo))])
    confirmation = Confirmation(typed_name="Anna de Vries")
    submission = handover_service.submit_report(world.container.handover, draft_id, confirmation)
    return submission.report.reference


def downloads(world: World, reference: str) -> list[tuple[str, str]]:
    a = t.audit_log.c
    with world.container.engine.connect() as conn:
        rows = conn.execute(
            select(a.actor, a.action).where(
                a.subject_type == "report_file", a.subject_id == reference
            )
        ).all()
    return [(actor, action) for actor, action in rows]


@pytest.mark.parametrize("language", ["en", "nl"])
def test_an_infected_upload_is_refused_to_the_citizen_and_nothing_is_stored(
    world: World, language: str
) -> None:
    with client_for(world.container, language) as client:
        start(client, "", "report.vandalism")
        with world.container.engine.connect() as conn:
            draft_id = str(conn.execute(select(t.report_drafts.c.id)).scalar_one())
        answer_until(world, draft_id, "photo")
        upload = {"file": ("car.png", INFECTED_PNG, "image/png")}
        refused = answer(client, "/report/q/photo", {}, files=upload)
        assert refused.status_code == 422
        expected = gettext_for(language).gettext(MESSAGES["document.infected"][1])
        assert error_next_to(refused.text, "photo") == expected
        assert count(world, t.report_files) == 0
        assert "photo" not in svc.load_draft(world.container.reports, draft_id).draft.answers
        clean = answer(client, "/report/q/photo", {}, files={"file": ("car.png", PNG, "image/png")})
        assert clean.headers["location"] == "/report/identify"  # vandalism: identity next
        assert count(world, t.report_files) == 1


def test_with_the_scanner_down_an_upload_is_refused_and_the_draft_is_kept(
    world: World, scanner_down: Container
) -> None:
    with client_for(world.container) as client:
        start(client, "", "report.vandalism")
        with world.container.engine.connect() as conn:
            draft_id = str(conn.execute(select(t.report_drafts.c.id)).scalar_one())
        answer_until(world, draft_id, "photo")
        # The same browser, after a restart that finds the scanner down.
        with client_for(scanner_down) as restarted:
            restarted.cookies.update(client.cookies)
            upload = {"file": ("car.png", PNG, "image/png")}
            refused = answer(restarted, "/report/q/photo", {}, files=upload)
    assert refused.status_code == 503
    message = gettext_for("en").gettext(MESSAGES["document.scanner_unavailable"][1])
    assert error_next_to(refused.text, "photo") == message
    assert count(world, t.report_files) == 0
    draft = svc.load_draft(world.container.reports, draft_id).draft
    assert "photo" not in draft.answers and draft.answers["damage"]


def test_an_officer_opens_a_file_only_after_a_fresh_scan_and_the_download_is_audited(
    world: World,
) -> None:
    reference = submitted_with_photo(world)
    staff_id = add_officer(world, "olaf")
    with client_for(world.container) as client:
        sign_in(client, world, "olaf")
        detail = client.get(f"/officer/reports/{reference}")
        link = f"/officer/reports/{reference}/files/photo"
        assert f'href="{link}"' in detail.text and "bike.png" in detail.text
        ClamdPeer.seen.clear()
        opened = client.get(link)
    assert opened.status_code == 200
    assert opened.content == PNG
    assert sum(ClamdPeer.seen) == len(PNG)  # scanned again now, not only at the upload
    assert opened.headers["content-type"] == "image/png"
    assert opened.headers["content-disposition"] == "attachment; filename*=UTF-8''bike.png"
    assert opened.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert opened.headers["cache-control"] == "no-store"
    assert downloads(world, reference) == [(f"staff:{staff_id}", "download")]


def test_with_the_scanner_down_no_file_is_served(world: World, scanner_down: Container) -> None:
    reference = submitted_with_photo(world)
    add_officer(world, "olaf")
    with client_for(scanner_down) as client:
        sign_in(client, world, "olaf")
        refused = client.get(f"/officer/reports/{reference}/files/photo")
    assert refused.status_code == 503
    assert PNG not in refused.content
    assert "cannot be checked for viruses" in refused.text
    assert downloads(world, reference) == []


def test_a_file_stored_before_the_scanner_knew_it_is_blocked_when_opened(
    world: World, settings: Settings, clock: FakeClock
) -> None:
    # Stored while no scanner was configured (the demo default) ...
    unscanned = build(settings, clock=clock, hasher=FAST_HASHER)
    try:
        reference = submitted_with_photo(World(container=unscanned), INFECTED_PNG)
    finally:
        unscanned.dispose()
    # ... and opened after the scanner was configured: refused, not served.
    add_officer(world, "olaf")
    with client_for(world.container) as client:
        sign_in(client, world, "olaf")
        refused = client.get(f"/officer/reports/{reference}/files/photo")
    assert refused.status_code == 422
    assert EICAR not in refused.content
    assert "flagged this file" in refused.text
    assert downloads(world, reference) == []


def test_an_answer_without_a_file_serves_nothing(world: World) -> None:
    reference = submitted_with_photo(world)
    for question in ("details", "nothing_here"):
        with pytest.raises(DomainError) as unknown:
            svc.open_report_file(world.container.reports, reference, question, actor="staff:1")
        assert unknown.value.code == "document.unknown"
    add_officer(world, "olaf")
    with client_for(world.container) as client:
        sign_in(client, world, "olaf")
        assert client.get(f"/officer/reports/{reference}/files/Photo").status_code == 404
