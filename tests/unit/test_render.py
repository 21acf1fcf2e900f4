"""The statement renderer's plain paragraphs lay text out as escaped Paragraph markup would."""

from __future__ import annotations

from xml.sax.saxutils import escape

import pytest
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph

from loket.adapters.signing.render import REGULAR, plain_paragraph, register_fonts

TEXTS = [
    "",
    "-",
    "Op 12 januari 2027 tussen 17:00 en 18:30",
    "Ik zette mijn fiets neer <b>en</b> <script>alert(1)</script> & ging weg. " * 12,
    "  spaces before, between  and after  ",
    "two\nlines",
    "a gap\n\nbetween lines",
    "\nstarts with a break",
    "ends with a break\n",
    "Nee. " * 40,
    "ü é ł ž ç ğ ı — “quotes” ‘and’ € 850,-",
    "x" * 300,
]


def lines_of(paragraph: Paragraph, width: float) -> tuple[float, list[str]]:
    """The paragraph's height at `width` and the text of each line, spaces left out.

    ReportLab keeps lines as words or as fragments, depending on the markup; the spaces
    between words are drawn, not stored, in one of the two.
    """
    _width, height = paragraph.wrap(width, 10_000)
    lines = []
    for line in paragraph.blPara.lines:
        if isinstance(line, tuple):  # plain lines: (spare width, words)
            lines.append("".join(line[1]))
        else:  # lines of fragments
            lines.append("".join(getattr(word, "text", "") for word in line.words))
    return height, ["".join(line.split()) for line in lines]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("width", [120.0, 330.0])
def test_a_plain_paragraph_breaks_into_the_same_lines_as_escaped_markup(
    text: str, width: float
) -> None:
    register_fonts()
    style = ParagraphStyle("body", fontName=REGULAR, fontSize=10, leading=14)
    markup = Paragraph("<br/>".join(escape(line) for line in text.split("\n")), style)
    plain = plain_paragraph(text, style)
    assert lines_of(plain, width) == lines_of(markup, width)


def test_markup_in_a_plain_paragraph_stays_text() -> None:
    register_fonts()
    style = ParagraphStyle("body", fontName=REGULAR, fontSize=10, leading=14)
    paragraph = plain_paragraph("<b>bold?</b> & <i>", style)
    assert paragraph.getPlainText() == "<b>bold?</b> & <i>"
    assert {frag.fontName for frag in paragraph.frags} == {REGULAR}  # nothing turned bold
