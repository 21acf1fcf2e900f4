"""Notifiers: how a citizen is told something outside the site (the outbox table, SMTP)."""

from __future__ import annotations

from loket.services.ports import Notification
from loket.web.i18n import gettext_for


def render(message: Notification) -> tuple[str, str]:
    """Subject and body in the recipient's language, parameters filled in."""
    translate = gettext_for(message.language).gettext
    params = dict(message.params)
    return translate(message.subject) % params, translate(message.body) % params
