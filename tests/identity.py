"""Test helper: a draft verified online through the real service (the OIDC flow itself is
tested over HTTP in tests/integration/test_identification_oidc.py)."""

from __future__ import annotations

from typing import Any

from loket.services import identification as identification_service

TEST_ISSUER = "https://login.test.invalid"
TEST_CLAIMS = {"sub": "test-0001", "name": "Jan Jansen (TEST)", "birthdate": "1980-04-01"}


def verify_online(container: Any, draft_id: str) -> None:
    """Record an online verification for the draft, as the callback does after a login."""
    identification_service.record_online(
        container.identification, draft_id, TEST_CLAIMS, issuer=TEST_ISSUER
    )
