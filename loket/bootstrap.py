"""The one place that picks concrete adapters from configuration and wires the use cases."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from loket.adapters.assistant import AssistantSource
from loket.adapters.calls.relay import InProcessRelay
from loket.adapters.clock import SystemClock
from loket.adapters.db.engine import make_engine
from loket.adapters.db.event_log import EventLog
from loket.adapters.db.uow import SqlUnitOfWorkFactory
from loket.adapters.events.hub import EventHub, Wake
from loket.adapters.forms import load_forms
from loket.adapters.notify.outbox import OutboxNotifier
from loket.adapters.secret_files import read_or_create
from loket.adapters.security import Argon2Hasher, Totp
from loket.adapters.signing.acknowledgement import ReportLabAcknowledgements
from loket.adapters.signing.pades import ConfiguredSigner
from loket.adapters.signing.render import ReportLabRenderer
from loket.adapters.vault import Vault, load_vault
from loket.config import Settings
from loket.domain.callbacks import CallbackPolicy
from loket.domain.tickets import QueuePolicy
from loket.services.assistant import AssistantContext
from loket.services.callbacks import CallbackContext
from loket.services.calls import CallBoard, CallContext, IceConfig
from loket.services.handover import HandoverContext
from loket.services.ports import Clock, NoScanner, Notifier, PasswordHasher, VirusScanner
from loket.services.queue import QueueContext
from loket.services.reports import ReportContext
from loket.services.staff import StaffContext
from loket.services.statements import StatementContext


@dataclass
class Container:
    settings: Settings
    secret_key: bytes
    engine: Engine
    event_log: EventLog
    hub: EventHub
    queue: QueueContext
    staff: StaffContext
    totp: Totp
    callbacks: CallbackContext
    statements: StatementContext
    vault: Vault
    scanner: VirusScanner
    calls: CallContext
    call_relay: InProcessRelay
    call_board: CallBoard
    reports: ReportContext
    handover: HandoverContext
    assistant: AssistantContext
    assistant_source: AssistantSource

    def dispose(self) -> None:
        self.engine.dispose()


SECRET_FILE = "secret.key"  # noqa: S105 - a file name; the key itself is made at run time


def load_secret_key(settings: Settings) -> bytes:
    """The key that signs cookies: from LOKET_SECRET_KEY, else one kept in the data folder."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.data_dir / SECRET_FILE
    return read_or_create(path, lambda: secrets.token_urlsafe(48).encode()).strip()


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    hasher: PasswordHasher | None = None,
    notifier: Notifier | None = None,
) -> Container:
    engine = make_engine(settings.effective_database_url)
    wake: Wake
    if settings.redis_url:
        from loket.adapters.events.redis_wake import RedisWake

        wake = RedisWake(settings.redis_url)
    else:
        wake = Wake()
    event_log = EventLog(engine)
    hub = EventHub(event_log, wake, poll_seconds=settings.event_poll_seconds)
    vault = load_vault(settings)
    uow = SqlUnitOfWorkFactory(engine, on_commit=wake.announce, vault=vault)
    clock = clock or SystemClock()
    policy = QueuePolicy(
        offer_timeout=timedelta(seconds=settings.offer_timeout_seconds),
        service_lease=timedelta(seconds=settings.service_lease_seconds),
    )
    totp = Totp()
    notifier = notifier or _notifier(settings, engine, clock)
    callbacks = CallbackContext(
        uow=uow,
        clock=clock,
        queue_policy=policy,
        policy=CallbackPolicy(
            lead_time=timedelta(minutes=settings.callback_lead_minutes),
            days_ahead=settings.callback_days_ahead,
            capacity=settings.callback_slot_capacity,
        ),
        notifier=notifier,
        public_url=settings.effective_public_url,
    )
    secret_key = load_secret_key(settings)
    queue = QueueContext(uow=uow, clock=clock, policy=policy)
    board = CallBoard(clock.now)
    statements = StatementContext(
        uow=uow, clock=clock, renderer=ReportLabRenderer(), signer=ConfiguredSigner(settings)
    )
    # A bad form file stops the start here, with the file and the fault in the message.
    reports = ReportContext(
        uow=uow,
        clock=clock,
        forms=load_forms(settings.forms_dir),
        max_upload_bytes=settings.max_document_bytes,
    )
    assistant_source = AssistantSource(settings.assistant_dir)
    return Container(
        settings=settings,
        secret_key=secret_key,
        engine=engine,
        event_log=event_log,
        hub=hub,
        queue=queue,
        staff=StaffContext(
            uow=uow, clock=clock, hasher=hasher or Argon2Hasher(), second_factor=totp
        ),
        totp=totp,
        callbacks=callbacks,
        statements=statements,
        vault=vault,
        scanner=_scanner(settings),
        calls=_calls(settings, queue, secret_key),
        call_relay=_call_relay(settings, board),
        call_board=board,
        reports=reports,
        handover=HandoverContext(
            reports=reports,
            statements=statements,
            acknowledgements=ReportLabAcknowledgements(),
            notifier=notifier,
            public_url=settings.effective_public_url,
        ),
        assistant=AssistantContext(
            uow=uow,
            clock=clock,
            source=assistant_source,
            retention=timedelta(hours=settings.assistant_retention_hours),
        ),
        assistant_source=assistant_source,
    )


def _calls(settings: Settings, queue: QueueContext, secret_key: bytes) -> CallContext:
    from loket.web.sessions import Signer  # the same signatures as cookies, another purpose

    return CallContext(
        queue=queue,
        signer=Signer(secret_key),
        ice=IceConfig(
            stun_urls=settings.stun_urls,
            turn_urls=settings.turn_urls,
            turn_secret=settings.turn_secret,
            turn_ttl=timedelta(seconds=settings.turn_ttl_seconds),
        ),
        token_ttl=timedelta(seconds=settings.call_token_seconds),
        grace=timedelta(seconds=settings.call_grace_seconds),
    )


def _call_relay(settings: Settings, board: CallBoard) -> InProcessRelay:
    if settings.redis_url:
        from loket.adapters.calls.relay import RedisRelay

        return RedisRelay(settings.redis_url, observer=board.apply)
    return InProcessRelay(observer=board.apply)


def _scanner(settings: Settings) -> VirusScanner:
    if settings.clamd_url:
        from loket.adapters.scanning.clamd import ClamdScanner

        return ClamdScanner(settings.clamd_url)
    return NoScanner()


def _notifier(settings: Settings, engine: Engine, clock: Clock) -> Notifier:
    if settings.smtp_host:
        from loket.adapters.notify.smtp import SmtpNotifier, SmtpSettings

        return SmtpNotifier(
            SmtpSettings(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.smtp_sender,
                username=settings.smtp_username,
                password=settings.smtp_password,
                security=settings.smtp_security,
            )
        )
    return OutboxNotifier(engine, clock)
