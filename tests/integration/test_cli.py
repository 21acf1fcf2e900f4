"""The `loket` command: migrations, demo seeding, staff accounts and the audit check."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy
from click.testing import CliRunner
from sqlalchemy import select, update

from loket.adapters.db.schema import audit_log, locations, staff
from loket.cli import main


def run(*args: str, data_dir: Path, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), *args], input=stdin)
    return result.exit_code, result.output


def test_demo_seeds_the_desks_once_and_prints_logins_without_storing_them_in_clear(
    tmp_path: Path,
) -> None:
    code, output = run("demo", data_dir=tmp_path)
    assert code == 0, output
    assert "Demo data seeded." in output and "els.wouters" in output
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'loket.db'}")
    with engine.connect() as conn:
        assert conn.execute(select(sqlalchemy.func.count()).select_from(locations)).scalar() == 12
        hashes = [row[0] for row in conn.execute(select(staff.c.password_hash))]
    engine.dispose()
    assert len(hashes) == 8 and all(h.startswith("$argon2id$") for h in hashes)
    logins = json.loads((tmp_path / "demo-logins.json").read_text())["logins"]
    assert logins[0]["password"] in output and logins[0]["password"] not in "".join(hashes)
    assert (tmp_path / "demo-logins.json").stat().st_mode & 0o077 == 0

    code, output = run("demo", data_dir=tmp_path)
    assert code == 0 and "already there" in output

    code, output = run("demo", "--codes", data_dir=tmp_path)
    assert code == 0
    assert all(line.split()[-1].isdigit() for line in output.strip().splitlines())


def test_staff_add_refuses_a_weak_password_and_creates_a_strong_one(tmp_path: Path) -> None:
    code, output = run(
        "staff", "add", "piet", "--name", "Piet", "--role", "officer", "--password-stdin",
        data_dir=tmp_path, stdin="short\n",
    )  # fmt: skip
    assert code != 0 and "staff.password_too_short" in output

    code, output = run(
        "staff", "add", "piet", "--name", "Piet", "--role", "officer", "--language", "fr",
        "--password-stdin", data_dir=tmp_path, stdin="a-Much-better-passphrase\n",
    )  # fmt: skip
    assert code == 0, output
    assert "otpauth://totp/" in output

    code, output = run(
        "staff", "add", "piet", "--name", "Piet 2", "--role", "host", "--password-stdin",
        data_dir=tmp_path, stdin="a-Much-better-passphrase\n",
    )  # fmt: skip
    assert code != 0 and "staff.username_taken" in output


def test_audit_verify_passes_an_intact_trail_and_finds_a_changed_entry(tmp_path: Path) -> None:
    assert run("demo", data_dir=tmp_path)[0] == 0  # creating staff writes audit entries
    code, output = run("audit", "verify", data_dir=tmp_path)
    verdict = json.loads(output)
    assert code == 0 and verdict["intact"] and verdict["entries_checked"] == 8
    assert len(verdict["head_hash"]) == 64

    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'loket.db'}")
    with engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.sequence == 3).values(actor="someone"))
    engine.dispose()
    code, output = run("audit", "verify", data_dir=tmp_path)
    verdict = json.loads(output)
    assert code == 1
    assert not verdict["intact"]
    assert (verdict["first_bad_sequence"], verdict["problem"]) == (3, "hash_mismatch")


def test_db_upgrade_is_repeatable(tmp_path: Path) -> None:
    assert run("db", "upgrade", data_dir=tmp_path)[0] == 0
    code, output = run("db", "upgrade", data_dir=tmp_path)
    assert code == 0 and "up to date" in output


def test_a_bad_environment_value_is_a_clear_usage_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LOKET_DEMO", "perhaps")
    code, output = run("db", "upgrade", data_dir=tmp_path)
    assert code == 2 and "LOKET_DEMO must be true or false" in output


def test_serve_stops_at_start_on_a_broken_knowledge_base(tmp_path: Path, monkeypatch) -> None:
    import shutil

    from loket.adapters.assistant import DEFAULT_ASSISTANT_DIR

    knowledge = tmp_path / "assistant"
    shutil.copytree(DEFAULT_ASSISTANT_DIR, knowledge)
    (knowledge / "intents" / "greeting.yaml").write_text("intent: [unclosed\n", encoding="utf-8")
    monkeypatch.setenv("LOKET_ASSISTANT_DIR", str(knowledge))
    code, output = run("serve", "--no-demo", "--port", "1", data_dir=tmp_path / "data")
    assert code == 1
    assert "knowledge base" in output and "greeting.yaml" in output
