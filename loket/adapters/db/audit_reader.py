"""Streaming the stored audit trail back as domain entries, for verification."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Engine, select

from loket.adapters.db import schema as t
from loket.domain.audit import AuditAction, AuditEntry, AuditRecord


def entries(engine: Engine, batch: int = 1000) -> Iterator[AuditEntry]:
    """Every entry in sequence order, read in batches so millions fit in constant memory."""
    last = 0
    while True:
        with engine.connect() as conn:
            rows = list(
                conn.execute(
                    select(t.audit_log)
                    .where(t.audit_log.c.sequence > last)
                    .order_by(t.audit_log.c.sequence)
                    .limit(batch)
                )
            )
        for row in rows:
            m = row._mapping
            yield AuditEntry(
                record=AuditRecord(
                    actor=m["actor"],
                    action=AuditAction(m["action"]),
                    subject_type=m["subject_type"],
                    subject_id=m["subject_id"],
                    at=m["at"],
                    details=m["details"],
                    personal_data=m["personal_data"],
                ),
                sequence=m["sequence"],
                previous_hash=m["previous_hash"],
                entry_hash=m["entry_hash"],
            )
            last = m["sequence"]
        if len(rows) < batch:
            return
