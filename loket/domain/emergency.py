"""Recognising danger now (violence, fire, a break-in in progress, a medical emergency) by rules.

Rules come before the statistical recogniser and are tuned for recall: a missed emergency
costs far more than a citizen told once too often to call 112. A cue of danger counts unless
the message speaks only of the past ("my bike was stolen yesterday" is a report, "someone is
breaking in right now" is an emergency). Rules run on normalised text (lower case, no accents,
no punctuation; see `assistant.normalise`), in every supported language at once, because
people mix languages under stress.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def _words(*patterns: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(patterns) + r")\b")


# Danger by itself: fire, weapons, injuries, a body in trouble, violence happening, being
# followed, a cry for help. Past participles of violence ("was attacked") are here too: a
# citizen who says it usually still needs help; the past-only rule below lets reports through.
_DANGER = _words(
    # fire
    r"brand(?:t|en)?",
    r"in brand",
    r"vuur",
    r"fire",
    r"on fire",
    r"burning",
    r"(?:le|au|en) feu",
    r"incendie",
    r"brule",
    r"brulent",
    r"feuer",
    r"brennt",
    r"rauch",
    r"rook",
    r"smoke",
    r"fumee",
    # weapons
    r"(?:een|met een|zijn|haar|groot) mes",
    r"messen",
    r"knife",
    r"knives",
    r"couteau",
    r"messer",
    r"wapen",
    r"vuurwapen",
    r"pistool",
    r"gun",
    r"guns",
    r"pistol",
    r"weapon",
    r"(?:une|d une|avec une) arme",
    r"arme a feu",
    r"pistolet",
    r"waffe",
    r"schusswaffe",
    r"schiet\w*",
    r"shoot\w*",
    r"shot",
    r"coups? de feu",
    r"schiesst",
    r"schuss",
    r"schusse",
    # injuries and medical
    r"bloedt",
    r"bloeden",
    r"bleeding",
    r"bleeds",
    r"saigne",
    r"blutet",
    r"bewusteloos",
    r"unconscious",
    r"inconsciente?",
    r"bewusstlos",
    r"ademt niet",
    r"ademt nauwelijks",
    r"not breathing",
    r"can ?t breathe",
    r"cannot breathe",
    r"respire (?:plus|pas|mal)",
    r"atmet (?:nicht|kaum)",
    r"hartaanval",
    r"heart attack",
    r"crise cardiaque",
    r"herzinfarkt",
    r"herzstillstand",
    r"hartstilstand",
    r"beroerte",
    r"stroke",
    r"overdosis",
    r"overdose",
    r"gewonden?",
    r"injured",
    r"blesses?",
    r"verletzte[nr]?",
    r"verdrinkt",
    r"drowning",
    r"se noie",
    r"ertrinkt",
    r"collapsed",
    r"in elkaar gezakt",
    r"zusammengebrochen",
    r"effondre",
    # violence
    r"neergestoken",
    r"gestoken",
    r"stabbed",
    r"poignarde",
    r"niedergestochen",
    r"aangevallen",
    r"attacked",
    r"attacking",
    r"agresse",
    r"angegriffen",
    r"slaat",
    r"sla(?:an|at) (?:mij|me)",
    r"hitting",
    r"beating",
    r"frappe",
    r"frappent",
    r"schlagt",
    r"schlagen",
    r"in elkaar geslagen",
    r"gevecht",
    r"vechtpartij",
    r"vechten",
    r"gevochten",
    r"fight",
    r"fighting",
    r"bagarre",
    r"se battent",
    r"schlagerei",
    r"prugelei",
    r"verkracht",
    r"raped?",
    r"viol(?:ee?)?",
    r"vergewaltigt",
    r"ontvoerd",
    r"kidnapped",
    r"enleve",
    r"entfuhrt",
    r"gijzeling",
    r"hostage",
    r"otage",
    r"geisel",
    # being followed, danger, threat to life
    r"(?:word|wordt|worden) gevolgd",
    r"volgt (?:mij|me)",
    r"achter (?:mij|me) aan",
    r"followed",
    r"following me",
    r"me suit",
    r"me suivent",
    r"je suis suivie?",
    r"verfolgt",
    r"in gevaar",
    r"in danger",
    r"en danger",
    r"in gefahr",
    r"zelfmoord",
    r"suicide",
    r"kill myself",
    r"me suicider",
    r"selbstmord",
    r"umbringen",
    # cries for help that are not a request for information
    r"au secours",
    r"a l aide",
    r"help help",
    r"hilfe hilfe",
    r"sos",
    r"(?:dit|het) is een noodgeval",
    r"(?:this|it) is an emergency",
    r"it s an emergency",
    r"c est (?:une )?urgen(?:ce|t)",
    r"(?:das )?ist ein notfall",
    r"ambulance",
    r"ambulanz",
    r"krankenwagen",
    r"notarzt",
)

# A crime that is dangerous when it is happening now: break-ins and intruders.
_IN_PROGRESS = _words(
    r"inbreekt",
    r"inbreken",
    r"breekt (?:in|binnen)",
    r"wordt (?:nu )?ingebroken",
    r"inbrekers? (?:in|zit|zitten|is|zijn|staat|staan)",
    r"deur open te breken",
    r"breaking in(?:to)?",
    r"break(?:s|ing)? into",
    r"burglars? (?:in|is|are|inside)",
    r"intruders?",
    r"force the door",
    r"forcing the door",
    r"entre(?:r|nt)? (?:chez moi )?par effraction",
    r"cambrioleurs? (?:dans|chez|est|sont)",
    r"entre chez moi",
    r"forcer la porte",
    r"bricht(?: \w+){0,3} ein",
    r"brechen(?: \w+){0,3} ein",
    r"einbrecher (?:ist|sind|im|in)",
    r"einbrechen",
    r"tur aufzubrechen",
    r"wird(?: \w+){0,3} eingebrochen",
)

# "Happening now" makes an in-progress crime an emergency and outweighs a past marker.
_NOW = _words(
    r"nu",
    r"nou",
    r"op dit moment",
    r"momenteel",
    r"bezig",
    r"aan het",
    r"nog steeds",
    r"now",
    r"right now",
    r"at the moment",
    r"currently",
    r"still",
    r"is happening",
    r"maintenant",
    r"en ce moment",
    r"en train de",
    r"actuellement",
    r"toujours",
    r"jetzt",
    r"gerade",
    r"im moment",
    r"immer noch",
    r"sofort",
    r"snel",
    r"quick(?:ly)?",
    r"hurry",
    r"vite",
    r"schnell",
)

# Speaking of the past only: yesterday, last night, last week, ago. "vannacht" is both.
_PAST = _words(
    r"gisteren",
    r"eergisteren",
    r"vorige (?:week|maand|keer)",
    r"vorig jaar",
    r"geleden",
    r"afgelopen",
    r"yesterday",
    r"last (?:night|week|month|year|time)",
    r"ago",
    r"the other day",
    r"avant hier",
    r"la semaine derniere",
    r"le mois dernier",
    r"il y a \w+ (?:jours?|semaines?|mois)",
    r"gestern",
    r"vorgestern",
    r"letzte (?:woche|nacht|monat)",
    r"letzten (?:monat|sonntag|montag)",
    r"vor \w+ (?:tagen|wochen|monaten)",
    r"vergangene",
    r"toen",
    r"when i came home",
    r"en rentrant",
    r"als ich nach hause kam",
    r"tijdens (?:mijn|onze) vakantie",
    r"during (?:my|our) holiday",
    r"pendant (?:mes|nos) vacances",
    r"im urlaub",
)

# A lone cry for help ("help!", "hilfe") is an emergency; "help with my taxes" is not.
_LONE_HELP = re.compile(
    r"^(?:(?:snel|quick|quickly|vite|schnell) )?(?:help|hulp|hilfe|helpt|aide|secours)"
    r"(?: (?:help|hulp|hilfe|me|mij|mich|moi|snel|vite|schnell|quick|quickly"
    r"|please|alstublieft|bitte|svp))*$"
)


@dataclass(frozen=True)
class EmergencyVerdict:
    """Whether the message is an emergency, and the cue that decided (for the transcript)."""

    is_emergency: bool
    cue: str | None = None


NOT_AN_EMERGENCY = EmergencyVerdict(False)


def detect_emergency(normalised: str) -> EmergencyVerdict:
    """Rules first: danger cues, or a break-in happening now, unless only the past is spoken of."""
    if not normalised:
        return NOT_AN_EMERGENCY
    if _LONE_HELP.match(normalised):
        return EmergencyVerdict(True, "help")
    now = _NOW.search(normalised) is not None
    past = _PAST.search(normalised) is not None
    danger = _DANGER.search(normalised)
    if danger is not None and (now or not past):
        return EmergencyVerdict(True, danger.group(0))
    in_progress = _IN_PROGRESS.search(normalised)
    if in_progress is not None and (now or not past):
        return EmergencyVerdict(True, in_progress.group(0))
    return NOT_AN_EMERGENCY


def speaks_of_the_past_only(normalised: str) -> bool:
    """A past marker and nothing saying "now": the statistical recogniser's emergency guess
    for such a message is overruled (it is a report to make, not a 112 call)."""
    return _PAST.search(normalised) is not None and _NOW.search(normalised) is None
