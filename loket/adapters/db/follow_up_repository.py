"""Storing the hashed secrets of reports and tips, tipsters' additions, and export records."""

from __future__ import annotations

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from loket.adapters.db import schema as t
from loket.domain.errors import ConcurrentUpdate
from loket.domain.export import ExportRecord
from loket.domain.follow_up import AccessCode, AccessPurpose, FollowUp
from loket.domain.reports import Report, ReportState


class SqlFollowUpRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._locks = conn.dialect.name == "postgresql"

    def set_access(self, code: AccessCode) -> None:
        c = t.report_access_codes.c
        self._conn.execute(
            delete(t.report_access_codes).where(
                c.report_id == code.report_id, c.purpose == code.purpose.value
            )
        )
        try:
            self._conn.execute(
                insert(t.report_access_codes).values(
                    report_id=code.report_id,
                    purpose=code.purpose.value,
                    secret_hash=code.secret_hash,
                    created_at=code.created_at,
                )
            )
        except IntegrityError:
            # Another transaction kept a secret for this report at the same moment.
            raise ConcurrentUpdate("report.changed") from None

    def access_for(
        self, report_id: str, purpose: AccessPurpose, *, for_update: bool = False
    ) -> AccessCode | None:
        c = t.report_access_codes.c
        query = select(t.report_access_codes).where(
            c.report_id == report_id, c.purpose == purpose.value
        )
        if for_update and self._locks:
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        if row is None:
            return None
        return AccessCode(
            report_id=row.report_id,
            purpose=AccessPurpose(row.purpose),
            secret_hash=row.secret_hash,
            created_at=row.created_at,
        )

    def add_follow_up(self, follow_up: FollowUp) -> None:
        self._conn.execute(insert(t.tip_follow_ups).values(**vars(follow_up)))

    def follow_ups(self, report_id: str) -> list[FollowUp]:
        c = t.tip_follow_ups.c
        rows = self._conn.execute(
            select(t.tip_follow_ups).where(c.report_id == report_id).order_by(c.added_at, c.id)
        )
        return [FollowUp(**dict(row._mapping)) for row in rows]

    def submitted_tips(self, limit: int) -> list[tuple[Report, int]]:
        r = t.reports.c
        f = t.tip_follow_ups.c
        additions = (
            select(f.report_id, func.count().label("additions")).group_by(f.report_id).subquery()
        )
        rows = self._conn.execute(
            select(t.reports, func.coalesce(additions.c.additions, 0).label("additions"))
            .outerjoin(additions, additions.c.report_id == r.id)
            .where(r.form_code.like("tip.%"))
            .order_by(r.submitted_at.desc())
            .limit(limit)
        )
        found = []
        for row in rows:
            values = dict(row._mapping)
            count = int(values.pop("additions"))
            values["state"] = ReportState(values["state"])
            found.append((Report(**values), count))
        return found

    def add_export(self, record: ExportRecord) -> None:
        self._conn.execute(insert(t.report_exports).values(**vars(record)))

    def exports(self, report_id: str) -> list[ExportRecord]:
        c = t.report_exports.c
        rows = self._conn.execute(
            select(t.report_exports)
            .where(c.report_id == report_id)
            .order_by(c.exported_at.desc(), c.id)
        )
        return [ExportRecord(**dict(row._mapping)) for row in rows]
