"""The default exporter: each report's files in a folder of its own, for a back-end to collect.

`<export dir>/<reference>/statement.pdf` and `report.json`. Each file is written under a
temporary name in the same folder, flushed to disk and renamed into place, so a reader never
sees half a file. The PDF goes first and report.json last: a collector that waits for
report.json finds the statement it names already complete. A file whose bytes are already
there is left alone, so exporting twice changes nothing on disk.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Sequence
from pathlib import Path

from loket.domain.export import ExportFile

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class FolderExporter:
    def __init__(self, root: Path) -> None:
        self.root = root

    def export(self, reference: str, files: Sequence[ExportFile]) -> str:
        # Names become paths: nothing but plain names (no separators, no "..") gets there.
        for name in (reference, *(item.name for item in files)):
            if not _SAFE_NAME.match(name) or ".." in name:
                raise ValueError(f"not a safe file name for an export: {name!r}")
        folder = self.root / reference
        folder.mkdir(parents=True, exist_ok=True, mode=0o750)
        for item in files:
            _write_atomically(folder / item.name, item.content)
        _sync_directory(folder)
        return str(folder)


def _write_atomically(path: Path, content: bytes) -> None:
    if path.is_file() and path.read_bytes() == content:
        return
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _sync_directory(folder: Path) -> None:
    # The renames themselves survive a power cut only once the directory is on disk.
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
