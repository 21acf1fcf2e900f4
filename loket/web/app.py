"""The application factory and its lifespan: hub, lease sweeper and event-log pruning."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from importlib.resources import files

import anyio.to_thread
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loket import __version__
from loket.adapters.events.hub import cancel_and_wait, in_thread
from loket.bootstrap import Container, build
from loket.config import Settings
from loket.domain.errors import DomainError
from loket.domain.i18n import N_
from loket.services import callbacks as callback_service
from loket.services import figures as figure_service
from loket.services import queue as queue_service
from loket.services import surveys as survey_service
from loket.web import call_signalling, oidc_test_provider, problems, ws
from loket.web.api import assistant as assistant_api
from loket.web.api import call_drafts, call_exchange, routes
from loket.web.api import callbacks as callback_routes
from loket.web.i18n import gettext_for
from loket.web.metrics import Metrics, MetricsMiddleware
from loket.web.metrics import router as metrics_router
from loket.web.pages import (
    admin,
    calls,
    citizen,
    figures,
    host,
    interpreters,
    officer,
    render,
    report_handover,
    screen,
    staff_auth,
    supervisor,
    surveys,
)
from loket.web.pages import assistant as assistant_pages
from loket.web.pages import callbacks as callback_pages
from loket.web.pages import identification as identification_pages
from loket.web.pages import referrals as referral_pages
from loket.web.pages import report_export as export_pages
from loket.web.pages import reports as report_pages
from loket.web.pages import status as status_pages
from loket.web.pages import tips as tip_pages
from loket.web.ratelimit import RateLimiter
from loket.web.sessions import Signer

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; media-src 'self' blob:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def create_app(settings: Settings | None = None, container: Container | None = None) -> FastAPI:
    settings = settings or (container.settings if container else Settings.from_env())
    owns_container = container is None

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        current = container or build(settings)
        app.state.container = current
        app.state.signer = Signer(current.secret_key)
        if settings.oidc_test_provider:
            log.warning("the built-in TEST login provider is on (/oidc-test): never in production")
            app.state.oidc_test_provider = oidc_test_provider.start_provider(current)
        await current.hub.start()
        await current.call_relay.start()
        tasks = [
            asyncio.create_task(_sweep_leases(current), name="loket-lease-sweeper"),
            asyncio.create_task(_prune_events(current), name="loket-event-pruner"),
            asyncio.create_task(_follow_up_contacts(current), name="loket-figures"),
        ]
        if current.mail_delivery is not None:
            tasks.append(asyncio.create_task(_deliver_mail(current), name="loket-mail"))
        if current.call_board_share is not None:
            tasks.append(asyncio.create_task(_share_calls(current), name="loket-call-board"))
        try:
            yield
        finally:
            await cancel_and_wait(*tasks)
            if current.call_board_share is not None:
                await in_thread(current.call_board_share.withdraw)
            await current.call_relay.stop()
            await current.hub.stop()
            if owns_container:
                current.dispose()

    app = FastAPI(
        title="Loket",
        version=__version__,
        description="Virtual police desks: the central queue, locations and services.",
        lifespan=lifespan,
    )
    app.state.ticket_limiter = RateLimiter(settings.tickets_per_minute)
    app.state.sign_in_limiter = RateLimiter(settings.sign_ins_per_minute)
    # A call page fetches a token per (re)join: a few a minute; this stops guessing ticket ids.
    app.state.call_token_limiter = RateLimiter(settings.tickets_per_minute * 3)
    # Survey answers: their own budget, so a busy kiosk's answers never cost it tickets.
    app.state.survey_limiter = RateLimiter(settings.tickets_per_minute)
    app.state.assistant_limiter = RateLimiter(settings.assistant_messages_per_minute)

    @app.exception_handler(DomainError)
    async def on_domain_error(request: Request, error: DomainError) -> Response:
        if _wants_page(request):
            return error_page(request, error.code, error.params)
        return problems.domain_error_response(request, error)

    @app.exception_handler(staff_auth.SignInRequired)
    async def on_sign_in_required(request: Request, _: Exception) -> Response:
        return RedirectResponse("/staff/sign-in", status_code=303)

    @app.exception_handler(staff_auth.PageForbidden)
    async def on_page_forbidden(request: Request, _: Exception) -> Response:
        return error_page(request, "auth.forbidden", {})

    app.add_exception_handler(citizen.ExpiredForm, citizen.expired_form_page)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return problems.validation_error_response(request, error)

    @app.exception_handler(HTTPException)
    async def on_http_error(request: Request, error: HTTPException) -> Response:
        if _wants_page(request) and error.status_code in (404, 405):
            return error_page(request, "request.not_found", {})
        return problems.http_error_response(request, error)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", tags=["operations"])
    async def readyz(request: Request) -> JSONResponse:
        """The database and the event hub are reachable."""
        current: Container = request.app.state.container
        checks: dict[str, str] = {}
        try:
            await anyio.to_thread.run_sync(current.event_log.ping)
            checks["database"] = "ok"
        except Exception as error:  # reported, not raised: this is the probe's answer
            checks["database"] = f"failed: {type(error).__name__}"
        hub_ok = current.hub.is_running and await current.hub.wake.ping()
        checks["events"] = "ok" if hub_ok else "failed"
        is_ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ok" if is_ready else "unavailable", "checks": checks},
            status_code=200 if is_ready else 503,
        )

    app.state.signer = Signer(b"")  # replaced by the container's key in the lifespan
    app.include_router(routes.router)
    app.include_router(callback_routes.router)
    app.include_router(call_exchange.router)
    app.include_router(call_drafts.router)
    app.include_router(ws.router)
    app.include_router(call_signalling.router)
    app.include_router(metrics_router)
    app.include_router(assistant_api.router)
    # Before citizen's /services/{key}: the assistant's tile leads to the chat.
    app.include_router(assistant_pages.router)
    # Callback pages first: /services/callback is more specific than citizen's /services/{key}.
    pages_in_order = (
        callback_pages, identification_pages, report_pages, report_handover, citizen, screen,
        staff_auth, officer, supervisor, host, admin, calls, interpreters,
        tip_pages, status_pages, referral_pages, export_pages, surveys, figures,
    )  # fmt: skip
    for pages in pages_in_order:
        app.include_router(pages.router)
    if settings.oidc_test_provider:
        # A TEST login with fictional persons (docs/identification.md): never in production.
        app.include_router(oidc_test_provider.router)
    app.mount("/static", CachedStatic(directory=str(files("loket.web") / "static")), name="static")
    # Multipart framing around a document adds a few hundred bytes; 64 KB is ample.
    app.state.metrics = Metrics()
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        upload_max_bytes=settings.max_document_bytes + 64 * 1024,
    )
    return app


def _wants_page(request: Request) -> bool:
    return not request.url.path.startswith(("/api/", "/ws/", "/static/"))


def error_page(request: Request, code: str, params: dict[str, object]) -> Response:
    """An error as a page, in the visitor's language, with a way back."""
    language = problems.language_of(request)
    status, message = problems.MESSAGES.get(code, (400, code))
    translate = gettext_for(language).gettext
    try:
        text = translate(message) % {k: problems.plain(v) for k, v in params.items()}
    except (KeyError, ValueError, TypeError):
        text = translate(message)
    headings = {
        403: N_("You do not have access to this page"),
        404: N_("Page not found"),
    }
    heading = translate(headings.get(status, N_("Something went wrong")))
    return render(
        request,
        "error.html",
        language,
        status_code=status,
        heading=heading,
        message=text,
        back_url="/",
    )


class CachedStatic(StaticFiles):
    """Static files change only with a release (their URLs carry the version)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=86400"
        return response


UPLOAD_SUFFIX = "/documents"


class BodyLimit:
    """Refuses bodies over the limit before the application reads them (413, problem+json)."""

    def __init__(self, app: ASGIApp, max_bytes: int, upload_max_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_max_bytes = upload_max_bytes or max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Only document uploads (POST .../documents) may send large bodies.
        is_upload = scope.get("method") == "POST" and scope["path"].endswith(UPLOAD_SUFFIX)
        limit = self.upload_max_bytes if is_upload else self.max_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(scope, receive, send)
            return
        seen = 0
        refused = False
        started = False

        async def limited() -> Message:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    raise _TooLarge
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            # Once refused, the app's own answer is dropped: FastAPI turns an error while
            # reading the body into a 400 (and middleware may wrap it in an ExceptionGroup).
            if refused:
                return
            started = True
            await send(message)

        try:
            await self.app(scope, limited, guarded)
        except Exception:
            if not refused:
                raise
        if refused and not started:
            await _too_large(scope, receive, send)


class _TooLarge(Exception):
    pass


# A file answer of a report (a page form, not the API): refused by its size, it goes back to
# its question, which says so next to the field.
_REPORT_UPLOAD = re.compile(r"^((?:/kiosk/[a-z0-9-]+)?/report/q/[a-z][a-z0-9_]{0,39})/documents$")


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    page = _REPORT_UPLOAD.match(scope["path"])
    response: Response
    if page is not None:
        response = RedirectResponse(f"{page.group(1)}?too_large=1", status_code=303)
    else:
        response = problems.problem(request, "request.too_large")
    await response(scope, receive, send)


async def _sweep_leases(container: Container) -> None:
    """Returns expired offers and leases to the queue; every node runs one, safely."""
    while True:
        await asyncio.sleep(container.settings.sweep_seconds)
        try:
            await in_thread(queue_service.release_expired, container.queue)
        except Exception:
            log.exception("lease sweep failed; will retry")
        try:
            # Due callbacks enter the queue on the same beat (at most a sweep late).
            await in_thread(callback_service.release_due_callbacks, container.callbacks)
        except Exception:
            log.exception("releasing due callbacks failed; will retry")


async def _deliver_mail(container: Container) -> None:
    """Sends the outbox by SMTP on the sweeper's beat; every node may run one, safely."""
    delivery = container.mail_delivery
    assert delivery is not None
    while True:
        await asyncio.sleep(container.settings.sweep_seconds)
        try:
            await in_thread(delivery.run_once)
        except Exception:
            log.exception("mail delivery failed; will retry")


# How often a node tells the others its running calls (with Redis): a supervisor's view of a
# call on another node is at most this late.
CALL_SHARE_SECONDS = 2.0


async def _share_calls(container: Container) -> None:
    share = container.call_board_share
    assert share is not None
    while True:
        try:
            # Read on the event loop, where the board changes; written to Redis in a thread.
            await in_thread(share.publish, container.call_board.running_calls())
        except Exception:
            log.exception("sharing this node's calls failed; will retry")
        await asyncio.sleep(CALL_SHARE_SECONDS)


async def _prune_events(container: Container) -> None:
    retention = timedelta(hours=container.settings.event_retention_hours)
    while True:
        try:
            cutoff = container.queue.clock.now() - retention
            await in_thread(container.event_log.prune_before, cutoff)
        except Exception:
            log.exception("event log pruning failed; will retry")
        await asyncio.sleep(3600)


async def _follow_up_contacts(container: Container) -> None:
    """The service monitor's beat: roll closed contacts up into the figures, and e-mail the
    survey after video callbacks. Every node runs one; both steps are safe side by side."""
    since = container.surveys.clock.now() - timedelta(days=1)
    while True:
        await asyncio.sleep(container.settings.figures_rollup_seconds)
        try:
            await in_thread(figure_service.roll_up, container.figures)
        except Exception:
            log.exception("rolling up the figures failed; will retry")
        try:
            moment = container.surveys.clock.now()
            await in_thread(survey_service.invite_by_email, container.surveys, since)
            since = moment
        except Exception:
            log.exception("e-mailing survey invitations failed; will retry")
