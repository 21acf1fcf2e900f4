"""Exporting a report to the back-end folder: JSON valid by its schema, the signed PDF still
validating, atomic and idempotent files, recorded and audited; a tip with its additions."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from loket.adapters.db import schema as t
from loket.adapters.export.folder import FolderExporter
from loket.adapters.signing.pades import load_signing_identity
from loket.domain.export import ExportFile
from loket.services import export as export_service
from loket.services import follow_up as follow_up_service
from loket.web.app import create_app
from tests.conftest import World, add_officer
from tests.integration.test_call_interpreter import sign_in
from tests.integration.test_handover_pages import at_check, send
from tests.integration.test_report_pages import BASE, csrf
from tests.integration.test_statements import validate
from tests.integration.test_tip_follow_up import give_tip, shown

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "docs" / "schemas" / "report-export.schema.json").read_text()
)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    app = create_app(container=world.container)
    with TestClient(app, base_url=BASE, headers={"Accept-Language": "en"}) as client:
        yield client


def check_schema(document: object) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.Draft202012Validator(SCHEMA).validate(document)


def test_an_officer_exports_a_report_as_valid_json_and_the_signed_pdf_twice_alike(
    client: TestClient, world: World
) -> None:
    page = at_check(client, world)
    send(client, "", page, confirm="yes", full_name="Anna de Vries")
    reference = shown(client.get("/report/done").text, "reference")
    staff_id = add_officer(world, "olaf")
    sign_in(client, world, "olaf")
    detail = client.get(f"/officer/reports/{reference}")
    assert 'id="export-report"' in detail.text
    exported = client.post(
        f"/officer/reports/{reference}/export",
        data={"csrf_token": csrf(detail.text)},
        follow_redirects=False,
    )
    assert exported.headers["location"] == f"/officer/reports/{reference}?exported=1"
    assert 'id="export-done"' in client.get(exported.headers["location"]).text

    folder = world.container.settings.effective_export_dir / reference
    assert sorted(p.name for p in folder.iterdir()) == ["report.json", "statement.pdf"]
    document = json.loads((folder / "report.json").read_text())
    check_schema(document)
    assert document["reference"] == reference and document["kind"] == "report"
    assert any("Gazelle" in json.dumps(a["value"]) for a in document["answers"])
    pdf = (folder / "statement.pdf").read_bytes()
    status = validate(pdf, load_signing_identity(world.container.settings))
    assert status.intact and status.valid and status.trusted
    with world.container.engine.connect() as conn:
        stored_hash = conn.execute(select(t.statements.c.sha256)).scalar_one()
    assert document["statement"]["sha256"] == stored_hash

    first = {p.name: p.read_bytes() for p in folder.iterdir()}
    refused = client.post(f"/officer/reports/{reference}/export", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    client.post(f"/officer/reports/{reference}/export", data={"csrf_token": csrf(detail.text)})
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == first
    with world.container.engine.connect() as conn:
        records = conn.execute(select(t.report_exports)).all()
        a = t.audit_log.c
        audited = conn.execute(
            select(a.actor).where(a.action == "export", a.subject_id == reference)
        ).all()
    assert len(records) == 2 and {r.actor for r in records} == {f"staff:{staff_id}"}
    assert len(audited) == 2


def test_an_export_that_cannot_be_written_says_so_and_records_nothing(
    client: TestClient, world: World
) -> None:
    page = at_check(client, world)
    send(client, "", page, confirm="yes", full_name="Anna de Vries")
    reference = shown(client.get("/report/done").text, "reference")
    blocked = world.container.settings.effective_export_dir
    blocked.parent.mkdir(parents=True, exist_ok=True)
    blocked.write_text("a file where the folder should be")
    add_officer(world, "olaf")
    sign_in(client, world, "olaf")
    detail = client.get(f"/officer/reports/{reference}")
    failed = client.post(
        f"/officer/reports/{reference}/export", data={"csrf_token": csrf(detail.text)}
    )
    assert failed.status_code == 503 and "could not be exported" in failed.text
    with world.container.engine.connect() as conn:
        assert conn.execute(select(t.report_exports)).all() == []


def test_a_tip_exports_with_its_additions_and_no_statement(
    client: TestClient, world: World
) -> None:
    done = give_tip(client)
    reference, passphrase = shown(done, "reference"), shown(done, "access-secret")
    follow_up_service.add_follow_up(
        world.container.follow_up, reference, passphrase, "A second car, also grey."
    )
    record = export_service.export_report(world.container.export, reference, actor="staff:1")
    folder = Path(record.destination)
    assert [p.name for p in folder.iterdir()] == ["report.json"]
    document = json.loads((folder / "report.json").read_text())
    check_schema(document)
    assert document["statement"] is None and document["kind"] == "tip"
    assert [item["text"] for item in document["follow_ups"]] == ["A second car, also grey."]


def test_the_folder_exporter_refuses_unsafe_names_and_leaves_no_temporary_files(
    tmp_path: Path,
) -> None:
    exporter = FolderExporter(tmp_path / "export")
    with pytest.raises(ValueError, match="safe"):
        exporter.export("../etc", [ExportFile("report.json", b"{}")])
    with pytest.raises(ValueError, match="safe"):
        exporter.export("AG-ABCD2345", [ExportFile("a/b.json", b"{}")])
    where = exporter.export("AG-ABCD2345", [ExportFile("report.json", b"{}\n")])
    exporter.export("AG-ABCD2345", [ExportFile("report.json", b'{"v": 2}\n')])
    names = [p.name for p in Path(where).iterdir()]
    assert names == ["report.json"]  # replaced in place, no .tmp left behind
    assert (Path(where) / "report.json").read_bytes() == b'{"v": 2}\n'
    assert not re.search(r"\.tmp$", " ".join(names))
