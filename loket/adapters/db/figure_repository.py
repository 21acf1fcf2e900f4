"""The figures' roll-up over SQLAlchemy Core: contacts in, summed tallies out."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from loket.adapters.db import schema as t
from loket.domain.errors import ConcurrentUpdate
from loket.domain.figures import (
    ALL,
    FIELDS,
    NO_HOUR,
    Contact,
    Grain,
    Key,
    PeriodCover,
    Tally,
    figure_channel,
)
from loket.domain.tickets import OPEN_STATES, Outcome

WATERMARK_ID = 1
_F = t.contact_figures.c
_KEY_COLUMNS = ("grain", "period", "location_id", "service_code", "channel", "hour")
_SUMS = [func.coalesce(func.sum(_F[name]), 0).label(name) for name in FIELDS]
_TICKET_COLUMNS = (
    t.tickets.c.location_id,
    t.tickets.c.service_code,
    t.tickets.c.channel,
    t.tickets.c.taken_at,
    t.tickets.c.accepted_at,
    t.tickets.c.finished_at,
    t.tickets.c.state,
    t.tickets.c.outcome,
)
_REPORT_COLUMNS = (
    t.reports.c.location_id,
    t.reports.c.form_code,
    t.reports.c.channel,
    t.reports.c.submitted_at,
)


@functools.cache
def _statements(paramstyle: str) -> tuple[str, str]:
    """The roll-up's UPDATE (values, then key) and INSERT (key, then values) in plain SQL."""
    mark = "?" if paramstyle == "qmark" else "%s"
    table = t.contact_figures.name
    add = ", ".join(f"{name} = {name} + {mark}" for name in FIELDS)
    where = " AND ".join(f"{name} = {mark}" for name in _KEY_COLUMNS)
    columns = ", ".join((*_KEY_COLUMNS, *FIELDS))
    marks = ", ".join([mark] * (len(_KEY_COLUMNS) + len(FIELDS)))
    return (
        f"UPDATE {table} SET {add} WHERE {where}",  # noqa: S608 - names from the schema
        f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608
    )


class SqlFigureRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # -- the watermark ----------------------------------------------------------------------

    def rolled_until(self) -> datetime | None:
        query = select(t.figure_watermark.c.rolled_until).where(
            t.figure_watermark.c.id == WATERMARK_ID
        )
        return self._conn.execute(query).scalar()

    def move_watermark(self, expected: datetime | None, to: datetime) -> None:
        """Move the watermark from `expected` to `to`, or ConcurrentUpdate if it moved.

        Done first in a roll-up's transaction: on PostgreSQL the row lock makes a second
        node wait, then find the watermark moved and give up; SQLite has one writer.
        """
        table = t.figure_watermark
        if expected is None:
            try:
                self._conn.execute(insert(table).values(id=WATERMARK_ID, rolled_until=to))
            except IntegrityError:
                raise ConcurrentUpdate("figures.rolled_up_elsewhere") from None
            return
        result = self._conn.execute(
            update(table)
            .where(table.c.id == WATERMARK_ID, table.c.rolled_until == expected)
            .values(rolled_until=to)
        )
        if result.rowcount != 1:
            raise ConcurrentUpdate("figures.rolled_up_elsewhere")

    def first_closed_at(self) -> datetime | None:
        """When the oldest ticket closed or report was sent, if any."""
        moments = [
            self._conn.execute(select(func.min(t.tickets.c.finished_at))).scalar(),
            self._conn.execute(select(func.min(t.reports.c.submitted_at))).scalar(),
        ]
        found = [_aware(moment) for moment in moments if moment is not None]
        return min(found) if found else None

    def clear(self) -> None:
        self._conn.execute(delete(t.contact_figures))
        self._conn.execute(delete(t.figure_watermark))

    # -- contacts ---------------------------------------------------------------------------

    def closed_contacts(self, after: datetime | None, until: datetime) -> list[Contact]:
        """Tickets closed and reports sent in (after, until]."""
        tickets = select(*_TICKET_COLUMNS).where(t.tickets.c.finished_at <= until)
        reports = select(*_REPORT_COLUMNS).where(t.reports.c.submitted_at <= until)
        if after is not None:
            tickets = tickets.where(t.tickets.c.finished_at > after)
            reports = reports.where(t.reports.c.submitted_at > after)
        found = [_ticket_contact(row) for row in self._conn.execute(tickets)]
        found += [_report_contact(row) for row in self._conn.execute(reports)]
        return found

    def open_contacts(self, taken_from: datetime) -> list[Contact]:
        """Tickets still open, taken at or after `taken_from`."""
        query = select(*_TICKET_COLUMNS).where(
            t.tickets.c.state.in_([s.value for s in OPEN_STATES]),
            t.tickets.c.taken_at >= taken_from,
        )
        return [_ticket_contact(row) for row in self._conn.execute(query)]

    # -- the roll-up ------------------------------------------------------------------------

    def add_tallies(self, tallies: Mapping[Key, Tally]) -> None:
        """Add to the rows that exist, insert the others.

        Written through the driver's executemany with plain positional parameters: a first
        roll-up of a year writes a few hundred thousand rows of 74 values, and building
        SQLAlchemy parameters for each costs more than the database's own work.
        """
        if not tallies:
            return
        periods = {(key.grain.value, key.period) for key in tallies}
        existing: set[tuple[Any, ...]] = set()
        for grain, period in periods:
            rows = self._conn.execute(
                select(*(_F[name] for name in _KEY_COLUMNS)).where(
                    _F.grain == grain, _F.period == period
                )
            )
            existing.update(tuple(row) for row in rows)
        is_sqlite = self._conn.dialect.name == "sqlite"
        updates: list[tuple[Any, ...]] = []
        inserts: list[tuple[Any, ...]] = []
        for key, tally in tallies.items():
            plain = (key.grain.value, key.period, *key[2:])
            stored = (plain[0], plain[1].isoformat(), *plain[2:]) if is_sqlite else plain
            if plain in existing:
                updates.append((*tally.values, *stored))
            else:
                inserts.append((*stored, *tally.values))
        statements = _statements(self._conn.dialect.paramstyle)
        if updates:
            self._conn.exec_driver_sql(statements[0], updates)
        if inserts:
            try:
                self._conn.exec_driver_sql(statements[1], inserts)
            except IntegrityError:
                raise ConcurrentUpdate("figures.rolled_up_elsewhere") from None

    # -- reading ----------------------------------------------------------------------------

    def by_combination(
        self, cover: PeriodCover, location_id: int | None
    ) -> list[tuple[int, str, str, Tally]]:
        """(desk, service, channel, tally) over the periods."""
        query = (
            select(_F.location_id, _F.service_code, _F.channel, *_SUMS)
            .where(_periods(cover), _F.hour == NO_HOUR, _F.service_code != ALL)
            .group_by(_F.location_id, _F.service_code, _F.channel)
        )
        if location_id is not None:
            query = query.where(_F.location_id == location_id)
        return [(row[0], row[1], row[2], Tally(row[3:])) for row in self._conn.execute(query)]

    def by_hour(self, cover: PeriodCover, location_id: int | None) -> list[tuple[int, Tally]]:
        query = select(_F.hour, *_SUMS).where(_periods(cover), _F.hour != NO_HOUR).group_by(_F.hour)
        if location_id is not None:
            query = query.where(_F.location_id == location_id)
        return [(row[0], Tally(row[1:])) for row in self._conn.execute(query)]

    def by_day(self, start: date, end: date, location_id: int | None) -> list[tuple[date, Tally]]:
        query = (
            select(_F.period, *_SUMS)
            .where(
                _F.grain == Grain.DAY.value,
                _F.period.between(start, end),
                _F.hour == NO_HOUR,
                _F.service_code == ALL,
            )
            .group_by(_F.period)
        )
        if location_id is not None:
            query = query.where(_F.location_id == location_id)
        return [(row[0], Tally(row[1:])) for row in self._conn.execute(query)]


def _aware(moment: datetime) -> datetime:
    # min() over a column skips the column's type on SQLite: the zone comes back here.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _periods(cover: PeriodCover) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = []
    if cover.months:
        parts.append(and_(_F.grain == Grain.MONTH.value, _F.period.in_(cover.months)))
    for first, last in cover.day_ranges:
        parts.append(and_(_F.grain == Grain.DAY.value, _F.period.between(first, last)))
    return or_(*parts) if parts else false()


def _key_values(key: Key) -> dict[str, Any]:
    return {
        "grain": key.grain.value,
        "period": key.period,
        "location_id": key.location_id,
        "service_code": key.service_code,
        "channel": key.channel,
        "hour": key.hour,
    }


def _ticket_contact(row: Any) -> Contact:
    return Contact(
        location_id=row.location_id,
        service_code=row.service_code,
        channel=figure_channel(row.channel, row.service_code),
        taken_at=row.taken_at,
        called_at=row.accepted_at,
        ended_at=row.finished_at,
        state=row.state,
        outcome=row.outcome,
    )


def _report_contact(row: Any) -> Contact:
    is_report = row.form_code.startswith("report.")
    return Contact(
        location_id=row.location_id,
        service_code=row.form_code,
        channel=figure_channel(row.channel, row.form_code),
        taken_at=row.submitted_at,
        ended_at=row.submitted_at,
        outcome=Outcome.REPORT_TAKEN.value if is_report else None,
        is_self_service=True,
    )
