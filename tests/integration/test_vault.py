"""Encryption at rest: round trips, and every way a sealed object must refuse to open."""

from __future__ import annotations

import base64
import os
import secrets
import stat
from pathlib import Path

import pytest

from loket.adapters.vault import STORAGE_KEY_FILE, Vault, VaultError, decode_key, load_vault
from loket.config import Settings

PDF = b"%PDF-1.7\n" + secrets.token_bytes(2000) + b"\n%%EOF\n"


def new_key() -> bytes:
    return secrets.token_bytes(32)


def test_a_statement_and_a_document_open_again_with_the_same_key_and_id() -> None:
    vault = Vault(new_key())
    assert vault.open_statement("st-1", vault.seal_statement("st-1", PDF)) == PDF
    assert vault.open_document("doc-1", vault.seal_document("doc-1", b"\x89PNG")) == b"\x89PNG"


def test_sealing_twice_gives_different_ciphertexts() -> None:
    vault = Vault(new_key())
    assert vault.seal_statement("st-1", PDF) != vault.seal_statement("st-1", PDF)
    assert PDF[9:40] not in vault.seal_statement("st-1", PDF)


def test_any_changed_byte_makes_opening_fail() -> None:
    vault = Vault(new_key())
    sealed = vault.seal_statement("st-1", PDF)
    for position in (0, 3, 10, 25, len(sealed) // 2, len(sealed) - 1):
        tampered = bytearray(sealed)
        tampered[position] ^= 0x01
        with pytest.raises(VaultError):
            vault.open_statement("st-1", bytes(tampered))
    with pytest.raises(VaultError):
        vault.open_statement("st-1", sealed[:-1])


def test_a_ciphertext_does_not_open_under_another_object_id_or_kind() -> None:
    vault = Vault(new_key())
    sealed = vault.seal_statement("st-1", PDF)
    with pytest.raises(VaultError):
        vault.open_statement("st-2", sealed)
    with pytest.raises(VaultError):
        vault.open_document("st-1", sealed)


def test_a_wrong_key_fails() -> None:
    sealed = Vault(new_key()).seal_document("doc-1", PDF)
    with pytest.raises(VaultError, match="not configured"):
        Vault(new_key()).open_document("doc-1", sealed)


def test_after_rotation_old_objects_open_and_new_ones_use_the_new_key() -> None:
    old_key, new = new_key(), new_key()
    old_vault = Vault(old_key)
    sealed_before = old_vault.seal_document("doc-1", PDF)
    rotated = Vault(new, old=[old_key])
    assert rotated.open_document("doc-1", sealed_before) == PDF
    sealed_after = rotated.seal_document("doc-2", PDF)
    assert rotated.key_id_of(sealed_after) == rotated.current_id != old_vault.current_id
    with pytest.raises(VaultError):
        old_vault.open_document("doc-2", sealed_after)


def test_the_key_comes_from_configuration_as_base64_of_32_bytes(tmp_path: Path) -> None:
    key = new_key()
    settings = Settings.from_env(
        {"LOKET_DATA_DIR": str(tmp_path), "LOKET_STORAGE_KEY": base64.b64encode(key).decode()}
    )
    assert load_vault(settings).current_id == Vault(key).current_id
    assert not (tmp_path / STORAGE_KEY_FILE).exists()
    for bad in ("not base64!", base64.b64encode(b"short").decode()):
        with pytest.raises(ValueError):
            decode_key(bad)


def test_without_configuration_a_key_is_made_once_in_the_data_folder(tmp_path: Path) -> None:
    first = load_vault(Settings(data_dir=tmp_path))
    sealed = first.seal_statement("st-1", PDF)
    assert load_vault(Settings(data_dir=tmp_path)).open_statement("st-1", sealed) == PDF
    assert stat.S_IMODE(os.stat(tmp_path / STORAGE_KEY_FILE).st_mode) == 0o600
