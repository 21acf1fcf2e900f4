"""Small edge pieces: configuration, language negotiation, the rate limiter."""

from __future__ import annotations

from pathlib import Path

import pytest

from loket.config import Settings
from loket.web.i18n import negotiate
from loket.web.ratelimit import RateLimiter


def test_settings_come_from_loket_variables_and_flags_win() -> None:
    env = {
        "LOKET_PORT": "9000",
        "LOKET_DEMO": "no",
        "LOKET_ALLOWED_ORIGINS": "https://a, https://b",
    }
    settings = Settings.from_env(env, host="0.0.0.0")
    assert settings.port == 9000 and settings.demo is False and settings.host == "0.0.0.0"
    assert settings.allowed_origins == ("https://a", "https://b")


def test_the_default_database_is_sqlite_in_the_data_folder(tmp_path: Path) -> None:
    settings = Settings.from_env({"LOKET_DATA_DIR": str(tmp_path)})
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'loket.db'}"


@pytest.mark.parametrize(("raw", "message"), [("LOKET_PORT", "abc"), ("LOKET_DEMO", "maybe")])
def test_a_bad_value_names_its_variable(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=raw):
        Settings.from_env({raw: message})


@pytest.mark.parametrize(
    ("header", "explicit", "expected"),
    [
        ("en-GB,en;q=0.9,nl;q=0.8", None, "en"),
        ("fr-BE;q=0.5, nl-BE;q=0.9", None, "nl"),
        ("ja, de;q=0.1", None, "de"),
        ("ja", None, "nl"),
        (None, None, "nl"),
        ("en", "fr", "fr"),
        ("en", "xx", "en"),
        ("en;q=abc, de", None, "de"),
    ],
)
def test_the_language_is_an_explicit_choice_else_the_best_accepted(header, explicit, expected):
    assert negotiate(header, explicit) == expected


def test_the_rate_limiter_allows_a_burst_then_refills_over_time() -> None:
    limiter = RateLimiter(per_minute=3)
    assert [limiter.allow("a", now=0.0)[0] for _ in range(4)] == [True, True, True, False]
    allowed, retry_after = limiter.allow("a", now=1.0)
    assert not allowed and 1 <= retry_after <= 20
    assert limiter.allow("b", now=1.0)[0], "another address has its own bucket"
    assert limiter.allow("a", now=21.0)[0], "one request per 20 s comes back"


def test_the_rate_limiter_forgets_the_oldest_addresses_beyond_its_size() -> None:
    limiter = RateLimiter(per_minute=1, max_keys=2)
    limiter.allow("a", now=0.0)
    limiter.allow("b", now=0.0)
    limiter.allow("c", now=0.0)
    assert limiter.allow("a", now=0.0)[0], "a was forgotten and starts with a full bucket"
