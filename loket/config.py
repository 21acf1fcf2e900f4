"""Configuration from LOKET_* environment variables (or CLI flags of the same names)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("var")
    database_url: str | None = None
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    # Off unless asked (`make run` asks): a production start must never make accounts whose
    # passwords it prints.
    demo: bool = False
    # Origins allowed to open WebSockets besides the service's own (e.g. behind a proxy).
    allowed_origins: tuple[str, ...] = ()
    offer_timeout_seconds: int = 30
    service_lease_seconds: int = 45
    # How long the event log keeps events for clients that resume; older ones get a snapshot.
    event_retention_hours: int = 24
    max_body_bytes: int = 64 * 1024
    # Uploads in a contact (PDF, JPEG, PNG): a phone photo is 3-8 MB. Only the upload routes
    # accept bodies this large; everything else keeps max_body_bytes.
    max_document_bytes: int = 10 * 1024 * 1024
    # clamd scans every upload when set (tcp://host:3310); when it is set but down, uploads
    # are refused and documents are not served (fail closed).
    clamd_url: str | None = None
    # Public endpoints: taking a ticket, per client address.
    tickets_per_minute: int = 20
    # Sign-in attempts per address across all accounts (password spraying); the per-account
    # throttle in services/staff.py handles guessing one account.
    sign_ins_per_minute: int = 30
    sweep_seconds: float = 2.0
    # How often each node's event hub reads the log unprompted: the bound on how late an
    # event that no one announced (a crash between commit and publish) reaches clients.
    event_poll_seconds: float = 1.0
    # Signs cookies and CSRF tokens. Set it in the environment when running several nodes;
    # a single node makes one in the data folder on first start (never in the repository).
    secret_key: str | None = None
    # Cookies are marked Secure; browsers accept that on https and on localhost only.
    kiosk_idle_seconds: int = 90
    # Where citizens reach the site, for links in e-mails; default http://host:port.
    public_url: str | None = None
    # Callbacks: citizens one slot of 15 minutes can hold, and how far ahead they may book.
    callback_slot_capacity: int = 2
    callback_days_ahead: int = 14
    callback_lead_minutes: int = 30
    # E-mail (join links of video callbacks) goes out by SMTP when a host is set; otherwise
    # it is written to the `notifications` table (the outbox).
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_sender: str = "loket@localhost"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_security: str = "starttls"
    # The key and certificate (PEM; the certificate file may hold the chain, signer first)
    # that sign statements. Without them a self-signed demo certificate is made in data_dir.
    signing_key_file: Path | None = None
    signing_cert_file: Path | None = None
    signing_key_passphrase: str | None = None
    # Encrypts statements and uploads at rest: base64 of 32 random bytes. Keys listed in
    # storage_old_keys still decrypt what they encrypted, so a key can be rotated. Without
    # storage_key, a single node makes one in data_dir (never in the database).
    storage_key: str | None = None
    storage_old_keys: tuple[str, ...] = ()
    # Video calls (docs/calls.md). ICE servers: none are needed on loopback or one LAN.
    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    # coturn's static-auth-secret: TURN logins are derived from it and expire (REST scheme).
    turn_secret: str | None = None
    turn_ttl_seconds: int = 3600
    call_token_seconds: int = 120
    # A citizen gone from a call this long has left: the ticket returns to the queue.
    call_grace_seconds: int = 60
    # Per socket: more than this many signalling messages per second (sustained) closes it.
    call_messages_per_second: int = 20
    # Report and tip forms (content/forms/*.yaml); default: the folder beside the package.
    forms_dir: Path | None = None
    # Identity verified online (docs/identification.md): an OpenID Connect provider (a broker
    # for DigiD, itsme or eID), found by discovery from its issuer URL. The client secret is
    # read from the environment only. Without an issuer, verified reports are taken by an
    # officer on camera.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    # The built-in TEST provider under /oidc-test with fictional persons, for the demo and the
    # tests. Off by default; never in production. Without an issuer, the client uses it.
    oidc_test_provider: bool = False
    # Officers' report exports for the back-end (docs/tips.md); default <data_dir>/export.
    export_dir: Path | None = None
    # Retention periods in days (docs/retention.md); `loket retention run` purges past them.
    retention_draft_grace_days: int = 0
    retention_acknowledgement_code_days: int = 1
    retention_tip_access_days: int = 90
    retention_tip_follow_up_days: int = 365
    retention_status_code_days: int = 30
    retention_contact_exchange_days: int = 30
    retention_notification_days: int = 30
    # The service monitor (docs/service-monitor.md). The survey's questions; default:
    # content/survey/questions.yaml beside the package.
    survey_file: Path | None = None
    # The supervisor's figures: the default target wait of the service level (one of the
    # waiting-time bucket edges, see loket/domain/figures.py), the zone of "today", and how
    # often each node adds newly closed contacts to the roll-up.
    service_level_target_minutes: int = 10
    figures_time_zone: str = "Europe/Amsterdam"
    figures_rollup_seconds: float = 60.0
    # /metrics (Prometheus) asks for this bearer token when set; without it, /metrics answers
    # only requests from this machine (127.0.0.1 or ::1).
    metrics_token: str | None = None
    # The virtual agent's knowledge base (content/assistant); default: the folder beside the
    # package. Chat transcripts are kept this long after the last message, then deleted.
    assistant_dir: Path | None = None
    assistant_retention_hours: int = 24
    # Public endpoint: questions to the virtual agent, per client address.
    assistant_messages_per_minute: int = 30
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'loket.db').resolve()}"

    @property
    def effective_export_dir(self) -> Path:
        return self.export_dir or self.data_dir / "export"

    @property
    def effective_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, kind in _FIELDS.items():
            raw = env.get(f"LOKET_{name.upper()}")
            if raw is not None and raw != "":
                values[name] = _parse(kind, raw, name)
        settings = cls(**values)
        given = {key: value for key, value in overrides.items() if value is not None}
        return replace(settings, **given)


_FIELDS = {
    "data_dir": Path,
    "database_url": str,
    "redis_url": str,
    "host": str,
    "port": int,
    "demo": bool,
    "allowed_origins": tuple,
    "offer_timeout_seconds": int,
    "service_lease_seconds": int,
    "event_retention_hours": int,
    "max_body_bytes": int,
    "max_document_bytes": int,
    "clamd_url": str,
    "tickets_per_minute": int,
    "sign_ins_per_minute": int,
    "sweep_seconds": float,
    "event_poll_seconds": float,
    "secret_key": str,
    "kiosk_idle_seconds": int,
    "public_url": str,
    "callback_slot_capacity": int,
    "callback_days_ahead": int,
    "callback_lead_minutes": int,
    "smtp_host": str,
    "smtp_port": int,
    "smtp_sender": str,
    "smtp_username": str,
    "smtp_password": str,
    "smtp_security": str,
    "signing_key_file": Path,
    "signing_cert_file": Path,
    "signing_key_passphrase": str,
    "storage_key": str,
    "storage_old_keys": tuple,
    "stun_urls": tuple,
    "turn_urls": tuple,
    "turn_secret": str,
    "turn_ttl_seconds": int,
    "call_token_seconds": int,
    "call_grace_seconds": int,
    "call_messages_per_second": int,
    "forms_dir": Path,
    "oidc_issuer": str,
    "oidc_client_id": str,
    "oidc_client_secret": str,
    "oidc_test_provider": bool,
    "export_dir": Path,
    "retention_draft_grace_days": int,
    "retention_acknowledgement_code_days": int,
    "retention_tip_access_days": int,
    "retention_tip_follow_up_days": int,
    "retention_status_code_days": int,
    "retention_contact_exchange_days": int,
    "retention_notification_days": int,
    "survey_file": Path,
    "service_level_target_minutes": int,
    "figures_time_zone": str,
    "figures_rollup_seconds": float,
    "metrics_token": str,
    "assistant_dir": Path,
    "assistant_retention_hours": int,
    "assistant_messages_per_minute": int,
}


def _parse(kind: Any, raw: str, name: str) -> Any:
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"LOKET_{name.upper()} must be true or false, not {raw!r}")
    if kind is tuple:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    try:
        return kind(raw)
    except ValueError as error:
        raise ValueError(f"LOKET_{name.upper()}: {error}") from None
