"""The default notifier: notifications written to the `notifications` table (an outbox).

Nothing leaves the machine. A mail relay, an operator or the tests read the table.
"""

from __future__ import annotations

from sqlalchemy import Engine, insert, select

from loket.adapters.db import schema as t
from loket.adapters.notify import render
from loket.services.ports import Clock, Notification


class OutboxNotifier:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def send(self, message: Notification) -> None:
        subject, body = render(message)
        with self._engine.begin() as conn:
            conn.execute(
                insert(t.notifications).values(
                    kind=message.kind,
                    recipient=message.to,
                    language=message.language,
                    subject=subject,
                    body=body,
                    created_at=self._clock.now(),
                )
            )

    def written(self) -> list[dict[str, object]]:
        """Every notification in the outbox, oldest first (for operators and tests)."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(t.notifications).order_by(t.notifications.c.id))
            return [dict(row._mapping) for row in rows]
