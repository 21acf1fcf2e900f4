"""Chat and documents during a contact, on SQLite and PostgreSQL: who may, what is kept, audit."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from loket.adapters.db import schema as t
from loket.adapters.vault import VaultError
from loket.domain.errors import Forbidden, Invalid, NotFound, Refused
from loket.domain.exchange import MAX_DOCUMENTS_PER_CONTACT, Author, AuthorRole
from loket.domain.tickets import Outcome, Ticket
from loket.services import exchange, queue
from tests.conftest import World, add_officer
from tests.unit.test_exchange import JPEG, PDF, PNG

CITIZEN = Author(AuthorRole.CITIZEN, "Citizen")


def contact_in_service(world: World, officer: int) -> Ticket:
    ctx = world.container.queue
    ticket = queue.take_ticket(
        ctx,
        location_slug="houthalen-helchteren",
        service_code="contact.video",
        language="nl",
        channel="kiosk",
    )
    offered = queue.offer_next(ctx, officer)
    assert offered is not None and offered.id == ticket.id
    return queue.accept_ticket(ctx, officer, ticket.id)


def officer_author(officer: int) -> Author:
    return Author(AuthorRole.OFFICER, "An", staff_id=officer)


def audit_rows(world: World) -> list[tuple[str, str, str, str, bool]]:
    a = t.audit_log.c
    with world.container.engine.connect() as conn:
        rows = conn.execute(
            select(a.actor, a.action, a.subject_type, a.subject_id, a.personal_data).order_by(
                a.sequence
            )
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_citizen_and_officer_chat_and_every_read_is_audited(world: World) -> None:
    ctx = world.container.queue
    officer = add_officer(world, "an")
    ticket = contact_in_service(world, officer)
    asked = exchange.post_message(ctx, ticket.id, CITIZEN, "Mijn fiets is gestolen")
    world.container.queue.clock.advance(seconds=5)  # type: ignore[attr-defined]
    answered = exchange.post_message(ctx, ticket.id, officer_author(officer), "Waar stond hij?")

    seen = exchange.read_messages(ctx, ticket.id, officer_author(officer))
    assert [(m.author.role, m.text) for m in seen] == [
        (AuthorRole.CITIZEN, "Mijn fiets is gestolen"),
        (AuthorRole.OFFICER, "Waar stond hij?"),
    ]
    assert [m.id for m in seen] == [asked.id, answered.id]
    assert exchange.read_messages(ctx, ticket.id, CITIZEN) == seen
    trail = audit_rows(world)
    assert ("citizen", "create", "chat_message", asked.id, True) in trail
    assert (f"staff:{officer}", "create", "chat_message", answered.id, True) in trail
    reads = [row for row in trail if row[1] == "read" and row[3] == ticket.id]
    assert [row[0] for row in reads] == [f"staff:{officer}", "citizen"]
    assert all(row[4] for row in reads)


def test_documents_go_both_ways_stored_with_their_hash_and_downloads_audited(
    world: World,
) -> None:
    ctx = world.container.queue
    officer = add_officer(world, "an")
    ticket = contact_in_service(world, officer)
    photo = exchange.add_document(ctx, ticket.id, CITIZEN, filename="fiets.jpg", content=JPEG)
    world.container.queue.clock.advance(seconds=1)  # type: ignore[attr-defined]
    form = exchange.add_document(
        ctx, ticket.id, officer_author(officer), filename="formulier", content=PDF
    )
    listed = exchange.list_documents(ctx, ticket.id, CITIZEN)
    assert [(d.filename, d.content_type.value, d.author.role) for d in listed] == [
        ("fiets.jpg", "image/jpeg", AuthorRole.CITIZEN),
        ("formulier.pdf", "application/pdf", AuthorRole.OFFICER),
    ]
    fetched = exchange.fetch_document(ctx, ticket.id, photo.id, officer_author(officer))
    assert fetched.content == JPEG
    assert fetched.document.sha256 == hashlib.sha256(JPEG).hexdigest()
    assert exchange.fetch_document(ctx, ticket.id, form.id, CITIZEN).content == PDF
    downloads = [row for row in audit_rows(world) if row[1] == "download"]
    assert downloads == [
        (f"staff:{officer}", "download", "document", photo.id, True),
        ("citizen", "download", "document", form.id, True),
    ]


def test_a_bad_file_is_refused_and_nothing_is_stored(world: World) -> None:
    ctx = world.container.queue
    officer = add_officer(world, "an")
    ticket = contact_in_service(world, officer)
    with pytest.raises(Invalid) as refused:
        exchange.add_document(ctx, ticket.id, CITIZEN, filename="x.pdf", content=b"MZ" * 100)
    assert refused.value.code == "document.type_not_allowed"
    assert exchange.list_documents(ctx, ticket.id, CITIZEN) == []
    assert not [row for row in audit_rows(world) if row[2] == "document"]


def test_a_colleague_or_another_ticket_cannot_reach_the_conversation(world: World) -> None:
    ctx = world.container.queue
    an = add_officer(world, "an")
    bo = add_officer(world, "bo")
    mine = contact_in_service(world, an)
    theirs = contact_in_service(world, bo)
    document = exchange.add_document(ctx, mine.id, CITIZEN, filename="a", content=PNG)
    with pytest.raises(Forbidden) as refused:
        exchange.read_messages(ctx, mine.id, officer_author(bo))
    assert refused.value.code == "contact.not_participant"
    with pytest.raises(Forbidden):
        exchange.fetch_document(ctx, mine.id, document.id, officer_author(bo))
    # The document's id does not open it through another contact, even one's own.
    with pytest.raises(NotFound) as unknown:
        exchange.fetch_document(ctx, theirs.id, document.id, officer_author(bo))
    assert unknown.value.code == "document.unknown"


def test_after_the_contact_the_citizen_is_out_and_the_officer_keeps_the_record(
    world: World,
) -> None:
    ctx = world.container.queue
    officer = add_officer(world, "an")
    ticket = contact_in_service(world, officer)
    exchange.post_message(ctx, ticket.id, CITIZEN, "Dank u")
    queue.finish_ticket(ctx, officer, ticket.id, Outcome.INFORMED)
    for call in (
        lambda: exchange.read_messages(ctx, ticket.id, CITIZEN),
        lambda: exchange.post_message(ctx, ticket.id, CITIZEN, "nog iets"),
        lambda: exchange.post_message(ctx, ticket.id, officer_author(officer), "tot ziens"),
    ):
        with pytest.raises(Refused) as refused:
            call()
        assert refused.value.code == "contact.not_in_progress"
    kept = exchange.read_messages(ctx, ticket.id, officer_author(officer))
    assert [m.text for m in kept] == ["Dank u"]


def test_a_contact_holds_a_bounded_number_of_documents(world: World) -> None:
    ctx = world.container.queue
    officer = add_officer(world, "an")
    ticket = contact_in_service(world, officer)
    for index in range(MAX_DOCUMENTS_PER_CONTACT):
        exchange.add_document(ctx, ticket.id, CITIZEN, filename=f"p{index}", content=PNG)
    with pytest.raises(Refused) as refused:
        exchange.add_document(ctx, ticket.id, CITIZEN, filename="one more", content=PNG)
    assert refused.value.code == "document.too_many"
    with world.container.engine.connect() as conn:
        stored = conn.execute(select(t.contact_documents.c.id)).all()
    assert len(stored) == MAX_DOCUMENTS_PER_CONTACT


def test_a_documents_content_is_sealed_in_the_database_and_bound_to_its_row(
    world: World,
) -> None:
    ctx = world.container.queue
    officer = add_officer(world, "an")
    ticket = contact_in_service(world, officer)
    first = exchange.add_document(ctx, ticket.id, CITIZEN, filename="a", content=PDF)
    world.container.queue.clock.advance(seconds=1)  # type: ignore[attr-defined]
    second = exchange.add_document(ctx, ticket.id, CITIZEN, filename="b", content=PNG)
    d = t.contact_documents.c
    with world.container.engine.connect() as conn:
        stored = dict(conn.execute(select(d.id, d.content)).all())
    assert b"%PDF" not in stored[first.id] and b"PNG" not in stored[second.id]
    # Swapping the sealed contents of two rows does not hand out one as the other.
    with world.container.engine.begin() as conn:
        conn.execute(
            t.contact_documents.update().where(d.id == first.id).values(content=stored[second.id])
        )
    with pytest.raises(VaultError):
        exchange.fetch_document(ctx, ticket.id, first.id, CITIZEN)
    assert exchange.fetch_document(ctx, ticket.id, second.id, CITIZEN).content == PNG
