"""Password hashing (argon2id) and the TOTP second factor, behind the services' ports."""

from __future__ import annotations

import hmac
from datetime import datetime

import argon2
import pyotp


class Argon2Hasher:
    def __init__(self, *, time_cost: int = 3, memory_cost: int = 65536) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, type=argon2.Type.ID
        )

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(password_hash, password))
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False


class Totp:
    """RFC 6238 codes, 30-second steps; one step either side forgives a drifting phone clock."""

    def __init__(self, issuer: str = "Loket") -> None:
        self._issuer = issuer

    def new_secret(self) -> str:
        return pyotp.random_base32()

    def matched_step(self, secret: str, code: str, at: datetime) -> int | None:
        code = code.strip().replace(" ", "")
        if not code.isdigit():
            return None
        totp = pyotp.TOTP(secret)
        now = totp.timecode(at)
        for step in (now, now - 1, now + 1):
            if hmac.compare_digest(totp.generate_otp(step), code):
                return step
        return None

    def provisioning_uri(self, secret: str, username: str) -> str:
        return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=self._issuer)

    def current_code(self, secret: str, at: datetime) -> str:
        return pyotp.TOTP(secret).at(at)
