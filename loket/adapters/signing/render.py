"""The statement as a PDF: the Dutch proces-verbaal, then the same text in the citizen's language.

One document holds both parts, so one signature and one hash cover what the citizen read and
what the police keep; the translated part says that the Dutch text is the authoritative one.
Everything the citizen typed is escaped before it reaches ReportLab's paragraph markup, so
"<b>" or "<script>" appears on paper exactly as typed. Arabic is shaped (arabic-reshaper) and
put in visual order line by line (python-bidi), since ReportLab lays out glyphs left to right.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import arabic_reshaper
from babel import Locale
from babel.dates import format_datetime
from bidi import get_display
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.paraparser import ParaFrag, ParaParser

from loket.domain.catalogue import IdentificationLevel, service_by_code
from loket.domain.errors import NotFound
from loket.domain.i18n import N_
from loket.domain.statements import Statement, StatementText, check_signature_png
from loket.web.i18n import RIGHT_TO_LEFT, gettext_for

# Debian's fonts-dejavu-core: one family with Latin (incl. Turkish and Polish), Cyrillic and
# Arabic with its presentation forms, so every language of the desk prints from one font.
DEFAULT_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
REGULAR = "LoketSans"
BOLD = "LoketSans-Bold"
MONO = "LoketMono"
_FONT_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf", MONO: "DejaVuSansMono.ttf"}
_fonts_lock = threading.Lock()
_fonts_registered: set[str] = set()

# Arabic letters, including presentation forms; text with any of them is shaped and reordered.
_RTL_CHARACTERS = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
_PAGE_WIDTH, _PAGE_HEIGHT = A4
_MARGIN = 20 * mm
_TEXT_WIDTH = _PAGE_WIDTH - 2 * _MARGIN
_LABEL_WIDTH = 50 * mm
_INDENT = 6 * mm
_SIGNATURE_BOX = (70 * mm, 28 * mm)

IDENTIFICATION_LABELS = {
    IdentificationLevel.ANONYMOUS: N_("Anonymous"),
    IdentificationLevel.SELF_DECLARED: N_("Identity declared by the citizen, not verified"),
    IdentificationLevel.VERIFIED_ONLINE: N_("Identity verified online (DigiD, itsme or eID)"),
    IdentificationLevel.VERIFIED_BY_OFFICER: N_("Identity verified by an officer on camera"),
}


class FontMissing(RuntimeError):
    """The statement font is not installed (Debian: apt-get install fonts-dejavu-core)."""


def register_fonts(font_dir: Path = DEFAULT_FONT_DIR) -> None:
    """Make the statement font known to ReportLab, once per process."""
    with _fonts_lock:
        for name, filename in _FONT_FILES.items():
            if name in _fonts_registered:
                continue
            path = font_dir / filename
            if not path.is_file():
                raise FontMissing(f"{path} not found: install fonts-dejavu-core")
            pdfmetrics.registerFont(TTFont(name, str(path)))
            _fonts_registered.add(name)


def plain_paragraph(text: str, style: ParagraphStyle) -> Paragraph:
    """`text` as a paragraph, taken literally: no markup, line breaks kept.

    The same PDF as escaping the text into Paragraph markup, without running ReportLab's
    markup parser over every answer: that parser was a fifth of a statement's rendering.
    """
    template = _frag_template(style)
    frags: list[ParaFrag] = []
    for number, line in enumerate(text.split("\n")):
        if number:
            frags.append(template.clone(__tag__="br", lineBreak=True, text=""))
        if line:
            frags.append(template.clone(text=line))
    return Paragraph(escape(text), style, frags=frags or [template.clone(text="")])


def _frag_template(style: ParagraphStyle) -> ParaFrag:
    """The fragment the markup parser starts a paragraph of `style` with."""
    _style, frags, _bullet = ParaParser().parse("x", style)
    return frags[0]


@dataclass(frozen=True)
class _Styles:
    title: ParagraphStyle
    heading: ParagraphStyle
    body: ParagraphStyle
    label: ParagraphStyle
    note: ParagraphStyle
    digest: ParagraphStyle
    question: ParagraphStyle
    answer: ParagraphStyle


def _styles(right_to_left: bool) -> _Styles:
    alignment = TA_RIGHT if right_to_left else TA_LEFT
    body = ParagraphStyle("body", fontName=REGULAR, fontSize=10, leading=14, alignment=alignment)
    return _Styles(
        title=ParagraphStyle("title", body, fontName=BOLD, fontSize=16, leading=20, spaceAfter=4),
        heading=ParagraphStyle(
            "heading", body, fontName=BOLD, fontSize=12, leading=16, spaceBefore=10, spaceAfter=4
        ),
        body=body,
        label=ParagraphStyle("label", body, fontName=BOLD),
        note=ParagraphStyle("note", body, fontSize=8, leading=11, textColor=colors.dimgrey),
        digest=ParagraphStyle("digest", body, fontName=MONO, fontSize=7.5, leading=11),
        question=ParagraphStyle("question", body, fontName=BOLD, spaceBefore=6),
        answer=ParagraphStyle(
            "answer",
            body,
            leftIndent=0 if right_to_left else _INDENT,
            rightIndent=_INDENT if right_to_left else 0,
        ),
    )


class _Part:
    """Writes one language's part: labels through that language's catalog, text escaped."""

    def __init__(self, statement: Statement, text: StatementText) -> None:
        self.statement = statement
        self.text = text
        self.language = text.language
        self.right_to_left = text.language in RIGHT_TO_LEFT
        self.styles = _styles(self.right_to_left)
        self._ = gettext_for(text.language).gettext

    def paragraphs(self, text: str, style: ParagraphStyle, width: float) -> list[Flowable]:
        """`text` as paragraphs of `style`, escaped; right-to-left text shaped line by line."""
        if not _RTL_CHARACTERS.search(text):
            return [plain_paragraph(text, style)]
        base = "R" if self.right_to_left else "L"
        lines: list[Flowable] = []
        for logical in text.split("\n"):
            shaped = arabic_reshaper.reshape(logical)
            # Wrap in reading order first, then reorder each line for display: reordering
            # the whole paragraph would put its last words on the first line.
            wrapped = simpleSplit(shaped, style.fontName, style.fontSize, width) or [""]
            lines.extend(
                Paragraph(escape(get_display(line, base_dir=base)), style) for line in wrapped
            )
        return lines

    def cell(self, text: str, style: ParagraphStyle, width: float) -> list[Flowable]:
        return self.paragraphs(text, style, width - 8)

    def row(self, label: str, value: str | list[Flowable]) -> list[list[Flowable]]:
        value_width = _TEXT_WIDTH - _LABEL_WIDTH
        cells = [
            self.cell(label, self.styles.label, _LABEL_WIDTH),
            value if isinstance(value, list) else self.cell(value, self.styles.body, value_width),
        ]
        return cells[::-1] if self.right_to_left else cells

    def table(self, rows: list[list[list[Flowable]]]) -> Table:
        widths = [_LABEL_WIDTH, _TEXT_WIDTH - _LABEL_WIDTH]
        table = Table(rows, colWidths=widths[::-1] if self.right_to_left else widths)
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
                    ("TOPPADDING", (0, 0), (-1, -1), 3),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ]
            )
        )
        return table

    def flowables(self, *, translated: bool) -> list[Flowable]:
        _ = self._
        s = self.styles
        story: list[Flowable] = []
        story += self.paragraphs(
            _("Statement of report (proces-verbaal van aangifte)"), s.title, _TEXT_WIDTH
        )
        if translated:
            language = Locale.parse(self.language).get_display_name(self.language) or self.language
            story += self.paragraphs(
                _("Translation into %(language)s. The Dutch text is the authoritative statement.")
                % {"language": language},
                s.note,
                _TEXT_WIDTH,
            )
        story.append(Spacer(1, 4 * mm))
        story.append(self.table(self._facts()))
        story += self.paragraphs(_("What the citizen declared"), s.heading, _TEXT_WIDTH)
        # Question above answer rather than a table: answers run to pages of free text, and
        # a table re-measures every cell each time it is laid out or split over a page.
        for answer in self.text.answers:
            story += self.paragraphs(answer.label, s.question, _TEXT_WIDTH)
            story += self.paragraphs(answer.text or "-", s.answer, _TEXT_WIDTH - _INDENT)
        # The heading stays with the signature it announces, never alone at a page's foot.
        heading = self.paragraphs(_("Confirmation"), s.heading, _TEXT_WIDTH)
        story.append(KeepTogether([*heading, *self._confirmation()]))
        return story

    def _facts(self) -> list[list[list[Flowable]]]:
        _ = self._
        statement = self.statement
        zone = ZoneInfo(statement.place.time_zone)
        when = format_datetime(statement.made_at, "long", tzinfo=zone, locale=self.language)
        place = ", ".join(p for p in (statement.place.name, statement.place.municipality) if p)
        officer = (
            _("%(name)s (staff number %(number)s)")
            % {"name": statement.officer.name, "number": statement.officer.staff_id}
            if statement.officer
            else _("None: made without an officer")
        )
        rows = [
            self.row(_("Case reference"), statement.case_reference),
            self.row(_("Type of report"), _(self._report_title())),
            self.row(_("Date and time"), when),
            self.row(_("Place"), place),
            self.row(_("Officer"), officer),
            self.row(_("Identification"), _(IDENTIFICATION_LABELS[statement.identification])),
            self.row(_("Version"), str(statement.version)),
        ]
        if statement.previous_sha256:
            # The hash on one line in a fixed-width font, to be compared or copied whole.
            replaced = self.cell(
                _("Version %(version)s, document SHA-256:") % {"version": statement.version - 1},
                self.styles.body,
                _TEXT_WIDTH - _LABEL_WIDTH,
            )
            digest = Paragraph(statement.previous_sha256, self.styles.digest)
            rows.append(self.row(_("Corrects"), [*replaced, digest]))
        return rows

    def _report_title(self) -> str:
        try:
            return service_by_code(self.statement.report_type).title
        except NotFound:
            return self.statement.report_type

    def _confirmation(self) -> list[Flowable]:
        _ = self._
        s = self.styles
        confirmation = self.statement.confirmation
        if confirmation.typed_name is not None:
            return [
                *self.paragraphs(
                    _(
                        "The citizen read this statement, declared it true and typed their full"
                        " name instead of drawing a signature:"
                    ),
                    s.body,
                    _TEXT_WIDTH,
                ),
                *self.paragraphs(confirmation.typed_name, s.body, _TEXT_WIDTH),
            ]
        if confirmation.signature_png is None:
            return [
                *self.paragraphs(
                    _("The citizen confirmed this statement with their verified identity:"),
                    s.body,
                    _TEXT_WIDTH,
                ),
                *self.paragraphs(confirmation.verified_identity or "", s.body, _TEXT_WIDTH),
            ]
        width, height = check_signature_png(confirmation.signature_png)
        scale = min(_SIGNATURE_BOX[0] / width, _SIGNATURE_BOX[1] / height)
        image = Image(
            io.BytesIO(confirmation.signature_png), width=width * scale, height=height * scale
        )
        image.hAlign = "RIGHT" if self.right_to_left else "LEFT"
        return [
            *self.paragraphs(
                _("The citizen read this statement, persisted in it and signed it:"),
                s.body,
                _TEXT_WIDTH,
            ),
            Spacer(1, 2 * mm),
            image,
        ]


def _footer(statement: Statement) -> Callable[[Canvas, SimpleDocTemplate], None]:
    # The footer is the same in both parts: a case reference, version and page number need
    # no translation to be found again.
    line = f"{statement.case_reference} · v{statement.version}"

    def draw(canvas: Canvas, document: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, 8)
        canvas.setFillColor(colors.dimgrey)
        canvas.drawString(_MARGIN, 10 * mm, line)
        canvas.drawRightString(_PAGE_WIDTH - _MARGIN, 10 * mm, str(canvas.getPageNumber()))
        canvas.restoreState()

    return draw


def a4_document(buffer: io.BytesIO, title: str, language: str) -> SimpleDocTemplate:
    """An A4 document with the statement's margins and metadata."""
    return SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN,
        title=title,
        author="Loket",
        creator="Loket",
        lang=language,
        # The same document renders to the same bytes: no time stamp or random file id.
        invariant=True,
    )


class ReportLabRenderer:
    """Renders statements with ReportLab; implements services.ports.StatementRenderer."""

    def __init__(self, font_dir: Path = DEFAULT_FONT_DIR) -> None:
        self.font_dir = font_dir

    def render(self, statement: Statement) -> bytes:
        register_fonts(self.font_dir)
        buffer = io.BytesIO()
        title = f"{statement.case_reference} v{statement.version}"
        document = a4_document(buffer, title, statement.dutch.language)
        story = _Part(statement, statement.dutch).flowables(translated=False)
        if statement.translation is not None:
            story.append(PageBreak())
            story += _Part(statement, statement.translation).flowables(translated=True)
        footer = _footer(statement)
        document.build(story, onFirstPage=footer, onLaterPages=footer)
        return buffer.getvalue()
