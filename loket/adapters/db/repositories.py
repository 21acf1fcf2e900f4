"""Repositories over SQLAlchemy Core: rows in, domain objects out, and back."""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from loket.adapters.db import schema as t
from loket.domain.errors import ConcurrentUpdate, NotFound
from loket.domain.locations import Location, LocationKind, OpeningHours
from loket.domain.staff import OfficerStatus, Role, Skills, StaffMember
from loket.domain.tickets import HELD_STATES, Outcome, Ticket, TicketState
from loket.services.ports import Credentials, Throttle


class Tracker:
    """Remembers the aggregates a transaction touched, so their events can be collected."""

    def __init__(self) -> None:
        self.seen: list[Ticket | StaffMember] = []

    def track(self, item: Any) -> Any:
        self.seen.append(item)
        return item


class SqlTicketRepository:
    def __init__(self, conn: Connection, tracker: Tracker) -> None:
        self._conn = conn
        self._tracker = tracker
        self._locks = conn.dialect.name == "postgresql"

    def add(self, ticket: Ticket) -> None:
        try:
            self._conn.execute(_INSERT_TICKET, _ticket_values(ticket))
        except IntegrityError:
            if ticket.idempotency_key is None:
                raise
            # A concurrent retry with the same key committed first (PostgreSQL checks the
            # key only at insert); the use case's retry then returns that ticket.
            raise ConcurrentUpdate("ticket.idempotency_race", ticket=ticket.number) from None
        self._tracker.track(ticket)

    def get(self, ticket_id: str) -> Ticket:
        return self._one(_TICKET_BY_ID, {"ticket_id": ticket_id})

    def get_for_update(self, ticket_id: str) -> Ticket:
        query = _TICKET_BY_ID_LOCKED if self._locks else _TICKET_BY_ID
        return self._one(query, {"ticket_id": ticket_id})

    def save(self, ticket: Ticket) -> None:
        values = {f"v_{name}": value for name, value in _ticket_values(ticket).items()}
        values["v_version"] = ticket.version + 1
        values["id_"] = ticket.id
        values["expected_version"] = ticket.version
        result = self._conn.execute(_SAVE_TICKET, values)
        if result.rowcount != 1:
            raise ConcurrentUpdate("ticket.changed", ticket=ticket.number)
        ticket.version += 1

    def by_idempotency_key(self, key: str) -> Ticket | None:
        row = self._conn.execute(_TICKET_BY_KEY, {"key": key}).first()
        return None if row is None else self._tracker.track(_ticket(row))

    def claim_next(self, skills: Skills) -> Ticket | None:
        # Officers racing for the head each get a different ticket instead of queueing
        # behind one row lock (SKIP LOCKED); SQLite serialises writers with BEGIN IMMEDIATE.
        query = _CLAIM_NEXT_LOCKED if self._locks else _CLAIM_NEXT
        parameters = {
            "languages": sorted(skills.languages),
            "services": sorted(skills.services),
        }
        row = self._conn.execute(query, parameters).first()
        return None if row is None else self._tracker.track(_ticket(row))

    def held_by(self, officer_id: int) -> list[Ticket]:
        query = _HELD_BY_LOCKED if self._locks else _HELD_BY
        rows = self._conn.execute(query, {"officer_id": officer_id})
        return [self._tracker.track(_ticket(row)) for row in rows]

    def expired_leases(self, at: datetime, limit: int) -> list[Ticket]:
        query = (
            select(t.tickets)
            .where(
                t.tickets.c.lease_expires_at <= at,
                t.tickets.c.state.in_([s.value for s in HELD_STATES]),
            )
            .order_by(t.tickets.c.lease_expires_at)
            .limit(limit)
        )
        if self._locks:
            query = query.with_for_update(skip_locked=True)
        return [self._tracker.track(_ticket(row)) for row in self._conn.execute(query)]

    def open_tickets(self, location_id: int | None = None) -> list[Ticket]:
        states = [s.value for s in HELD_STATES | {TicketState.WAITING}]
        query = select(t.tickets).where(t.tickets.c.state.in_(states))
        if location_id is not None:
            query = query.where(t.tickets.c.location_id == location_id)
        query = query.order_by(t.tickets.c.rank_at, t.tickets.c.taken_at, t.tickets.c.id)
        return [_ticket(row) for row in self._conn.execute(query)]

    def count_ahead(self, ticket: Ticket) -> int:
        c = t.tickets.c
        query = (
            select(func.count())
            .select_from(t.tickets)
            .where(
                c.state == TicketState.WAITING.value,
                c.language == ticket.language,
                c.service_code == ticket.service_code,
                # The same order as claim_next: rank, then time taken, then id (which
                # grows with creation, for tickets taken in the same instant).
                (c.rank_at < ticket.rank_at)
                | and_(c.rank_at == ticket.rank_at, c.taken_at < ticket.taken_at)
                | and_(
                    c.rank_at == ticket.rank_at,
                    c.taken_at == ticket.taken_at,
                    c.id < ticket.id,
                ),
            )
        )
        return int(self._conn.execute(query).scalar_one())

    def next_sequence(self, location_id: int, day: date) -> int:
        # One atomic upsert: concurrent takers at the same desk get consecutive numbers.
        statement = _NEXT_SEQUENCE_PG if self._locks else _NEXT_SEQUENCE_SQLITE
        parameters = {"location_id": location_id, "day": day, "last_number": 1}
        return int(self._conn.execute(statement, parameters).scalar_one())

    def recent_handling_seconds(self, service_code: str | None, limit: int) -> list[float]:
        c = t.tickets.c
        query = select(c.accepted_at, c.finished_at).where(
            c.state == TicketState.FINISHED.value, c.accepted_at.is_not(None)
        )
        if service_code is not None:
            query = query.where(c.service_code == service_code)
        query = query.order_by(c.finished_at.desc()).limit(limit)
        return [
            (finished - accepted).total_seconds()
            for accepted, finished in self._conn.execute(query)
        ]

    def recently_called(self, location_id: int, limit: int) -> list[Ticket]:
        c = t.tickets.c
        query = (
            select(t.tickets)
            .where(c.location_id == location_id, c.accepted_at.is_not(None))
            .order_by(c.accepted_at.desc())
            .limit(limit)
        )
        return [_ticket(row) for row in self._conn.execute(query)]

    def taken_since(self, at: datetime) -> list[Ticket]:
        c = t.tickets.c
        query = select(t.tickets).where(c.taken_at >= at).order_by(c.taken_at, c.id)
        return [_ticket(row) for row in self._conn.execute(query)]

    def _one(self, query: Any, parameters: dict[str, Any]) -> Ticket:
        row = self._conn.execute(query, parameters).first()
        if row is None:
            raise NotFound("ticket.unknown", field="ticket")
        return self._tracker.track(_ticket(row))  # type: ignore[no-any-return]


_HELD = sorted(state.value for state in HELD_STATES)
# The held states written into the statement once: an IN list of bound values is re-rendered
# on every execution (SQLAlchemy's "expanding" parameters), a third of held_by's time.
_IS_HELD = t.tickets.c.state.in_([literal(state, literal_execute=False) for state in _HELD])
_TICKET_BY_ID = select(t.tickets).where(t.tickets.c.id == bindparam("ticket_id"))
_TICKET_BY_ID_LOCKED = _TICKET_BY_ID.with_for_update()
_TICKET_BY_KEY = select(t.tickets).where(t.tickets.c.idempotency_key == bindparam("key"))
_CLAIM_NEXT = (
    select(t.tickets)
    .where(
        t.tickets.c.state == TicketState.WAITING.value,
        t.tickets.c.language.in_(bindparam("languages", expanding=True)),
        t.tickets.c.service_code.in_(bindparam("services", expanding=True)),
    )
    .order_by(t.tickets.c.rank_at, t.tickets.c.taken_at, t.tickets.c.id)
    .limit(1)
)
_CLAIM_NEXT_LOCKED = _CLAIM_NEXT.with_for_update(skip_locked=True)
_HELD_BY = select(t.tickets).where(t.tickets.c.officer_id == bindparam("officer_id"), _IS_HELD)
_HELD_BY_LOCKED = _HELD_BY.with_for_update()
_STAFF_BY_ID = select(t.staff).where(t.staff.c.id == bindparam("staff_id"))
_STAFF_BY_ID_LOCKED = _STAFF_BY_ID.with_for_update()

# Statements built once with bound parameters: SQLAlchemy then compiles each only once,
# where `.values(**row)` per call made it rebuild and re-check its cache key every time
# (a quarter of the queue's CPU time in benchmarks/queue.py).
_INSERT_TICKET = insert(t.tickets)
_SAVE_TICKET = (
    update(t.tickets)
    .where(
        t.tickets.c.id == bindparam("id_"),
        t.tickets.c.version == bindparam("expected_version"),
    )
    .values({col.key: bindparam(f"v_{col.key}") for col in t.tickets.c if col.key != "id"})
)
_STAFF_FIELDS = (
    "username", "display_name", "roles", "languages", "services", "status",
    "status_since_at", "ui_language", "is_active",
)  # fmt: skip


@functools.cache
def _save_staff(names: tuple[str, ...]) -> Any:
    """An UPDATE of these staff columns, built once per set of columns."""
    return (
        update(t.staff)
        .where(t.staff.c.id == bindparam("staff_id"))
        .values({name: bindparam(f"v_{name}") for name in names})
    )


def _next_sequence(dialect: Any) -> Any:
    statement = dialect.insert(t.ticket_counters)
    return statement.on_conflict_do_update(
        index_elements=["location_id", "day"],
        set_={"last_number": t.ticket_counters.c.last_number + 1},
    ).returning(t.ticket_counters.c.last_number)


_NEXT_SEQUENCE_PG = _next_sequence(postgresql)
_NEXT_SEQUENCE_SQLITE = _next_sequence(sqlite)


def _ticket_values(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "number": ticket.number,
        "location_id": ticket.location_id,
        "location_code": ticket.location_code,
        "service_code": ticket.service_code,
        "language": ticket.language,
        "channel": ticket.channel,
        "priority": ticket.priority,
        "state": ticket.state.value,
        "taken_at": ticket.taken_at,
        "rank_at": ticket.rank_at,
        "changed_at": ticket.changed_at,
        "officer_id": ticket.officer_id,
        "lease_expires_at": ticket.lease_expires_at,
        "offered_at": ticket.offered_at,
        "accepted_at": ticket.accepted_at,
        "finished_at": ticket.finished_at,
        "is_returned": ticket.is_returned,
        "return_count": ticket.return_count,
        "note": ticket.note,
        "outcome": None if ticket.outcome is None else ticket.outcome.value,
        "idempotency_key": ticket.idempotency_key,
        "version": ticket.version,
    }


def _ticket(row: Row[Any]) -> Ticket:
    m = row._mapping
    return Ticket(
        id=m["id"],
        number=m["number"],
        location_id=m["location_id"],
        location_code=m["location_code"],
        service_code=m["service_code"],
        language=m["language"],
        channel=m["channel"],
        priority=m["priority"],
        state=TicketState(m["state"]),
        taken_at=m["taken_at"],
        rank_at=m["rank_at"],
        changed_at=m["changed_at"],
        officer_id=m["officer_id"],
        lease_expires_at=m["lease_expires_at"],
        offered_at=m["offered_at"],
        accepted_at=m["accepted_at"],
        finished_at=m["finished_at"],
        is_returned=m["is_returned"],
        return_count=m["return_count"],
        note=m["note"],
        outcome=None if m["outcome"] is None else Outcome(m["outcome"]),
        idempotency_key=m["idempotency_key"],
        version=m["version"],
    )


class SqlLocationRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, location_id: int) -> Location:
        return self._one(_LOCATION_BY_ID, {"location_id": location_id})

    def by_slug(self, slug: str) -> Location:
        return self._one(_LOCATION_BY_SLUG, {"slug": slug})

    def list(self) -> list[Location]:
        rows = self._conn.execute(select(t.locations).order_by(t.locations.c.name))
        return [_location(row) for row in rows]

    def add(self, location: Location) -> None:
        result = self._conn.execute(
            insert(t.locations).values(
                code=location.code,
                slug=location.slug,
                name=location.name,
                municipality=location.municipality,
                kind=location.kind.value,
                country=location.country,
                time_zone=location.time_zone,
                languages=list(location.languages),
                service_codes=sorted(location.service_codes),
                hours=location.hours.to_dict(),
                is_active=location.is_active,
            )
        )
        location.id = int(result.inserted_primary_key[0])

    def save(self, location: Location) -> None:
        """Write a changed location back; the code and the slug never change once given."""
        self._conn.execute(
            update(t.locations)
            .where(t.locations.c.id == location.id)
            .values(
                name=location.name,
                municipality=location.municipality,
                kind=location.kind.value,
                country=location.country,
                time_zone=location.time_zone,
                languages=list(location.languages),
                service_codes=sorted(location.service_codes),
                hours=location.hours.to_dict(),
                is_active=location.is_active,
            )
        )

    def _one(self, query: Any, parameters: dict[str, Any]) -> Location:
        row = self._conn.execute(query, parameters).first()
        if row is None:
            raise NotFound("location.unknown", field="location")
        return _location(row)


_LOCATION_BY_ID = select(t.locations).where(t.locations.c.id == bindparam("location_id"))
_LOCATION_BY_SLUG = select(t.locations).where(t.locations.c.slug == bindparam("slug"))


# Parsed opening hours by their stored form. Every ticket taken reads its desk, and parsing
# the week and its exceptions was a tenth of take_ticket's CPU time; hours are immutable
# values that change only when an administrator edits them.
_HOURS_CACHE: dict[str, OpeningHours] = {}
_HOURS_CACHE_SIZE = 1024


def _opening_hours(stored: Any) -> OpeningHours:
    key = repr(stored)
    hours = _HOURS_CACHE.get(key)
    if hours is None:
        hours = OpeningHours.from_dict(stored)
        if len(_HOURS_CACHE) >= _HOURS_CACHE_SIZE:
            _HOURS_CACHE.clear()
        _HOURS_CACHE[key] = hours
    return hours


def _location(row: Row[Any]) -> Location:
    m = row._mapping
    return Location(
        id=m["id"],
        code=m["code"],
        slug=m["slug"],
        name=m["name"],
        municipality=m["municipality"],
        kind=LocationKind(m["kind"]),
        time_zone=m["time_zone"],
        languages=tuple(m["languages"]),
        service_codes=frozenset(m["service_codes"]),
        hours=_opening_hours(m["hours"]),
        country=m["country"],
        is_active=m["is_active"],
    )


class SqlStaffRepository:
    def __init__(self, conn: Connection, tracker: Tracker) -> None:
        self._conn = conn
        self._tracker = tracker
        self._locks = conn.dialect.name == "postgresql"
        # What each member looked like when this transaction read them: a save writes only
        # what changed (mostly an officer's status), not the unique username and the lists.
        self._loaded: dict[int, dict[str, Any]] = {}

    def get(self, staff_id: int) -> StaffMember:
        return self._one(_STAFF_BY_ID, {"staff_id": staff_id})

    def get_for_update(self, staff_id: int) -> StaffMember:
        query = _STAFF_BY_ID_LOCKED if self._locks else _STAFF_BY_ID
        return self._one(query, {"staff_id": staff_id})

    def by_username(self, username: str) -> StaffMember | None:
        row = self._conn.execute(select(t.staff).where(t.staff.c.username == username)).first()
        return None if row is None else self._remember(_staff(row))

    def list(self) -> list[StaffMember]:
        rows = self._conn.execute(select(t.staff).order_by(t.staff.c.username))
        return [_staff(row) for row in rows]

    def add(self, member: StaffMember, credentials: Credentials) -> None:
        result = self._conn.execute(
            insert(t.staff).values(
                **_staff_values(member),
                password_hash=credentials.password_hash,
                totp_secret=credentials.totp_secret,
                totp_enrolled=credentials.totp_enrolled,
                password_change_required=credentials.password_change_required,
            )
        )
        member.id = int(result.inserted_primary_key[0])
        self._tracker.track(member)

    def save(self, member: StaffMember) -> None:
        current = _staff_values(member)
        loaded = self._loaded.get(member.id) if member.id is not None else None
        changed = tuple(
            name for name in _STAFF_FIELDS if loaded is None or loaded[name] != current[name]
        )
        if not changed:
            return
        values = {f"v_{name}": current[name] for name in changed}
        self._conn.execute(_save_staff(changed), {**values, "staff_id": member.id})
        if member.id is not None:
            self._loaded[member.id] = current

    def credentials(self, staff_id: int) -> Credentials:
        c = t.staff.c
        row = self._conn.execute(
            select(
                c.password_hash, c.totp_secret, c.totp_enrolled, c.password_change_required
            ).where(c.id == staff_id)
        ).first()
        if row is None:
            raise NotFound("staff.unknown")
        return Credentials(*row)

    def save_credentials(self, staff_id: int, credentials: Credentials) -> None:
        self._conn.execute(
            update(t.staff)
            .where(t.staff.c.id == staff_id)
            .values(
                password_hash=credentials.password_hash,
                totp_secret=credentials.totp_secret,
                totp_enrolled=credentials.totp_enrolled,
                password_change_required=credentials.password_change_required,
            )
        )

    def claim_code_step(self, staff_id: int, step: int) -> bool:
        # One conditional update: of two sign-ins racing with one code, only one matches.
        c = t.staff.c
        claimed = self._conn.execute(
            update(t.staff)
            .where(c.id == staff_id)
            .where(or_(c.totp_last_step.is_(None), c.totp_last_step < step))
            .values(totp_last_step=step)
        )
        return claimed.rowcount == 1

    def _one(self, query: Any, parameters: dict[str, Any]) -> StaffMember:
        row = self._conn.execute(query, parameters).first()
        if row is None:
            raise NotFound("staff.unknown", field="staff")
        return self._remember(_staff(row))

    def _remember(self, member: StaffMember) -> StaffMember:
        if member.id is not None:
            self._loaded[member.id] = _staff_values(member)
        return self._tracker.track(member)  # type: ignore[no-any-return]


def _staff_values(member: StaffMember) -> dict[str, Any]:
    return {
        "username": member.username,
        "display_name": member.display_name,
        "roles": sorted(role.value for role in member.roles),
        "languages": sorted(member.skills.languages),
        "services": sorted(member.skills.services),
        "status": member.status.value,
        "status_since_at": member.status_since_at,
        "ui_language": member.ui_language,
        "is_active": member.is_active,
    }


def _staff(row: Row[Any]) -> StaffMember:
    m = row._mapping
    return StaffMember(
        id=m["id"],
        username=m["username"],
        display_name=m["display_name"],
        roles=frozenset(Role(role) for role in m["roles"]),
        skills=Skills(languages=frozenset(m["languages"]), services=frozenset(m["services"])),
        status=OfficerStatus(m["status"]),
        status_since_at=m["status_since_at"],
        ui_language=m["ui_language"],
        is_active=m["is_active"],
    )


class SqlTokenRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(
        self, staff_id: int, token_hash: str, created_at: datetime, expires_at: datetime
    ) -> None:
        self._conn.execute(
            insert(t.staff_tokens).values(
                staff_id=staff_id,
                token_hash=token_hash,
                created_at=created_at,
                expires_at=expires_at,
            )
        )

    def staff_for(self, token_hash: str, at: datetime) -> int | None:
        c = t.staff_tokens.c
        row = self._conn.execute(
            select(c.staff_id).where(
                c.token_hash == token_hash, c.expires_at > at, c.revoked_at.is_(None)
            )
        ).first()
        return None if row is None else int(row[0])

    def revoke(self, token_hash: str, at: datetime) -> None:
        c = t.staff_tokens.c
        self._conn.execute(
            update(t.staff_tokens)
            .where(c.token_hash == token_hash, c.revoked_at.is_(None))
            .values(revoked_at=at)
        )

    def revoke_all(self, staff_id: int, at: datetime) -> None:
        c = t.staff_tokens.c
        self._conn.execute(
            update(t.staff_tokens)
            .where(c.staff_id == staff_id, c.revoked_at.is_(None))
            .values(revoked_at=at)
        )


class SqlThrottleRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, username: str, address: str) -> Throttle | None:
        c = t.sign_in_throttle.c
        row = self._conn.execute(
            select(t.sign_in_throttle).where(c.username == username, c.address == address)
        ).first()
        if row is None:
            return None
        m = row._mapping
        return Throttle(
            username=m["username"],
            address=m["address"],
            failures=m["failures"],
            last_failed_at=m["last_failed_at"],
            locked_until=m["locked_until"],
        )

    def save(self, throttle: Throttle) -> None:
        self.clear(throttle.username, throttle.address)
        self._conn.execute(
            insert(t.sign_in_throttle).values(
                username=throttle.username,
                address=throttle.address,
                failures=throttle.failures,
                last_failed_at=throttle.last_failed_at,
                locked_until=throttle.locked_until,
            )
        )

    def clear(self, username: str, address: str) -> None:
        c = t.sign_in_throttle.c
        self._conn.execute(
            delete(t.sign_in_throttle).where(c.username == username, c.address == address)
        )
