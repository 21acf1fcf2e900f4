"""E-mail over SMTP (smtplib), used when LOKET_SMTP_HOST is set."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from loket.adapters.notify import render
from loket.services.ports import Notification

# An SMTP server that does not answer within this time is down; the sweeper must go on.
TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    sender: str = "loket@localhost"
    username: str | None = None
    password: str | None = None
    # "starttls" (port 587), "tls" (implicit, port 465) or "none" (a relay on loopback).
    security: str = "starttls"


class SmtpNotifier:
    def __init__(self, settings: SmtpSettings) -> None:
        if settings.security not in ("starttls", "tls", "none"):
            raise ValueError("LOKET_SMTP_SECURITY must be starttls, tls or none")
        self._settings = settings

    def send(self, message: Notification) -> None:
        subject, body = render(message)
        self.deliver(message.to, message.language, subject, body)

    def deliver(self, recipient: str, language: str, subject: str, body: str) -> None:
        """Send one rendered message now; raises OSError or smtplib.SMTPException."""
        mail = EmailMessage()
        mail["From"] = self._settings.sender
        mail["To"] = recipient
        mail["Subject"] = subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain=self._settings.sender.rpartition("@")[2] or None)
        mail.set_content(body)
        # After set_content, which replaces every Content-* header.
        mail["Content-Language"] = language
        with self._connect() as client:
            if self._settings.username:
                client.login(self._settings.username, self._settings.password or "")
            client.send_message(mail)

    def _connect(self) -> smtplib.SMTP:
        settings = self._settings
        context = ssl.create_default_context()
        if settings.security == "tls":
            return smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=TIMEOUT_SECONDS, context=context
            )
        client = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_SECONDS)
        if settings.security == "starttls":
            try:
                client.starttls(context=context)
            except BaseException:
                client.close()
                raise
        return client
