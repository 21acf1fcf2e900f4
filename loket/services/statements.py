"""Signing statements: render the PDF, sign it with the service's key, audit the signing."""

from __future__ import annotations

from dataclasses import dataclass

from loket.domain.audit import AuditAction, AuditRecord, DetailValue
from loket.domain.statements import SignedStatement, Statement
from loket.services.ports import Clock, StatementRenderer, StatementSigner, UnitOfWorkFactory


@dataclass(frozen=True)
class StatementContext:
    uow: UnitOfWorkFactory
    clock: Clock
    renderer: StatementRenderer
    signer: StatementSigner


def sign_statement(
    ctx: StatementContext,
    statement: Statement,
    *,
    actor: str,
    previous: SignedStatement | None = None,
) -> SignedStatement:
    """Render and sign a statement the citizen confirmed; the result never changes.

    `previous` is the signed version a correction replaces. `actor` names who had it signed
    ("staff:12", or "citizen" at a kiosk). Errors: statement.version_mismatch.
    Audited as AuditAction.SIGN with the document's hash (never its content).
    """
    statement.check_follows(previous)
    # Rendering and signing take tens of milliseconds of CPU: done before the transaction,
    # which then only appends the audit entry.
    signed = SignedStatement.of(statement, ctx.signer.sign(ctx.renderer.render(statement)))
    details: dict[str, DetailValue] = {
        "case": statement.case_reference,
        "version": statement.version,
        "sha256": signed.sha256,
        "previous_sha256": statement.previous_sha256,
        "languages": ",".join(statement.languages),
        "confirmation": statement.confirmation.kind,
        "identification": statement.identification.value,
    }
    with ctx.uow() as uow:
        uow.audit.record(
            AuditRecord(
                actor=actor,
                action=AuditAction.SIGN,
                subject_type="statement",
                subject_id=f"{statement.case_reference}/v{statement.version}",
                at=ctx.clock.now(),
                details=details,
                personal_data=True,
            )
        )
        uow.commit()
    return signed
