"""Encryption at rest for statements and uploaded documents: AES-256-GCM, keys from configuration.

A sealed object is one byte string that carries everything needed to open it except the key:
a format tag, the id of the key that sealed it (so keys can rotate: old keys stay configured
to open old objects), a fresh random nonce, and the ciphertext with its tag. The associated
data binds the kind and id of the object, so a ciphertext copied onto another row does not
open there. The keys live in the environment or the data folder, never in the database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from loket.adapters.secret_files import read_or_create
from loket.config import Settings

FORMAT = b"LV1"
KEY_BYTES = 32
NONCE_BYTES = 12  # GCM's native nonce size; random per object (2^32 objects per key is safe)
STORAGE_KEY_FILE = "storage.key"
STATEMENT = "statement"
DOCUMENT = "document"


class VaultError(Exception):
    """A sealed object cannot be opened: wrong key, wrong object, or altered."""


def key_id(key: bytes) -> str:
    """A short public name for a key: the start of the hash of the key (not of a secret's use)."""
    return hashlib.sha256(b"loket-vault-key-id" + key).hexdigest()[:16]


def decode_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a storage key must be base64") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"a storage key must be {KEY_BYTES} bytes, base64-encoded")
    return key


class Vault:
    """Seals with the current key; opens with any configured key, chosen by the stored key id."""

    def __init__(self, current: bytes, old: Iterable[bytes] = ()) -> None:
        keys = [current, *old]
        if any(len(key) != KEY_BYTES for key in keys):
            raise ValueError(f"storage keys must be {KEY_BYTES} bytes")
        self.current_id = key_id(current)
        self._keys = {key_id(key): AESGCM(key) for key in keys}

    def seal(self, kind: str, object_id: str, plaintext: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        header = FORMAT + self.current_id.encode("ascii") + nonce
        aead = self._keys[self.current_id]
        return header + aead.encrypt(nonce, plaintext, _associated(kind, object_id, header))

    def open(self, kind: str, object_id: str, sealed: bytes) -> bytes:
        """The plaintext; VaultError if the key is unknown or anything was changed."""
        id_end = len(FORMAT) + 16
        header = sealed[: id_end + NONCE_BYTES]
        if len(sealed) < len(header) + 16 or not sealed.startswith(FORMAT):
            raise VaultError("not a sealed object")
        aead = self._keys.get(sealed[len(FORMAT) : id_end].decode("ascii", "replace"))
        if aead is None:
            raise VaultError("sealed with a key that is not configured")
        nonce = header[id_end:]
        try:
            return aead.decrypt(nonce, sealed[len(header) :], _associated(kind, object_id, header))
        except InvalidTag:
            raise VaultError("wrong key, wrong object, or altered") from None

    def key_id_of(self, sealed: bytes) -> str:
        """Which key sealed an object, to find what a rotation still has to re-seal."""
        return sealed[len(FORMAT) : len(FORMAT) + 16].decode("ascii", "replace")

    def seal_statement(self, statement_id: str, pdf: bytes) -> bytes:
        return self.seal(STATEMENT, statement_id, pdf)

    def open_statement(self, statement_id: str, sealed: bytes) -> bytes:
        return self.open(STATEMENT, statement_id, sealed)

    def seal_document(self, document_id: str, content: bytes) -> bytes:
        return self.seal(DOCUMENT, document_id, content)

    def open_document(self, document_id: str, sealed: bytes) -> bytes:
        return self.open(DOCUMENT, document_id, sealed)


def _associated(kind: str, object_id: str, header: bytes) -> bytes:
    # Length-prefixed, so ("statement", "a|b") and ("statement|a", "b") differ.
    parts = [kind.encode(), object_id.encode(), header]
    return b"".join(len(part).to_bytes(4, "big") + part for part in parts)


def load_vault(settings: Settings) -> Vault:
    """The vault of LOKET_STORAGE_KEY (+ LOKET_STORAGE_OLD_KEYS), else of a key in data_dir."""
    old = [decode_key(text) for text in settings.storage_old_keys]
    if settings.storage_key:
        return Vault(decode_key(settings.storage_key), old)
    path = settings.data_dir / STORAGE_KEY_FILE
    text = read_or_create(path, lambda: base64.b64encode(secrets.token_bytes(KEY_BYTES)))
    return Vault(decode_key(text.decode("ascii")), old)
