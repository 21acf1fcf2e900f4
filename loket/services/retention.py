"""Purging what is past its retention period, as one audited run (`loket retention run`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from loket.domain.audit import AuditAction, AuditRecord, DetailValue
from loket.domain.retention import Cutoffs, RetentionCounts, RetentionPolicy
from loket.services.ports import Clock, RetentionRepository, UnitOfWorkFactory
from loket.services.queue import retrying

SYSTEM = "system"
T = TypeVar("T")


@dataclass(frozen=True)
class RetentionContext:
    uow: UnitOfWorkFactory
    clock: Clock
    policy: RetentionPolicy = field(default_factory=RetentionPolicy)


def run_retention(ctx: RetentionContext, *, dry_run: bool = False) -> RetentionCounts:
    """Purge (or with `dry_run` only count) everything past its period; one audit entry.

    Each kind is purged in its own short transaction, so citizens' requests wait on none
    for long; a kind that meets a concurrent change is retried. Running twice purges
    nothing more the second time; two runs at once purge each row once.
    """
    now = ctx.clock.now()
    cutoffs = Cutoffs.at(now, ctx.policy)

    def step(purge: Callable[[RetentionRepository], T]) -> T:
        def attempt() -> T:
            with ctx.uow() as uow:
                result = purge(uow.retention)
                if dry_run:
                    uow.rollback()
                else:
                    uow.commit()
                return result

        return retrying(attempt)

    drafts, files = step(lambda r: r.purge_drafts(cutoffs, dry_run=dry_run))
    messages, documents = step(lambda r: r.purge_contact_exchange(cutoffs, dry_run=dry_run))
    counts = RetentionCounts(
        drafts=drafts,
        draft_files=files,
        resume_codes=step(lambda r: r.purge_resume_codes(cutoffs, dry_run=dry_run)),
        acknowledgement_codes=step(
            lambda r: r.purge_acknowledgement_codes(cutoffs, dry_run=dry_run)
        ),
        tip_access_codes=step(lambda r: r.purge_tip_access(cutoffs, dry_run=dry_run)),
        tip_follow_ups=step(lambda r: r.purge_tip_follow_ups(cutoffs, dry_run=dry_run)),
        status_codes=step(lambda r: r.purge_status_codes(cutoffs, dry_run=dry_run)),
        contact_messages=messages,
        contact_documents=documents,
        notifications=step(lambda r: r.purge_notifications(cutoffs, dry_run=dry_run)),
    )
    details: dict[str, DetailValue] = {"dry_run": dry_run, **counts.as_dict()}
    with ctx.uow() as uow:
        uow.audit.record(
            AuditRecord(
                actor=SYSTEM,
                action=AuditAction.PURGE,
                subject_type="retention",
                subject_id=now.isoformat(timespec="seconds"),
                at=now,
                details=details,
                personal_data=False,
            )
        )
        uow.commit()
    return counts
