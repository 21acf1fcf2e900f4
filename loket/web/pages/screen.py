"""The info screen at a desk: who waits, who is called to which booth, and the other desks."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, Response

from loket.adapters.db.event_log import EventLog
from loket.domain.i18n import N_
from loket.domain.locations import Location
from loket.services import locations as location_service
from loket.services import queue as queue_service
from loket.web.deps import ContainerDep
from loket.web.i18n import LANGUAGES, gettext_for
from loket.web.pages import environment, render

router = APIRouter(include_in_schema=False)

# How far back in the event log the screen looks for the booths of recent calls: the board
# knows who was called, only the `ticket.called` event knows where to.
BOOTH_LOOKBACK = 2000
# What fits on a 16:9 screen at five-metre type: the current call and three before it, and
# ten waiting numbers ("and 4 more" after that).
RECENT_CALLS = 4
WAITING_SHOWN = 10

# Texts the script needs; kept here so extraction finds them and the screen stays in sync.
SCREEN_TEXT = {
    "booth": N_("Booth %(booth)s"),
    "your_turn": N_("Your turn"),
    "nobody_called": N_("No one has been called yet."),
    "nobody_waiting": N_("Nobody is waiting."),
    "more_waiting": N_("and %(count)s more"),
    "nobody_elsewhere": N_("Nobody is waiting at the other desks."),
}


def screen_language(request: Request, location: Location) -> str:
    """The desk's first language; `?lang=` overrides (a second screen for visitors)."""
    explicit = request.query_params.get("lang")
    if explicit in LANGUAGES:
        return explicit  # type: ignore[return-value]
    first = location.languages[0]
    return first if first in LANGUAGES else "nl"


def recent_booths(event_log: EventLog, location_id: int) -> dict[str, str]:
    """Ticket number -> booth, from the latest `ticket.called` events of this desk."""
    start = max(0, event_log.last_seq() - BOOTH_LOOKBACK)
    booths: dict[str, str] = {}
    for event in event_log.after(start, limit=BOOTH_LOOKBACK, location_id=location_id):
        if event.type != "ticket.called":
            continue
        number = event.payload.get("ticket", {}).get("number")
        booth = event.payload.get("booth")
        if isinstance(number, str) and isinstance(booth, str) and booth:
            booths[number] = booth
    return booths


def board_state(container: Any, location: Location) -> dict[str, Any]:
    """The screen's whole state as JSON: the desk's board and the booths of recent calls."""
    assert location.id is not None
    board = queue_service.location_board(container.queue, location.slug, called=RECENT_CALLS)
    state: dict[str, Any] = jsonable_encoder(board)
    state["booths"] = recent_booths(container.event_log, location.id)
    return state


def audio_for(language: str) -> dict[str, str] | None:
    """The spoken calls of `language`, if rendered (scripts/render_announcements.py)."""
    folder = files("loket.web") / "static" / "audio" / language
    if not (folder / "announcements.json").is_file():
        return None
    static = environment().globals["static"]
    return {
        "index": static(f"audio/{language}/announcements.json"),
        "sound": static(f"audio/{language}/announcements.ogg"),
    }


@router.get("/screen/{slug}", response_class=HTMLResponse)
def screen_page(request: Request, slug: str, container: ContainerDep) -> Response:
    location = location_service.get_location(container.queue, slug)
    language = screen_language(request, location)
    state = board_state(container, location)
    others = {
        other.code: other.name
        for other in location_service.list_locations(container.queue)
        if other.id != location.id
    }
    translate = gettext_for(language).gettext
    page_text = {
        "slug": location.slug,
        "text": {key: translate(message) for key, message in SCREEN_TEXT.items()},
        "names": others,
        "audio": audio_for(language),
        "state": state,
        "limits": {"recent_calls": RECENT_CALLS, "waiting_shown": WAITING_SHOWN},
    }
    return render(
        request,
        "screen/screen.html",
        language,
        location=location,
        state=state,
        names=others,
        shown=WAITING_SHOWN,
        page_text=page_text,
    )


@router.get("/screen/{slug}/board")
def screen_board(slug: str, container: ContainerDep) -> Response:
    """The same state as JSON: the screen refreshes the other desks' counts from it."""
    location = location_service.get_location(container.queue, slug)
    return JSONResponse(board_state(container, location), headers={"Cache-Control": "no-store"})
