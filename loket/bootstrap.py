"""The one place that picks concrete adapters from configuration and wires the use cases."""

from __future__ import annotations

import hashlib
import hmac
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
from loket.adapters.export.folder import FolderExporter
from loket.adapters.forms import load_forms
from loket.adapters.identity.oidc import OidcClient, OidcSettings
from loket.adapters.notify.delivery import MailDelivery
from loket.adapters.notify.outbox import OutboxNotifier
from loket.adapters.secret_files import read_or_create
from loket.adapters.security import Argon2Hasher, Totp
from loket.adapters.signing.acknowledgement import ReportLabAcknowledgements
from loket.adapters.signing.pades import ConfiguredSigner
from loket.adapters.signing.render import ReportLabRenderer
from loket.adapters.survey_file import load_survey
from loket.adapters.vault import Vault, load_vault
from loket.config import Settings
from loket.domain.callbacks import CallbackPolicy
from loket.domain.figures import TARGET_MINUTES
from loket.domain.retention import RetentionPolicy
from loket.domain.surveys import Survey
from loket.domain.tickets import QueuePolicy
from loket.services.assistant import AssistantContext
from loket.services.callbacks import CallbackContext
from loket.services.calls import CallBoard, CallBoardShare, CallContext, IceConfig
from loket.services.export import ExportContext
from loket.services.figures import FigureContext
from loket.services.follow_up import FollowUpContext
from loket.services.handover import HandoverContext
from loket.services.identification import IdentificationContext
from loket.services.ports import Clock, NoScanner, Notifier, PasswordHasher, VirusScanner
from loket.services.queue import QueueContext
from loket.services.reports import ReportContext
from loket.services.retention import RetentionContext
from loket.services.staff import StaffContext
from loket.services.statements import StatementContext
from loket.services.surveys import SurveysContext


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
    identification: IdentificationContext
    follow_up: FollowUpContext
    export: ExportContext
    retention: RetentionContext
    figures: FigureContext
    surveys: SurveysContext
    assistant: AssistantContext
    assistant_source: AssistantSource
    # None when no OpenID provider is configured: verification is then by an officer only.
    oidc: OidcClient | None = None
    # With LOKET_SMTP_HOST: sends the outbox, retrying (adapters/notify/delivery.py).
    mail_delivery: MailDelivery | None = None
    # With LOKET_REDIS_URL: the nodes tell each other their running calls (the supervisor's
    # view of every call); one node alone knows them all already.
    call_board_share: CallBoardShare | None = None

    def dispose(self) -> None:
        self.engine.dispose()
        if self.call_board_share is not None:
            self.call_board_share.close()


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
    notifier = notifier or OutboxNotifier(engine, clock)
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
    surveys = _surveys(settings, uow, clock, notifier, secret_key)
    queue = QueueContext(uow=uow, clock=clock, policy=policy)
    board = CallBoard(clock.now)
    statements = StatementContext(
        uow=uow, clock=clock, renderer=ReportLabRenderer(), signer=ConfiguredSigner(settings)
    )
    scanner = _scanner(settings)
    # A bad form file stops the start here, with the file and the fault in the message.
    reports = ReportContext(
        uow=uow,
        clock=clock,
        forms=load_forms(settings.forms_dir),
        max_upload_bytes=settings.max_document_bytes,
        scanner=scanner,
    )
    hasher = hasher or Argon2Hasher()
    assistant_source = AssistantSource(settings.assistant_dir)
    return Container(
        settings=settings,
        secret_key=secret_key,
        engine=engine,
        event_log=event_log,
        hub=hub,
        queue=queue,
        staff=StaffContext(uow=uow, clock=clock, hasher=hasher, second_factor=totp),
        totp=totp,
        callbacks=callbacks,
        statements=statements,
        vault=vault,
        scanner=scanner,
        calls=_calls(settings, queue, secret_key),
        call_relay=_call_relay(settings, board),
        call_board=board,
        call_board_share=_call_board_share(settings),
        reports=reports,
        handover=HandoverContext(
            reports=reports,
            statements=statements,
            acknowledgements=ReportLabAcknowledgements(),
            notifier=notifier,
            public_url=settings.effective_public_url,
        ),
        identification=IdentificationContext(
            reports=reports, queue=queue, pseudonym_key=secret_key
        ),
        follow_up=FollowUpContext(reports=reports, hasher=hasher),
        export=ExportContext(
            reports=reports, exporter=FolderExporter(settings.effective_export_dir)
        ),
        retention=RetentionContext(uow=uow, clock=clock, policy=_retention(settings)),
        figures=_figures(settings, uow, clock, surveys.survey),
        surveys=surveys,
        assistant=AssistantContext(
            uow=uow,
            clock=clock,
            source=assistant_source,
            retention=timedelta(hours=settings.assistant_retention_hours),
        ),
        assistant_source=assistant_source,
        oidc=_oidc(settings, clock),
        mail_delivery=_mail_delivery(settings, engine, clock),
    )


def _figures(
    settings: Settings, uow: SqlUnitOfWorkFactory, clock: Clock, survey: Survey
) -> FigureContext:
    target = settings.service_level_target_minutes
    if target not in TARGET_MINUTES:
        raise ValueError(f"LOKET_SERVICE_LEVEL_TARGET_MINUTES must be one of {TARGET_MINUTES}")
    slot = survey.question(survey.headline).slot
    return FigureContext(
        uow=uow,
        clock=clock,
        default_target_minutes=target,
        time_zone=settings.figures_time_zone,
        headline_slot=slot or 1,
    )


def _surveys(
    settings: Settings,
    uow: SqlUnitOfWorkFactory,
    clock: Clock,
    notifier: Notifier,
    secret_key: bytes,
) -> SurveysContext:
    # A bad survey file stops the start here, with the file and the fault in the message.
    survey = load_survey(settings.survey_file)
    return SurveysContext(
        uow=uow,
        clock=clock,
        survey=survey,
        key=hmac.new(secret_key, b"loket.survey-key", hashlib.sha256).digest(),
        notifier=notifier,
        public_url=settings.effective_public_url,
    )


def _retention(settings: Settings) -> RetentionPolicy:
    return RetentionPolicy(
        draft_grace=timedelta(days=settings.retention_draft_grace_days),
        acknowledgement_code_grace=timedelta(days=settings.retention_acknowledgement_code_days),
        tip_access=timedelta(days=settings.retention_tip_access_days),
        tip_follow_up=timedelta(days=settings.retention_tip_follow_up_days),
        status_code_after_close=timedelta(days=settings.retention_status_code_days),
        contact_exchange=timedelta(days=settings.retention_contact_exchange_days),
        notifications=timedelta(days=settings.retention_notification_days),
    )


TEST_PROVIDER_PATH = "/oidc-test"
TEST_PROVIDER_CLIENT = "loket-demo"
OIDC_CALLBACK_PATH = "/identification/callback"


def oidc_settings(settings: Settings) -> OidcSettings | None:
    """The OpenID provider to verify identities with: the configured one, else the built-in
    test provider when it is enabled, else none."""
    issuer, client_id = settings.oidc_issuer, settings.oidc_client_id
    client_secret = settings.oidc_client_secret
    if not issuer and settings.oidc_test_provider:
        issuer = settings.effective_public_url + TEST_PROVIDER_PATH
        client_id = client_id or TEST_PROVIDER_CLIENT
        # The test provider lives in this process: a secret made at start is shared with it.
        client_secret = client_secret or secrets.token_urlsafe(32)
    if not issuer:
        return None
    if not client_id or not client_secret:
        raise ValueError(
            "LOKET_OIDC_ISSUER needs LOKET_OIDC_CLIENT_ID and LOKET_OIDC_CLIENT_SECRET"
        )
    return OidcSettings(
        issuer=issuer,
        client_id=client_id,
        client_secret=client_secret,
        redirect_uri=settings.effective_public_url + OIDC_CALLBACK_PATH,
    )


def _oidc(settings: Settings, clock: Clock) -> OidcClient | None:
    configured = oidc_settings(settings)
    if configured is None:
        return None
    return OidcClient(configured, now=lambda: int(clock.now().timestamp()))


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


def _call_board_share(settings: Settings) -> CallBoardShare | None:
    if not settings.redis_url:
        return None
    from loket.adapters.calls.board_share import RedisCallBoardShare

    return RedisCallBoardShare(settings.redis_url)


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


def _mail_delivery(settings: Settings, engine: Engine, clock: Clock) -> MailDelivery | None:
    """Every notification goes to the outbox first; with SMTP configured, this sends it."""
    if settings.smtp_host:
        from loket.adapters.notify.smtp import SmtpNotifier, SmtpSettings

        transport = SmtpNotifier(
            SmtpSettings(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.smtp_sender,
                username=settings.smtp_username,
                password=settings.smtp_password,
                security=settings.smtp_security,
            )
        )
        return MailDelivery(engine, clock, transport)
    return None
