"""The SMTP notifier against a real SMTP server (aiosmtpd) on a free local port."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest

from loket.adapters.notify.smtp import SmtpNotifier, SmtpSettings
from loket.config import Settings
from loket.services.callbacks import VIDEO_BODY, VIDEO_SUBJECT
from loket.services.ports import Notification


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        self.received.append(
            (envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(content))
        )
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def join_link(language: str) -> Notification:
    return Notification(
        kind="callback.video_link",
        to="an@example.be",
        language=language,
        subject=VIDEO_SUBJECT,
        body=VIDEO_BODY,
        params={"reference": "TB-7K3Q2M", "link": "http://127.0.0.1:8000/t/abc?lang=en"},
    )


def test_a_join_link_goes_out_as_an_e_mail_over_smtp(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    notifier = SmtpNotifier(
        SmtpSettings(host="127.0.0.1", port=port, sender="loket@politie.example", security="none")
    )
    notifier.send(join_link("en"))
    [(sender, recipients, mail)] = inbox.received
    assert sender == "loket@politie.example"
    assert recipients == ["an@example.be"]
    assert mail["Subject"] == "Your video call with the police: TB-7K3Q2M"
    assert mail["Content-Language"] == "en"
    body = mail.get_payload(decode=True).decode()
    assert "http://127.0.0.1:8000/t/abc?lang=en" in body


def test_a_server_that_is_down_makes_sending_fail_loudly() -> None:
    notifier = SmtpNotifier(SmtpSettings(host="127.0.0.1", port=_free_port(), security="none"))
    with pytest.raises(OSError):
        notifier.send(join_link("nl"))


def test_with_a_host_configured_the_outbox_is_delivered_by_smtp(tmp_path: Any) -> None:
    from loket.adapters.notify.delivery import MailDelivery
    from loket.adapters.notify.outbox import OutboxNotifier
    from loket.bootstrap import build

    settings = Settings.from_env(
        {"LOKET_SMTP_HOST": "127.0.0.1", "LOKET_SMTP_PORT": "2525", "LOKET_SMTP_SECURITY": "none"},
        data_dir=tmp_path,
    )
    container = build(settings)
    try:
        # Written first, sent after: a mail server that is down loses nothing.
        assert isinstance(container.callbacks.notifier, OutboxNotifier)
        assert isinstance(container.mail_delivery, MailDelivery)
    finally:
        container.dispose()
