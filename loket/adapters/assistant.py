"""Reading the assistant's knowledge base from its YAML files, and reloading it when they change."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml

from loket.domain.assistant import (
    Assistant,
    KnowledgeBase,
    KnowledgeBaseError,
    parse_intent,
    parse_suggestions,
)
from loket.domain.catalogue import CATALOGUE

# The source tree's content folder; a deployment may point LOKET_ASSISTANT_DIR elsewhere.
DEFAULT_ASSISTANT_DIR = Path(__file__).resolve().parents[2] / "content" / "assistant"
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(path: Path) -> object:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        raise KnowledgeBaseError(f"{path.name}: not valid YAML: {error}") from None
    except OSError as error:
        raise KnowledgeBaseError(f"{path.name}: cannot be read: {error.strerror}") from None


def load_knowledge(directory: Path | None = None) -> KnowledgeBase:
    """The knowledge base in the folder; KnowledgeBaseError names the bad file and fault."""
    folder = directory or DEFAULT_ASSISTANT_DIR
    intents_folder = folder / "intents"
    if not intents_folder.is_dir():
        raise KnowledgeBaseError(f"{intents_folder}: the intents folder does not exist")
    services = [service.code for service in CATALOGUE]
    entries = {}
    for path in sorted(intents_folder.glob("*.yaml")):
        entry = parse_intent(_read(path), path.name, services)
        if path.stem != entry.intent:
            raise KnowledgeBaseError(f"{path.name}: intent {entry.intent!r} must match the name")
        entries[entry.intent] = entry
    suggestions_file = folder / "suggestions.yaml"
    suggestions = (
        parse_suggestions(_read(suggestions_file), suggestions_file.name)
        if suggestions_file.exists()
        else {}
    )
    return KnowledgeBase(intents=entries, suggestions=suggestions)


def _fingerprint(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and modification times of the files the knowledge base is read from."""
    paths = [*sorted((folder / "intents").glob("*.yaml")), folder / "suggestions.yaml"]
    found = []
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            continue
        found.append((path.name, stat.st_size, stat.st_mtime_ns))
    return tuple(found)


@dataclass(frozen=True)
class KnowledgeStatus:
    """What the supervisor page shows: when the answers were loaded, and the last fault."""

    loaded_at: datetime
    intents: int
    phrases: int
    fault: str | None
    fault_at: datetime | None


class AssistantSource:
    """The current assistant, rebuilt when its files change (checked at most every few
    seconds) or when asked. A broken file keeps the previous assistant and records the fault.
    """

    def __init__(self, directory: Path | None = None, check_seconds: float = 2.0) -> None:
        self.directory = directory or DEFAULT_ASSISTANT_DIR
        self._check_seconds = check_seconds
        self._lock = threading.Lock()
        self._assistant: Assistant | None = None
        self._fingerprint: tuple[tuple[str, int, int], ...] = ()
        self._loaded_at = datetime.now(UTC)
        self._checked = time.monotonic()
        self._fault: str | None = None
        self._fault_at: datetime | None = None

    def _first(self) -> Assistant:
        # Built on first use (and shared by every source of the same files in the process):
        # containers that never chat do not pay for training. A bad knowledge base then
        # fails this first use with the file and the fault, like a bad form file at start.
        with self._lock:
            if self._assistant is None:
                self._fingerprint = _fingerprint(self.directory)
                self._assistant = _built(self.directory, self._fingerprint)
                self._loaded_at = datetime.now(UTC)
                self._checked = time.monotonic()
            return self._assistant

    def current(self) -> Assistant:
        """The assistant, reloaded first if the files changed since the last look."""
        if self._assistant is None:
            return self._first()
        if time.monotonic() - self._checked >= self._check_seconds:
            self._checked = time.monotonic()
            if _fingerprint(self.directory) != self._fingerprint:
                self.reload()
        return self._assistant

    def reload(self) -> str | None:
        """Read the files again now; returns the fault (and keeps the old answers) if any."""
        with self._lock:
            fingerprint = _fingerprint(self.directory)
            try:
                assistant = _built(self.directory, fingerprint)
            except KnowledgeBaseError as error:
                # Remember the fingerprint anyway: the broken file is not re-read on every
                # question, only when it changes again.
                self._fingerprint = fingerprint
                self._fault = str(error)
                self._fault_at = datetime.now(UTC)
                return self._fault
            self._assistant = assistant
            self._fingerprint = fingerprint
            self._loaded_at = datetime.now(UTC)
            self._fault = None
            self._fault_at = None
            return None

    def status(self) -> KnowledgeStatus:
        knowledge = self.current().knowledge
        return KnowledgeStatus(
            loaded_at=self._loaded_at,
            intents=len(knowledge.intents),
            phrases=sum(
                len(phrases)
                for entry in knowledge.intents.values()
                for phrases in entry.training.values()
            ),
            fault=self._fault,
            fault_at=self._fault_at,
        )


_CACHE: dict[tuple[Path, tuple[tuple[str, int, int], ...]], Assistant] = {}
_CACHE_LOCK = threading.Lock()


def _built(folder: Path, fingerprint: tuple[tuple[str, int, int], ...]) -> Assistant:
    key = (folder.resolve(), fingerprint)
    with _CACHE_LOCK:
        found = _CACHE.get(key)
    if found is not None:
        return found
    assistant = Assistant(load_knowledge(folder))
    with _CACHE_LOCK:
        # Only the newest version of each folder is worth keeping.
        for stale in [k for k in _CACHE if k[0] == key[0]]:
            del _CACHE[stale]
        _CACHE[key] = assistant
    return assistant
