"""What the use cases need from outside, declared as Protocols; adapters implement them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import TracebackType
from typing import Protocol

from loket.domain.assistant import ChatLine, Conversation, UnansweredQuestion
from loket.domain.audit import AuditRecord
from loket.domain.callbacks import Callback
from loket.domain.codraft import SharedDraft
from loket.domain.exchange import ChatMessage, Document
from loket.domain.export import ExportFile, ExportRecord
from loket.domain.figures import Contact, Key, PeriodCover, Tally
from loket.domain.follow_up import AccessCode, AccessPurpose, FollowUp
from loket.domain.handover import Acknowledgement, DownloadCode, StoredStatement
from loket.domain.help import HelpRequest
from loket.domain.identification import Verification
from loket.domain.invitations import Invitation
from loket.domain.locations import Location
from loket.domain.reports import Draft, Report
from loket.domain.retention import Cutoffs
from loket.domain.staff import Skills, StaffMember
from loket.domain.statements import Statement
from loket.domain.surveys import Satisfaction, SurveyAnswer, SurveyInvitation
from loket.domain.tickets import Ticket


class Clock(Protocol):
    def now(self) -> datetime: ...


class TicketRepository(Protocol):
    def add(self, ticket: Ticket) -> None: ...

    def get(self, ticket_id: str) -> Ticket:
        """The ticket; raises NotFound("ticket.unknown")."""

    def get_for_update(self, ticket_id: str) -> Ticket:
        """The ticket, locked for this transaction; raises NotFound("ticket.unknown")."""

    def save(self, ticket: Ticket) -> None:
        """Write the ticket if nobody changed it since it was read; else ConcurrentUpdate."""

    def by_idempotency_key(self, key: str) -> Ticket | None: ...

    def claim_next(self, skills: Skills) -> Ticket | None:
        """The best waiting ticket these skills cover, locked; tickets others hold are skipped."""

    def held_by(self, officer_id: int) -> list[Ticket]: ...

    def expired_leases(self, at: datetime, limit: int) -> list[Ticket]:
        """Held tickets whose lease ran out, locked; tickets others hold are skipped."""

    def open_tickets(self, location_id: int | None = None) -> list[Ticket]:
        """Waiting and held tickets, in queue order."""

    def count_ahead(self, ticket: Ticket) -> int:
        """Waiting tickets of the same language and service ranked before this one."""

    def next_sequence(self, location_id: int, day: date) -> int:
        """The next ticket number of a location on a local day, atomically."""

    def recent_handling_seconds(self, service_code: str | None, limit: int) -> list[float]: ...

    def recently_called(self, location_id: int, limit: int) -> list[Ticket]: ...

    def taken_since(self, at: datetime) -> list[Ticket]:
        """Tickets taken at or after `at`, in any state, oldest first."""


class LocationRepository(Protocol):
    def get(self, location_id: int) -> Location: ...

    def by_slug(self, slug: str) -> Location:
        """The location; raises NotFound("location.unknown")."""

    def list(self) -> list[Location]: ...

    def add(self, location: Location) -> None: ...

    def save(self, location: Location) -> None:
        """Write a changed location back (its code and slug stay as they were)."""


@dataclass(frozen=True)
class Credentials:
    """How a staff member proves who they are: the stored secrets, never shown."""

    password_hash: str
    totp_secret: str | None
    totp_enrolled: bool
    # Set when an administrator chose or generated the password: the person picks their own
    # at the next sign-in, so no one else knows the password that signs them in.
    password_change_required: bool = False


@dataclass(frozen=True)
class Throttle:
    """Failed sign-ins of one username from one address."""

    username: str
    address: str
    failures: int
    last_failed_at: datetime
    locked_until: datetime | None


class StaffRepository(Protocol):
    def get(self, staff_id: int) -> StaffMember:
        """The staff member; raises NotFound("staff.unknown")."""

    def get_for_update(self, staff_id: int) -> StaffMember: ...

    def by_username(self, username: str) -> StaffMember | None: ...

    def list(self) -> list[StaffMember]: ...

    def add(self, member: StaffMember, credentials: Credentials) -> None: ...

    def save(self, member: StaffMember) -> None: ...

    def credentials(self, staff_id: int) -> Credentials: ...

    def save_credentials(self, staff_id: int, credentials: Credentials) -> None: ...

    def claim_code_step(self, staff_id: int, step: int) -> bool:
        """Record that the authenticator code of time step `step` was used; False when a code
        of this step or a later one was used already (a replayed or older code)."""


class HelpRequestRepository(Protocol):
    def add(self, help_request: HelpRequest) -> None:
        """Store a new call; ConcurrentUpdate if the desk got an active one meanwhile."""

    def get_for_update(self, help_id: str) -> HelpRequest:
        """The call, locked for this transaction; raises NotFound("help.unknown")."""

    def save(self, help_request: HelpRequest) -> None:
        """Write the call if nobody changed it since it was read; else ConcurrentUpdate."""

    def active_at(self, location_id: int) -> HelpRequest | None:
        """The desk's open or acknowledged call, if any."""

    def active(self, location_id: int | None = None) -> list[HelpRequest]:
        """Open and acknowledged calls, oldest first."""


class ExchangeRepository(Protocol):
    """Chat messages and documents of contacts; a document's content is stored beside it."""

    def add_message(self, message: ChatMessage) -> None: ...

    def messages(self, ticket_id: str) -> list[ChatMessage]:
        """The contact's messages, oldest first."""

    def add_document(self, document: Document, content: bytes) -> None: ...

    def documents(self, ticket_id: str) -> list[Document]:
        """The contact's documents, oldest first, without their content."""

    def count_documents(self, ticket_id: str) -> int: ...

    def document(self, document_id: str) -> tuple[Document, bytes] | None: ...


class CallbackRepository(Protocol):
    def add(self, callback: Callback) -> None:
        """Store a new callback; ConcurrentUpdate if its idempotency key or reference was taken."""

    def get(self, callback_id: str) -> Callback:
        """The callback; raises NotFound("callback.unknown")."""

    def get_for_update(self, callback_id: str) -> Callback: ...

    def save(self, callback: Callback) -> None:
        """Write the callback if nobody changed it since it was read; else ConcurrentUpdate."""

    def by_idempotency_key(self, key: str) -> Callback | None: ...

    def by_ticket_for_update(self, ticket_id: str) -> Callback | None:
        """The callback the ticket was made for, locked, if any."""

    def lock_slots(self) -> None:
        """Serialise bookings until commit, so two cannot take a slot's last place."""

    def booked_starts(self, start: datetime, end: datetime) -> list[datetime]:
        """Slot starts of active callbacks booked in [start, end), one per callback."""

    def due(self, at: datetime, limit: int) -> list[Callback]:
        """Scheduled callbacks due at or before `at`, locked; ones others hold are skipped."""


class SharedDraftRepository(Protocol):
    """Drafts shared in a call (domain/codraft.py), one per contact."""

    def get(self, ticket_id: str, *, for_update: bool = False) -> SharedDraft | None: ...

    def add(self, shared: SharedDraft) -> None:
        """Store a new link; ConcurrentUpdate if the contact got one meanwhile."""

    def save(self, shared: SharedDraft) -> None:
        """Write it if nobody changed it since it was read; else ConcurrentUpdate."""

    def replace(self, shared: SharedDraft) -> None:
        """The contact's link points to another draft from now on (a new start)."""


class ReportRepository(Protocol):
    """Report drafts (with their attached files) and submitted reports and tips."""

    def add_draft(self, draft: Draft) -> None: ...

    def get_draft(self, draft_id: str, *, for_update: bool = False) -> Draft:
        """The draft; raises NotFound("draft.unknown")."""

    def save_draft(self, draft: Draft) -> None:
        """Write the draft if nobody changed it since it was read; else ConcurrentUpdate."""

    def delete_draft(self, draft_id: str) -> None:
        """Remove the draft and its files."""

    def draft_by_resume_hash(self, code_hash: str) -> Draft | None: ...

    def put_file(self, draft_id: str, question: str, content: bytes) -> None: ...

    def file(self, draft_id: str, question: str) -> bytes | None: ...

    def delete_file(self, draft_id: str, question: str) -> None: ...

    def add_report(self, report: Report) -> None:
        """Store a new report; ConcurrentUpdate if its draft already has one."""

    def get_report(self, report_id: str) -> Report:
        """The report; raises NotFound("report.unknown")."""

    def report_by_draft(self, draft_id: str) -> Report | None: ...

    def report_by_reference(self, reference: str) -> Report:
        """The report; raises NotFound("report.unknown")."""

    def save_report(self, report: Report) -> None: ...


class InvitationRepository(Protocol):
    """Interpreters' invitations to video calls; a link's code only as its hash."""

    def add(self, invitation: Invitation) -> None: ...

    def get(self, invitation_id: str, *, for_update: bool = False) -> Invitation:
        """The invitation; raises NotFound("invitation.unknown")."""

    def by_code_hash(self, code_hash: str, *, for_update: bool = False) -> Invitation | None: ...

    def for_ticket(self, ticket_id: str) -> list[Invitation]:
        """The contact's invitations, oldest first."""

    def for_staff(self, staff_id: int) -> list[Invitation]:
        """The interpreter's invitations not revoked, newest first."""

    def save(self, invitation: Invitation) -> None: ...


@dataclass(frozen=True)
class ScanVerdict:
    is_clean: bool
    signature: str | None  # what the scanner found, e.g. "Win.Test.EICAR_HDB-1"


class ScannerUnavailable(Exception):
    """The configured scanner could not say whether content is clean: refuse (fail closed)."""


class VirusScanner(Protocol):
    def scan(self, content: bytes) -> ScanVerdict:
        """Raises ScannerUnavailable when the scanner cannot be asked."""

    def check(self) -> None:
        """Raises ScannerUnavailable unless the scanner answers now."""


class NoScanner:
    """No scanner configured: content is checked by type only (the default of a demo)."""

    def scan(self, content: bytes) -> ScanVerdict:
        return ScanVerdict(is_clean=True, signature=None)

    def check(self) -> None:
        return None


class HandoverRepository(Protocol):
    """Signed statements of reports (sealed at rest) and acknowledgement download codes."""

    def add_statement(self, stored: StoredStatement, document: bytes) -> None:
        """Store a signed statement; ConcurrentUpdate if the report has this version already."""

    def statement_for(self, report_id: str) -> StoredStatement | None:
        """The report's latest statement, if any."""

    def statement_document(self, statement_id: str) -> bytes:
        """The signed PDF, opened from the vault; NotFound("statement.unknown")."""

    def add_code(self, code: DownloadCode) -> None: ...

    def code_by_hash(self, code_hash: str, *, for_update: bool = False) -> DownloadCode | None: ...

    def save_code(self, code: DownloadCode) -> None: ...

    def submitted_reports(self, limit: int) -> list[Report]:
        """Reports (not tips) newest first."""


class IdentityRepository(Protocol):
    """How drafts' identities were verified, and the video tickets taken to have one checked."""

    def add_verification(
        self, verification_id: str, draft_id: str, verification: Verification
    ) -> None: ...

    def latest_verification(self, draft_id: str) -> Verification | None:
        """The draft's most recent verification, if any."""

    def add_call_request(self, ticket_id: str, draft_id: str, at: datetime) -> None: ...

    def draft_for_ticket(self, ticket_id: str) -> str | None:
        """The draft a video ticket was taken for, to have the identity checked."""


class FollowUpRepository(Protocol):
    """The hashed secrets that let a citizen come back to a report or tip, tipsters'
    additions, and the record of exports to the back-end."""

    def set_access(self, code: AccessCode) -> None:
        """Keep this secret's hash for its report and purpose, replacing an earlier one."""

    def access_for(
        self, report_id: str, purpose: AccessPurpose, *, for_update: bool = False
    ) -> AccessCode | None: ...

    def add_follow_up(self, follow_up: FollowUp) -> None: ...

    def follow_ups(self, report_id: str) -> list[FollowUp]:
        """The tip's additions, oldest first."""

    def submitted_tips(self, limit: int) -> list[tuple[Report, int]]:
        """Tips newest first, each with how many additions it has."""

    def add_export(self, record: ExportRecord) -> None: ...

    def exports(self, report_id: str) -> list[ExportRecord]:
        """The report's exports, newest first."""


class RetentionRepository(Protocol):
    """Purges of data past its period; each returns how many rows it removed (or, with
    `dry_run`, would remove) and re-checks the condition in the same statement."""

    def purge_drafts(self, cutoffs: Cutoffs, *, dry_run: bool) -> tuple[int, int]:
        """Expired drafts never submitted, and their files: (drafts, files)."""

    def purge_resume_codes(self, cutoffs: Cutoffs, *, dry_run: bool) -> int: ...

    def purge_acknowledgement_codes(self, cutoffs: Cutoffs, *, dry_run: bool) -> int: ...

    def purge_tip_access(self, cutoffs: Cutoffs, *, dry_run: bool) -> int: ...

    def purge_tip_follow_ups(self, cutoffs: Cutoffs, *, dry_run: bool) -> int: ...

    def purge_status_codes(self, cutoffs: Cutoffs, *, dry_run: bool) -> int: ...

    def purge_contact_exchange(self, cutoffs: Cutoffs, *, dry_run: bool) -> tuple[int, int]:
        """Messages and documents of contacts that ended before the cutoff."""

    def purge_notifications(self, cutoffs: Cutoffs, *, dry_run: bool) -> int:
        """Outbox e-mails sent or given up before the cutoff (never one still to be sent)."""


class ReportExporter(Protocol):
    """Hands a report's files to the police back-end (default: a folder)."""

    def export(self, reference: str, files: Sequence[ExportFile]) -> str:
        """Deliver all files of one report, atomically and idempotently; returns where to
        (for the record). Raises on failure: nothing is then recorded as exported."""


class FigureRepository(Protocol):
    """The service monitor's roll-up of contacts (loket/domain/figures.py)."""

    def rolled_until(self) -> datetime | None:
        """Contacts closed up to this moment are rolled up; None before the first roll-up."""

    def move_watermark(self, expected: datetime | None, to: datetime) -> None:
        """Move it from `expected`; ConcurrentUpdate if another roll-up moved it first."""

    def first_closed_at(self) -> datetime | None: ...

    def clear(self) -> None: ...

    def closed_contacts(self, after: datetime | None, until: datetime) -> list[Contact]:
        """Tickets closed and reports sent in (after, until]."""

    def open_contacts(self, taken_from: datetime) -> list[Contact]: ...

    def add_tallies(self, tallies: Mapping[Key, Tally]) -> None: ...

    def by_combination(
        self, cover: PeriodCover, location_id: int | None
    ) -> list[tuple[int, str, str, Tally]]: ...

    def by_hour(self, cover: PeriodCover, location_id: int | None) -> list[tuple[int, Tally]]: ...

    def by_day(
        self, start: date, end: date, location_id: int | None
    ) -> list[tuple[date, Tally]]: ...


class SurveyRepository(Protocol):
    """Survey invitations (by token hash) and anonymous answers."""

    def add_invitation(self, invitation: SurveyInvitation) -> None:
        """ConcurrentUpdate if the same token was offered meanwhile."""

    def invitation(
        self, token_hash: str, *, for_update: bool = False
    ) -> SurveyInvitation | None: ...

    def save_invitation(self, invitation: SurveyInvitation) -> None: ...

    def add_answer(self, answer: SurveyAnswer) -> None: ...

    def reached_callbacks(self, since: datetime) -> list[tuple[str, str, str, str]]:
        """(callback id, ticket id, e-mail address, language) of video callbacks reached."""

    def prune_invitations(self, before: datetime) -> int: ...

    def satisfaction(
        self, start: date, end: date, location_id: int | None
    ) -> list[tuple[int, str, str, Satisfaction]]: ...

    def comments(
        self, start: date, end: date, location_id: int | None, limit: int
    ) -> list[tuple[date, int, str, str]]: ...


class AssistantRepository(Protocol):
    """Conversations with the virtual agent (lines sealed at rest) and unanswered questions."""

    def add_conversation(self, conversation: Conversation) -> None:
        """Store a new conversation; ConcurrentUpdate if its id was taken meanwhile."""

    def conversation(
        self, conversation_id: str, *, for_update: bool = False
    ) -> Conversation | None: ...

    def conversation_for_ticket(self, ticket_id: str) -> Conversation | None:
        """The conversation handed over with this ticket, if any."""

    def save_conversation(self, conversation: Conversation) -> None: ...

    def delete_conversation(self, conversation_id: str) -> None: ...

    def purge_before(self, cutoff: datetime) -> int:
        """Delete conversations whose last line is older than `cutoff`; how many went."""

    def add_line(self, line: ChatLine) -> None:
        """Append a line; ConcurrentUpdate if its position was taken meanwhile."""

    def lines(self, conversation_id: str) -> list[ChatLine]:
        """The conversation's lines, first first."""

    def count_unanswered(self, language: str, key: str, text: str, at: datetime) -> None:
        """Count one more of this question (a new row the first time), unhandled again."""

    def unanswered(self, *, include_handled: bool, limit: int) -> list[UnansweredQuestion]:
        """Most asked first."""

    def mark_handled(self, question_id: int, at: datetime) -> bool: ...


class AuditTrail(Protocol):
    def record(self, record: AuditRecord) -> None:
        """Append to the chain when the transaction commits."""


class UnitOfWork(Protocol):
    tickets: TicketRepository
    locations: LocationRepository
    staff: StaffRepository
    tokens: TokenRepository
    throttle: ThrottleRepository
    audit: AuditTrail
    help: HelpRequestRepository
    exchange: ExchangeRepository
    callbacks: CallbackRepository
    reports: ReportRepository
    invitations: InvitationRepository
    handover: HandoverRepository
    codrafts: SharedDraftRepository
    identities: IdentityRepository
    follow_up: FollowUpRepository
    retention: RetentionRepository
    figures: FigureRepository
    surveys: SurveyRepository
    assistant: AssistantRepository

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None:
        """Write the events the touched aggregates recorded, commit, then wake the event hub."""

    def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> UnitOfWork: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...


Durations = Sequence[float]


class TokenRepository(Protocol):
    """Sign-in tokens of staff, stored only as hashes."""

    def add(
        self, staff_id: int, token_hash: str, created_at: datetime, expires_at: datetime
    ) -> None: ...

    def staff_for(self, token_hash: str, at: datetime) -> int | None: ...

    def revoke(self, token_hash: str, at: datetime) -> None: ...

    def revoke_all(self, staff_id: int, at: datetime) -> None: ...


class ThrottleRepository(Protocol):
    def get(self, username: str, address: str) -> Throttle | None: ...

    def save(self, throttle: Throttle) -> None: ...

    def clear(self, username: str, address: str) -> None: ...


class SecondFactor(Protocol):
    def new_secret(self) -> str: ...

    def matched_step(self, secret: str, code: str, at: datetime) -> int | None:
        """The time step whose code `code` is, if it is one of those accepted at `at`."""

    def provisioning_uri(self, secret: str, username: str) -> str: ...


@dataclass(frozen=True)
class Notification:
    """Something to tell a citizen outside the site (an e-mail).

    `subject` and `body` are N_-marked English with %(name)s parameters: the adapter
    translates them into `language` and fills in `params` when it writes or sends.
    """

    kind: str
    to: str
    language: str
    subject: str
    body: str
    params: Mapping[str, str] = field(default_factory=dict)


class Notifier(Protocol):
    def send(self, message: Notification) -> None:
        """Deliver (or queue for delivery) one notification; raises on failure."""


class StatementRenderer(Protocol):
    def render(self, statement: Statement) -> bytes:
        """The statement as an unsigned PDF: the Dutch text, then the citizen's language."""


class StatementSigner(Protocol):
    def sign(self, pdf: bytes) -> bytes:
        """The PDF with the service's PAdES signature over the whole document."""


class AcknowledgementRenderer(Protocol):
    def render(self, acknowledgement: Acknowledgement) -> bytes:
        """The acknowledgement with the victim's rights as a PDF in the citizen's language."""


class TokenSigner(Protocol):
    """Signs small JSON values with the service key; `purpose` keeps kinds of token apart."""

    def sign(self, purpose: str, value: object) -> str: ...

    def unsign(self, purpose: str, token: str | None) -> object | None:
        """The signed value, or None when the token is forged or malformed."""


class CallRelay(Protocol):
    """Carries a call's signalling between the nodes its participants are connected to."""

    async def publish(self, call_id: str, message: dict[str, object]) -> None: ...

    def subscribe(self, call_id: str) -> CallSubscription: ...


class CallSubscription(Protocol):
    """Messages published to one call, in order, until closed."""

    async def __aenter__(self) -> CallSubscription: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def get(self) -> dict[str, object]: ...
