"""The outbox goes out by SMTP with retries: nothing lost when the mail server is down,
nothing sent twice when two nodes deliver at once (SQLite and PostgreSQL, real aiosmtpd)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from loket.adapters.db import schema as t
from loket.adapters.notify.delivery import FIRST_RETRY, MailDelivery
from loket.adapters.notify.outbox import OutboxNotifier
from loket.adapters.notify.smtp import SmtpNotifier, SmtpSettings
from loket.bootstrap import Container
from loket.services.ports import Notification
from tests.conftest import FakeClock
from tests.integration.test_smtp_notifier import Inbox, _free_port, join_link


class MailServer:
    """aiosmtpd on a fixed port that a test can stop and start, as an operator would."""

    def __init__(self, inbox: Inbox, port: int) -> None:
        self.inbox = inbox
        self.port = port
        self._controller: Any = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


class Refusing(Inbox):
    """A server that knows no one at unknown.example (a permanent 550)."""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.endswith("@unknown.example"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    server = MailServer(Refusing(), _free_port())
    yield server
    server.stop()


def delivery(container: Container, clock: FakeClock, server: MailServer) -> MailDelivery:
    transport = SmtpNotifier(SmtpSettings(host="127.0.0.1", port=server.port, security="none"))
    return MailDelivery(container.engine, clock, transport)


def outbox(container: Container) -> list[Any]:
    with container.engine.connect() as conn:
        return list(conn.execute(select(t.notifications).order_by(t.notifications.c.id)))


def to(address: str) -> Notification:
    message = join_link("nl")
    return Notification(
        kind=message.kind,
        to=address,
        language=message.language,
        subject=message.subject,
        body=message.body,
        params=message.params,
    )


def test_a_message_written_while_the_server_is_down_goes_out_once_it_is_back(
    container: Container, clock: FakeClock, mail_server: MailServer
) -> None:
    OutboxNotifier(container.engine, clock).send(join_link("en"))
    sender = delivery(container, clock, mail_server)

    first = sender.run_once()  # the server is not started yet
    assert (first.sent, first.retrying, first.failed) == (0, 1, 0)
    [row] = outbox(container)
    assert row.sent_at is None and row.attempts == 1 and row.failed_at is None
    assert row.next_attempt_at == clock.now() + FIRST_RETRY
    assert "ConnectionRefusedError" in row.last_error

    mail_server.start()
    assert sender.run_once().sent == 0  # not due yet: the back-off is kept
    clock.advance(seconds=FIRST_RETRY.total_seconds())
    assert sender.run_once().sent == 1
    assert sender.run_once().sent == 0  # sent once, never again
    [(_, recipients, mail)] = mail_server.inbox.received
    assert recipients == ["an@example.be"]
    assert mail["Subject"] == "Your video call with the police: TB-7K3Q2M"
    [row] = outbox(container)
    assert row.sent_at == clock.now() and row.claimed_until is None


def test_a_permanent_refusal_is_given_up_at_once_and_others_still_go(
    container: Container, clock: FakeClock, mail_server: MailServer
) -> None:
    notifier = OutboxNotifier(container.engine, clock)
    notifier.send(to("nobody@unknown.example"))
    notifier.send(to("an@example.be"))
    mail_server.start()
    result = delivery(container, clock, mail_server).run_once()
    assert (result.sent, result.retrying, result.failed) == (1, 0, 1)
    refused, delivered = outbox(container)
    assert refused.failed_at == clock.now() and refused.sent_at is None
    assert "550" in refused.last_error
    assert delivered.sent_at == clock.now()
    clock.advance(hours=2)
    assert delivery(container, clock, mail_server).run_once().failed == 0  # not retried


def test_two_nodes_delivering_at_once_send_each_message_exactly_once(
    container: Container, clock: FakeClock, mail_server: MailServer
) -> None:
    notifier = OutboxNotifier(container.engine, clock)
    addresses = [f"citizen{number}@example.be" for number in range(30)]
    for address in addresses:
        notifier.send(to(address))
    mail_server.start()
    nodes = [delivery(container, clock, mail_server) for _ in range(2)]
    start = threading.Barrier(len(nodes))
    errors: list[BaseException] = []

    def work(node: MailDelivery) -> None:
        try:
            start.wait()
            while node.run_once(limit=5).sent:
                pass
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(node,)) for node in nodes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    received = sorted(recipient for _, [recipient], _ in mail_server.inbox.received)
    assert received == sorted(addresses)
    assert all(row.sent_at is not None for row in outbox(container))
