"""A real `loket serve` (uvicorn, its access log, our loggers): a tip submitted through the
pages leaves none of the tipster's markers in its output or in any table."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
import sqlalchemy
from sqlalchemy import select

from loket.adapters.db.schema import metadata
from loket.config import Settings
from loket.web.sessions import CITIZEN_COOKIE
from tests.servers import postgres_database, prepare_database, running_server

pytestmark = pytest.mark.slow

# uvicorn trusts X-Forwarded-For from 127.0.0.1 by default, as behind a local proxy: this is
# the address the server takes for the tipster's.
ADDRESS = "198.51.100.231"
AGENT = "Marker-Agent/9.9 (served-tipster-beef)"
COOKIE_VALUE = "served-marker-cookie-5eed"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    base = {"LOKET_DATA_DIR": str(tmp_path / "data"), "LOKET_DEMO": "false"}
    if request.param == "sqlite":
        yield base
        return
    with postgres_database("loket_tiptrace") as url:
        yield {**base, "LOKET_DATABASE_URL": url}


class Browser:
    """Carries the session cookie by hand: it is Secure, and this is plain http on loopback."""

    def __init__(self, http: httpx2.Client) -> None:
        self.http = http
        self.session: str | None = None

    def go(self, method: str, path: str, **options: object) -> httpx2.Response:
        cookie = f"tracker={COOKIE_VALUE}"
        if self.session:
            cookie += f"; {CITIZEN_COOKIE}={self.session}"
        headers = {
            "X-Forwarded-For": ADDRESS,
            "User-Agent": AGENT,
            "Accept-Language": "en",
            "Cookie": cookie,
        }
        response = self.http.request(method, path, headers=headers, **options)  # type: ignore[arg-type]
        self.http.cookies.clear()
        for value in response.headers.get_list("set-cookie"):
            if value.startswith(f"{CITIZEN_COOKIE}="):
                self.session = value.split(";", 1)[0].split("=", 1)[1]
        return response

    def post(self, path: str, data: dict[str, str], form_page: str) -> httpx2.Response:
        page = self.go("GET", form_page)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None, page.text
        return self.go("POST", path, data={"csrf_token": token.group(1), **data})


def test_a_served_tip_leaves_no_marker_in_the_log_or_any_table(
    env: dict[str, str], tmp_path: Path
) -> None:
    data_dir = Path(env["LOKET_DATA_DIR"])
    url = Settings(data_dir=data_dir, database_url=env.get("LOKET_DATABASE_URL"))
    prepare_database(url.effective_database_url, data_dir)
    with running_server(env, tmp_path / "serve.log") as server, server.client() as http:
        browser = Browser(http)
        assert browser.go("GET", "/services/tip").status_code == 200
        started = browser.post("/reports/start", {"form": "tip.anonymous"}, "/services/tip")
        assert started.status_code == 303, started.text
        for question, data in [
            ("subject", {"value": "weapons"}),
            ("description", {"value": "Weapons kept in the shed behind number 4"}),
            ("where", {}),
            ("person", {}),
        ]:
            page = f"/report/q/{question}"
            answered = browser.post(page, data, page)
            assert answered.status_code == 303, answered.text
        sent = browser.post("/report/submit", {}, "/report/check")
        assert sent.headers["location"] == "/report/done"
        done = browser.go("GET", "/report/done")
        reference = re.search(r'id="reference">([^<]+)<', done.text)
        passphrase = re.search(r'id="access-secret">([^<]+)<', done.text)
        assert reference is not None and passphrase is not None
        added = browser.post(
            "/tips/follow-up",
            {
                "reference": reference.group(1),
                "passphrase": passphrase.group(1),
                "text": "The shed has a green door.",
            },
            "/tips/follow-up",
        )
        assert added.status_code == 200, added.text
        log = server.output()
    assert "POST /report/submit" in log  # the access log did record the requests
    assert browser.session is not None
    body = browser.session.split(".")[0]
    session_id = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["id"]

    engine = sqlalchemy.create_engine(url.effective_database_url)
    try:
        with engine.connect() as conn:
            dump = "\n".join(
                f"{table.name}: {tuple(row)!r}"
                for table in metadata.sorted_tables
                for row in conn.execute(select(table))
            )
    finally:
        engine.dispose()
    assert reference.group(1) in dump and "green door" in dump
    for marker in (ADDRESS, AGENT, "Marker-Agent", COOKIE_VALUE, session_id, browser.session):
        assert marker not in log, marker
        assert marker not in dump, marker
