"""Purging data past its retention period over SQLAlchemy Core.

Each purge selects what is past its period and deletes exactly those rows, with the condition
repeated in the delete: a row that traffic changed in between (a draft answered again, a
code renewed) is no longer past its period and stays. On PostgreSQL the selected rows are
locked (rows others hold are skipped, the next run takes them), so a purge never waits on a
citizen's transaction nor races it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    and_,
    delete,
    func,
    not_,
    or_,
    select,
    update,
)

from loket.adapters.db import schema as t
from loket.domain.follow_up import AccessPurpose
from loket.domain.reports import ReportState
from loket.domain.retention import Cutoffs

# Rows per statement: keeps lists of ids in one statement well below any parameter limit.
BATCH = 500


class SqlRetentionRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._locks = conn.dialect.name == "postgresql"

    def purge_drafts(self, cutoffs: Cutoffs, *, dry_run: bool) -> tuple[int, int]:
        d = t.report_drafts.c
        past = and_(d.expires_at < cutoffs.drafts, d.report_id.is_(None))
        ids = self._ids(t.report_drafts, d.id, past)
        files = 0
        drafts = 0
        for chunk in _chunks(ids):
            f = t.report_files.c
            if dry_run:
                files += self._count(t.report_files, f.draft_id.in_(chunk))
                drafts += len(chunk)
                continue
            # Files first: a draft's files never outlive it, even for a moment.
            files += self._delete(t.report_files, f.draft_id.in_(chunk))
            drafts += self._delete(t.report_drafts, and_(d.id.in_(chunk), past))
        return drafts, files

    def purge_resume_codes(self, cutoffs: Cutoffs, *, dry_run: bool) -> int:
        d = t.report_drafts.c
        # Drafts the draft purge removes whole are not counted twice (nor in a dry run).
        purged_whole = and_(d.expires_at < cutoffs.drafts, d.report_id.is_(None))
        past = and_(
            d.resume_code_hash.is_not(None),
            d.resume_expires_at < cutoffs.resume_codes,
            not_(purged_whole),
        )
        ids = self._ids(t.report_drafts, d.id, past)
        if dry_run:
            return len(ids)
        done = 0
        for chunk in _chunks(ids):
            result = self._conn.execute(
                update(t.report_drafts)
                .where(d.id.in_(chunk), past)
                .values(resume_code_hash=None, resume_expires_at=None, version=d.version + 1)
            )
            done += result.rowcount
        return done

    def purge_acknowledgement_codes(self, cutoffs: Cutoffs, *, dry_run: bool) -> int:
        a = t.acknowledgement_codes.c
        # Expired, or spent: a used code opens nothing. Both after the grace period, which
        # lets a citizen who comes back soon be told "used" or "expired" rather than "unknown".
        past = or_(
            a.expires_at < cutoffs.acknowledgement_codes,
            and_(a.uses_left <= 0, a.created_at < cutoffs.acknowledgement_codes),
        )
        return self._purge(t.acknowledgement_codes, a.id, past, dry_run)

    def purge_tip_access(self, cutoffs: Cutoffs, *, dry_run: bool) -> int:
        c = t.report_access_codes.c
        past = and_(c.purpose == AccessPurpose.FOLLOW_UP.value, c.created_at < cutoffs.tip_access)
        return self._purge(t.report_access_codes, c.report_id, past, dry_run)

    def purge_tip_follow_ups(self, cutoffs: Cutoffs, *, dry_run: bool) -> int:
        c = t.tip_follow_ups.c
        return self._purge(t.tip_follow_ups, c.id, c.added_at < cutoffs.tip_follow_ups, dry_run)

    def purge_status_codes(self, cutoffs: Cutoffs, *, dry_run: bool) -> int:
        c = t.report_access_codes.c
        r = t.reports.c
        closed_long_ago = select(r.id).where(
            r.state == ReportState.CLOSED.value, r.changed_at < cutoffs.status_codes
        )
        past = and_(c.purpose == AccessPurpose.STATUS.value, c.report_id.in_(closed_long_ago))
        return self._purge(t.report_access_codes, c.report_id, past, dry_run)

    def purge_contact_exchange(self, cutoffs: Cutoffs, *, dry_run: bool) -> tuple[int, int]:
        k = t.tickets.c
        ended = select(k.id).where(
            k.finished_at.is_not(None), k.finished_at < cutoffs.contact_exchange
        )
        m = t.contact_messages.c
        d = t.contact_documents.c
        messages = self._purge(t.contact_messages, m.id, m.ticket_id.in_(ended), dry_run)
        documents = self._purge(t.contact_documents, d.id, d.ticket_id.in_(ended), dry_run)
        return messages, documents

    def purge_notifications(self, cutoffs: Cutoffs, *, dry_run: bool) -> int:
        n = t.notifications.c
        done = or_(
            and_(n.sent_at.is_not(None), n.sent_at < cutoffs.notifications),
            and_(n.failed_at.is_not(None), n.failed_at < cutoffs.notifications),
        )
        return self._purge(t.notifications, n.id, done, dry_run)

    # -- helpers ------------------------------------------------------------------------------

    def _purge(self, table: Table, key: Any, past: ColumnElement[bool], dry_run: bool) -> int:
        ids = self._ids(table, key, past)
        if dry_run:
            return len(ids)
        return sum(self._delete(table, and_(key.in_(chunk), past)) for chunk in _chunks(ids))

    def _ids(self, table: Table, key: Any, past: ColumnElement[bool]) -> list[Any]:
        query = select(key).where(past)
        if self._locks:
            query = query.with_for_update(of=table, skip_locked=True)
        return [row[0] for row in self._conn.execute(query)]

    def _count(self, table: Table, condition: ColumnElement[bool]) -> int:
        return int(
            self._conn.execute(
                select(func.count()).select_from(table).where(condition)
            ).scalar_one()
        )

    def _delete(self, table: Table, condition: ColumnElement[bool]) -> int:
        return int(self._conn.execute(delete(table).where(condition)).rowcount)


def _chunks(ids: list[Any]) -> list[list[Any]]:
    return [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]
