"""`loket report weekly`: a PDF per desk for its municipality, with the week's figures."""

from __future__ import annotations

import io
from pathlib import Path

from click.testing import CliRunner
from pypdf import PdfReader

from loket.cli import main
from loket.services import figures as figure_service
from tests.conftest import FakeClock, World
from tests.integration.test_service_monitor import play_a_morning


def pdf_text(path: Path) -> str:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_weekly_report_holds_the_week_figures_in_the_language_asked(
    world: World, clock: FakeClock, tmp_path: Path
) -> None:
    play_a_morning(world, clock)
    clock.advance(hours=2)
    figure_service.roll_up(world.container.figures)
    with world.container.queue.uow(read_only=True) as uow:
        desk = uow.locations.by_slug("online")
    expected = figure_service.figures(
        world.container.figures,
        clock.current.date(),
        clock.current.date(),
        location_id=desk.id,
    )
    out = tmp_path / "week.pdf"
    settings = world.container.settings
    result = CliRunner().invoke(
        main,
        ["--data-dir", str(settings.data_dir), "--database-url", settings.effective_database_url,
         "report", "weekly", "--location", "online", "--week", "2027-W02", "--out", str(out),
         "--lang", "en"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"{expected.total.contacts} contacts" in result.output
    text = pdf_text(out)
    assert "Weekly figures of the police desk" in text
    assert desk.name in text and "2027-W02" in text
    assert "2027-01-11" in text and "2027-01-17" in text  # Monday to Sunday
    assert f"Contacts {expected.total.contacts}" in text.replace("\n", " ")
    assert "Outcomes" in text and "Listened" in text and "By service" in text


def test_a_week_that_is_not_a_week_is_refused(world: World, tmp_path: Path) -> None:
    settings = world.container.settings
    result = CliRunner().invoke(
        main,
        ["--data-dir", str(settings.data_dir), "--database-url", settings.effective_database_url,
         "report", "weekly", "--location", "online", "--week", "2027-02"],
    )  # fmt: skip
    assert result.exit_code != 0 and "2027-W02" in result.output
