"""The `loket` command: serve, migrate, seed the demo, manage staff, verify the audit trail."""

from __future__ import annotations

import gc
import getpass
import json
import sys
from pathlib import Path

import click

from loket.config import Settings


def _settings(ctx: click.Context, **overrides: object) -> Settings:
    base: Settings = ctx.obj
    from dataclasses import replace

    given = {key: value for key, value in overrides.items() if value is not None}
    return replace(base, **given)


@click.group()
@click.option("--data-dir", type=click.Path(path_type=Path), help="Data folder (LOKET_DATA_DIR).")
@click.option(
    "--database-url", help="SQLAlchemy URL (LOKET_DATABASE_URL); default SQLite in the data folder."
)
@click.option("--redis-url", help="Redis for cross-node events (LOKET_REDIS_URL).")
@click.pass_context
def main(
    ctx: click.Context, data_dir: Path | None, database_url: str | None, redis_url: str | None
) -> None:
    """Loket: virtual police desks."""
    try:
        ctx.obj = Settings.from_env(
            data_dir=data_dir, database_url=database_url, redis_url=redis_url
        )
    except ValueError as error:
        raise click.UsageError(str(error)) from None


@main.command()
@click.option("--host", help="Address to listen on (LOKET_HOST).")
@click.option("--port", type=int, help="Port (LOKET_PORT).")
@click.option("--data-dir", type=click.Path(path_type=Path), help="Data folder (LOKET_DATA_DIR).")
@click.option("--database-url", help="SQLAlchemy URL (LOKET_DATABASE_URL).")
@click.option("--demo/--no-demo", default=None, help="Seed and print the demo (LOKET_DEMO).")
@click.pass_context
def serve(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    data_dir: Path | None,
    database_url: str | None,
    demo: bool | None,
) -> None:
    """Migrate the database, seed the demo if asked, and serve."""
    import uvicorn

    from loket.adapters.db.migrate import upgrade
    from loket.bootstrap import build
    from loket.demo.seed import seed_demo
    from loket.web.access_log import logging_config
    from loket.web.app import create_app

    settings = _settings(
        ctx, host=host, port=port, data_dir=data_dir, database_url=database_url, demo=demo
    )
    container = build(settings)
    upgrade(container.engine)
    if settings.demo:
        seed_demo(container.queue, container.staff, settings.data_dir)
    # The virtual agent learns its knowledge base now: a broken file stops the start with the
    # file and the fault (as a bad form file does), and the first citizen does not wait.
    try:
        container.assistant_source.current()
    except ValueError as error:
        raise click.ClickException(f"the virtual agent's knowledge base: {error}") from None
    base = f"http://{settings.host}:{settings.port}"
    click.echo(f"Loket is starting on {base}")
    click.echo(f"  Citizens at home    {base}/   (virtual agent {base}/assistant)")
    click.echo(f"  Kiosk (a desk)      {base}/kiosk/houthalen-helchteren   (any desk's slug)")
    click.echo(f"  Info screen         {base}/screen/houthalen-helchteren")
    click.echo(f"  Staff sign-in       {base}/staff/sign-in")
    click.echo("    then by role: /officer (and /officer/reports, /officer/tips), /supervisor")
    click.echo("    (and /supervisor/figures, /supervisor/assistant), /host, /interpreter, /admin")
    click.echo(f"  API documentation   {base}/docs")
    click.echo(f"  OpenAPI             {base}/openapi.json")
    click.echo(f"  Health / readiness  {base}/healthz  {base}/readyz   metrics {base}/metrics")
    if settings.demo:
        _print_logins(settings.data_dir)
    app = create_app(settings, container)
    # Everything built so far lives as long as the process: keep it out of the cyclic
    # collector's walks, and collect the young generation less often. Thousands of
    # short-lived send tasks per event otherwise triggered collections that made the tail
    # of every fan-out to many screens (p99 281 -> 119 ms in benchmarks/fanout.py).
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    try:
        # Live messages are a few hundred bytes: per-socket compression would cost CPU on
        # every send and ~45 KB per open socket for next to no saving (benchmarks/fanout.py).
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_level="info",
            ws_per_message_deflate=False,
            # No client addresses in the access log: they would identify tipsters.
            log_config=logging_config(),
        )
    finally:
        container.dispose()


def _print_logins(data_dir: Path) -> None:
    from loket.demo.seed import demo_logins

    logins = demo_logins(data_dir)
    if not logins:
        return
    click.echo("Demo logins (password, then the 6-digit code from an authenticator app with")
    click.echo("the TOTP secret shown, or run `loket demo --codes` for the current codes):")
    for login in logins:
        click.echo(
            f"  {login['username']:<16} {','.join(login['roles']):<14} "
            f"password {login['password']}  TOTP secret {login['totp_secret']}"
        )


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply all pending migrations."""
    from loket.adapters.db.engine import make_engine
    from loket.adapters.db.migrate import upgrade

    settings: Settings = ctx.find_root().obj
    engine = make_engine(settings.effective_database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    click.echo("The database is up to date.")


@main.command()
@click.option("--codes", is_flag=True, help="Print the current TOTP codes of the demo logins.")
@click.pass_context
def demo(ctx: click.Context, codes: bool) -> None:
    """Seed the demo desks and staff (once) and print the demo logins."""
    from loket.adapters.db.migrate import upgrade
    from loket.bootstrap import build
    from loket.demo.seed import demo_logins, seed_demo

    settings: Settings = ctx.find_root().obj
    container = build(settings)
    try:
        if codes:
            now = container.queue.clock.now()
            for login in demo_logins(settings.data_dir):
                code = container.totp.current_code(login["totp_secret"], now)
                click.echo(f"{login['username']:<16} {code}")
            return
        upgrade(container.engine)
        created = seed_demo(container.queue, container.staff, settings.data_dir)
        click.echo("Demo data seeded." if created else "Demo data was already there.")
        _print_logins(settings.data_dir)
    finally:
        container.dispose()


@main.group()
def staff() -> None:
    """Staff accounts."""


@staff.command("add")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Full name.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice(["officer", "supervisor", "host", "interpreter", "administrator"]),
)
@click.option("--language", "languages", multiple=True, default=("nl",), show_default=True)
@click.option("--service", "services", multiple=True, help="Service codes; default: all.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def staff_add(
    ctx: click.Context,
    username: str,
    display_name: str,
    roles: tuple[str, ...],
    languages: tuple[str, ...],
    services: tuple[str, ...],
    password_stdin: bool,
) -> None:
    """Create a staff account; prints the TOTP secret to enrol in an authenticator app."""
    from loket.adapters.db.migrate import upgrade
    from loket.bootstrap import build
    from loket.demo.seed import ALL_SERVICES
    from loket.domain.errors import DomainError
    from loket.domain.staff import Role
    from loket.services.staff import add_staff

    settings: Settings = ctx.find_root().obj
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise click.ClickException("The passwords differ.")
    container = build(settings)
    try:
        upgrade(container.engine)
        created = add_staff(
            container.staff,
            username=username,
            display_name=display_name,
            roles=frozenset(Role(role) for role in roles),
            languages=frozenset(languages),
            services=frozenset(services) or ALL_SERVICES,
            password=password,
            actor="cli",
        )
    except DomainError as error:
        raise click.ClickException(
            f"{error.code} {json.dumps(error.params, default=str)}"
        ) from None
    finally:
        container.dispose()
    click.echo(f"Created {username}. Enrol this in an authenticator app:")
    click.echo(f"  secret {created.totp_secret}")
    click.echo(f"  {created.totp_uri}")


@main.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
@click.pass_context
def audit_verify(ctx: click.Context) -> None:
    """Check the hash chain of the audit trail; prints the head hash to keep elsewhere."""
    from loket.adapters.db.audit_reader import entries
    from loket.adapters.db.engine import make_engine
    from loket.domain.audit import verify_chain

    settings: Settings = ctx.find_root().obj
    engine = make_engine(settings.effective_database_url)
    try:
        verdict = verify_chain(entries(engine))
    finally:
        engine.dispose()
    click.echo(
        json.dumps(
            {
                "intact": verdict.is_intact,
                "entries_checked": verdict.entries_checked,
                "first_bad_sequence": verdict.first_bad_sequence,
                "problem": verdict.problem,
                "head_hash": verdict.head_hash,
            }
        )
    )
    if not verdict.is_intact:
        sys.exit(1)


@main.group()
def retention() -> None:
    """Retention of citizen data (docs/retention.md)."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Count what is past its period; purge nothing.")
@click.pass_context
def retention_run(ctx: click.Context, dry_run: bool) -> None:
    """Purge what is past its retention period; prints the counts, writes one audit entry."""
    from loket.adapters.db.migrate import upgrade
    from loket.bootstrap import build
    from loket.services.retention import run_retention

    settings: Settings = ctx.find_root().obj
    container = build(settings)
    try:
        upgrade(container.engine)
        counts = run_retention(container.retention, dry_run=dry_run)
    finally:
        container.dispose()
    verb = "Would purge" if dry_run else "Purged"
    click.echo(f"{verb} {counts.total} item(s):")
    for name, count in counts.as_dict().items():
        click.echo(f"  {name:<24} {count}")


@main.group()
def report() -> None:
    """Reports of the service monitor's figures."""


@report.command("weekly")
@click.option("--location", "slug", required=True, help="The desk's slug, e.g. bree.")
@click.option("--week", required=True, help="ISO week, e.g. 2027-W02.")
@click.option("--out", type=click.Path(path_type=Path), help="PDF file; default beside you.")
@click.option("--lang", "language", default="nl", show_default=True, help="Language.")
@click.pass_context
def report_weekly(
    ctx: click.Context, slug: str, week: str, out: Path | None, language: str
) -> None:
    """Write the weekly figures of one desk as a PDF for its municipality."""
    from loket.adapters.weekly_report import parse_week, render_weekly
    from loket.bootstrap import build
    from loket.domain.errors import DomainError
    from loket.services import figures as figure_service
    from loket.web.i18n import LANGUAGES

    if language not in LANGUAGES:
        raise click.UsageError(f"--lang must be one of {', '.join(LANGUAGES)}")
    try:
        monday, sunday = parse_week(week)
    except DomainError:
        raise click.UsageError("--week must look like 2027-W02") from None
    container = build(_settings(ctx))
    try:
        with container.queue.uow(read_only=True) as uow:
            found = [location for location in uow.locations.list() if location.slug == slug]
        if not found:
            raise click.UsageError(f"no desk with the slug {slug!r}")
        location = found[0]
        figure_service.roll_up(container.figures)
        figures = figure_service.figures(container.figures, monday, sunday, location_id=location.id)
        target = out or Path(f"loket-week-{week}-{slug}.pdf")
        target.write_bytes(render_weekly(figures, location, week.strip(), language))
    finally:
        container.dispose()
    click.echo(f"{target}: {figures.total.contacts} contacts in week {week} at {location.name}")


@main.command()
@click.option("--lang", "language", help="Answer in this language (nl, en, fr, de).")
@click.argument("text", nargs=-1, required=True)
def ask(language: str | None, text: tuple[str, ...]) -> None:
    """Ask the virtual agent; prints one JSON object (intent, confidence, language, reply)."""
    # A public contract that evaluations call once per question: only the knowledge base
    # and the recogniser are loaded, no database, no web framework.
    from loket.adapters.assistant import load_knowledge
    from loket.domain.assistant import KB_LANGUAGES, Assistant, KnowledgeBaseError

    if language is not None and language not in KB_LANGUAGES:
        raise click.BadParameter(f"choose one of {', '.join(KB_LANGUAGES)}", param_hint="--lang")
    folder = Settings.from_env().assistant_dir
    try:
        assistant = Assistant(load_knowledge(folder))
    except KnowledgeBaseError as error:
        raise click.ClickException(str(error)) from None
    question = " ".join(text).strip()
    if not question:
        raise click.BadParameter("ask a question", param_hint="TEXT")
    click.echo(json.dumps(assistant.reply(question, language).to_json(), ensure_ascii=False))
