"""Benchmark of the virtual agent: intent accuracy on the evaluation set, beside a BM25 baseline.

Run with `make bench` (or `.venv/bin/python benchmarks/assistant.py --help`). The evaluation
questions (content/assistant/eval/) are written apart from the training phrases and are never
used to build the assistant. Two baselines rank intents by Okapi BM25 over the same knowledge
base, one document per intent: `BM25` indexes each intent's training phrases and answers (the
strongest keyword baseline, the same text the assistant learns from); `BM25 answers` indexes
the answers alone (a keyword search over what the knowledge base says). Neither says
"unknown" unless that intent's document ranks first. It prints figures, asserts nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Python puts the script's folder first on sys.path, and benchmarks/queue.py would then
# shadow the standard library's `queue` (which redis and threading import).
if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import math
import platform
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

import yaml

from loket.adapters.assistant import DEFAULT_ASSISTANT_DIR, load_knowledge
from loket.domain.assistant import EMERGENCY, Assistant, KnowledgeBase, normalise


@dataclass(frozen=True)
class Question:
    text: str
    intent: str
    languages: tuple[str, ...]  # the answer's language may be any of these
    group: str  # nl, en, fr, de or mixed


def load_eval(folder: Path) -> list[Question]:
    questions = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        group = data["language"]
        for item in data["questions"]:
            wanted = item.get("language", group)
            languages = tuple(wanted) if isinstance(wanted, list) else (wanted,)
            questions.append(Question(item["text"], item["intent"], languages, group))
    return questions


class Bm25:
    """Okapi BM25 (k1 1.5, b 0.75) over one document per intent, words as terms."""

    def __init__(
        self,
        knowledge: KnowledgeBase,
        *,
        training: bool = True,
        k1: float = 1.5,
        b: float = 0.75,
    ) -> None:
        self.k1, self.b = k1, b
        self.documents: dict[str, Counter[str]] = {}
        for entry in knowledge.intents.values():
            texts = [p for phrases in entry.training.values() for p in phrases] if training else []
            texts += list(entry.answers.values())
            self.documents[entry.intent] = Counter(normalise(" ".join(texts)).split())
        self.lengths = {intent: sum(doc.values()) for intent, doc in self.documents.items()}
        self.average = sum(self.lengths.values()) / len(self.lengths)
        frequency: Counter[str] = Counter()
        for doc in self.documents.values():
            frequency.update(doc.keys())
        total = len(self.documents)
        self.idf = {
            term: math.log(1 + (total - seen + 0.5) / (seen + 0.5))
            for term, seen in frequency.items()
        }

    def best(self, text: str) -> str:
        terms = normalise(text).split()
        scores = {}
        for intent, doc in self.documents.items():
            norm = self.k1 * (1 - self.b + self.b * self.lengths[intent] / self.average)
            scores[intent] = sum(
                self.idf.get(term, 0.0) * doc[term] * (self.k1 + 1) / (doc[term] + norm)
                for term in terms
                if term in doc
            )
        return max(scores, key=lambda intent: scores[intent])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--content", type=Path, default=DEFAULT_ASSISTANT_DIR)
    parser.add_argument("--rounds", type=int, default=5, help="Timing passes over the set.")
    parser.add_argument("--show-misses", action="store_true", help="List wrong answers.")
    args = parser.parse_args()

    started = time.perf_counter()
    knowledge = load_knowledge(args.content)
    assistant = Assistant(knowledge)
    start_up = time.perf_counter() - started
    baseline = Bm25(knowledge)
    answers_only = Bm25(knowledge, training=False)
    questions = load_eval(args.content / "eval")

    by_group: dict[str, list[tuple[bool, bool, bool]]] = defaultdict(list)
    by_intent: dict[str, list[tuple[bool, bool, bool]]] = defaultdict(list)
    language_right = 0
    missed_emergencies: list[str] = []
    false_emergencies: list[str] = []
    misses: list[str] = []
    for question in questions:
        reply = assistant.reply(question.text)
        right = reply.intent == question.intent
        base_right = baseline.best(question.text) == question.intent
        answers_right = answers_only.best(question.text) == question.intent
        by_group[question.group].append((right, base_right, answers_right))
        by_intent[question.intent].append((right, base_right, answers_right))
        language_right += reply.language in question.languages
        if question.intent == EMERGENCY and not reply.is_emergency:
            missed_emergencies.append(question.text)
        if question.intent != EMERGENCY and reply.is_emergency:
            false_emergencies.append(question.text)
        if not right:
            misses.append(f"  {question.text!r}: {reply.intent} (expected {question.intent})")

    latencies = []
    for _ in range(args.rounds):
        for question in questions:
            begin = time.perf_counter()
            assistant.reply(question.text)
            latencies.append((time.perf_counter() - begin) * 1000)

    def share(rows: list[tuple[bool, bool, bool]], column: int) -> float:
        return 100 * sum(row[column] for row in rows) / len(rows)

    everything = [row for rows in by_group.values() for row in rows]
    print(
        "# Assistant intent accuracy "
        f"({platform.python_implementation()} {platform.python_version()})"
    )
    print(
        f"evaluation questions: {len(questions)}; start-up (load + train): {start_up * 1000:.0f} ms"
    )
    print(
        f"{'set':<24}{'n':>5}{'assistant':>12}{'BM25':>10}{'lead':>9}"
        f"{'BM25 answers':>15}{'lead':>9}"
    )
    for name, rows in [*sorted(by_group.items()), ("overall", everything)]:
        a, b, c = share(rows, 0), share(rows, 1), share(rows, 2)
        print(
            f"{name:<24}{len(rows):>5}{a:>11.1f}%{b:>9.1f}%{a - b:>+8.1f}{c:>14.1f}%{a - c:>+8.1f}"
        )
    print()
    print(f"{'intent':<24}{'n':>5}{'assistant':>12}{'BM25':>10}{'BM25 answers':>15}")
    for intent in sorted(by_intent):
        rows = by_intent[intent]
        print(
            f"{intent:<24}{len(rows):>5}{share(rows, 0):>11.1f}%{share(rows, 1):>9.1f}%"
            f"{share(rows, 2):>14.1f}%"
        )
    print()
    print(f"answer language as expected: {100 * language_right / len(questions):.1f}%")
    emergencies = sum(1 for q in questions if q.intent == EMERGENCY)
    print(f"emergencies missed: {len(missed_emergencies)} of {emergencies}")
    for text in missed_emergencies:
        print(f"  missed: {text!r}")
    print(f"false emergencies: {len(false_emergencies)}")
    for text in false_emergencies:
        print(f"  false: {text!r}")
    print(
        f"latency per question: p50 {statistics.median(latencies):.2f} ms, "
        f"p95 {percentile(latencies, 0.95):.2f} ms, max {max(latencies):.2f} ms "
        f"({len(latencies)} replies)"
    )
    if args.show_misses:
        print("wrong answers:")
        print("\n".join(misses))


if __name__ == "__main__":
    main()
