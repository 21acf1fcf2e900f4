"""Retention on SQLite and PostgreSQL: what is past its period goes, the rest stays, a dry run
only counts, one audit entry per run, a second run finds nothing, two runs at once purge once."""

from __future__ import annotations

import threading
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, insert, select, update

from loket.adapters.db import schema as t
from loket.adapters.notify.outbox import OutboxNotifier
from loket.cli import main
from loket.domain.reports import ReportStep
from loket.domain.retention import RetentionCounts
from loket.services import follow_up as follow_up_service
from loket.services import handover as handover_service
from loket.services import queue as queue_service
from loket.services import reports as svc
from loket.services.retention import run_retention
from tests.conftest import FakeClock, World
from tests.integration.test_reports import BICYCLE, count, fill, start
from tests.integration.test_smtp_notifier import join_link

TIP = [
    ("subject", "drugs"),
    ("description", "Dealing every evening at the park"),
    ("where", None),
    ("person", None),
]


def submitted_tip(world: World) -> tuple[str, str]:
    """A tip with its passphrase; (reference, passphrase)."""
    draft_id = start(world, "tip.anonymous")
    fill(world, draft_id, TIP)
    report = svc.submit_draft(world.container.reports, draft_id)
    access = follow_up_service.first_access(world.container.follow_up, draft_id)
    assert access.secret is not None
    return report.reference, access.secret


def submitted_report(world: World) -> tuple[str, str]:
    """A bicycle theft with its status code and an acknowledgement code; (reference, draft)."""
    draft_id = start(world)
    fill(world, draft_id, BICYCLE)
    report = svc.submit_draft(world.container.reports, draft_id)
    follow_up_service.first_access(world.container.follow_up, draft_id)
    handover_service.issue_download_code(world.container.handover, draft_id)
    return report.reference, draft_id


def ended_contact_with_a_message(world: World, clock: FakeClock) -> None:
    ticket = queue_service.take_ticket(
        world.container.queue,
        location_slug="online",
        service_code="contact.video",
        language="nl",
        channel="home",
    )
    with world.container.engine.begin() as conn:
        conn.execute(
            update(t.tickets)
            .where(t.tickets.c.id == ticket.id)
            .values(state="finished", finished_at=clock.now())
        )
        conn.execute(
            insert(t.contact_messages).values(
                id="m" * 32,
                ticket_id=ticket.id,
                author_role="citizen",
                author_name="Citizen",
                body="my phone number is 0612345678",
                at=clock.now(),
            )
        )


def test_a_run_purges_what_is_past_its_period_and_keeps_the_rest(
    world: World, clock: FakeClock
) -> None:
    ctx = world.container.retention
    # Old: made now, looked at a year and a day later.
    old_draft = start(world)
    fill(world, old_draft, BICYCLE[:4] + BICYCLE[-1:])  # holds an uploaded photo
    resumable = start(world, "report.vandalism")
    svc.issue_resume_code(world.container.reports, resumable)
    tip_reference, passphrase = submitted_tip(world)
    follow_up_service.add_follow_up(
        world.container.follow_up, tip_reference, passphrase, "The car is grey, not blue."
    )
    report_reference, _ = submitted_report(world)
    for step in (ReportStep.REVIEW, ReportStep.CLOSE):
        svc.move_report(world.container.reports, report_reference, step, actor="staff:1")
    open_reference, _ = submitted_report(world)
    ended_contact_with_a_message(world, clock)
    assert count(world, t.report_files) == 3  # the sent reports' photos and the old draft's

    clock.advance(days=366)
    # Recent: made just before the run, so within every period.
    fresh = start(world)
    fresh_tip, _ = submitted_tip(world)
    svc.issue_resume_code(world.container.reports, fresh)

    would = run_retention(ctx, dry_run=True)
    assert count(world, t.report_drafts) == 7 and count(world, t.report_files) == 3
    done = run_retention(ctx)
    assert done == would
    assert done == RetentionCounts(
        drafts=2,  # the old bicycle draft and the old vandalism draft, never sent
        draft_files=1,
        resume_codes=0,  # the old code went with its draft; the fresh one is valid
        acknowledgement_codes=2,
        tip_access_codes=1,
        tip_follow_ups=1,
        status_codes=1,  # the closed report's; the open one keeps its code
        contact_messages=1,
        contact_documents=0,
        notifications=0,
    )
    assert count(world, t.report_files) == 2  # a sent report's uploads stay with it
    with world.container.engine.connect() as conn:
        drafts = set(conn.execute(select(t.report_drafts.c.id)).scalars())
        kept_codes = (
            conn.execute(
                select(t.reports.c.reference)
                .join(t.report_access_codes, t.report_access_codes.c.report_id == t.reports.c.id)
                .order_by(t.reports.c.reference)
            )
            .scalars()
            .all()
        )
        a = t.audit_log.c
        runs = conn.execute(
            select(a.actor, a.action, a.details).where(a.subject_type == "retention")
        ).all()
    assert fresh in drafts and old_draft not in drafts and resumable not in drafts
    assert kept_codes == sorted([open_reference, fresh_tip])
    assert [(actor, action) for actor, action, _ in runs] == [("system", "purge")] * 2
    assert runs[0].details["dry_run"] is True and runs[1].details["dry_run"] is False
    assert runs[1].details["drafts"] == 2 and runs[1].details["tip_follow_ups"] == 1
    # Submitted reports themselves follow the case rules, not these periods.
    assert count(world, t.reports) == 4

    assert run_retention(ctx).total == 0


def test_e_mails_go_once_sent_or_given_up_and_never_while_still_to_be_sent(
    world: World, clock: FakeClock
) -> None:
    notifier = OutboxNotifier(world.container.engine, clock)
    for _ in range(4):
        notifier.send(join_link("nl"))
    n = t.notifications.c
    with world.container.engine.begin() as conn:
        ids = conn.execute(select(n.id).order_by(n.id)).scalars().all()
        conn.execute(update(t.notifications).where(n.id == ids[0]).values(sent_at=clock.now()))
        conn.execute(update(t.notifications).where(n.id == ids[1]).values(failed_at=clock.now()))
        # ids[2] is still to be sent (the mail server was down for a month): it stays.
    clock.advance(days=31)
    with world.container.engine.begin() as conn:
        conn.execute(update(t.notifications).where(n.id == ids[3]).values(sent_at=clock.now()))
    assert run_retention(world.container.retention).notifications == 2
    with world.container.engine.connect() as conn:
        assert conn.execute(select(n.id).order_by(n.id)).scalars().all() == ids[2:]


def test_an_expired_resume_code_is_dropped_while_its_draft_stays(
    world: World, clock: FakeClock
) -> None:
    draft_id = start(world)
    code = svc.issue_resume_code(world.container.reports, draft_id)
    clock.advance(hours=73)
    svc.answer(world.container.reports, draft_id, "when", {"date": "2027-01-11", "time": "18:30"})
    assert run_retention(world.container.retention).resume_codes == 1
    with world.container.engine.connect() as conn:
        row = conn.execute(select(t.report_drafts)).one()
    assert row.resume_code_hash is None and row.id == draft_id
    assert code not in repr(tuple(row))


def test_two_runs_at_once_purge_each_row_once(world: World, clock: FakeClock) -> None:
    for _ in range(6):
        start(world)
    clock.advance(days=8)
    results: list[RetentionCounts] = []

    def run() -> None:
        results.append(run_retention(world.container.retention))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.drafts for r in results) == 6
    assert count(world, t.report_drafts) == 0


def test_the_command_prints_the_counts_and_a_dry_run_keeps_everything(tmp_path: Path) -> None:
    runner = CliRunner()
    dry = runner.invoke(main, ["--data-dir", str(tmp_path), "retention", "run", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Would purge 0 item(s)" in dry.output and "tip_follow_ups" in dry.output
    real = runner.invoke(main, ["--data-dir", str(tmp_path), "retention", "run"])
    assert real.exit_code == 0 and "Purged 0 item(s)" in real.output
    import sqlalchemy

    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'loket.db'}")
    with engine.connect() as conn:
        entries = conn.execute(
            select(func.count()).select_from(t.audit_log).where(t.audit_log.c.action == "purge")
        ).scalar_one()
    engine.dispose()
    assert entries == 2
