"""Delivery of the outbox by SMTP: every notification is written first, then sent, with retries.

A citizen's join link or acknowledgement must not be lost because the mail server was down
for a minute, so nothing is sent from inside a request. `OutboxNotifier` writes the message
(rendered, in the recipient's language) to the `notifications` table; `MailDelivery` sends
what is due. A node claims a message for a short time before sending it, so two nodes never
send it at once; a node that dies after the server accepted a message but before marking it
sent lets it go out again once the claim ends (at least once, never silently dropped).
A temporary failure (server down, 4xx) is tried again later, backing off; a permanent refusal
(5xx, such as an unknown recipient) or too many failures marks it failed, logged for the
operators.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import ColumnElement, Engine, or_, select, update

from loket.adapters.db import schema as t
from loket.services.ports import Clock

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
MAX_ATTEMPTS = 10  # 30 s, 1, 2, 4 … minutes: about eight hours of trying in all
CLAIM = timedelta(minutes=2)  # well above SMTP's own time-out of 10 s per step
BATCH = 20


class MailTransport(Protocol):
    def deliver(self, recipient: str, language: str, subject: str, body: str) -> None:
        """Send one message now; raises OSError or smtplib.SMTPException on failure."""


@dataclass(frozen=True)
class _Claimed:
    id: int
    recipient: str
    language: str
    subject: str
    body: str
    attempts: int


@dataclass(frozen=True)
class DeliveryRound:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


class MailDelivery:
    def __init__(self, engine: Engine, clock: Clock, transport: MailTransport) -> None:
        self._engine = engine
        self._clock = clock
        self._transport = transport

    def run_once(self, limit: int = BATCH) -> DeliveryRound:
        """Send what is due now, oldest first; a message another node holds is left alone."""
        sent = retrying = failed = 0
        for notification_id in self._due(limit):
            row = self._claim(notification_id)
            if row is None:
                continue
            try:
                self._transport.deliver(row.recipient, row.language, row.subject, row.body)
            except (OSError, smtplib.SMTPException) as error:
                if self._record_failure(row.id, row.attempts + 1, error):
                    failed += 1
                else:
                    retrying += 1
                continue
            self._release(row.id, {"sent_at": self._clock.now()})
            sent += 1
        return DeliveryRound(sent, retrying, failed)

    def _due(self, limit: int) -> list[int]:
        c = t.notifications.c
        now = self._clock.now()
        query = (
            select(c.id)
            .where(c.sent_at.is_(None), c.failed_at.is_(None), _free(now))
            .where(or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now))
            .order_by(c.id)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [row.id for row in conn.execute(query)]

    def _claim(self, notification_id: int) -> _Claimed | None:
        c = t.notifications.c
        now = self._clock.now()
        with self._engine.begin() as conn:
            claimed = conn.execute(
                update(t.notifications)
                .where(c.id == notification_id, c.sent_at.is_(None), c.failed_at.is_(None))
                .where(_free(now))
                .values(claimed_until=now + CLAIM)
            )
            if claimed.rowcount != 1:
                return None  # another node took it, or it was sent meanwhile
            row = conn.execute(
                select(c.id, c.recipient, c.language, c.subject, c.body, c.attempts).where(
                    c.id == notification_id
                )
            ).one()
            return _Claimed(*row)

    def _record_failure(self, notification_id: int, attempts: int, error: Exception) -> bool:
        """Count the failure; True when it is final."""
        now = self._clock.now()
        reason = f"{type(error).__name__}: {error}"[:300]
        final = _permanent(error) or attempts >= MAX_ATTEMPTS
        values: dict[str, object] = {"attempts": attempts, "last_error": reason}
        if final:
            values["failed_at"] = now
            log.error("notification %s not delivered, giving up: %s", notification_id, reason)
        else:
            wait = min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_WAIT)
            values["next_attempt_at"] = now + wait
            log.warning(
                "notification %s not delivered (try %s): %s", notification_id, attempts, reason
            )
        self._release(notification_id, values)
        return final

    def _release(self, notification_id: int, values: dict[str, object]) -> None:
        """Record the outcome of a try and give up the claim."""
        with self._engine.begin() as conn:
            conn.execute(
                update(t.notifications)
                .where(t.notifications.c.id == notification_id)
                .values(claimed_until=None, **values)
            )

    def pending(self) -> int:
        """Messages neither sent nor given up on (for /readyz-style checks and the tests)."""
        c = t.notifications.c
        with self._engine.connect() as conn:
            query = select(c.id).where(c.sent_at.is_(None), c.failed_at.is_(None))
            return len(conn.execute(query).all())


def _free(now: datetime) -> ColumnElement[bool]:
    c = t.notifications.c
    return or_(c.claimed_until.is_(None), c.claimed_until < now)


def _permanent(error: Exception) -> bool:
    """A refusal that will not change by trying again: the server's 5xx answers."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500
