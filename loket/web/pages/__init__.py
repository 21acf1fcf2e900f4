"""Server-rendered pages: the Jinja environment and the one render function every page uses."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from loket import __version__
from loket.web.i18n import RIGHT_TO_LEFT, gettext_for

# Each language named in itself, so a citizen finds their own without reading ours.
NATIVE_NAMES = {
    "nl": "Nederlands",
    "en": "English",
    "fr": "Français",
    "de": "Deutsch",
    "ar": "العربية",
    "tr": "Türkçe",
    "pl": "Polski",
    "uk": "Українська",
}


@cache
def environment() -> jinja2.Environment:
    loader = jinja2.FileSystemLoader(str(files("loket.web") / "templates"))
    env = jinja2.Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static"] = lambda path: f"/static/{path}?v={__version__}"
    env.globals["native_names"] = NATIVE_NAMES
    return env


def render(
    request: Request,
    template: str,
    language: str,
    *,
    status_code: int = 200,
    personal: bool = False,
    **context: Any,
) -> HTMLResponse:
    """Render `template` in `language`. `personal` pages are never stored by any cache."""
    translations = gettext_for(language)
    html = (
        environment()
        .get_template(template)
        .render(
            request=request,
            _=translations.gettext,
            ngettext=translations.ngettext,
            lang=language,
            dir="rtl" if language in RIGHT_TO_LEFT else "ltr",
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Cache-Control"] = "no-store" if personal else "no-cache"
    response.headers["Content-Language"] = language
    return response


def at_kiosk_and_home(
    router: APIRouter, method: str, path: str, endpoint: Any, name: str, suffix: str = ""
) -> None:
    """Serve a citizen step at a kiosk (/kiosk/{slug}{path}) and at home ({path}).

    Route names: `{name}{suffix}` at home, `{name}_kiosk{suffix}` at a kiosk.
    """
    for prefix in ("/kiosk/{slug}", ""):
        router.add_api_route(
            prefix + path,
            endpoint,
            methods=[method],
            response_class=HTMLResponse,
            name=f"{name}{'_kiosk' if prefix else ''}{suffix}",
        )
