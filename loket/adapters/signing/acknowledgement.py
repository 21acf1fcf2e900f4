"""The acknowledgement (ontvangstbevestiging) as a PDF in the citizen's language.

It is laid out with the statement's fonts and styles (one look, every language of the desk,
Arabic shaped) but not signed: it is the citizen's receipt, not evidence. The signed statement
the police keep is the evidence; the reference ties the two together, and anyone in doubt asks
the police to confirm the reference.
"""

from __future__ import annotations

import io
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from loket.adapters.signing.render import (
    _TEXT_WIDTH,
    DEFAULT_FONT_DIR,
    _Part,
    _styles,
    a4_document,
    register_fonts,
)
from loket.domain.handover import VICTIM_RIGHTS, VICTIM_SUPPORT, Acknowledgement
from loket.web.i18n import RIGHT_TO_LEFT, gettext_for


class _AcknowledgementPart(_Part):
    """The statement's writer (escaping, right-to-left) used for one acknowledgement."""

    def __init__(self, acknowledgement: Acknowledgement) -> None:
        # _Part wants a statement only for its own facts table, which is not drawn here.
        self.acknowledgement = acknowledgement
        self.language = acknowledgement.language
        self.right_to_left = self.language in RIGHT_TO_LEFT
        self.styles = _styles(self.right_to_left)
        self._ = gettext_for(self.language).gettext

    def story(self) -> list[Flowable]:
        _ = self._
        s = self.styles
        ack = self.acknowledgement
        zone = ZoneInfo(ack.time_zone)
        when = format_datetime(ack.reported_at, "long", tzinfo=zone, locale=self.language)
        story: list[Flowable] = []
        story += self.paragraphs(_("Acknowledgement of your report"), s.title, _TEXT_WIDTH)
        story += self.paragraphs(
            _("The police received your report. Keep this acknowledgement."), s.body, _TEXT_WIDTH
        )
        story.append(Spacer(1, 4 * mm))
        rows = [
            self.row(_("Case reference"), ack.reference),
            self.row(_("Type of report"), ack.offence),
            self.row(_("Reported on"), when),
            self.row(_("Reported at"), ack.desk),
        ]
        rows += [self.row(element.label, element.text or "-") for element in ack.elements]
        story.append(self.table(rows))
        story += self.paragraphs(_("Your rights as a victim"), s.heading, _TEXT_WIDTH)
        story += self.paragraphs(
            _(
                "Under European Union Directive 2012/29/EU on the rights of victims of crime you"
                " have, among others, these rights:"
            ),
            s.body,
            _TEXT_WIDTH,
        )
        for right in VICTIM_RIGHTS:
            story += self.paragraphs(_(right.heading), s.question, _TEXT_WIDTH)
            story += self.paragraphs(_(right.text), s.answer, _TEXT_WIDTH)
        support = VICTIM_SUPPORT.get(ack.country)
        if support is not None:
            story += self.paragraphs(_(support), s.answer, _TEXT_WIDTH)
        story.append(Spacer(1, 4 * mm))
        story += self.paragraphs(
            _(
                "In an emergency call 112. For the police without urgency:"
                " 0900-8844 (NL), 101 (BE)."
            ),
            s.note,
            _TEXT_WIDTH,
        )
        return story


class ReportLabAcknowledgements:
    """Renders acknowledgements; implements services.ports.AcknowledgementRenderer."""

    def __init__(self, font_dir: Path = DEFAULT_FONT_DIR) -> None:
        self.font_dir = font_dir

    def render(self, acknowledgement: Acknowledgement) -> bytes:
        register_fonts(self.font_dir)
        buffer = io.BytesIO()
        document = a4_document(buffer, acknowledgement.reference, acknowledgement.language)
        document.build(_AcknowledgementPart(acknowledgement).story())
        return buffer.getvalue()
