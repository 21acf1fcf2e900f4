"""The virtual agent: what the citizen wants, in which language, and the curated answer to it.

Everything it says comes from the knowledge base (`content/assistant/`, see docs/assistant.md):
an answer per intent and language, the action the intent starts, and training phrases. From
those phrases a recogniser is built at start-up: TF-IDF over words and character n-grams (2-5
characters inside words, so typos and inflections still share most features), scored by the
nearest phrases and each intent's centroid. Emergencies are decided by rules first (see
`emergency`). Below the confidence threshold the answer is "I don't know" with a person
offered: the agent never guesses. Pure Python, no model files: start-up trains in well under
a second on the shipped knowledge base.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from loket.domain.emergency import EmergencyVerdict, detect_emergency, speaks_of_the_past_only

# The stable public vocabulary (issue 6). Adding one is a change of contract.
INTENTS: tuple[str, ...] = (
    "report.bicycle_theft",
    "report.theft",
    "report.burglary",
    "report.vandalism",
    "report.online_fraud",
    "report.threat",
    "tip.anonymous",
    "tip.nuisance",
    "lost.property",
    "lost.id_document",
    "lost.passport_foreign",
    "contact.officer",
    "contact.callback",
    "info.opening_hours",
    "info.report_status",
    "info.victim_support",
    "info.careers",
    "info.identification",
    "info.contact_numbers",
    "emergency",
    "greeting",
    "unknown",
)
EMERGENCY = "emergency"
UNKNOWN = "unknown"
# The knowledge base answers in these; the recogniser understands them mixed.
KB_LANGUAGES: tuple[str, ...] = ("nl", "en", "fr", "de")
DEFAULT_LANGUAGE = "nl"
# Below this the agent says it does not know. Confidence is a calibrated probability that
# the top intent is right (see `_calibrated`), so 0.5 reads "more likely right than wrong".
CONFIDENCE_THRESHOLD = 0.5
MAX_QUESTION_LENGTH = 500


class ActionKind(StrEnum):
    """What an intent offers besides its answer; the web layer turns it into a button."""

    REPORT = "report"  # start the report or tip form named by `service`
    HANDOVER = "handover"  # a ticket for an officer, the chat transcript attached
    CALLBACK = "callback"  # the callback booking page
    REFERRAL = "referral"  # the referral page of the intent
    LINK = "link"  # a page of this site, named by `path`
    EMERGENCY = "emergency"  # call 112: the reply itself is the action
    NONE = "none"


class KnowledgeBaseError(ValueError):
    """A knowledge-base file breaks the schema; the message names the file and the fault."""


@dataclass(frozen=True)
class IntentEntry:
    """One intent of the knowledge base: answers per language, action, training phrases."""

    intent: str
    action: ActionKind
    answers: Mapping[str, str]
    training: Mapping[str, tuple[str, ...]]
    service: str | None = None
    path: str | None = None

    def answer(self, language: str) -> str:
        return self.answers.get(language) or self.answers[DEFAULT_LANGUAGE]


@dataclass(frozen=True)
class KnowledgeBase:
    intents: Mapping[str, IntentEntry]
    suggestions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [intent for intent in INTENTS if intent not in self.intents]
        if missing:
            raise KnowledgeBaseError(f"intents without a file: {', '.join(missing)}")

    def entry(self, intent: str) -> IntentEntry:
        return self.intents[intent]

    def suggested(self, language: str) -> tuple[str, ...]:
        return self.suggestions.get(language) or self.suggestions.get(DEFAULT_LANGUAGE, ())


_PATH = re.compile(r"^/[a-z0-9/_-]*$")


def parse_intent(data: Any, source: str, known_services: Iterable[str] = ()) -> IntentEntry:
    """Check one intent file's data; KnowledgeBaseError names `source` and the fault."""
    if not isinstance(data, dict):
        raise KnowledgeBaseError(f"{source}: expected a mapping at the top")
    intent = data.get("intent")
    if intent not in INTENTS:
        raise KnowledgeBaseError(f"{source}: intent {intent!r} is not in the vocabulary")
    try:
        action = ActionKind(data.get("action", "none"))
    except ValueError:
        choices = ", ".join(kind.value for kind in ActionKind)
        raise KnowledgeBaseError(f"{source}: action must be one of {choices}") from None
    answers = data.get("answer")
    if not isinstance(answers, dict):
        raise KnowledgeBaseError(f"{source}: answer must map languages to texts")
    for language in KB_LANGUAGES:
        text = answers.get(language)
        if not isinstance(text, str) or not text.strip():
            raise KnowledgeBaseError(f"{source}: answer.{language} is missing")
    training_data = data.get("training")
    if not isinstance(training_data, dict):
        raise KnowledgeBaseError(f"{source}: training must map languages to phrase lists")
    training: dict[str, tuple[str, ...]] = {}
    for language in KB_LANGUAGES:
        phrases = training_data.get(language)
        if not isinstance(phrases, list) or not phrases:
            raise KnowledgeBaseError(f"{source}: training.{language} needs at least one phrase")
        if not all(isinstance(phrase, str) and phrase.strip() for phrase in phrases):
            raise KnowledgeBaseError(f"{source}: training.{language} holds an empty phrase")
        training[language] = tuple(phrases)
    service = data.get("service")
    services = set(known_services)
    if action is ActionKind.REPORT and not service:
        raise KnowledgeBaseError(f"{source}: action report needs the form code in service")
    if service is not None and services and service not in services:
        raise KnowledgeBaseError(f"{source}: service {service!r} is not in the catalogue")
    path = data.get("path")
    if action is ActionKind.LINK and (not isinstance(path, str) or not _PATH.match(path)):
        raise KnowledgeBaseError(f"{source}: action link needs a path like /services/careers")
    return IntentEntry(
        intent=intent,
        action=action,
        answers={language: answers[language].strip() for language in answers},
        training=training,
        service=service,
        path=path,
    )


def parse_suggestions(data: Any, source: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(data, dict) or not isinstance(data.get("suggestions"), dict):
        raise KnowledgeBaseError(f"{source}: expected suggestions: {{language: [questions]}}")
    found: dict[str, tuple[str, ...]] = {}
    for language, questions in data["suggestions"].items():
        if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
            raise KnowledgeBaseError(f"{source}: suggestions.{language} must be a list of texts")
        found[str(language)] = tuple(questions)
    return found


# -- text ------------------------------------------------------------------------------------

_NOT_A_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """Lower case, accents and punctuation gone, single spaces: "Où est-il ?" -> "ou est il"."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = folded.replace("œ", "oe").replace("æ", "ae")
    bare = "".join(
        char for char in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(char)
    )
    return " ".join(_NOT_A_WORD.sub(" ", bare).split())


Vector = dict[str, float]

# Chosen by cross-validation over the training phrases (never the evaluation set): words,
# word pairs and in-word n-grams of 2-5 characters weigh alike.
_NGRAM_SIZES = (2, 3, 4, 5)


def _features(normalised: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    words = normalised.split()
    for word in words:
        counts["w " + word] += 1
        padded = f"<{word}>"
        for size in _NGRAM_SIZES:
            for start in range(len(padded) - size + 1):
                counts[padded[start : start + size]] += 1
    for first, second in itertools.pairwise(words):
        counts[f"b {first} {second}"] += 1
    return counts


# -- the recogniser --------------------------------------------------------------------------


@dataclass(frozen=True)
class Scored:
    intent: str
    score: float


@dataclass(frozen=True)
class Ranking:
    """Intents best first with their posterior (0-1), and how much of the question the
    knowledge base has seen at all (0-1): a question about something else scores low there."""

    ranked: tuple[Scored, ...]
    coverage: float


class Recogniser:
    """Multinomial naive Bayes over TF-IDF-weighted words, word pairs and character n-grams.

    Cheap to train (counting) and to score (one pass over the question's features per
    intent), and robust to typos: a misspelt word keeps most of its n-grams.
    """

    SMOOTHING = 0.1
    # Posteriors from summed log-likelihoods are far too sure of themselves; dividing by the
    # question's weight and this temperature spreads them (fitted with the calibration).
    TEMPERATURE = 0.35

    def __init__(self, examples: Sequence[tuple[str, str]]) -> None:
        """`examples` are (intent, phrase) pairs."""
        documents = [(intent, _features(normalise(phrase))) for intent, phrase in examples]
        frequency: Counter[str] = Counter()
        for _, counts in documents:
            frequency.update(counts.keys())
        total = len(documents)
        self._idf = {
            feature: math.log((total + 1) / (seen + 1)) + 1.0 for feature, seen in frequency.items()
        }
        self._intents = tuple(sorted({intent for intent, _ in examples}))
        mass: dict[str, dict[str, float]] = {intent: defaultdict(float) for intent in self._intents}
        for intent, counts in documents:
            vector = self._vector(counts)
            for feature, weight in vector.items():
                mass[intent][feature] += weight
        vocabulary = len(frequency)
        alpha = self.SMOOTHING
        # Per intent: log P(feature | intent) of the features it has, and the smoothed floor
        # for every other feature (most features belong to a few intents only).
        self._log_likelihood: list[dict[str, float]] = []
        self._floor: list[float] = []
        for intent in self._intents:
            denominator = sum(mass[intent].values()) + alpha * vocabulary
            self._log_likelihood.append(
                {
                    feature: math.log((weight + alpha) / denominator)
                    for feature, weight in mass[intent].items()
                }
            )
            self._floor.append(math.log(alpha / denominator))

    def _vector(self, counts: Counter[str]) -> Vector:
        vector = {
            feature: (1.0 + math.log(count)) * self._idf[feature]
            for feature, count in counts.items()
            if feature in self._idf
        }
        norm = math.sqrt(sum(value * value for value in vector.values())) or 1.0
        return {feature: value / norm for feature, value in vector.items()}

    def rank(self, normalised: str) -> Ranking:
        """Every intent with its posterior, best first."""
        counts = _features(normalised)
        if not counts:
            return Ranking((), 0.0)
        # Coverage counts the long features only: nearly every pair of letters occurs
        # somewhere, so gibberish would look familiar by its 2- and 3-grams.
        telling = [(feature, count) for feature, count in counts.items() if len(feature) >= 4]
        seen = sum(count for feature, count in telling if feature in self._idf)
        coverage = seen / max(1, sum(count for _, count in telling))
        query = self._vector(counts)
        weight_sum = sum(query.values())
        totals = [
            sum(weight * table.get(feature, floor) for feature, weight in query.items())
            for table, floor in zip(self._log_likelihood, self._floor, strict=True)
        ]
        if weight_sum == 0.0:
            return Ranking((), 0.0)
        scaled = [total / weight_sum / self.TEMPERATURE for total in totals]
        peak = max(scaled)
        exponentials = [math.exp(value - peak) for value in scaled]
        whole = sum(exponentials)
        ranked = sorted(
            (Scored(intent, exponentials[i] / whole) for i, intent in enumerate(self._intents)),
            key=lambda scored: scored.score,
            reverse=True,
        )
        return Ranking(tuple(ranked), coverage)


# Fitted by logistic regression on cross-validated predictions of the training phrases (the
# out-of-scope phrases of `unknown` and random letter strings among them), never on the
# evaluation set: P(right) from
# the top posterior, its lead over the second, and the question's coverage.
_CALIBRATION = (-2.74, 2.71, 6.29, 3.25)


def _calibrated(top: float, lead: float, coverage: float) -> float:
    bias, top_weight, lead_weight, coverage_weight = _CALIBRATION
    z = bias + top_weight * top + lead_weight * lead + coverage_weight * coverage
    return 1.0 / (1.0 + math.exp(-z))


# -- language --------------------------------------------------------------------------------


class LanguageDetector:
    """Character-trigram profiles per language, learnt from the knowledge base's own texts."""

    def __init__(self, texts: Mapping[str, Iterable[str]]) -> None:
        self._log_probabilities: dict[str, dict[str, float]] = {}
        self._floor: dict[str, float] = {}
        for language, samples in texts.items():
            counts: Counter[str] = Counter()
            for sample in samples:
                counts.update(_trigrams(normalise(sample)))
            total = sum(counts.values())
            vocabulary = len(counts) + 1
            self._log_probabilities[language] = {
                gram: math.log((count + 0.5) / (total + 0.5 * vocabulary))
                for gram, count in counts.items()
            }
            self._floor[language] = math.log(0.5 / (total + 0.5 * vocabulary))

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._log_probabilities)

    def detect(self, normalised: str) -> tuple[str, float]:
        """The likeliest language and how sure (0-1); (DEFAULT_LANGUAGE, 0) for no text."""
        grams = _trigrams(normalised)
        if not grams:
            return DEFAULT_LANGUAGE, 0.0
        scores = {
            language: sum(table.get(gram, self._floor[language]) for gram in grams)
            for language, table in self._log_probabilities.items()
        }
        best = max(scores, key=lambda language: scores[language])
        # Softmax over the per-trigram average: a margin, not a true probability.
        peak = scores[best]
        weights = {
            language: math.exp((score - peak) / max(len(grams), 1) * 4)
            for language, score in scores.items()
        }
        return best, weights[best] / sum(weights.values())


def _trigrams(normalised: str) -> list[str]:
    grams: list[str] = []
    for word in normalised.split():
        padded = f" {word} "
        grams.extend(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


# -- the agent -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """The agent's answer to one question: the public contract of `loket ask` and the API."""

    intent: str
    confidence: float
    language: str
    reply: str
    action: ActionKind
    service: str | None = None
    path: str | None = None
    # An emergency answers first; a second thing asked in the same message comes after it.
    also: str | None = None
    also_reply: str | None = None
    is_emergency: bool = False
    # The intent the recogniser ranked first, also when the agent answered "unknown".
    best_guess: str | None = None

    @property
    def is_answered(self) -> bool:
        return self.intent != UNKNOWN

    def to_json(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "confidence": round(self.confidence, 3),
            "language": self.language,
            "reply": self.reply,
            "action": self.action.value,
            "service": self.service,
            "also": self.also,
            "also_reply": self.also_reply,
            "is_emergency": self.is_emergency,
        }


# Clauses of one message: "someone is breaking in now, and how do I report my bike?"
_CLAUSE_BREAK = re.compile(r"[.!?;\n]+|,|\b(?:and|en|et|und|also|ook|aussi|auch)\b", re.I)


class Assistant:
    """Built once from a knowledge base; `reply` is pure and safe to call from any thread."""

    def __init__(self, knowledge: KnowledgeBase) -> None:
        self.knowledge = knowledge
        examples = [
            (entry.intent, phrase)
            for entry in knowledge.intents.values()
            for phrases in entry.training.values()
            for phrase in phrases
        ]
        self.recogniser = Recogniser(examples)
        by_language: dict[str, list[str]] = {language: [] for language in KB_LANGUAGES}
        for entry in knowledge.intents.values():
            for language in KB_LANGUAGES:
                by_language[language].extend(entry.training[language])
                by_language[language].append(entry.answers[language])
        for language, questions in knowledge.suggestions.items():
            if language in by_language:
                by_language[language].extend(questions)
        self.languages = LanguageDetector(by_language)

    def reply(self, text: str, language: str | None = None) -> Reply:
        """Answer `text`; `language` (the session's) wins over detection when the KB has it."""
        normalised = normalise(text[:MAX_QUESTION_LENGTH])
        detected, _ = self.languages.detect(normalised)
        answer_in = language if language in KB_LANGUAGES else detected
        assert answer_in is not None
        verdict = detect_emergency(normalised)
        intent, confidence, best = self._classify(normalised)
        if not verdict.is_emergency and intent == EMERGENCY:
            # The recogniser alone heard an emergency. Trust it unless only the past is
            # spoken of ("there was a fight last week"): recall first, but not for history.
            if speaks_of_the_past_only(normalised):
                intent, confidence, best = self._classify(normalised, exclude=EMERGENCY)
            else:
                verdict = EmergencyVerdict(True, "recogniser")
        if verdict.is_emergency:
            return self._emergency(text, answer_in, confidence if intent == EMERGENCY else 1.0)
        return self._answer(intent, confidence, answer_in, best)

    def _classify(self, normalised: str, *, exclude: str | None = None) -> tuple[str, float, str]:
        """(intent or unknown, confidence, the recogniser's first choice)."""
        ranking = self.recogniser.rank(normalised)
        ranked = [s for s in ranking.ranked if s.intent != exclude]
        if not ranked:
            return UNKNOWN, 1.0, UNKNOWN
        top = ranked[0]
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        confidence = _calibrated(top.score, top.score - runner_up, ranking.coverage)
        if top.intent == UNKNOWN:
            return UNKNOWN, confidence, UNKNOWN
        if confidence < CONFIDENCE_THRESHOLD:
            # Never guess: say so, offer a person. Confidence is then that of "none of these".
            return UNKNOWN, 1.0 - confidence, top.intent
        return top.intent, confidence, top.intent

    def _answer(self, intent: str, confidence: float, language: str, best: str) -> Reply:
        entry = self.knowledge.entry(intent)
        return Reply(
            intent=intent,
            confidence=confidence,
            language=language,
            reply=entry.answer(language),
            action=entry.action,
            service=entry.service,
            path=entry.path,
            best_guess=best,
        )

    def _emergency(self, text: str, language: str, confidence: float) -> Reply:
        entry = self.knowledge.entry(EMERGENCY)
        also, also_reply = self._second_request(text, language)
        return Reply(
            intent=EMERGENCY,
            confidence=max(confidence, CONFIDENCE_THRESHOLD),
            language=language,
            reply=entry.answer(language),
            action=ActionKind.EMERGENCY,
            also=also,
            also_reply=also_reply,
            is_emergency=True,
            best_guess=EMERGENCY,
        )

    def _second_request(self, text: str, language: str) -> tuple[str | None, str | None]:
        """Something else asked beside the emergency, in a clause without danger in it."""
        for clause in _CLAUSE_BREAK.split(text):
            normalised = normalise(clause)
            if len(normalised.split()) < 2 or detect_emergency(normalised).is_emergency:
                continue
            intent, _, _ = self._classify(normalised, exclude=EMERGENCY)
            if intent not in (UNKNOWN, EMERGENCY, "greeting"):
                return intent, self.knowledge.entry(intent).answer(language)
        return None, None


# -- conversations ---------------------------------------------------------------------------


class Speaker(StrEnum):
    CITIZEN = "citizen"
    AGENT = "agent"


@dataclass(frozen=True)
class ChatLine:
    """One turn of a conversation, as the transcript shows it to the officer."""

    conversation_id: str
    position: int
    speaker: Speaker
    text: str
    at: datetime
    intent: str | None = None
    confidence: float | None = None


@dataclass
class Conversation:
    """A chat with the agent. Kept only for a handover and then the retention period; the
    kiosk's reset deletes it unless it was handed to an officer (`ticket_id`)."""

    id: str
    language: str
    channel: str
    location_slug: str
    started_at: datetime
    last_at: datetime
    ticket_id: str | None = None
    lines: int = 0

    @property
    def is_handed_over(self) -> bool:
        return self.ticket_id is not None


@dataclass(frozen=True)
class UnansweredQuestion:
    """A question the agent could not answer, for the content editors. The same question
    (after normalisation) in the same language is counted, not stored twice."""

    id: int
    language: str
    text: str
    key: str
    count: int
    first_at: datetime
    last_at: datetime
    handled_at: datetime | None = None


MAX_UNANSWERED_TEXT = 300
CONVERSATION_ID = re.compile(r"^[0-9a-f]{32}$")


def question_key(text: str) -> str:
    """What makes two unanswered questions the same: their normalised words."""
    return normalise(text)[:MAX_UNANSWERED_TEXT]
