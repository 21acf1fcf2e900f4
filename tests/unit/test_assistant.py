"""The virtual agent's core: intents in four languages, emergencies first, never guessing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from loket.adapters.assistant import DEFAULT_ASSISTANT_DIR, AssistantSource, load_knowledge
from loket.domain.assistant import (
    INTENTS,
    ActionKind,
    Assistant,
    KnowledgeBaseError,
    normalise,
    parse_intent,
)
from loket.domain.emergency import detect_emergency


@pytest.fixture(scope="module")
def assistant() -> Assistant:
    return Assistant(load_knowledge())


# A small fixed list per intent and language, written for this test (not the evaluation set).
QUESTIONS: dict[str, dict[str, str]] = {
    "report.bicycle_theft": {
        "nl": "mijn fiets is gestolen bij school",
        "en": "somebody stole my bicycle",
        "fr": "mon vélo a été volé ce matin",
        "de": "mein Fahrrad ist gestohlen worden",
    },
    "report.theft": {
        "nl": "mijn portemonnee is gestolen",
        "en": "my wallet got stolen",
        "fr": "on m'a volé mon portefeuille",
        "de": "meine Geldbörse wurde gestohlen",
    },
    "report.burglary": {
        "nl": "er is ingebroken in ons huis",
        "en": "our house was burgled",
        "fr": "ma maison a été cambriolée",
        "de": "bei uns wurde eingebrochen",
    },
    "report.vandalism": {
        "nl": "iemand heeft mijn autoruit vernield",
        "en": "vandals damaged my car",
        "fr": "des vandales ont abîmé ma voiture",
        "de": "Vandalen haben mein Auto beschädigt",
    },
    "report.online_fraud": {
        "nl": "ik ben opgelicht bij een online aankoop",
        "en": "I got scammed buying something online",
        "fr": "arnaque lors d'un achat sur internet",
        "de": "ich wurde beim Onlinekauf betrogen",
    },
    "report.threat": {
        "nl": "mijn buurman bedreigt mij",
        "en": "my neighbour threatened me",
        "fr": "mon voisin m'a menacé",
        "de": "mein Nachbar hat mich bedroht",
    },
    "tip.anonymous": {
        "nl": "ik wil anoniem een tip geven",
        "en": "I want to give an anonymous tip",
        "fr": "je veux faire un signalement anonyme",
        "de": "ich möchte anonym einen Hinweis geben",
    },
    "tip.nuisance": {
        "nl": "geluidsoverlast van de buren",
        "en": "my neighbours are too noisy",
        "fr": "mes voisins font du tapage nocturne",
        "de": "laute Musik der Nachbarn jede Nacht",
    },
    "lost.property": {
        "nl": "ik heb een portemonnee gevonden",
        "en": "I found a wallet",
        "fr": "j'ai perdu mon sac à dos",
        "de": "ich habe meine Tasche verloren",
    },
    "lost.id_document": {
        "nl": "ik ben mijn identiteitskaart verloren",
        "en": "I lost my identity card",
        "fr": "j'ai perdu ma carte d'identité",
        "de": "ich habe meinen Personalausweis verloren",
    },
    "lost.passport_foreign": {
        "nl": "ik ben toerist en mijn paspoort is weg",
        "en": "I'm a tourist and lost my passport",
        "fr": "je suis touriste et j'ai perdu mon passeport",
        "de": "ich bin Tourist und mein Pass ist weg",
    },
    "contact.officer": {
        "nl": "ik wil met een agent praten",
        "en": "I want to talk to a person",
        "fr": "je veux parler à une personne",
        "de": "ich will mit einem Menschen sprechen",
    },
    "contact.callback": {
        "nl": "bel mij terug aub",
        "en": "please call me back",
        "fr": "rappelez-moi plus tard",
        "de": "bitte rufen Sie mich zurück",
    },
    "info.opening_hours": {
        "nl": "wanneer is het loket open",
        "en": "what are the opening hours",
        "fr": "quelles sont les heures d'ouverture",
        "de": "wann ist der Schalter geöffnet",
    },
    "info.report_status": {
        "nl": "hoe staat het met mijn aangifte",
        "en": "what is the status of my report",
        "fr": "où en est ma plainte",
        "de": "wie ist der Stand meiner Anzeige",
    },
    "info.victim_support": {
        "nl": "waar vind ik slachtofferhulp",
        "en": "I need victim support",
        "fr": "aide aux victimes",
        "de": "ich brauche Opferhilfe",
    },
    "info.careers": {
        "nl": "hoe kan ik bij de politie werken",
        "en": "how do I become a police officer",
        "fr": "comment travailler à la police",
        "de": "wie werde ich Polizist",
    },
    "info.identification": {
        "nl": "ik heb geen digid",
        "en": "I have no DigiD",
        "fr": "je n'ai pas d'itsme",
        "de": "ich habe kein itsme",
    },
    "info.contact_numbers": {
        "nl": "wat is het telefoonnummer van de politie",
        "en": "what is the police phone number",
        "fr": "quel est le numéro de téléphone de la police",
        "de": "wie ist die Telefonnummer der Polizei",
    },
    "emergency": {
        "nl": "help er is brand in mijn huis",
        "en": "there is a fire in my house",
        "fr": "au secours il y a le feu",
        "de": "Hilfe, es brennt in meinem Haus",
    },
    "greeting": {
        "nl": "goedemorgen",
        "en": "hello",
        "fr": "bonjour",
        "de": "guten Morgen",
    },
    "unknown": {
        "nl": "wat is de hoofdstad van Spanje",
        "en": "what is the capital of Spain",
        "fr": "quelle est la capitale de l'Espagne",
        "de": "was ist die Hauptstadt von Spanien",
    },
}
CASES = [
    (intent, language, text)
    for intent, by_language in QUESTIONS.items()
    for language, text in by_language.items()
]


def test_every_intent_of_the_vocabulary_has_questions_here() -> None:
    assert set(QUESTIONS) == set(INTENTS)


@pytest.mark.parametrize(("intent", "language", "text"), CASES)
def test_each_intent_is_recognised_in_each_language(
    assistant: Assistant, intent: str, language: str, text: str
) -> None:
    reply = assistant.reply(text)
    assert reply.intent == intent
    assert 0.0 <= reply.confidence <= 1.0
    assert reply.language == language
    assert reply.reply == assistant.knowledge.entry(intent).answers[language]


@pytest.mark.parametrize(
    "text",
    [
        "someone is breaking into my house right now",
        "er wordt nu ingebroken bij de buren",
        "quelqu'un est en train d'entrer par effraction",
        "gerade bricht jemand bei uns ein",
        "a man is following me",
        "mijn vriend is bewusteloos",
        "er schlägt mich",
        "help!",
        "il a un couteau",
        "er wordt gevochten op het plein",
        "Unfall mit Verletzten an der Kreuzung",
        "schnell Hilfe",
        "bei meinem Nachbarn wird eingebrochen",
    ],
)
def test_danger_now_gets_the_emergency_reply(assistant: Assistant, text: str) -> None:
    reply = assistant.reply(text)
    assert reply.is_emergency
    assert reply.intent == "emergency"
    assert "112" in reply.reply


@pytest.mark.parametrize(
    "text",
    [
        "my bike was stolen yesterday",
        "mijn fiets is gisteren gestolen",
        "er is vorige week ingebroken in mijn huis",
        "j'ai perdu mes clés",
        "police phone number, not an emergency",
        "suivi de mon dossier",
        "gisteren is er gevochten in de kroeg en mijn jas is weg",
        "ik wil snel hulp bij het doen van aangifte",
    ],
)
def test_the_past_and_everyday_words_are_not_emergencies(assistant: Assistant, text: str) -> None:
    assert not assistant.reply(text).is_emergency


def test_an_emergency_comes_first_and_the_other_question_after_it(assistant: Assistant) -> None:
    reply = assistant.reply(
        "Someone is breaking in right now! Also, how do I report my stolen bike?"
    )
    assert reply.intent == "emergency"
    assert reply.also == "report.bicycle_theft"
    assert reply.also_reply is not None


def test_below_the_threshold_it_says_it_does_not_know_and_offers_a_person(
    assistant: Assistant,
) -> None:
    reply = assistant.reply("xq zzv blorp")
    assert reply.intent == "unknown"
    assert reply.action is ActionKind.HANDOVER
    assert reply.reply == assistant.knowledge.entry("unknown").answers[reply.language]


def test_the_sessions_language_wins_over_detection(assistant: Assistant) -> None:
    reply = assistant.reply("mijn fiets is gestolen", "fr")
    assert reply.intent == "report.bicycle_theft"
    assert reply.language == "fr"
    assert reply.reply.startswith("Votre vélo")


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Waar kan ik mijn gestolen fiets aangeven?", "nl"),
        ("Where can I report my stolen bicycle?", "en"),
        ("Où puis-je déclarer mon vélo volé ?", "fr"),
        ("Wo kann ich mein gestohlenes Fahrrad melden?", "de"),
    ],
)
def test_the_language_of_the_question_is_detected(
    assistant: Assistant, text: str, language: str
) -> None:
    assert assistant.languages.detect(normalise(text))[0] == language


def test_typos_and_accents_do_not_matter(assistant: Assistant) -> None:
    assert assistant.reply("mijn fietz is gestoolen").intent == "report.bicycle_theft"
    assert assistant.reply("OU EN EST MA PLAINTE").intent == "info.report_status"


def test_normalise_drops_case_accents_and_punctuation() -> None:
    assert normalise("  Où est-il ? Straße!  ") == "ou est il strasse"


def test_every_emergency_the_assistant_learnt_from_is_caught_by_a_rule() -> None:
    # The recogniser is the backstop, not the first line: a paraphrase of any of these
    # must not depend on how the statistics fall.
    emergency = load_knowledge(DEFAULT_ASSISTANT_DIR).entry("emergency")
    phrases = [phrase for found in emergency.training.values() for phrase in found]
    assert len(phrases) > 40
    assert [p for p in phrases if not detect_emergency(normalise(p)).is_emergency] == []


def test_the_emergency_rules_name_their_cue() -> None:
    verdict = detect_emergency(normalise("There is a fire!"))
    assert verdict.is_emergency
    assert verdict.cue == "fire"


def test_a_file_with_a_missing_answer_is_refused_with_its_name() -> None:
    data = {
        "intent": "greeting",
        "action": "none",
        "answer": {"nl": "Hallo", "en": "Hello", "fr": "Bonjour"},
        "training": {language: ["hallo"] for language in ("nl", "en", "fr", "de")},
    }
    with pytest.raises(KnowledgeBaseError, match=r"greeting.yaml: answer.de is missing"):
        parse_intent(data, "greeting.yaml")


def test_an_intent_outside_the_vocabulary_is_refused() -> None:
    with pytest.raises(KnowledgeBaseError, match="not in the vocabulary"):
        parse_intent({"intent": "info.weather"}, "weather.yaml")


# -- reloading the content ---------------------------------------------------------------------


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "assistant"
    shutil.copytree(DEFAULT_ASSISTANT_DIR, folder, ignore=shutil.ignore_patterns("eval"))
    return folder


def test_changed_files_are_picked_up_without_a_restart(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    source = AssistantSource(folder, check_seconds=0)
    assert source.current().reply("hello", "en").reply.startswith("Hello, I am Wout")
    greeting = folder / "intents" / "greeting.yaml"
    greeting.write_text(
        greeting.read_text(encoding="utf-8").replace("Hello, I am Wout", "Good day, this is Wout"),
        encoding="utf-8",
    )
    assert source.current().reply("hello", "en").reply.startswith("Good day, this is Wout")
    assert source.status().fault is None


def test_a_broken_file_keeps_the_old_answers_and_shows_the_fault(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    source = AssistantSource(folder, check_seconds=0)
    before = source.current().reply("hello", "en").reply
    (folder / "intents" / "greeting.yaml").write_text("intent: greeting\nanswer: [", "utf-8")
    fault = source.reload()
    assert fault is not None and "greeting.yaml" in fault
    assert source.current().reply("hello", "en").reply == before
    assert source.status().fault == fault


def test_start_up_loads_and_trains_in_well_under_two_seconds() -> None:
    import time

    started = time.perf_counter()
    Assistant(load_knowledge())
    assert time.perf_counter() - started < 2.0
