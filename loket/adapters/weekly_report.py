"""The weekly report of one desk for its municipality, as a PDF in the language asked for.

The figures are those of the supervisor's dashboard (services/figures.py) for the seven
days of an ISO week; the report holds no personal data, and no comments (a citizen may
have written something that identifies them, and the report leaves the police).
"""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from loket.adapters.signing.render import BOLD, REGULAR, register_fonts
from loket.domain.catalogue import CATALOGUE
from loket.domain.errors import Invalid
from loket.domain.figures import (
    CHANNEL_NAMES,
    OUTCOME_NAMES,
    Summary,
    minutes_text,
    percent_text,
)
from loket.domain.locations import Location
from loket.services.figures import Figures
from loket.web.i18n import gettext_for

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")

SERVICE_TITLES = {service.code: service.title for service in CATALOGUE}


def parse_week(raw: str) -> tuple[date, date]:
    """Monday and Sunday of an ISO week written as 2027-W02; Invalid otherwise."""
    found = _WEEK.match(raw.strip())
    if found is None:
        raise Invalid("figures.invalid_week", field="week")
    try:
        monday = date.fromisocalendar(int(found.group(1)), int(found.group(2)), 1)
    except ValueError:
        raise Invalid("figures.invalid_week", field="week") from None
    return monday, monday + timedelta(days=6)


def render_weekly(figures: Figures, location: Location, week: str, language: str) -> bytes:
    """The PDF: key figures, contacts per day, by service and channel, outcomes, satisfaction."""
    register_fonts()
    _ = gettext_for(language).gettext
    styles = {
        "title": ParagraphStyle("title", fontName=BOLD, fontSize=16, leading=20),
        "h2": ParagraphStyle("h2", fontName=BOLD, fontSize=12, leading=16, spaceBefore=8),
        "body": ParagraphStyle("body", fontName=REGULAR, fontSize=9.5, leading=12.5),
    }
    buffer = io.BytesIO()
    title = _("Weekly figures of the police desk")
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"{title} {location.name} {week}",
        author="Loket",
        lang=language,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
    )
    total = figures.total
    slot = figures.headline_slot
    satisfaction = figures.satisfaction
    mean = satisfaction.mean(slot)
    story = [
        Paragraph(title, styles["title"]),
        Paragraph(
            _("%(desk)s, %(municipality)s · week %(week)s (%(first)s to %(last)s)")
            % {
                "desk": location.name,
                "municipality": location.municipality,
                "week": week,
                "first": figures.start.isoformat(),
                "last": figures.end.isoformat(),
            },
            styles["body"],
        ),
        Spacer(1, 4 * mm),
        _table(
            [
                [_("Contacts"), str(total.contacts)],
                [_("Of which sent online without an officer"), str(total.self_service)],
                [
                    _("Waiting time p50 / p90 (min)"),
                    f"{minutes_text(total.wait_p50)} / {minutes_text(total.wait_p90)}",
                ],
                [_("Handling time (min)"), minutes_text(total.handling_mean)],
                [
                    _("Service level (%(minutes)s min)") % {"minutes": total.level.target_minutes},
                    percent_text(total.level.share),
                ],
                [_("No-shows"), str(total.no_shows)],
                [_("Gave up before being called"), str(total.gave_up)],
                [
                    _("Satisfaction (1–5)"),
                    "–" if mean is None else f"{mean:.1f} ({satisfaction.responses})",
                ],
            ],
            header=False,
        ),
        Paragraph(_("Contacts per day"), styles["h2"]),
        _day_chart(figures),
        Paragraph(_("By service"), styles["h2"]),
        _groups(
            _,
            _("Service"),
            [
                (_(SERVICE_TITLES.get(g.service_code or "", g.service_code or "")), g.summary)
                for g in figures.by_service
            ],
        ),
        Paragraph(_("By channel"), styles["h2"]),
        _groups(
            _,
            _("Channel"),
            [
                (_(CHANNEL_NAMES.get(g.channel or "", g.channel or "")), g.summary)
                for g in figures.by_channel
            ],
        ),
        Paragraph(_("Outcomes"), styles["h2"]),
        _table(
            [[_("Outcome"), _("Contacts")]]
            + [[_(label), str(total.outcomes[key])] for key, label in OUTCOME_NAMES.items()]
        ),
        Spacer(1, 4 * mm),
        Paragraph(
            _(
                "Waiting times are read from buckets of 30 seconds to a few minutes wide; "
                "a percentile is accurate to within its bucket. The survey is anonymous."
            ),
            styles["body"],
        ),
    ]
    document.build(story)
    return buffer.getvalue()


def _groups(translate: object, heading: str, rows: list[tuple[str, Summary]]) -> Table:
    _ = translate  # the caller's gettext
    header = [heading, _("Contacts"), _("Wait p50 (min)"), _("Service level")]  # type: ignore[operator]
    body = [
        [label, str(s.contacts), minutes_text(s.wait_p50), percent_text(s.level.share)]
        for label, s in rows
    ]
    return _table([header, *body])


def _table(rows: list[list[str]], header: bool = True) -> Table:
    table = Table(rows, hAlign="LEFT")
    style = [
        ("FONTNAME", (0, 0), (-1, -1), REGULAR),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
    ]
    if header:
        style.append(("FONTNAME", (0, 0), (-1, 0), BOLD))
    table.setStyle(TableStyle(style))
    return table


def _day_chart(figures: Figures) -> Drawing:
    drawing = Drawing(170 * mm, 50 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y = 10 * mm, 8 * mm
    chart.width, chart.height = 150 * mm, 38 * mm
    chart.data = [[s.contacts for _, s in figures.by_day]]
    chart.categoryAxis.categoryNames = [day.strftime("%d-%m") for day, _ in figures.by_day]
    chart.categoryAxis.labels.fontName = REGULAR
    chart.valueAxis.labels.fontName = REGULAR
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.HexColor("#154273")
    drawing.add(chart)
    return drawing
