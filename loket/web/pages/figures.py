"""The supervisor's figures: charts (server-rendered SVG with a table each), a live "today"
view, and the same figures as CSV or Parquet.

The charts are drawn here as plain shapes and text, so the page needs no script or style
from elsewhere; figures.js only fetches the "today" part again every half minute.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from loket.domain.audit import AuditAction, AuditRecord
from loket.domain.errors import DomainError, Invalid
from loket.domain.figures import (
    CHANNEL_NAMES,
    OUTCOME_NAMES,
    TARGET_MINUTES,
    Summary,
    minutes_text,
    percent_text,
)
from loket.domain.i18n import N_
from loket.domain.staff import Role, StaffMember
from loket.services import figures as figure_service
from loket.web.deps import ContainerDep
from loket.web.i18n import gettext_for
from loket.web.pages import render
from loket.web.pages.officer import SERVICE_TITLES
from loket.web.pages.staff_auth import require_staff, staff_csrf, staff_language
from loket.web.problems import MESSAGES

router = APIRouter(include_in_schema=False)

SupervisorMember = Annotated[StaffMember, require_staff(Role.SUPERVISOR)]
DEFAULT_DAYS = 28
LIVE_REFRESH_SECONDS = 30

# Columns of the exports, in order: one row per desk, service and channel.
EXPORT_COLUMNS = (
    "first_day", "last_day", "location_code", "location", "service", "channel", "contacts",
    "self_service", "called", "finished", "no_shows", "gave_up", "outcome_listened",
    "outcome_informed", "outcome_referred", "outcome_mediated", "outcome_report_taken",
    "wait_mean_seconds", "wait_p50_seconds", "wait_p90_seconds", "handling_mean_seconds",
    "target_minutes", "level_met", "level_counted", "survey_responses", "satisfaction_mean",
)  # fmt: skip


# -- the filter ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    start: date
    end: date
    location_id: int | None
    target: int
    location_slug: str

    def query(self, **changes: Any) -> str:
        values = {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "location": self.location_slug,
            "target": str(self.target),
        } | {k: str(v) for k, v in changes.items()}
        return "&".join(f"{k}={v}" for k, v in values.items() if v)


def read_filter(request: Request, container: ContainerDep) -> tuple[Filter, DomainError | None]:
    """The filter from the query string; a bad value falls back to the default and says so."""
    ctx = container.figures
    today = ctx.today()
    params = request.query_params
    error: DomainError | None = None
    start, end = today - timedelta(days=DEFAULT_DAYS - 1), today
    try:
        if params.get("start"):
            start = _date(params["start"], "start")
        if params.get("end"):
            end = _date(params["end"], "end")
        figure_service.check_range(start, end)
    except DomainError as refused:
        error, start, end = refused, today - timedelta(days=DEFAULT_DAYS - 1), today
    target = ctx.default_target_minutes
    raw_target = params.get("target", "")
    if raw_target:
        if raw_target.isdigit() and int(raw_target) in TARGET_MINUTES:
            target = int(raw_target)
        elif error is None:
            error = Invalid("figures.invalid_target", field="target")
    slug = params.get("location", "")
    location_id = None
    if slug:
        with ctx.uow(read_only=True) as uow:
            found = [loc for loc in uow.locations.list() if loc.slug == slug]
        if found:
            location_id = found[0].id
        else:
            slug = ""
    return Filter(start, end, location_id, target, slug), error


def _date(raw: str, field: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid("figures.invalid_date", field=field) from None


# -- routes ----------------------------------------------------------------------------------


@router.get("/supervisor/figures", response_class=HTMLResponse)
async def figures_page(
    request: Request, member: SupervisorMember, container: ContainerDep
) -> Response:
    return await run_in_threadpool(_figures_page, request, member, container)


def _figures_of(container: ContainerDep, chosen: Filter) -> figure_service.Figures:
    return figure_service.figures(
        container.figures,
        chosen.start,
        chosen.end,
        location_id=chosen.location_id,
        target_minutes=chosen.target,
    )


def _figures_page(request: Request, member: StaffMember, container: ContainerDep) -> Response:
    language = staff_language(request, member)
    chosen, error = read_filter(request, container)
    found = _figures_of(container, chosen)
    translate = gettext_for(language).gettext
    shown = None
    if error is not None:
        shown = (MESSAGES.get(error.code, (422, error.code))[1], error.params)
    return render(
        request,
        "supervisor/figures.html",
        language,
        status_code=200 if error is None else 422,
        personal=True,
        member=member,
        csrf=staff_csrf(request),
        error=shown,
        field_id=None if error is None else (error.field or "start"),
        filter=chosen,
        query=chosen.query(),
        target_choices=TARGET_MINUTES,
        location_choices=_location_choices(found),
        refresh_seconds=LIVE_REFRESH_SECONDS,
        **view(found, translate),
        live=view(_today(container, chosen), translate, prefix="today-"),
    )


@router.get("/supervisor/figures/today", response_class=HTMLResponse)
async def today_fragment(
    request: Request, member: SupervisorMember, container: ContainerDep
) -> Response:
    """The live "today" part, fetched again by figures.js."""

    def build() -> Response:
        language = staff_language(request, member)
        chosen, _ = read_filter(request, container)
        translate = gettext_for(language).gettext
        return render(
            request,
            "supervisor/_figures_today.html",
            language,
            personal=True,
            live=view(_today(container, chosen), translate, prefix="today-"),
        )

    return await run_in_threadpool(build)


@router.get("/supervisor/figures/export.{kind}")
async def export(
    request: Request, kind: str, member: SupervisorMember, container: ContainerDep
) -> Response:
    """The figures of the filter, one row per desk, service and channel: CSV or Parquet."""
    if kind not in ("csv", "parquet"):
        raise DomainError("request.not_found")

    def build() -> Response:
        chosen, error = read_filter(request, container)
        if error is not None:
            raise error
        found = _figures_of(container, chosen)
        rows = export_rows(found)
        _audit_export(container, member, chosen, kind, len(rows))
        name = f"loket-figures-{chosen.start.isoformat()}-{chosen.end.isoformat()}.{kind}"
        if kind == "csv":
            body, media = to_csv(rows), "text/csv; charset=utf-8"
        else:
            body, media = to_parquet(rows), "application/vnd.apache.parquet"
        return Response(
            body,
            media_type=media,
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )

    return await run_in_threadpool(build)


def _today(container: ContainerDep, chosen: Filter) -> figure_service.Figures:
    today = container.figures.today()
    return figure_service.figures(
        container.figures,
        today,
        today,
        location_id=chosen.location_id,
        target_minutes=chosen.target,
    )


def _audit_export(
    container: ContainerDep, member: StaffMember, chosen: Filter, kind: str, rows: int
) -> None:
    # Figures hold no personal data, but what leaves the system is on record.
    with container.figures.uow() as uow:
        uow.audit.record(
            AuditRecord(
                actor=f"staff:{member.id}",
                action=AuditAction.EXPORT,
                subject_type="figures",
                subject_id=f"{chosen.start.isoformat()}/{chosen.end.isoformat()}",
                at=container.figures.clock.now(),
                details={"format": kind, "rows": rows, "location": chosen.location_slug or "all"},
                personal_data=False,
            )
        )
        uow.commit()


def _location_choices(found: figure_service.Figures) -> list[tuple[str, str]]:
    return sorted(
        ((loc.slug, loc.name) for loc in found.locations.values() if loc.is_active),
        key=lambda item: item[1],
    )


# -- exports ---------------------------------------------------------------------------------


def export_rows(found: figure_service.Figures) -> list[dict[str, Any]]:
    rows = []
    for group in found.combinations:
        s = group.summary
        location = found.locations.get(group.location_id or 0)
        rows.append(
            {
                "first_day": found.start.isoformat(),
                "last_day": found.end.isoformat(),
                "location_code": location.code if location else str(group.location_id),
                "location": location.name if location else "",
                "service": group.service_code or "",
                "channel": group.channel or "",
                "contacts": s.contacts,
                "self_service": s.self_service,
                "called": s.called,
                "finished": s.finished,
                "no_shows": s.no_shows,
                "gave_up": s.gave_up,
                **{f"outcome_{name}": count for name, count in s.outcomes.items()},
                "wait_mean_seconds": _rounded(s.wait_mean),
                "wait_p50_seconds": _rounded(s.wait_p50),
                "wait_p90_seconds": _rounded(s.wait_p90),
                "handling_mean_seconds": _rounded(s.handling_mean),
                "target_minutes": s.level.target_minutes,
                "level_met": s.level.met,
                "level_counted": s.level.counted,
                "survey_responses": group.satisfaction.responses,
                "satisfaction_mean": _rounded(
                    group.satisfaction.mean(found.headline_slot), digits=2
                ),
            }
        )
    return rows


def _rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def to_csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue().encode("utf-8")


def to_parquet(rows: list[dict[str, Any]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {name: pa.int64() for name in EXPORT_COLUMNS}
    for name in ("first_day", "last_day", "location_code", "location", "service", "channel"):
        types[name] = pa.string()
    for name in EXPORT_COLUMNS:
        if name.endswith(("_seconds", "_mean")):
            types[name] = pa.float64()
    schema = pa.schema([(name, types[name]) for name in EXPORT_COLUMNS])
    table = pa.Table.from_pylist(rows, schema=schema)
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


# -- the view: numbers as text, and charts as shapes ------------------------------------------


def view(found: figure_service.Figures, translate: Any, prefix: str = "") -> dict[str, Any]:
    """Everything the templates show, as text and chart geometry."""
    locations = found.locations
    slot = found.headline_slot

    def row(label: str, s: Summary, satisfaction: Any) -> dict[str, Any]:
        return {
            "label": label,
            "contacts": s.contacts,
            "called": s.called,
            "no_shows": s.no_shows,
            "gave_up": s.gave_up,
            "wait_p50": minutes_text(s.wait_p50),
            "wait_p90": minutes_text(s.wait_p90),
            "handling": minutes_text(s.handling_mean),
            "level": percent_text(s.level.share),
            "responses": satisfaction.responses,
            "satisfaction": "–"
            if satisfaction.mean(slot) is None
            else f"{satisfaction.mean(slot):.1f}",
        }

    def name_of(location_id: int | None) -> str:
        location = locations.get(location_id or 0)
        return location.name if location else str(location_id)

    by_location = [
        row(name_of(g.location_id), g.summary, g.satisfaction) for g in found.by_location
    ]
    by_service = [
        row(translate(SERVICE_TITLES.get(g.service_code or "", g.service_code or "")),
            g.summary, g.satisfaction)
        for g in found.by_service
    ]  # fmt: skip
    by_channel = [
        row(translate(CHANNEL_NAMES.get(g.channel or "", g.channel or "")), g.summary,
            g.satisfaction)
        for g in found.by_channel
    ]  # fmt: skip
    total = found.total
    satisfaction = found.satisfaction
    distribution = satisfaction.counts.get(slot, {})
    charts = {
        "per_day": column_chart(
            f"{prefix}chart-per-day",
            translate(N_("Contacts per day")),
            translate(N_("Number of contacts on each day of the chosen period.")),
            [(day.isoformat(), s.contacts, str(s.contacts)) for day, s in found.by_day],
            label_every=max(1, len(found.by_day) // 8),
        ),
        "per_hour": column_chart(
            f"{prefix}chart-per-hour",
            translate(N_("Contacts by hour of the day")),
            translate(N_("Number of contacts taken in each hour of the day, local time.")),
            [(f"{hour:02d}", s.contacts, str(s.contacts)) for hour, s in found.by_hour],
            label_every=3,
        ),
        "waits": bar_chart(
            f"{prefix}chart-waits",
            translate(N_("Waiting time per desk (minutes)")),
            translate(N_("Median (p50) waiting time until an officer called, per desk.")),
            [
                (
                    name_of(g.location_id),
                    (g.summary.wait_p50 or 0) / 60,
                    minutes_text(g.summary.wait_p50),
                )
                for g in found.by_location
            ],
        ),
        "levels": bar_chart(
            f"{prefix}chart-levels",
            translate(N_("Service level per desk")),
            translate(N_("Share of tickets called within %(minutes)s minutes, per desk."))
            % {"minutes": found.target_minutes},
            [
                (
                    name_of(g.location_id),
                    (g.summary.level.share or 0) * 100,
                    percent_text(g.summary.level.share),
                )
                for g in found.by_location
            ],
            maximum=100,
        ),
        "channels": bar_chart(
            f"{prefix}chart-channels",
            translate(N_("Contacts per channel")),
            translate(N_("Number of contacts per way of reaching the police.")),
            [(r["label"], r["contacts"], str(r["contacts"])) for r in by_channel],
        ),
        "outcomes": bar_chart(
            f"{prefix}chart-outcomes",
            translate(N_("Outcomes")),
            translate(N_("How the contacts ended.")),
            [
                (translate(label), total.outcomes[key], str(total.outcomes[key]))
                for key, label in OUTCOME_NAMES.items()
            ],
        ),
        "satisfaction": bar_chart(
            f"{prefix}chart-satisfaction",
            translate(N_("Overall satisfaction")),
            translate(N_("Answers per score, from 1 (very dissatisfied) to 5 (very satisfied).")),
            [
                (str(score), distribution.get(score, 0), str(distribution.get(score, 0)))
                for score in (1, 2, 3, 4, 5)
            ],
        ),
    }
    return {
        "totals": {
            "contacts": total.contacts,
            "self_service": total.self_service,
            "called": total.called,
            "no_shows": total.no_shows,
            "gave_up": total.gave_up,
            "wait_p50": minutes_text(total.wait_p50),
            "wait_p90": minutes_text(total.wait_p90),
            "handling": minutes_text(total.handling_mean),
            "level": percent_text(total.level.share),
            "level_met": total.level.met,
            "level_counted": total.level.counted,
            "target": found.target_minutes,
            "responses": satisfaction.responses,
            "satisfaction": "–"
            if satisfaction.mean(slot) is None
            else f"{satisfaction.mean(slot):.1f}",
            "satisfied": percent_text(satisfaction.share_at_least(slot, 4)),
        },
        "by_location": by_location,
        "by_service": by_service,
        "by_channel": by_channel,
        "charts": charts,
        "comments": [
            {"day": day.isoformat(), "desk": name_of(where), "text": text}
            for day, where, _, text in found.comments
        ],
        "at": found.at.isoformat(),
        "first_day": found.start.isoformat(),
        "last_day": found.end.isoformat(),
    }


CHART_WIDTH = 720
LABEL_WIDTH = 230
ROW_HEIGHT = 26
COLUMN_AREA_HEIGHT = 180


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    items: list[tuple[str, float, str]],
    maximum: float | None = None,
) -> dict[str, Any]:
    """Horizontal bars, one row per item: (label, value, value as shown)."""
    top = maximum or max((value for _, value, _ in items), default=0) or 1
    span = CHART_WIDTH - LABEL_WIDTH - 70
    bars = []
    for index, (label, value, shown) in enumerate(items):
        width = max(0.0, value) / top * span
        y = index * ROW_HEIGHT
        bars.append(
            {
                "label": label,
                "shown": shown,
                "x": LABEL_WIDTH,
                "y": y + 4,
                "width": round(width, 1),
                "height": ROW_HEIGHT - 8,
                "text_y": y + ROW_HEIGHT / 2 + 5,
                "value_x": LABEL_WIDTH + round(width, 1) + 6,
            }
        )
    return {
        "id": chart_id,
        "title": title,
        "description": description,
        "kind": "bars",
        "width": CHART_WIDTH,
        "height": max(ROW_HEIGHT, len(items) * ROW_HEIGHT),
        "label_width": LABEL_WIDTH,
        "bars": bars,
    }


def column_chart(
    chart_id: str,
    title: str,
    description: str,
    items: list[tuple[str, float, str]],
    label_every: int = 1,
) -> dict[str, Any]:
    """Vertical columns along a time axis: (label, value, value as shown)."""
    top = max((value for _, value, _ in items), default=0) or 1
    count = max(1, len(items))
    step = (CHART_WIDTH - 50) / count
    columns = []
    for index, (label, value, shown) in enumerate(items):
        height = max(0.0, value) / top * COLUMN_AREA_HEIGHT
        x = 40 + index * step
        columns.append(
            {
                "label": label,
                "shown": shown,
                "x": round(x + step * 0.1, 1),
                "width": round(max(step * 0.8, 1), 1),
                "y": round(COLUMN_AREA_HEIGHT - height + 10, 1),
                "height": round(height, 1),
                "show_label": index % label_every == 0,
                "label_x": round(x + step / 2, 1),
            }
        )
    return {
        "id": chart_id,
        "title": title,
        "description": description,
        "kind": "columns",
        "width": CHART_WIDTH,
        "height": COLUMN_AREA_HEIGHT + 40,
        "top": top,
        "top_y": 10,
        "base_y": COLUMN_AREA_HEIGHT + 10,
        "columns": columns,
    }
