"""Random interleavings of queue use cases, checked step by step against a simple model.

Hypothesis drives citizens, officers and the clock through the services on a real database;
after every step the database must agree with the model: no ticket lost or duplicated, a
held ticket has one holder, an officer serves one contact at a time, nothing closed reopens.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from loket.adapters.db import schema
from loket.bootstrap import build
from loket.config import Settings
from loket.demo import load_demo_locations
from loket.domain.catalogue import CATALOGUE
from loket.domain.errors import DomainError, Invalid, NotFound, Refused
from loket.domain.staff import OfficerStatus
from loket.domain.tickets import CLOSED_STATES, HELD_STATES, Outcome, TicketState
from loket.services import queue
from tests.conftest import FAST_HASHER, FakeClock, World, _truncate, add_officer, seed_locations

S = TicketState
LOCATIONS = {location.slug: location for location in load_demo_locations()}
SERVICES = {service.code for service in CATALOGUE}
# Desks open and closed, with and without German, plus one that does not exist.
SLUGS = ["houthalen-helchteren", "genk-politiehuis", "utrecht-stationsplein", "genk-mobiel"]
SLUGS += ["nowhere"]
SERVICE_CHOICES = ["contact.video", "report.theft", "contact.callback", "info.general"]
SERVICE_CHOICES += ["report.burglary", "no.such_service"]
LANGUAGES = ["nl", "fr", "en", "de"]
KEYS = ["key-1", "key-2", "key-3"]
OFFICERS = {
    "ann": frozenset({"nl", "fr", "en", "de"}),
    "bob": frozenset({"nl"}),
    "cis": frozenset({"fr", "en"}),
}
NAMES = sorted(OFFICERS)
# Requests every desk below accepts (Utrecht speaks no French: refused there).
GOOD_SLUGS = ["houthalen-helchteren", "genk-politiehuis", "utrecht-stationsplein"]
GOOD_SERVICES = ["contact.video", "report.theft", "info.general"]
GOOD_LANGUAGES = ["nl", "fr", "en"]
PRIORITIES = st.integers(0, 3)
GOOD_REQUEST = st.tuples(
    st.sampled_from(GOOD_SLUGS),
    st.sampled_from(GOOD_SERVICES),
    st.sampled_from(GOOD_LANGUAGES),
    PRIORITIES,
)
ANY_REQUEST = st.tuples(
    st.sampled_from(SLUGS),
    st.sampled_from(SERVICE_CHOICES),
    st.sampled_from(LANGUAGES),
    st.integers(0, 4),
)
# Mostly requests a desk accepts, some that it refuses.
REQUESTS = st.one_of(GOOD_REQUEST, GOOD_REQUEST, ANY_REQUEST)
# Most steps act on the officer's own contacts; some on anyone's, to be refused.
OWN = st.sampled_from([True, True, True, False])
WAITING_CITIZENS = st.lists(
    st.tuples(st.sampled_from(GOOD_LANGUAGES), PRIORITIES), min_size=2, max_size=8
)
# Officers serving when the run starts: usually all of them.
SERVING = st.one_of(st.just(NAMES), st.lists(st.sampled_from(NAMES), unique=True))
# Waits that straddle the offer timeout (30 s) and the service lease (45 s).
WAITS = [5, 1, 10, 29, 31, 46, 120]
# Consoles usually renew their leases; a dead one lets its contacts run out.
CONSOLES_ALIVE = st.sampled_from([True, True, False])


@dataclass
class Model:
    """What we expect of one ticket."""

    id: str
    number: str
    language: str
    service: str
    priority: int
    taken_at: datetime
    rank_at: datetime
    state: TicketState = S.WAITING
    officer: int | None = None
    lease: datetime | None = None
    outcome: Outcome | None = None
    is_returned: bool = False


@dataclass(frozen=True)
class Expected:
    """A domain error the model expects instead of success."""

    kind: type[DomainError]
    code: str


def attempt(call: Any) -> tuple[Any, DomainError | None]:
    """Run a use case; a domain error is an answer, anything else fails the test."""
    try:
        return call(), None
    except DomainError as error:
        return None, error


def assert_refused(error: DomainError | None, expected: Expected) -> None:
    assert error is not None, f"expected {expected.code}, but the step succeeded"
    assert (type(error), error.code) == (expected.kind, expected.code), repr(error)


class QueueMachine(RuleBasedStateMachine):
    """The central queue under random use; subclasses say which database to use."""

    fresh_database: ClassVar[Any]

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.database_url, data_dir = type(self).fresh_database()
        self.container = build(
            Settings(data_dir=data_dir, database_url=self.database_url, demo=False),
            clock=self.clock,
            hasher=FAST_HASHER,
        )
        self.ctx = self.container.queue
        self.policy = self.ctx.policy
        seed_locations(self.container)
        world = World(container=self.container)
        self.officers = {name: add_officer(world, name, languages=OFFICERS[name]) for name in NAMES}
        self.names = {officer: name for name, officer in self.officers.items()}
        self.status = dict.fromkeys(self.officers.values(), OfficerStatus.AVAILABLE)
        self.tickets: dict[str, Model] = {}
        self.keys: dict[str, Model] = {}
        self.numbers: dict[str, int] = {}
        self.ever_closed: set[str] = set()
        self.offers = 0

    def teardown(self) -> None:
        self.container.dispose()

    # -- model helpers --------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now()

    def held_by(self, officer: int) -> list[Model]:
        return [t for t in self.tickets.values() if t.officer == officer and t.state in HELD_STATES]

    def pick(self, officer: int, index: int, own: bool, *states: TicketState) -> Model:
        """Mostly a ticket the officer holds in a state the step expects, else any ticket."""
        held = sorted(self.held_by(officer), key=lambda t: t.id)
        fitting = [t for t in held if t.state in states]
        everything = sorted(self.tickets.values(), key=lambda t: t.id)
        pool = (fitting or held or everything) if own else everything
        return pool[index % len(pool)]

    def to_queue(self, ticket: Model) -> None:
        ticket.state = S.WAITING
        ticket.officer = None
        ticket.lease = None
        ticket.is_returned = True
        ticket.rank_at = (
            ticket.taken_at - ticket.priority * self.policy.priority_step - self.policy.head_boost
        )

    def close(self, ticket: Model, state: TicketState) -> None:
        ticket.state = state
        ticket.lease = None
        self.ever_closed.add(ticket.id)

    def busy_elsewhere(self, officer: int, ticket: Model) -> bool:
        """The officer already has another contact offered or in service."""
        return any(
            t.state in (S.OFFERED, S.IN_SERVICE) and t.id != ticket.id
            for t in self.held_by(officer)
        )

    # -- citizens -------------------------------------------------------------------------

    @initialize(tickets=WAITING_CITIZENS, serving=SERVING)
    def the_morning_has_started(self, tickets: list[tuple[str, int]], serving: list[str]) -> None:
        """Some citizens wait and some officers serve already, so short runs reach busy states."""
        for language, priority in tickets:
            self.take("genk-politiehuis", "contact.video", language, priority, None)
        for name in serving:
            self.next_ticket(name, accept=True)

    @rule(request=REQUESTS, key=st.one_of(st.none(), st.none(), st.sampled_from(KEYS)))
    def take_ticket(self, request: tuple[str, str, str, int], key: str | None) -> None:
        self.take(*request, key)

    def take(self, slug: str, service: str, language: str, priority: int, key: str | None) -> None:
        result, error = attempt(
            lambda: queue.take_ticket(
                self.ctx,
                location_slug=slug,
                service_code=service,
                language=language,
                channel="kiosk",
                priority=priority,
                idempotency_key=key,
            )
        )
        now = self.now()
        location = LOCATIONS.get(slug)
        earlier = self.keys.get(key) if key is not None else None
        if service not in SERVICES:
            assert_refused(error, Expected(NotFound, "service.unknown"))
        elif earlier is not None:
            if (earlier.service, earlier.language) != (service, language):
                assert_refused(error, Expected(Refused, "idempotency.key_reused"))
            else:
                assert error is None and result.id == earlier.id, "a retry made a new ticket"
        elif location is None:
            assert_refused(error, Expected(NotFound, "location.unknown"))
        elif not location.offers(service):
            assert_refused(error, Expected(Refused, "location.service_not_offered"))
        elif not location.is_open_at(now):
            assert_refused(error, Expected(Refused, "location.closed"))
        elif language not in location.languages:
            assert_refused(error, Expected(Invalid, "ticket.language_not_offered"))
        elif priority > 3:
            assert_refused(error, Expected(Invalid, "ticket.invalid_priority"))
        else:
            assert error is None, repr(error)
            assert result.id not in self.tickets
            sequence = self.numbers.get(location.code, 0) + 1
            self.numbers[location.code] = sequence
            assert result.number == f"{location.code}-{sequence:03d}"
            model = Model(
                id=result.id,
                number=result.number,
                language=language,
                service=service,
                priority=priority,
                taken_at=now,
                rank_at=now - priority * self.policy.priority_step,
            )
            self.tickets[model.id] = model
            if key is not None:
                self.keys[key] = model

    @precondition(lambda self: self.tickets)
    @rule(index=st.integers(0, 1000))
    def cancel(self, index: int) -> None:
        ticket = sorted(self.tickets.values(), key=lambda t: t.id)[index % len(self.tickets)]
        _, error = attempt(lambda: queue.cancel_ticket(self.ctx, ticket.id))
        if ticket.state not in (S.WAITING, S.OFFERED):
            assert_refused(error, Expected(Refused, "ticket.illegal_transition"))
            return
        assert error is None, repr(error)
        ticket.officer = None
        self.close(ticket, S.CANCELLED)

    # -- officers -------------------------------------------------------------------------

    @rule(name=st.sampled_from(NAMES), accept=st.booleans())
    def next_ticket(self, name: str, accept: bool) -> None:
        """The officer asks for the next ticket and, on the usual click path, accepts it."""
        offered = self.offer_next(name)
        if accept and offered is not None:
            self.accept_one(self.officers[name], self.tickets[offered])

    def offer_next(self, name: str) -> str | None:
        """Ask for the next ticket; the id of the ticket offered, if any."""
        officer = self.officers[name]
        result, error = attempt(lambda: queue.offer_next(self.ctx, officer))
        if self.status[officer] not in (OfficerStatus.AVAILABLE, OfficerStatus.WRAP_UP):
            assert_refused(error, Expected(Refused, "officer.not_available"))
            return None
        held = self.held_by(officer)
        pending = {t.id for t in held if t.state in (S.OFFERED, S.TRANSFERRED)}
        serving = any(t.state is S.IN_SERVICE for t in held)
        if pending or serving:
            # The first held ticket decides: an open offer is offered again, a contact in
            # service refuses (the order of the two is the database's).
            if error is not None:
                assert serving
                assert_refused(error, Expected(Refused, "officer.already_serving"))
                return None
            assert result.id in pending
            return str(result.id)
        waiting = [
            t
            for t in self.tickets.values()
            if t.state is S.WAITING and t.language in OFFICERS[name]
        ]
        assert error is None, repr(error)
        if not waiting:
            assert result is None
            return None
        best = min(waiting, key=lambda t: (t.rank_at, t.taken_at, t.id))
        assert result is not None and result.id == best.id, (result, best)
        best.state = S.OFFERED
        best.officer = officer
        best.lease = self.now() + self.policy.offer_timeout
        self.offers += 1
        return best.id

    @precondition(lambda self: self.tickets)
    @rule(name=st.sampled_from(NAMES), index=st.integers(0, 1000), own=OWN)
    def accept(self, name: str, index: int, own: bool) -> None:
        officer = self.officers[name]
        self.accept_one(officer, self.pick(officer, index, own, S.OFFERED, S.TRANSFERRED))

    def accept_one(self, officer: int, ticket: Model) -> None:
        result, error = attempt(lambda: queue.accept_ticket(self.ctx, officer, ticket.id))
        if ticket.state is S.IN_SERVICE and ticket.officer == officer:
            assert error is None and result.state is S.IN_SERVICE
            return
        if ticket.officer != officer:
            assert_refused(error, Expected(Refused, "ticket.not_yours"))
        elif ticket.state not in (S.OFFERED, S.TRANSFERRED):
            assert_refused(error, Expected(Refused, "ticket.illegal_transition"))
        elif self.busy_elsewhere(officer, ticket):
            assert_refused(error, Expected(Refused, "officer.already_serving"))
        else:
            assert error is None, repr(error)
            ticket.state = S.IN_SERVICE
            ticket.lease = self.now() + self.policy.service_lease
            self.status[officer] = OfficerStatus.BUSY

    @precondition(lambda self: self.tickets)
    @rule(
        name=st.sampled_from(NAMES),
        index=st.integers(0, 1000),
        own=OWN,
        outcome=st.sampled_from(list(Outcome)),
    )
    def finish(self, name: str, index: int, own: bool, outcome: Outcome) -> None:
        officer = self.officers[name]
        ticket = self.pick(officer, index, own, S.IN_SERVICE, S.ON_HOLD)
        result, error = attempt(lambda: queue.finish_ticket(self.ctx, officer, ticket.id, outcome))
        if ticket.outcome is outcome and ticket.officer == officer:
            assert error is None and result.outcome is outcome  # a retried request
            return
        allowed = {S.IN_SERVICE} if outcome is Outcome.NO_SHOW else {S.IN_SERVICE, S.ON_HOLD}
        if ticket.officer != officer:
            assert_refused(error, Expected(Refused, "ticket.not_yours"))
        elif ticket.state not in allowed:
            assert_refused(error, Expected(Refused, "ticket.illegal_transition"))
        else:
            assert error is None, repr(error)
            ticket.outcome = outcome
            self.close(ticket, S.NO_SHOW if outcome is Outcome.NO_SHOW else S.FINISHED)
            if not any(t.state is S.IN_SERVICE for t in self.held_by(officer)):
                self.status[officer] = OfficerStatus.WRAP_UP

    @precondition(lambda self: self.tickets)
    @rule(
        name=st.sampled_from(NAMES),
        index=st.integers(0, 1000),
        own=OWN,
        resume=st.booleans(),
    )
    def hold_or_resume(self, name: str, index: int, own: bool, resume: bool) -> None:
        officer = self.officers[name]
        ticket = self.pick(officer, index, own, S.ON_HOLD if resume else S.IN_SERVICE)
        step = queue.resume_ticket if resume else queue.hold_ticket
        _, error = attempt(lambda: step(self.ctx, officer, ticket.id))
        source = S.ON_HOLD if resume else S.IN_SERVICE
        if ticket.officer != officer:
            assert_refused(error, Expected(Refused, "ticket.not_yours"))
        elif ticket.state is not source:
            assert_refused(error, Expected(Refused, "ticket.illegal_transition"))
        elif resume and self.busy_elsewhere(officer, ticket):
            assert_refused(error, Expected(Refused, "officer.already_serving"))
        else:
            assert error is None, repr(error)
            ticket.state = S.IN_SERVICE if resume else S.ON_HOLD
            ticket.lease = self.now() + self.policy.service_lease
            if resume:
                self.status[officer] = OfficerStatus.BUSY

    @precondition(lambda self: self.tickets)
    @rule(
        name=st.sampled_from(NAMES),
        index=st.integers(0, 1000),
        own=OWN,
        to=st.one_of(st.none(), st.sampled_from(NAMES)),
    )
    def transfer(self, name: str, index: int, own: bool, to: str | None) -> None:
        officer = self.officers[name]
        target = None if to is None else self.officers[to]
        ticket = self.pick(officer, index, own, S.IN_SERVICE, S.ON_HOLD, S.TRANSFERRED)
        _, error = attempt(
            lambda: queue.transfer_ticket(
                self.ctx, officer, ticket.id, to_officer_id=target, note="over to you"
            )
        )
        if ticket.officer != officer:
            assert_refused(error, Expected(Refused, "ticket.not_yours"))
        elif target is None:
            if ticket.state not in HELD_STATES:
                assert_refused(error, Expected(Refused, "ticket.illegal_transition"))
            else:
                assert error is None, repr(error)
                self.to_queue(ticket)
                self.wrap_up_if_idle(officer)
        elif target == officer:
            assert_refused(error, Expected(Refused, "ticket.transfer_to_self"))
        elif ticket.state not in (S.IN_SERVICE, S.ON_HOLD, S.TRANSFERRED):
            assert_refused(error, Expected(Refused, "ticket.illegal_transition"))
        else:
            assert error is None, repr(error)
            ticket.state = S.TRANSFERRED
            ticket.officer = target
            ticket.lease = self.now() + self.policy.offer_timeout
            self.wrap_up_if_idle(officer)

    def wrap_up_if_idle(self, officer: int) -> None:
        """Handing over one's last contact in service moves a busy officer to wrap-up."""
        serving = any(t.state is S.IN_SERVICE for t in self.held_by(officer))
        if self.status[officer] is OfficerStatus.BUSY and not serving:
            self.status[officer] = OfficerStatus.WRAP_UP

    @rule(
        name=st.sampled_from(NAMES),
        status=st.sampled_from(
            [OfficerStatus.AVAILABLE, OfficerStatus.OFFLINE, OfficerStatus.BREAK]
        ),
    )
    def set_status(self, name: str, status: OfficerStatus) -> None:
        """Offline is also what a lost connection sets: every held ticket goes back, flagged."""
        officer = self.officers[name]
        _, error = attempt(lambda: queue.set_officer_status(self.ctx, officer, status))
        held = self.held_by(officer)
        if status is OfficerStatus.OFFLINE:
            assert error is None, repr(error)
            for ticket in held:
                self.to_queue(ticket)
        elif any(t.state is S.IN_SERVICE for t in held):
            assert_refused(error, Expected(Refused, "officer.serving"))
            return
        assert error is None, repr(error)
        self.status[officer] = status

    def renew_leases(self, officer: int) -> None:
        renewed = queue.renew_leases(self.ctx, officer)
        serving = [t for t in self.held_by(officer) if t.state in (S.IN_SERVICE, S.ON_HOLD)]
        assert renewed == len(serving)
        for ticket in serving:
            ticket.lease = self.now() + self.policy.service_lease

    # -- time -----------------------------------------------------------------------------

    @rule(seconds=st.sampled_from(WAITS), consoles_alive=CONSOLES_ALIVE)
    def time_passes(self, seconds: int, consoles_alive: bool) -> None:
        """Time passes; live consoles renew their leases, and the sweeper returns what ran out."""
        if consoles_alive:
            for officer in self.officers.values():
                self.renew_leases(officer)
        self.clock.advance(seconds=seconds)
        released = queue.release_expired(self.ctx)
        expired = [
            t
            for t in self.tickets.values()
            if t.state in HELD_STATES and t.lease is not None and t.lease <= self.now()
        ]
        assert released == len(expired)
        for ticket in expired:
            self.to_queue(ticket)

    # -- invariants -----------------------------------------------------------------------

    @invariant()
    def the_database_agrees_with_the_model(self) -> None:
        with self.container.engine.connect() as conn:
            rows = {row.id: row for row in conn.execute(select(schema.tickets))}
            staff = {row.id: row.status for row in conn.execute(select(schema.staff))}
            counts = dict(
                conn.execute(
                    select(schema.events.c.type, func.count()).group_by(schema.events.c.type)
                ).all()
            )
        # None lost, none duplicated (ids are the primary key; numbers must be too).
        assert set(rows) == set(self.tickets)
        assert len({row.number for row in rows.values()}) == len(rows)
        in_hand: dict[int, int] = {}
        for ticket_id, row in rows.items():
            model = self.tickets[ticket_id]
            state = S(row.state)
            assert (state, row.officer_id) == (model.state, model.officer), model
            assert row.lease_expires_at == model.lease, model
            assert row.is_returned == model.is_returned and row.number == model.number
            assert (row.outcome or None) == (model.outcome.value if model.outcome else None)
            # A held ticket has exactly one holder and a lease; a waiting one has neither.
            if state in HELD_STATES:
                assert row.officer_id is not None and row.lease_expires_at is not None
            elif state is S.WAITING:
                assert row.officer_id is None and row.lease_expires_at is None
            if state in (S.OFFERED, S.IN_SERVICE):
                in_hand[row.officer_id] = in_hand.get(row.officer_id, 0) + 1
            # Closed is final.
            if ticket_id in self.ever_closed:
                assert state in CLOSED_STATES, f"{model.number} reopened as {state}"
        assert all(count <= 1 for count in in_hand.values()), in_hand
        for officer, status in self.status.items():
            assert OfficerStatus(staff[officer]) is status, self.names[officer]
        assert counts.get("ticket.taken", 0) == len(self.tickets)
        assert counts.get("ticket.offered", 0) == self.offers


def checked(**overrides: Any) -> settings:
    values: dict[str, Any] = {
        "max_examples": 40,
        "stateful_step_count": 30,
        "deadline": None,
        "suppress_health_check": [HealthCheck.too_slow],
    }
    values.update(overrides)
    return settings(**values)


def on_sqlite(template: Path, folder: Path) -> type[QueueMachine]:
    """The machine on a fresh copy of the migrated SQLite template per run."""

    def fresh_database() -> tuple[str, Path]:
        data_dir = folder / uuid.uuid4().hex
        data_dir.mkdir()
        shutil.copy(template, data_dir / "loket.db")
        return f"sqlite:///{data_dir / 'loket.db'}", data_dir

    class OnSqlite(QueueMachine):
        pass

    OnSqlite.fresh_database = staticmethod(fresh_database)
    return OnSqlite


def test_random_interleavings_never_lose_duplicate_or_reopen_a_ticket_on_sqlite(
    sqlite_template: Path, tmp_path: Path
) -> None:
    run_state_machine_as_test(on_sqlite(sqlite_template, tmp_path), settings=checked())


@pytest.mark.postgres
def test_random_interleavings_never_lose_duplicate_or_reopen_a_ticket_on_postgresql(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url: str = request.getfixturevalue("postgres_url")

    def fresh_database() -> tuple[str, Path]:
        _truncate(url)
        return url, tmp_path

    class OnPostgres(QueueMachine):
        pass

    OnPostgres.fresh_database = staticmethod(fresh_database)
    run_state_machine_as_test(OnPostgres, settings=checked(max_examples=12))


# Interleavings the random runs reach only rarely, replayed step by step on the same model.
# Each failed before accept_ticket and resume_ticket refused a second contact in hand.


@pytest.fixture
def machine(sqlite_template: Path, tmp_path: Path) -> Iterator[QueueMachine]:
    built = on_sqlite(sqlite_template, tmp_path)()
    yield built
    built.teardown()


def state_of(machine: QueueMachine, number: str) -> tuple[TicketState, str | None]:
    (ticket,) = [t for t in machine.tickets.values() if t.number == number]
    holder = None if ticket.officer is None else machine.names[ticket.officer]
    return ticket.state, holder


def test_an_officer_in_service_accepts_a_transferred_contact_only_after_finishing(
    machine: QueueMachine,
) -> None:
    machine.the_morning_has_started([("nl", 0), ("nl", 0)], ["ann", "bob"])
    machine.transfer("bob", 0, True, "ann")
    machine.the_database_agrees_with_the_model()
    machine.accept("ann", 0, True)  # refused: officer.already_serving
    machine.the_database_agrees_with_the_model()
    assert state_of(machine, "GNK-002") == (S.TRANSFERRED, "ann")
    machine.finish("ann", 0, True, Outcome.INFORMED)
    machine.accept("ann", 0, True)
    machine.the_database_agrees_with_the_model()
    assert state_of(machine, "GNK-001") == (S.FINISHED, "ann")
    assert state_of(machine, "GNK-002") == (S.IN_SERVICE, "ann")


def test_an_officer_with_an_open_offer_cannot_accept_a_transferred_contact(
    machine: QueueMachine,
) -> None:
    machine.the_morning_has_started([("nl", 0), ("nl", 0)], ["bob"])
    machine.next_ticket("ann", accept=False)
    machine.transfer("bob", 0, True, "ann")
    machine.accept("ann", 0, True)  # GNK-001, transferred: refused while GNK-002 is offered
    machine.the_database_agrees_with_the_model()
    assert state_of(machine, "GNK-001") == (S.TRANSFERRED, "ann")
    assert state_of(machine, "GNK-002") == (S.OFFERED, "ann")


def test_an_officer_cannot_resume_a_held_contact_while_serving_another(
    machine: QueueMachine,
) -> None:
    machine.the_morning_has_started([("nl", 0), ("nl", 0)], ["ann"])
    machine.hold_or_resume("ann", 0, True, resume=False)
    machine.set_status("ann", OfficerStatus.AVAILABLE)
    machine.next_ticket("ann", accept=True)
    machine.the_database_agrees_with_the_model()
    machine.hold_or_resume("ann", 0, True, resume=True)  # refused: officer.already_serving
    machine.the_database_agrees_with_the_model()
    assert state_of(machine, "GNK-001") == (S.ON_HOLD, "ann")
    assert state_of(machine, "GNK-002") == (S.IN_SERVICE, "ann")
    machine.finish("ann", 1, True, Outcome.LISTENED)  # GNK-002, the one in service
    machine.hold_or_resume("ann", 0, True, resume=True)
    machine.the_database_agrees_with_the_model()
    assert state_of(machine, "GNK-001") == (S.IN_SERVICE, "ann")
