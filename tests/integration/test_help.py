"""Calls for the host on SQLite and PostgreSQL: the use cases, the pages, and the live streams."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from loket.adapters.db import schema as t
from loket.domain.errors import Invalid, NotFound, Refused
from loket.domain.help import HelpState
from loket.domain.staff import Role
from loket.services import help as help_service
from loket.services import queue
from loket.web import ws as ws_module
from loket.web.app import create_app
from loket.web.pages import host as host_pages
from tests.conftest import PASSWORD, World, add_officer
from tests.integration.test_streams import HH, SCREEN, assert_silent, receive

BREE = "bree"


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    # https: the cookies are __Host- prefixed and Secure.
    app = create_app(container=world.container)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient, world: World, username: str) -> None:
    page = client.get("/staff/sign-in")
    form = {"username": username, "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    assert client.post("/staff/sign-in", data=form).status_code == 303
    code = {"code": world.code(username), "csrf_token": csrf_of(page.text)}
    answer = client.post("/staff/sign-in/code", data=code)
    assert answer.status_code == 303, answer.text


def help_events(world: World) -> list[tuple[str, str]]:
    return [
        (e.type, e.payload["help"]["state"])
        for e in world.container.event_log.after(0, limit=10_000)
        if e.type.startswith("help.")
    ]


# -- the use cases --------------------------------------------------------------------------


def test_a_call_is_stored_open_and_announced_once(world: World) -> None:
    call = help_service.request_help(world.container.queue, location_slug=BREE, kiosk="Kiosk 1")
    assert call.state is HelpState.OPEN
    assert call.location_code == "BRE"
    [active] = help_service.active_help(world.container.queue, BREE)
    assert (active.id, active.kiosk, active.requested_at) == (call.id, "Kiosk 1", call.requested_at)
    assert help_service.active_help(world.container.queue, HH) == []
    assert help_events(world) == [("help.requested", "open")]
    [logged] = [e for e in world.container.event_log.after(0) if e.type == "help.requested"]
    assert logged.location_id == call.location_id


def test_a_second_press_at_the_same_desk_returns_the_open_call(world: World) -> None:
    ctx = world.container.queue
    first = help_service.request_help(ctx, location_slug=BREE, kiosk="Kiosk 1")
    again = help_service.request_help(ctx, location_slug=BREE, kiosk="Kiosk 2")
    assert again.id == first.id
    other_desk = help_service.request_help(ctx, location_slug=HH)
    assert other_desk.id != first.id
    with world.container.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.help_requests)).scalar_one() == 2
    assert len(help_events(world)) == 2


def test_a_host_acknowledges_and_resolves_and_the_desk_can_call_again(world: World) -> None:
    ctx = world.container.queue
    tom = add_officer(world, "tom", roles=frozenset({Role.HOST}), status=None)
    call = help_service.request_help(ctx, location_slug=BREE)

    acknowledged = help_service.acknowledge_help(ctx, tom, call.id)
    assert acknowledged.state is HelpState.ACKNOWLEDGED
    assert acknowledged.acknowledged_by == tom
    # A press while the host is on the way joins the same call.
    assert help_service.request_help(ctx, location_slug=BREE).id == call.id
    # Two hosts pressing "on my way" at once: the second gets the call back as it is.
    assert help_service.acknowledge_help(ctx, tom, call.id).state is HelpState.ACKNOWLEDGED

    resolved = help_service.resolve_help(ctx, tom, call.id)
    assert resolved.state is HelpState.RESOLVED
    assert resolved.resolved_by == tom
    assert help_service.resolve_help(ctx, tom, call.id).version == resolved.version
    assert help_service.active_help(ctx, BREE) == []

    with pytest.raises(Refused) as refused:
        help_service.acknowledge_help(ctx, tom, call.id)
    assert refused.value.code == "help.illegal_transition"

    fresh = help_service.request_help(ctx, location_slug=BREE)
    assert fresh.id != call.id
    assert help_events(world) == [
        ("help.requested", "open"),
        ("help.acknowledged", "acknowledged"),
        ("help.resolved", "resolved"),
        ("help.requested", "open"),
    ]


def test_unknown_calls_desks_and_odd_kiosk_names_are_refused(world: World) -> None:
    ctx = world.container.queue
    with pytest.raises(NotFound) as unknown:
        help_service.acknowledge_help(ctx, 1, "0" * 32)
    assert unknown.value.code == "help.unknown"
    with pytest.raises(NotFound):
        help_service.request_help(ctx, location_slug="nowhere")
    with pytest.raises(Invalid):
        help_service.request_help(ctx, location_slug=BREE, kiosk="<b>")
    assert help_events(world) == []


def test_the_database_keeps_one_active_call_per_desk_whatever_the_code_does(
    world: World,
) -> None:
    # The race between two nodes that both found no open call: the second insert must fail.
    from loket.domain.errors import ConcurrentUpdate
    from loket.domain.help import HelpRequest

    ctx = world.container.queue
    first = help_service.request_help(ctx, location_slug=BREE)
    racing = HelpRequest.raise_at(
        location_id=first.location_id, location_code="BRE", kiosk=None, at=ctx.clock.now()
    )
    with ctx.uow() as uow, pytest.raises(ConcurrentUpdate):
        uow.help.add(racing)


# -- the kiosk's button and the host's pages ------------------------------------------------


def test_the_kiosk_button_calls_the_host_and_returns_to_the_kiosk(
    client: TestClient, world: World
) -> None:
    token = csrf_of(client.get("/staff/sign-in").text)  # any page bound to the visitor cookie
    answer = client.post(f"/kiosk/{BREE}/help", data={"csrf_token": token, "kiosk": "Kiosk 2"})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/kiosk/{BREE}?helped=1"
    [call] = help_service.active_help(world.container.queue, BREE)
    assert call.kiosk == "Kiosk 2"


def test_the_kiosk_button_without_a_valid_form_token_calls_nobody(
    client: TestClient, world: World
) -> None:
    client.get("/staff/sign-in")
    answer = client.post(f"/kiosk/{BREE}/help", data={"csrf_token": "forged"})
    assert answer.status_code == 403
    assert help_service.active_help(world.container.queue) == []


def test_the_kiosk_button_is_rate_limited_per_address(client: TestClient, world: World) -> None:
    token = csrf_of(client.get("/staff/sign-in").text)
    answers = [
        client.post(f"/kiosk/{BREE}/help", data={"csrf_token": token}).status_code
        for _ in range(host_pages.HELP_PER_MINUTE + 1)
    ]
    assert answers[:-1] == [303] * host_pages.HELP_PER_MINUTE
    assert answers[-1] == 429


def test_a_host_sees_the_call_and_answers_it_with_the_page_forms(
    client: TestClient, world: World
) -> None:
    add_officer(world, "tom", roles=frozenset({Role.HOST}), status=None)
    call = help_service.request_help(world.container.queue, location_slug=BREE, kiosk="Kiosk 1")
    queue.take_ticket(
        world.container.queue,
        location_slug=BREE,
        service_code="contact.video",
        language="fr",
        channel="kiosk",
    )
    sign_in(client, world, "tom")

    chooser = client.get("/host")
    assert chooser.status_code == 200
    assert f'href="/host/{BREE}"' in chooser.text

    page = client.get(f"/host/{BREE}")
    assert page.status_code == 200
    assert f'data-help-id="{call.id}"' in page.text
    assert "BRE-001" in page.text
    assert 'lang="fr"' in page.text
    fragment = client.get(f"/host/{BREE}/live")
    assert f'data-help-id="{call.id}"' in fragment.text
    assert "<html" not in fragment.text

    token = csrf_of(page.text)
    forged = client.post(f"/host/{BREE}/help/{call.id}/acknowledge", data={"csrf_token": "x"})
    assert forged.status_code == 403
    answer = client.post(f"/host/{BREE}/help/{call.id}/acknowledge", data={"csrf_token": token})
    assert answer.status_code == 303 and answer.headers["location"] == f"/host/{BREE}"
    assert 'data-state="acknowledged"' in client.get(f"/host/{BREE}").text
    client.post(f"/host/{BREE}/help/{call.id}/resolve", data={"csrf_token": token})
    assert f'data-help-id="{call.id}"' not in client.get(f"/host/{BREE}").text

    # Acknowledging a call someone already resolved says so on the page, not a crash.
    late = client.post(f"/host/{BREE}/help/{call.id}/acknowledge", data={"csrf_token": token})
    assert late.status_code == 409
    assert 'id="error-summary"' in late.text


@pytest.mark.parametrize(("username", "role"), [("an", Role.OFFICER), ("ad", Role.ADMINISTRATOR)])
def test_the_host_view_is_for_hosts_and_supervisors_only(
    client: TestClient, world: World, username: str, role: Role
) -> None:
    add_officer(world, username, roles=frozenset({role}), status=None)
    add_officer(world, "els", roles=frozenset({Role.SUPERVISOR}), status=None)
    assert client.get(f"/host/{BREE}").status_code == 303  # not signed in: to the sign-in
    sign_in(client, world, username)
    assert client.get("/host").status_code == 403
    assert client.get(f"/host/{BREE}").status_code == 403
    client.cookies.clear()
    sign_in(client, world, "els")
    assert client.get(f"/host/{BREE}").status_code == 200


# -- the screen's page and the streams ------------------------------------------------------


def test_the_screen_shows_the_desk_in_its_first_language_with_the_booth_of_a_call(
    client: TestClient, world: World
) -> None:
    an = add_officer(world, "an")
    ctx = world.container.queue
    for _ in range(2):
        queue.take_ticket(
            ctx, location_slug=HH, service_code="contact.video", language="nl", channel="kiosk"
        )
    offered = queue.offer_next(ctx, an)
    assert offered is not None
    queue.accept_ticket(ctx, an, offered.id, booth="3")

    page = client.get(f"/screen/{HH}")
    assert page.status_code == 200
    assert '<html lang="nl"' in page.text
    assert 'id="called-number">HH-001<' in page.text
    assert "HH-002" in page.text
    assert "3" in page.text.split('id="called-booth">', 1)[1].split("<", 1)[0]
    assert offered.id not in page.text  # the ticket id is the citizen's key
    assert '<html lang="en"' in client.get(f"/screen/{HH}?lang=en").text
    board = client.get(f"/screen/{HH}/board").json()
    assert board["booths"] == {"HH-001": "3"}
    assert board["waiting"][0]["number"] == "HH-002"
    assert client.get("/screen/nowhere").status_code == 404


def test_a_call_for_the_host_reaches_the_desk_stream_and_the_staff_stream(
    client: TestClient, world: World
) -> None:
    with client.websocket_connect(SCREEN) as screen:
        assert receive(screen)["type"] == "snapshot"
        help_service.request_help(world.container.queue, location_slug=BREE)  # another desk
        call = help_service.request_help(world.container.queue, location_slug=HH, kiosk="K1")
        message = receive(screen)
        assert message["type"] == "help.requested"
        assert message["data"]["help"]["id"] == call.id
        assert message["data"]["help"]["kiosk"] == "K1"
        assert_silent(screen)


def test_a_quiet_stream_sends_heartbeats_even_while_other_desks_are_busy(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ws_module, "HEARTBEAT_SECONDS", 0.3)
    with client.websocket_connect(SCREEN) as screen:
        snapshot = receive(screen)
        heartbeat = receive(screen, timeout=2)
        assert heartbeat == {"type": "heartbeat", "seq": snapshot["seq"]}
        # Events of another desk wake the stream but reach no screen here: it still beats.
        for _ in range(3):
            queue.take_ticket(
                world.container.queue,
                location_slug=BREE,
                service_code="contact.video",
                language="nl",
                channel="kiosk",
            )
        beat = receive(screen, timeout=2)
        assert beat["type"] == "heartbeat"
        assert beat["seq"] >= snapshot["seq"]
        call = help_service.request_help(world.container.queue, location_slug=HH)
        message = receive(screen, timeout=2)
        while message["type"] == "heartbeat":
            message = receive(screen, timeout=2)
        assert message["data"]["help"]["id"] == call.id
