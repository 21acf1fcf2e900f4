"""The service monitor through its services, on SQLite and PostgreSQL: roll-up, live figures
and anonymous surveys."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from loket.adapters.db import schema as t
from loket.domain.errors import NotFound, Refused
from loket.domain.tickets import Outcome
from loket.services import figures as figure_service
from loket.services import queue
from loket.services import surveys as survey_service
from tests.conftest import FakeClock, World, add_officer

DESKS = ("genk-politiehuis", "online")  # open day and night
OUTCOMES = [Outcome.LISTENED, Outcome.INFORMED, Outcome.REFERRED, Outcome.MEDIATED]


def play_a_morning(world: World, clock: FakeClock, seed: int = 5) -> list[str]:
    """Tickets taken, served, given up and missed over a few hours; some still open."""
    rng = random.Random(seed)
    officer = add_officer(world, "an")
    ctx = world.container.queue
    ids = []
    for number in range(24):
        ticket = queue.take_ticket(
            ctx,
            location_slug=DESKS[number % 2],
            service_code=rng.choice(["contact.video", "info.general"]),
            language="nl",
            channel=rng.choice(["kiosk", "home"]),
        )
        ids.append(ticket.id)
        clock.advance(minutes=rng.choice([1, 3, 7]))
        fate = rng.random()
        if number >= 21:
            continue  # still waiting at the end
        if fate < 0.15:
            queue.cancel_ticket(ctx, ticket.id)
            continue
        clock.advance(seconds=rng.randrange(0, 900))
        offered = queue.offer_next(ctx, officer)
        assert offered is not None
        queue.accept_ticket(ctx, officer, offered.id)
        clock.advance(minutes=rng.choice([2, 5, 11]))
        outcome = Outcome.NO_SHOW if fate > 0.9 else rng.choice(OUTCOMES)
        queue.finish_ticket(ctx, officer, offered.id, outcome)
    return ids


def independent_figures(world: World, target_minutes: int) -> dict[str, int]:
    """Counted straight from the tickets table, without the figures' code."""
    with world.container.engine.connect() as conn:
        rows = conn.execute(select(t.tickets)).all()
    now = world.container.queue.clock.now()
    target = timedelta(minutes=target_minutes)
    met = counted = 0
    for row in rows:
        taken = (
            row.taken_at.replace(tzinfo=now.tzinfo) if row.taken_at.tzinfo is None else row.taken_at
        )
        accepted = row.accepted_at
        finished = row.finished_at
        if accepted is not None:
            accepted = accepted if accepted.tzinfo else accepted.replace(tzinfo=now.tzinfo)
            counted += 1
            met += accepted - taken <= target
        else:
            end = finished if finished is not None else now
            end = end if end.tzinfo else end.replace(tzinfo=now.tzinfo)
            counted += end - taken > target
    return {
        "contacts": len(rows),
        "called": sum(1 for r in rows if r.accepted_at is not None),
        "finished": sum(1 for r in rows if r.state == "finished"),
        "no_shows": sum(1 for r in rows if r.state == "no_show"),
        "gave_up": sum(1 for r in rows if r.state == "cancelled"),
        "listened": sum(1 for r in rows if r.outcome == "listened"),
        "met": met,
        "counted": counted,
    }


def assert_matches(found: figure_service.Figures, expected: dict[str, int]) -> None:
    total = found.total
    assert total.contacts == expected["contacts"]
    assert total.called == expected["called"]
    assert total.finished == expected["finished"]
    assert total.no_shows == expected["no_shows"]
    assert total.gave_up == expected["gave_up"]
    assert total.outcomes["listened"] == expected["listened"]
    assert (total.level.met, total.level.counted) == (expected["met"], expected["counted"])


def test_figures_match_an_independent_count_before_during_and_after_the_roll_up(
    world: World, clock: FakeClock
) -> None:
    ctx = world.container.figures
    play_a_morning(world, clock)
    today = ctx.today()
    expected = independent_figures(world, 10)
    # Nothing rolled up yet: everything is read live.
    assert_matches(figure_service.figures(ctx, today, today), expected)
    # Rolled up (all but the last minutes): the same figures, now mostly from the roll-up.
    added = figure_service.roll_up(ctx)
    assert added > 0
    assert_matches(figure_service.figures(ctx, today, today), expected)
    clock.advance(minutes=5)
    figure_service.roll_up(ctx)
    expected = independent_figures(world, 10)
    found = figure_service.figures(ctx, today, today)
    assert_matches(found, expected)
    # A second roll-up adds nothing twice; a rebuild gives the same figures.
    assert figure_service.roll_up(ctx) == 0
    figure_service.rebuild(ctx)
    assert_matches(figure_service.figures(ctx, today, today), expected)
    # The marginals add up to the total.
    assert sum(g.summary.contacts for g in found.by_location) == expected["contacts"]
    assert sum(g.summary.contacts for g in found.by_channel) == expected["contacts"]
    assert sum(s.contacts for _, s in found.by_hour) == expected["contacts"]
    assert sum(s.contacts for _, s in found.by_day) == expected["contacts"]


def test_figures_of_one_desk_and_of_other_days(world: World, clock: FakeClock) -> None:
    ctx = world.container.figures
    play_a_morning(world, clock)
    clock.advance(hours=1)
    figure_service.roll_up(ctx)
    today = ctx.today()
    with world.container.queue.uow(read_only=True) as uow:
        online = uow.locations.by_slug("online")
    everything = figure_service.figures(ctx, today, today)
    only_online = figure_service.figures(ctx, today, today, location_id=online.id)
    online_group = next(g for g in everything.by_location if g.location_id == online.id)
    assert only_online.total.contacts == online_group.summary.contacts
    assert 0 < only_online.total.contacts < everything.total.contacts
    yesterday = today - timedelta(days=1)
    assert figure_service.figures(ctx, yesterday, yesterday).total.contacts == 0
    with pytest.raises(Exception) as refused:
        figure_service.figures(ctx, today, yesterday)
    assert getattr(refused.value, "code", None) == "figures.invalid_range"


def test_a_survey_answer_keeps_the_kind_of_contact_and_nothing_personal(
    world: World, clock: FakeClock
) -> None:
    officer = add_officer(world, "an")
    qctx = world.container.queue
    ticket = queue.take_ticket(
        qctx, location_slug="bree", service_code="info.general", language="fr", channel="kiosk"
    )
    with pytest.raises(Refused):
        survey_service.offer_for_ticket(world.container.surveys, ticket.id)  # not served yet
    queue.offer_next(qctx, officer)
    queue.accept_ticket(qctx, officer, ticket.id)
    queue.finish_ticket(qctx, officer, ticket.id, Outcome.INFORMED)
    sctx = world.container.surveys
    token = survey_service.offer_for_ticket(sctx, ticket.id)
    assert survey_service.offer_for_ticket(sctx, ticket.id) == token  # the same survey again
    assert survey_service.open_survey(sctx, token).language == "fr"
    survey_service.answer_survey(
        sctx,
        token,
        {"satisfaction": "4", "helped": "yes", "ease": "5", "again": "no",
         "comment": "Vriendelijk. Bel me op 0612345678 of mail jan@example.org"},
    )  # fmt: skip
    with pytest.raises(Refused) as twice:
        survey_service.answer_survey(sctx, token, {"satisfaction": "1"})
    assert twice.value.code == "survey.already_answered"
    with pytest.raises(Refused):
        survey_service.offer_for_ticket(sctx, ticket.id)

    with world.container.engine.connect() as conn:
        answers = [dict(row._mapping) for row in conn.execute(select(t.survey_answers))]
        invitations = [dict(row._mapping) for row in conn.execute(select(t.survey_invitations))]
    assert len(answers) == 1
    answer = answers[0]
    # Only the kind of contact and the day: no ticket, number, time of day, or personal data.
    assert set(answer) == {
        "id", "answered_on", "location_id", "service_code", "channel", "outcome", "language",
        "s1", "s2", "s3", "s4", "s5", "s6", "comment",
    }  # fmt: skip
    stored = " ".join(str(value) for value in answer.values())
    assert ticket.id not in stored and ticket.number not in stored and token not in stored
    assert "0612345678" not in stored and "jan@example.org" not in stored
    assert (answer["service_code"], answer["channel"], answer["outcome"]) == (
        "info.general", "kiosk", "informed",
    )  # fmt: skip
    assert (answer["s1"], answer["s2"], answer["s3"], answer["s4"]) == (4, 1, 5, 0)
    assert answer["id"] != ticket.id and not answer["id"].startswith(ticket.id[:16])
    # The invitation keeps the token's hash only, and forgot the contact once answered.
    assert len(invitations) == 1
    invitation = invitations[0]
    assert invitation["token_hash"] != token and len(invitation["token_hash"]) == 64
    assert invitation["location_id"] is None and invitation["service_code"] is None
    # And the answer counts in the figures of its desk.
    found = figure_service.figures(
        world.container.figures, clock.current.date(), clock.current.date()
    )
    assert found.satisfaction.responses == 1
    assert found.satisfaction.mean(found.headline_slot) == 4


def test_a_survey_token_that_was_never_offered_is_unknown(world: World) -> None:
    with pytest.raises(NotFound):
        survey_service.open_survey(world.container.surveys, "0" * 32)
    with pytest.raises(NotFound):
        survey_service.open_survey(world.container.surveys, "../etc")


def test_a_survey_cannot_be_answered_after_two_weeks(world: World, clock: FakeClock) -> None:
    officer = add_officer(world, "an")
    qctx = world.container.queue
    ticket = queue.take_ticket(
        qctx, location_slug="bree", service_code="info.general", language="nl", channel="home"
    )
    queue.offer_next(qctx, officer)
    queue.accept_ticket(qctx, officer, ticket.id)
    queue.finish_ticket(qctx, officer, ticket.id, Outcome.LISTENED)
    token = survey_service.offer_for_ticket(world.container.surveys, ticket.id)
    clock.advance(days=15)
    with pytest.raises(Refused) as late:
        survey_service.answer_survey(world.container.surveys, token, {"satisfaction": "5"})
    assert late.value.code == "survey.expired"
