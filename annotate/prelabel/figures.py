"""The figure finder: every numeric claim in a text, normalised the codebook's way.

Explainable rules, no model. The text is cut into tokens with offsets; at each token a
small grammar reads an optional qualifier ("up to", "more than", "about", "between"),
an optional currency sign, a number (digits with separators and decimals, or number
words: "two", "sixty-thousand", "1.5 million"), an optional second number (ranges:
"3,000-5,000", "200 to 300", "between 30 and 40"), a percent sign or word, and the
counted thing after it. Vague quantifiers ("dozens", "hundreds of thousands"), fractions
("a quarter of them") and hyphenated durations ("four-day") have their own rules.

What is *not* a figure is decided first: years, dates, clock times, ordinals, ages used
as adjectives ("25-year-old"), storeys, numbers that are part of a name ("COVID-19",
"F-16", "Resolution 2231") and offsets that anchor a date ("one day after").

Each proposal carries the interval the codebook's qualifier shapes require
(`rules.QUALIFIER_SHAPES`; vague terms take their intervals from the schema), a counted
category and unit from the noun and the verbs around it, a realis hint from modal words,
`part_of` ("81 of the 120", "including 12 children") and a `claimed_by` hint from the
reporting structure ("X said", "according to X", "X told ...").
"""

from __future__ import annotations

import bisect
import re
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any

from sitrep.schema import spec

MODEL = "sitrep-figures"
VERSION = "0.6.0"

UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
SCALES = {
    "hundred": 100,
    "thousand": 1_000,
    "million": 1_000_000,
    "billion": 1_000_000_000,
    "trillion": 1_000_000_000_000,
    "dozen": 12,  # "four dozen minerals"
}
SHORT_SCALES = {"k": 1_000, "m": 1_000_000, "bn": 1_000_000_000}
VAGUE = {  # words -> vague term of the schema
    ("a", "few"): "a_few", ("several",): "several", ("a", "dozen"): "a_dozen",
    ("several", "hundred"): "hundreds", ("several", "thousand"): "thousands",
    ("a", "few", "hundred"): "hundreds", ("a", "few", "thousand"): "thousands",
    ("dozens",): "dozens", ("scores",): "scores", ("hundreds",): "hundreds",
    ("thousands",): "thousands", ("tens", "of", "thousands"): "tens_of_thousands",
    ("hundreds", "of", "thousands"): "hundreds_of_thousands", ("millions",): "millions",
}  # fmt: skip
VAGUE_WORDS = {"dozens", "hundreds", "thousands", "millions", "several", "scores", "tens"}
FRACTIONS = {"half": 50, "quarter": 25, "third": 100 / 3, "fifth": 20, "tenth": 10}
# qualifier words before a number -> qualifier
BEFORE = {
    ("up", "to"): "up_to", ("as", "many", "as"): "up_to", ("as", "much", "as"): "up_to",
    ("beyond",): "more_than", ("within",): "at_most", ("more", "than"): "more_than",
    ("over",): "more_than", ("upward", "of"): "more_than", ("upwards", "of"): "more_than",
    ("in", "excess", "of"): "more_than", ("at", "least"): "at_least",
    ("no", "fewer", "than"): "at_least", ("no", "less", "than"): "at_least",
    ("a", "minimum", "of"): "at_least", ("at", "most"): "at_most",
    ("no", "more", "than"): "at_most", ("a", "maximum", "of"): "at_most",
    ("less", "than"): "less_than", ("fewer", "than"): "less_than", ("under",): "less_than",
    ("below",): "less_than", ("almost",): "approximately", ("nearly",): "approximately",
    ("close", "to"): "approximately", ("just", "under"): "less_than",
    ("about",): "approximately", ("around",): "approximately", ("some",): "approximately",
    ("roughly",): "approximately", ("approximately",): "approximately",
    ("an", "estimated"): "approximately", ("estimated",): "approximately",
    ("approx",): "approximately", ("circa",): "approximately",
}  # fmt: skip
MONTHS = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
    "sep", "sept", "oct", "nov", "dec",
}  # fmt: skip
TIME_UNITS = {
    "hour": "hour", "hours": "hour", "day": "day", "days": "day", "week": "week",
    "weeks": "week", "month": "month", "months": "month", "year": "year", "years": "year",
}  # fmt: skip
ANCHORS = {"after", "later", "ago", "earlier", "before", "since", "from", "into"}
DATE_ANCHORS = {"after", "later", "ago", "earlier", "before"}
DECADES = {"decade", "decades"}
NAMED = {
    "article", "resolution", "no", "number", "chapter", "section", "route", "highway",
    "flight", "phase", "level", "category", "grade", "class", "room", "page", "line",
    "version", "season", "episode", "district", "zone", "gate", "platform", "unit",
    "battalion", "brigade", "division", "regiment", "corps", "squadron", "term", "covid",
    "g", "f", "su", "mig", "s", "t", "mh", "ms", "type", "model", "block", "camp",
}  # fmt: skip
# words that cite a place in a text, in any case: "verse six", "paragraph 3"
CITED = {"verse", "verses", "paragraph", "paragraphs", "clause", "psalm", "chapter", "footnote"}
# "a two-term prime minister", "a three-time champion": how often someone held a role
ROLE_COMPOUNDS = {"term", "time", "times", "state", "way"}  # "a two-state solution"
# stock indices named with a number
INDEX_WORDS = {"s&p", "ftse", "nikkei", "dax", "cac", "stoxx", "russell", "fortune", "dow"}
STOREYS = {"story", "storey", "stories", "storeys", "floor", "floors", "storied"}
SIZES = {"page", "pages", "word"}
PERCENT = {"percent", "per cent", "%", "percentage", "points"}
CURRENCY = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}
CURRENCY_WORDS = {
    "dollars": "USD", "dollar": "USD", "euros": "EUR", "euro": "EUR", "pounds": "GBP",
    "yuan": "CNY", "rupees": "INR", "naira": "NGN", "shillings": "KES", "rand": "ZAR",
    "yen": "JPY", "rubles": "RUB", "roubles": "RUB", "hryvnias": "UAH", "pulas": "BWP",
    "pula": "BWP", "birr": "ETB", "cedis": "GHS", "francs": "XOF",
}  # fmt: skip
PEOPLE = {
    "people", "persons", "person", "civilians", "civilian", "soldiers", "soldier", "troops",
    "fighters", "fighter", "militants", "militant", "insurgents", "rebels", "detainees",
    "detainee", "prisoners", "prisoner", "inmates", "migrants", "migrant", "refugees",
    "children", "child", "women", "men", "man", "woman", "residents", "workers", "students",
    "journalists", "reporters", "members", "officers", "police", "policemen", "officials",
    "protesters", "demonstrators", "victims", "casualties", "deaths", "dead", "bodies",
    "hostages", "escapees", "captives", "passengers", "patients", "voters", "citizens",
    "nationals", "villagers", "farmers", "pilgrims", "personnel", "staff", "employees",
    "recruits", "suspects", "individuals", "asylum-seekers", "teenagers", "girls", "boys",
    "babies", "infants", "adults", "seniors", "doctors", "nurses", "teachers", "guards",
    "family", "families", "households", "survivors", "opponents", "supporters", "ones",
    "americans", "ukrainians", "russians", "palestinians", "israelis", "afghans", "syrians",
    "iraqis", "sudanese", "somalis", "nigerians", "chinese", "uyghurs", "rohingya",
    "venezuelans", "haitians", "mexicans", "lawmakers", "senators", "delegates",
    "peacekeepers", "ministers", "leaders", "commanders", "candidates", "defendants",
    "activists", "dissidents", "miners", "sailors", "crew", "cadets", "conscripts",
    "veterans", "elderly", "youths", "youth", "minors", "orphans", "fatalities",
    # singulars, for "one Kenyan officer"
    "official", "officer", "journalist", "reporter", "resident", "worker", "student",
    "protester", "victim", "hostage", "passenger", "patient", "citizen", "villager",
    "farmer", "suspect", "girl", "boy", "baby", "doctor", "nurse", "teacher", "guard",
    "survivor", "activist", "policeman", "peacekeeper", "commander", "defendant",
}  # fmt: skip
COUNTED_CUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("people_recaptured", ("recaptured", "recapture")),
    ("people_escaped", ("escaped", "escapees", "escape", "broke out", "breakout")),
    ("people_killed", ("killed", "dead", "died", "deaths", "death toll", "bodies", "killing",
                       "fatalities", "lost their lives", "executed", "massacred", "slain",
                       "murdered", "perished", "lost")),
    ("people_injured", ("injured", "wounded", "hurt", "injuries", "injuring", "wounding")),
    ("people_abducted", ("abducted", "kidnapped", "hostages", "abduction", "kidnapping",
                         "taken captive", "seized")),
    ("people_released", ("released", "freed", "release", "pardoned", "exchanged",
                         "let go", "swap")),
    ("people_transferred", ("transferred", "transported", "transfer", "moved", "relocated",
                            "repatriated", "deported", "deport", "deportation", "expelled", "flown",
                            "sent back", "returned")),
    ("people_detained", ("detained", "detainees", "arrested", "held", "prisoners", "inmates",
                         "jailed", "imprisoned", "custody", "captured", "detention",
                         "arrests", "sentenced", "convicted")),
    ("people_displaced", ("displaced", "fled", "refugees", "evacuated", "homeless",
                          "uprooted", "displacement", "forced from", "flee")),
    ("people_missing", ("missing", "disappeared", "unaccounted")),
)  # fmt: skip
HEAD_COUNTED = {
    "escapees": "people_escaped", "hostages": "people_abducted", "refugees": "people_displaced",
    "casualties": "people_killed", "deaths": "people_killed", "bodies": "people_killed",
    "captives": "people_abducted", "fatalities": "people_killed",
}  # fmt: skip
OBJECTS = {
    "vehicles", "tanks", "drones", "missiles", "rockets", "shells", "weapons", "aircraft",
    "planes", "ships", "boats", "houses", "homes", "buildings", "schools", "hospitals",
    "villages", "towns", "cities", "attacks", "strikes", "airstrikes", "raids", "incidents",
    "cases", "trucks", "bombs", "guns", "rifles", "mines", "vessels", "helicopters", "jets",
    "camps", "prisons", "facilities", "tons", "tonnes", "votes", "seats", "projects",
    "companies", "firms", "doses", "vaccines", "barrels", "kilometers", "kilometres", "miles",
    "meters", "hectares", "acres", "sites", "bases", "checkpoints", "locations", "stations",
    "pages", "articles", "posts", "accounts", "websites", "languages", "provinces",
    "districts", "regions", "states", "nations", "territories", "points",
}  # fmt: skip
MODAL_PLANNED = (
    "will ",
    "plans",
    "planned",
    "plan to",
    "scheduled",
    "expected",
    "set to",
    "to be ",
    "aims",
    "intends",
    "proposed",
    "pledged",
    "promised",
    "are to",
    "is to",
    # a noun or verb of intent before an infinitive: "an agreement to transfer 2,000"
    "agreement to",
    "agreed to",
    "deal to",
    "decided to",
    "decision to",
    "vowed to",
    "pledge to",
    "promise to",
    "offer to",
    "offered to",
    "proposal to",
    "due to be",
    "seeks to",
    "wants to",
    # amounts sought, negotiated or proposed, plans that were meant to happen
    "needs",
    "intention to",
    "negotiating",
    "negotiate",
    "proposal",
    "proposes",
    "meant to",
    "was to",
    "were to",
    "mandate to",
    "ability to",  # "the ability to even acquire the 5,000-man troops": a goal
    # an obligation not met yet: "Taiwan has to come up to 100% manning level"
    "has to",
    "have to",
    # requests and demands: "asked for the return of 45"
    "asked for",
    "asks for",
    "asking for",
    "called for",
    "calls for",
    "calling for",
    "requested",
)
MODAL_POSSIBLE = (
    "could",
    "would",  # "a breakout that would pose a direct threat" (the codebook's example)
    "may ",
    "might",
    "possibly",
    "potential",
    "feared",
    "risks",
    "projected",
    "forecast",
    "faces",
    "anticipated",  # "anticipated 26 billion baht": an expectation
    "anticipates",
    "option to",  # "an option to extend the lease for another 40 years"
    "likely",  # "five people had likely been killed", "it is likely two to three months"
)
# conditions and threats: a figure that holds only if something happens, whatever the
# modal of its clause ("if Europe follows through, he will impose the 200% tariff")
MODAL_CONDITION = (
    "if",
    "unless",
    "threatened",
    "threatens",
    "threatening",
    "chance that",
    "risk that",
)
_CONDITION = re.compile(
    r"(?<![\w-])(?<!as )(?<!even )(?:"
    + "|".join(re.escape(w) for w in MODAL_CONDITION)
    + r")(?![\w-])"
)
# whole words only: "aims" is not the end of "claims", "plans" not inside "explains";
# "claimed to be holding" is a claim of what is, not a plan
_PLANNED = re.compile(
    r"(?<![\w-])(?:" + "|".join(re.escape(w.strip()) for w in MODAL_PLANNED) + r")(?![\w-])"
)
_POSSIBLE = re.compile(
    r"(?<![\w-])(?:" + "|".join(re.escape(w.strip()) for w in MODAL_POSSIBLE) + r")(?![\w-])"
)
_NOT_PLANNED = re.compile(
    r"\b(?:claimed|claims|said|says|believed|thought|reported|appears|appeared|seems|seemed"
    r"|used)"  # "China used to be one to two years behind": what was
    r" to be\b"
    # a noun, not a verb of need: "Taiwan is at about 80% of their needs"
    r"|\b(?:their|its|his|her|our|my|your|the|basic|humanitarian|energy) needs\b"
    # modal words used as nouns or in comparisons: "military might", "political will",
    # "higher than expected"
    r"|\b(?:military|economic|naval|sheer|full|its|their) might\b"
    r"|\b(?:political|free|good|the|its|their|popular) will\b(?! be\b)"
    r"|\b(?:than|as) (?:expected|anticipated|projected|forecast|planned)\b"
)
REPORT_VERBS = (
    "said", "says", "say", "told", "tells", "tell", "reported", "reports", "announced", "announces",
    "stated", "states", "estimated", "estimates", "confirmed", "confirms", "added", "wrote",
    "claimed", "claims", "noted", "notes", "warned", "warns", "warn", "tweeted", "posted",
    "explained", "testified", "acknowledged", "insisted", "cited", "counted", "recorded",
    "documented", "put", "puts", "showed", "shows", "show", "indicated", "indicates", "estimate",
    "suggested", "suggests", "found", "finds", "fretted", "recalled", "revised", "raised",
    "proposed", "adds", "places", "placed", "anticipated", "anticipates", "projected",
    "projects", "threatened", "threatens", "vowed", "pledged", "promised", "demanded",
    "revealed", "disclosed", "declared", "asserted", "argued", "alleged", "admitted",
    "predicted", "predicts", "calculated", "tallied", "reckons", "stressed", "emphasized",
)  # fmt: skip
ATTRIBUTION_NOUNS = (
    "officials", "police", "authorities", "witnesses", "residents", "sources", "activists",
    "organizers", "doctors", "medics", "experts", "analysts", "diplomats", "rescuers",
    "researchers", "scientists",
    "he", "she", "they", "the ministry", "the military", "the army", "the government",
    "the group", "the agency", "the report", "the statement", "the organization",
    "the company", "the court", "the u.n.", "the un", "the office", "the department",
    "the council", "the commission", "the survey", "the study", "data", "figures",
    "the minister", "the governor", "the mayor", "the president", "the spokesman",
    "the spokeswoman", "the spokesperson", "the official", "the commander", "the police",
)  # fmt: skip

TOKEN = re.compile(
    r"\d+(?:[.,]\d+)*"
    r"|[A-Za-z]+(?:['’][A-Za-z]+)?\.?"  # words, "a.m." pieces, "Adm."
    r"|[$€£¥₹%]"
    r"|[-–—‑]"
    r"|[^\sA-Za-z\d]"
)


@dataclass
class Token:
    text: str
    start: int
    end: int
    low: str = ""  # lower case, without a final period
    is_digits: bool = False

    def __post_init__(self) -> None:
        self.low = self.text.lower().rstrip(".")
        self.is_digits = self.text[0].isdigit()


@dataclass
class Proposal:
    """One proposed figure: where it is, its interval and what it counts."""

    start: int
    end: int
    text: str
    low: float | None
    best: float | None
    high: float | None
    qualifier: str
    vague_term: str | None
    unit: str
    counted: str
    description: str | None
    currency: str | None
    realis: str
    part_of: int | None = None  # index of the whole in the proposal list
    claimed_by: str | None = None  # the claimant as the text names it
    claimed_by_start: int | None = None
    claimed_by_end: int | None = None
    score: float = 0.8
    rule: str = ""
    kind: str = field(default="figure")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("low", "best", "high"):
            value = data[key]
            if isinstance(value, float) and value.is_integer():
                data[key] = int(value)
        return data


@cache
def _vague_intervals() -> dict[str, tuple[float, float]]:
    return spec.vague_intervals()


def tokenize(text: str) -> list[Token]:
    return [Token(m.group(), m.start(), m.end()) for m in TOKEN.finditer(text)]


# dates written in digits: "2025-03-14", "14-03-2025", "14/03/2025", "2025/3/14", "14.03.2025"
_NUMERIC_DATE = re.compile(
    r"(?<![\d.,-])(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})"
    r"|9/11|24/7)"  # the attacks of September 11, "around the clock"
    r"(?![\d-]|[.,]\d)"
)


# proverbs and idioms with numbers: no count of anything
_IDIOMS = re.compile(
    r"\b(?:(?:it )?takes? two to tango|two heads are better than one"
    r"|(?:kill|kills|killing|killed) two birds with one stone|one step at a time|one by one"
    r"|one at a time|one way or (?:the )?another|a thing or two|my two cents|two cents' worth"
    r"|(?:at )?sixes and sevens|on cloud nine|nine lives|second to none|a million times"
    r"|one and the same|one another|one-on-one|back to square one|a hundred times"
    r"|(?:in|at) one fell swoop|put two and two together|(?:a )?dime a dozen"
    r"|nine times out of ten|(?:a )?thousand words|ten to one|in two minds|you need two"
    # a reciprocal compound: "zero-for-zero tariffs", "one-for-one swap"
    r"|(?:zero|one|two|\d+)[-‑]for[-‑](?:zero|one|two|\d+))\b",
    re.IGNORECASE,
)


def _date_tokens(text: str, tokens: list[Token]) -> set[int]:
    """Indices of the tokens inside a date written in digits or an idiom (never a figure)."""
    spans = [(m.start(), m.end()) for m in _NUMERIC_DATE.finditer(text)]
    spans += [(m.start(), m.end()) for m in _IDIOMS.finditer(text)]
    if not spans:
        return set()
    return {n for n, t in enumerate(tokens) if any(a <= t.start < b for a, b in spans)}


# --- numbers -----------------------------------------------------------------------------


def _digits(token: Token) -> float | None:
    raw = token.text
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?", raw) is None:
        return None
    return float(raw.replace(",", ""))


def read_number(tokens: list[Token], i: int) -> tuple[float, int] | None:
    """The number starting at token i and the index just past it, or None."""
    if i >= len(tokens):
        return None
    tok = tokens[i]
    if tok.is_digits:
        value = _digits(tok)
        if value is None:
            return None
        j = i + 1
        if j < len(tokens) and tokens[j].low in SCALES and tokens[j].start - tok.end <= 1:
            value *= SCALES[tokens[j].low]
            j += 1
        elif j < len(tokens) and tokens[j].low in SHORT_SCALES and tokens[j].start == tok.end:
            value *= SHORT_SCALES[tokens[j].low]
            j += 1
        return value, j
    return _words(tokens, i)


def _words(tokens: list[Token], i: int) -> tuple[float, int] | None:
    point = _point_words(tokens, i)
    if point is not None:
        return point
    total, current, j, seen = 0.0, 0.0, i, False
    while j < len(tokens):
        if seen and tokens[j - 1].text.endswith("."):
            break  # "under the age of five. Four were babies": two sentences
        word = tokens[j].low
        if word in UNITS:
            current += UNITS[word]
        elif word in TENS:
            current += TENS[word]
        elif word in SCALES and seen:
            scale = SCALES[word]
            if scale == 100:
                current *= 100
            else:
                total += current * scale
                current = 0
        elif (
            word == "and"
            and seen
            and j + 1 < len(tokens)
            and (tokens[j + 1].low in UNITS or tokens[j + 1].low in TENS)
            and _last_was_scale(tokens, j)
        ) or (
            tokens[j].text in "-‑"
            and seen
            and j + 1 < len(tokens)
            and (tokens[j + 1].low in UNITS or tokens[j + 1].low in SCALES)
            and tokens[j + 1].start == tokens[j].end
            and tokens[j].start == tokens[j - 1].end
        ):
            j += 1
            continue
        else:
            break
        seen = True
        j += 1
    if not seen:
        return None
    return total + current, j


def _point_words(tokens: list[Token], i: int) -> tuple[float, int] | None:
    """ "Seven-point-one million" (7,100,000), "two point five": a decimal in words."""
    words = [t for t in tokens[i : i + 7] if t.text not in "-‑"]
    if len(words) < 3 or words[1].low != "point" or words[0].low not in UNITS | TENS:
        return None
    if words[2].low not in UNITS or UNITS[words[2].low] > 9 or words[0].text.endswith("."):
        return None
    value = (UNITS | TENS)[words[0].low] + UNITS[words[2].low] / 10
    j = tokens.index(words[2], i) + 1
    if j < len(tokens) and tokens[j].low in SCALES and not words[2].text.endswith("."):
        value *= SCALES[tokens[j].low]
        j += 1
    return value, j


def _a_scale(tokens: list[Token], i: int) -> tuple[float, int] | None:
    """ "a million" (1,000,000) and "half-a-million" / "half a million" (500,000) at i."""
    words = [t.low for t in tokens[i : i + 5] if t.text not in "-‑"]
    size = sum(1 for t in tokens[i : i + 5] if t.text in "-‑")
    if words[:1] == ["a"] and len(words) > 1 and words[1] in SCALES:
        return float(SCALES[words[1]]), i + 2
    if words[:2] == ["half", "a"] and len(words) > 2 and words[2] in SCALES:
        hyphens = min(size, 2) if tokens[i + 1].text in "-‑" else 0
        return SCALES[words[2]] / 2, i + 3 + hyphens
    return None


def _last_was_scale(tokens: list[Token], j: int) -> bool:
    return j > 0 and tokens[j - 1].low in SCALES


# --- what is not a figure ------------------------------------------------------------------


def _not_a_figure(text: str, tokens: list[Token], i: int, j: int, value: float) -> str | None:
    """Why the number at tokens[i:j] is not a figure, or None when it may be one."""
    tok = tokens[i]
    before = tokens[i - 1] if i > 0 else None
    after = tokens[j] if j < len(tokens) else None
    after2 = tokens[j + 1] if j + 1 < len(tokens) else None
    if tok.is_digits:
        if (
            before is not None
            and before.end == tok.start
            and (
                before.text[-1:].isalpha()
                or (
                    before.text in "-‑"
                    and i > 1
                    and tokens[i - 2].end == before.start
                    and tokens[i - 2].text[-1:].isalpha()
                )
            )
        ):
            return "part of a name"
        if after is not None and after.start == tok.end and after.low in ("st", "nd", "rd", "th"):
            return "ordinal"
        if (
            after is not None
            and after.start == tok.end
            and after.text[:1].isupper()
            and after.low not in SHORT_SCALES
        ):
            return "part of a name"  # "3R", "5G"
        if after is not None and after.start == tok.end and after.text == "s":
            return "decade"  # "in his 30s", "the 1990s"
        if after is not None and after.text == ":" and after2 is not None and after2.is_digits:
            return "clock time"
        if before is not None and before.text == ":" and before.end == tok.start:
            return "clock time"
        if (
            after is not None
            and after.low in ("a.m", "p.m", "am", "pm", "gmt", "utc", "a", "p")
            and (
                after.low not in ("a", "p")
                or text[after.start : after.start + 4].lower() in ("a.m.", "p.m.")
            )
        ):
            return "clock time"
        if (
            j == i + 1
            and value.is_integer()
            and 1800 <= value <= 2100
            and "," not in tok.text
            and not (after is not None and after.low in PERCENT)
        ):
            return "year"
        if tok.text.count(".") > 1:
            return "not a number"
    if before is not None and before.low in MONTHS and not _sentence_end(before):
        return "date"  # "in January. Three Americans were killed": two sentences
    if after is not None and after.low in MONTHS:
        return "date"
    if before is not None and before.low in NAMED and before.text[:1].isupper():
        return "part of a name"
    if before is not None and before.low in ("no", "number") and before.text[:1].isupper():
        return "part of a name"
    if before is not None and before.text == "#":
        return "part of a name"  # "Highway #1"
    if before is not None and before.low in CITED:
        return "citation"  # "verse six", "paragraph 3": a place in a text
    if _index_name(tokens, i):
        return "part of a name"  # "the S&P 500", "the FTSE 100": an index
    if (
        after is not None
        and after.text in "-‑"
        and after2 is not None
        and after2.low in ROLE_COMPOUNDS
        and after.start == tokens[j - 1].end
    ):
        return "compound of office"  # "a two-term prime minister", "a three-time champion"
    # a suspended compound: "5- and 8-year-old boys"
    if (
        after is not None
        and after.text in "-‑"
        and after.start == tokens[j - 1].end
        and (after.end == len(text) or text[after.end].isspace())
    ):
        return "compound adjective"
    # ages and storeys: "25-year-old", "a 10-storey building", "aged 25"
    if after is not None and after.text in "-‑" and after2 is not None:
        if (
            after2.low in ("year", "years", "month", "week", "day")
            and j + 3 < len(tokens)
            and (tokens[j + 2].text in "-‑" and tokens[j + 3].low in ("old", "olds"))
        ):
            return "age"
        if after2.low in STOREYS:
            return "storey"
        if after2.low in SIZES and after.start == tok.end:
            return "size adjective"  # "a three-page letter"
    if after is not None and after.low in STOREYS:
        return "storey"
    if before is not None and before.low in ("aged", "age", "ages"):
        return "age"  # "aged 25", "girls ages 12 to 17"
    if (
        before is not None
        and (before.low in ("to", "and") or before.text in "-‑")
        and i > 2
        and tokens[i - 2].is_digits
        and tokens[i - 3].low in ("aged", "age", "ages")
    ):
        return "age"  # the 17 of "ages 12 to 17"
    age = _age_or_name(text, tokens, i, j, value)
    if age:
        return age
    if (
        after is not None
        and after.low in ("years", "year")
        and after2 is not None
        and after2.low == "old"
    ):
        return "age"
    qualified = _qualifier_before(tokens, i) is not None
    # offsets that anchor a date: "one day after", "two weeks later", "three years ago"
    if (
        after is not None
        and (after.low in TIME_UNITS or after.low in DECADES)
        and after2 is not None
        and after2.low in ANCHORS
        and (not qualified or after2.low == "ago")  # "nearly 30 years ago" is a date
        and not (before is not None and before.low in WINDOWS)  # "the past 3 years after"
    ):
        return "date anchor"
    anchor = _qualifier_before(tokens, i)
    at = anchor[1] if anchor else i
    if (
        at > 0
        and tokens[at - 1].low == "after"
        and after is not None
        and after.low in TIME_UNITS
        and not (after2 is not None and after2.low == "of")
    ):
        return "time anchor"  # "arrived after about four hours": when, not how long
    if before is not None and before.low in ("top", "bottom"):
        return "ranking"  # "in the bottom ten"
    # windows that place something in time: "in the past three months", "last 15 months"
    if (
        before is not None
        and before.low in WINDOWS
        and after is not None
        and (after.low in TIME_UNITS or after.low in DECADES)
        and not _period_of_change(tokens, i - 1)
    ):
        return "time window"
    if (
        after is not None
        and after.low in TIME_UNITS
        and after2 is not None
        and after2.low == "of"
        and (j + 2 < len(tokens) and tokens[j + 2].low in ("age",))
    ):
        return "age"
    if (
        not tok.is_digits
        and tok.low == "one"
        and j == i + 1
        and not qualified
        and not _counted_noun_follows(tokens, j)
        and not (before is not None and before.low == "including")  # "including one"
        and not (
            after is not None
            and (after.low in ("or", "to") or after.text in "-–‑")
            and after2 is not None
            and (after2.low in UNITS | TENS or after2.is_digits)
        )  # "one or two items", "one to two years": a range
        and not _one_duration(tokens, i, j)  # "to one year in prison", "for one full day"
        and not (
            after is not None
            and after.text in "-‑"
            and after2 is not None
            and after2.low in TIME_UNITS
        )  # "a one-hour sit-in"
    ):
        return "the word one"
    if after is not None and after.text in "-‑" and after2 is not None and after.start == tok.end:
        nxt = tokens[j + 2].low if j + 2 < len(tokens) else ""
        if after2.low in ("year", "month", "day", "week", "decade") and nxt in ENTITY_AGES:
            return "age or record"  # "the party's 40-year history", "a 30-year high"
    return None


# who is meant by "children under five", "people over 65": an age threshold
YOUNG_OR_OLD = {
    "children", "child", "kids", "minors", "girls", "boys", "babies", "infants", "youths",
    "teenagers", "adults", "people", "those", "anyone", "everyone", "women", "men",
}  # fmt: skip
# nouns of things named again after they were counted: "the two leaders"
# (not "the three countries": the gold counts those, they are often news)
REFERRED = {
    "leaders", "guys", "men", "women", "parties", "presidents", "governments",
    "allies", "rivals", "neighbors", "neighbours", "brothers", "sisters", "teams",
    "candidates", "sons", "daughters", "companies", "groups", "men's", "camps", "sides",
    "architectures",
    # kinds and ideas named before: "these two disciplines", "the two approaches"
    "disciplines", "fields", "approaches", "ideas", "concepts", "worlds", "cultures",
    "traditions", "visions", "views", "positions", "options", "scenarios", "models",
}  # fmt: skip
# what a percentage of certainty is said of: "100% sure"
CERTAINTY = {
    "sure", "certain", "confident", "committed", "convinced", "behind", "honest", "dedicated",
    "right", "wrong", "correct", "true", "serious", "focused", "against", "supportive",
}  # fmt: skip
COPULAS = {"is", "are", "am", "was", "were", "be", "been", "being", "not", "remain", "remains"}
FULL_MONTHS = {m for m in MONTHS if len(m) > 4} | {"june", "july", "may"}


WINDOWS = {"past", "last", "next", "coming", "recent", "previous", "first"}


def _period_of_change(tokens: list[Token], k: int) -> bool:
    """ "exports surging 60% in the past three years": the window is the period a rate
    of change was measured over, a figure of its own (not "In the past month, ...")."""
    return any(t.text == "%" or t.low in ("percent", "points") for t in tokens[max(0, k - 4) : k])


def _index_name(tokens: list[Token], i: int) -> bool:
    """ "S&P 500", "FTSE 100": a number that ends the name of a stock index (a capitalised
    word joined by "&", or an index's own word, right before it)."""
    if i == 0 or not tokens[i].is_digits:
        return False
    before = tokens[i - 1]
    if not before.text[:1].isupper():
        return False
    if i > 1 and tokens[i - 2].text == "&" and tokens[i - 2].end == before.start:
        return True
    return before.low in INDEX_WORDS


def _sentence_end(token: Token) -> bool:
    """Whether a full word closes a sentence ("January." but not "Jan.")."""
    return token.text.endswith(".") and token.low in FULL_MONTHS


def _age_or_name(text: str, tokens: list[Token], i: int, j: int, value: float) -> str | None:
    """Numbers that count nothing: an age after a name ("Amirov, 45,"), an age threshold
    ("under the age of five", "children under 18", "younger than five"), a number in a
    name ("type 2", "Group of Seven", "the nine-dash line"), a multiplier ("18 times",
    "three times as many"), "one of the biggest", and things counted before and named
    again ("these two guys", "the two leaders")."""
    tok = tokens[i]
    before = tokens[i - 1] if i > 0 else None
    before2 = tokens[i - 2] if i > 1 else None
    after = tokens[j] if j < len(tokens) else None
    after2 = tokens[j + 1] if j + 1 < len(tokens) else None
    small = value.is_integer() and 0 < value <= 120
    if (
        tok.is_digits
        and j == i + 1
        and small
        and before is not None
        and before.text == ","
        and before2 is not None
        and before2.text[:1].isupper()
        and before2.text[-1:].isalpha()
        and (after is None or after.text in (",", ")", ";") or after.text.startswith("."))
    ):
        return "age"  # "Amirov, 45, and Omarov, 40, hired"
    if small and before is not None and before2 is not None:
        if before.low == "of" and before2.low == "age":
            return "age"  # "under the age of five"
        if before.low == "than" and before2.low in ("younger", "older"):
            return "age"
        if before.low in ("under", "over", "below", "above") and before2.low in YOUNG_OR_OLD:
            return "age"  # "children under 18"
    if tok.is_digits and before is not None and before.low in ("type", "phase", "stage"):
        return "part of a name"  # "type 2 diabetes"
    if (
        not tok.is_digits
        and tok.text[:1].isupper()
        and before is not None
        and before.low == "of"
        and before2 is not None
        and before2.text[:1].isupper()
        and before2.low not in ("one", "some", "all", "most", "each", "many")
    ):
        return "part of a name"  # "the Group of Seven"
    if (
        not tok.is_digits
        and tok.text[:1].isupper()
        and before is not None
        and before.text[:1].islower()
        and before.text.isalpha()  # not "deportation. Two U.S. officials"
        and after is not None
        and after.text[:1].isupper()
        and after.low not in PEOPLE
    ):
        return "part of a title"  # "the book Zero Sum", "a film called Twelve Angry Men"
    if after is not None and after.text in "-‑" and after2 is not None and after2.low == "dash":
        return "part of a name"  # "the nine-dash line"
    if after is not None and (
        after.low in ("times", "fold")
        or (after.text in "-‑" and after2 is not None and after2.low == "fold")
    ):
        return "multiplier"  # "18 times", "three times as many"
    if (
        tok.low == "one"
        and after is not None
        and after.low == "of"
        and not (after2 is not None and (after2.is_digits or after2.low in UNITS | TENS))
        and not (
            after2 is not None
            and after2.low in ("the", "them", "those", "these")
            and j + 2 < len(tokens)
            and (tokens[j + 2].is_digits or tokens[j + 2].low in UNITS | TENS)
        )
    ):
        return "one of"  # "one of the biggest crises", not "one of the 120"
    if (
        not tok.is_digits
        and before is not None
        and before.low in ("the", "these", "those", "both")
        and _referred_after(tokens, j)
    ):
        return "named again"  # "these two guys", "the two leaders", "the two NATO allies"
    if (
        not tok.is_digits
        and before is not None
        and before.low in ("the", "these", "those")
        and after is not None
        and not _counted_noun_follows(tokens, j)
        and (
            (tok.low == "two" and after.low in PAIR_VERBS)  # "the two are now partners"
            or (
                (after.low in STOP_WORDS or not after.text[:1].isalpha())
                and _names_listed(text, tok.start) == value
            )  # "Russia and China ... North Korea and Iran. And facing those four in Asia"
        )
    ):
        return "named again"
    return None


# verbs right after "the two" that make it a pronoun for a pair named before
PAIR_VERBS = {
    "are", "were", "have", "had", "will", "would", "can", "could", "met", "meet", "signed",
    "agreed", "share", "shared", "spoke", "talked", "discussed", "also", "later", "then",
    "remain", "remained", "became", "both",
}  # fmt: skip
_LISTED = re.compile(
    r"(?<![\w’'-])[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)*"
    r"(?:,\s+[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)*)*,?\s+and\s+[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)*"
)


def _names_listed(text: str, at: int) -> int:
    """How many names the sentence before and this one list up to `at` ("Russia and
    China", "Burkina Faso, Mali and Niger"): the members a "those four" names again."""
    bounds = sentences(text)
    n = next((n for n, (a, b) in enumerate(bounds) if a <= at < b), 0)
    left = bounds[max(0, n - 1)][0] if bounds else 0
    return sum(
        m.group().count(",") + 2 - ("," in m.group() and ", and" in m.group())
        for m in _LISTED.finditer(text, left, at)
    )


def _referred_after(tokens: list[Token], j: int) -> bool:
    """Whether a noun of things named again follows, directly or after up to two names
    or adjectives ("the two NATO allies", "the two Koreas' leaders")."""
    for k in range(j, min(j + 3, len(tokens))):
        if tokens[k].low in REFERRED:
            return True
        if not tokens[k].text[:1].isupper() or tokens[k].low in STOP_WORDS:
            return False
    return False


# nouns after "N-year" that make it an age or a record, not a length of time
ENTITY_AGES = {
    "history", "existence", "legacy", "tradition", "anniversary", "high", "low", "record",
    "lows", "highs", "old",
}  # fmt: skip


DURATION_ADJECTIVES = {"full", "whole", "entire", "single", "more", "additional", "extra"}


def _one_duration(tokens: list[Token], i: int, j: int) -> bool:
    """ "sentenced to one year", "for one full day": "one" counts a unit of time after a
    preposition (not "One day, he ...", a way of telling)."""
    if i == 0 or tokens[i - 1].low not in ("to", "for", "of", "within", "than", "only", "just"):
        return False
    k = j + (j < len(tokens) and tokens[j].low in DURATION_ADJECTIVES)
    return k < len(tokens) and tokens[k].low in TIME_UNITS


def _counted_noun_follows(tokens: list[Token], j: int) -> bool:
    """ "one Kenyan officer", "one senior U.N. official": a counted noun within a few
    adjectives (words that are not function words) after the word "one"."""
    for k in range(j, min(j + 4, len(tokens))):
        word = tokens[k].low
        if word in PEOPLE or word in OBJECTS or word in PERCENT or word == "%":
            return True
        if not tokens[k].text[:1].isalpha() or word in STOP_WORDS:
            return False
    return False


# --- the grammar ---------------------------------------------------------------------------


def _match_words(tokens: list[Token], i: int, words: tuple[str, ...]) -> bool:
    if i + len(words) > len(tokens):
        return False
    return all(tokens[i + k].low == w for k, w in enumerate(words))


def _qualifier_before(tokens: list[Token], i: int) -> tuple[str, int] | None:
    """A qualifier ending just before token i: (qualifier, index of its first token)."""
    if i > 1 and tokens[i - 1].text == ",":  # "at most, 550"
        found = _qualifier_before(tokens, i - 1)
        if found:
            return found
    for words, qualifier in _BEFORE_ORDER:
        start = i - len(words)
        if words == ("up", "to") and start > 0 and tokens[start - 1].low in PHRASAL_UP:
            continue  # "come up to 100%": a verb that reaches the figure, not a bound
        if start >= 0 and _match_words(tokens, start, words):
            # "up to to 7,000": a doubled last word, seen in real copy
            return qualifier, start
        start2 = start - 1
        if (
            start2 >= 0
            and len(words) > 1
            and _match_words(tokens, start2, words)
            and tokens[i - 1].low == words[-1]
        ):
            return qualifier, start2
    return None


# verbs whose particle "up" makes "up to" a part of the verb ("come up to 100%")
PHRASAL_UP = {"come", "comes", "came", "coming", "live", "lives", "lived", "living", "measure"}
ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "gen", "lt", "col", "maj", "capt", "sgt", "adm", "gov", "sen",
    "rep", "rev", "st", "jr", "sr", "no", "vs", "inc", "corp", "co", "ltd", "dept", "est",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "prof", "pres", "gens", "approx", "fig", "mt", "ft",
}  # fmt: skip
_BOUNDARY = re.compile(r"[.!?][\"”’)]*(?=\s)|\n")


@cache
def sentences(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of every sentence; "U.S.", "Adm." and initials do not end one."""
    out, start = [], 0
    for m in _BOUNDARY.finditer(text):
        if m.group() != "\n":
            if text[m.start() - 2 : m.start()] == ".." and re.match(r"\s+[a-z]", text[m.end() :]):
                continue  # "I have to take six ... medications every day": an ellipsis
            word = re.search(r"([A-Za-z.]+)[.!?][\"”’)]*$", text[max(0, m.start() - 12) : m.end()])
            token = word.group(1) if word else ""
            if token.lower() in ABBREVIATIONS or re.fullmatch(r"(?:[A-Za-z]\.)*[A-Za-z]", token):
                continue
        if text[start : m.end()].strip():
            out.append((start, m.end()))
        start = m.end()
    if text[start:].strip():
        out.append((start, len(text)))
    return tuple(out)


def _sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    for left, right in sentences(text):
        if left <= start < right:
            return left, max(right, end)
    return 0, len(text)


def _clause(text: str, start: int, end: int) -> str:
    """The clause around [start, end): the sentence cut at commas, semicolons, dashes."""
    left, right = _sentence_bounds(text, start, end)
    cut = re.compile(r"[,;:—–]|\band\b|\bbut\b|\bwhile\b")
    before = [m.end() for m in cut.finditer(text, left, start)]
    after = cut.search(text, end, right)
    return text[before[-1] if before else left : after.start() if after else right]


def _noun_after(tokens: list[Token], j: int) -> tuple[str | None, int, str | None]:
    """(counted thing as the text words it, index after it, its head word)."""
    k = j
    if k < len(tokens) and tokens[k].low == "of":
        k += 1
        if k < len(tokens) and tokens[k].low in (
            "the",
            "them",
            "those",
            "these",
            "whom",
            "its",
            "their",
            "his",
            "her",
            "our",
        ):
            if tokens[k].low in ("them", "those", "these", "whom"):
                return tokens[k].text, k + 1, tokens[k].low
            k += 1
    words: list[Token] = []
    while k < len(tokens) and len(words) < 4:
        tok = tokens[k]
        if tok.text in "-‑" and words and k + 1 < len(tokens) and tokens[k + 1].start == tok.end:
            words.append(tok)
            k += 1
            continue
        if not tok.text[:1].isalpha() or tok.low in STOP_WORDS:
            break
        words.append(tok)
        k += 1
        if (
            tok.low in PEOPLE
            or tok.low in OBJECTS
            or tok.low in TIME_UNITS
            or tok.low in CURRENCY_WORDS
        ):
            break
    while words and words[-1].text in "-‑":
        words.pop()
    if not words:
        return None, j, None
    phrase = (
        " ".join(w.text for w in words).replace(" - ", "-").replace(" -", "-").replace("- ", "-")
    )
    return phrase, k, words[-1].low


STOP_WORDS = {
    "the", "a", "an", "and", "or", "but", "who", "which", "that", "were", "was", "are", "is",
    "be", "been", "being", "have", "has", "had", "in", "at", "on", "from", "to", "by", "for",
    "with", "since", "after", "before", "during", "as", "than", "of", "into", "over",
    "across", "per", "last", "this", "these", "those", "will", "would", "could", "may",
    "might", "said", "say", "says", "according", "while", "when", "where", "including",
    "among", "about", "around", "some", "out", "up", "down", "more", "less", "fewer",
    "each", "every", "all", "both", "such", "not", "no", "it", "its", "their", "his", "her",
    "they", "he", "she", "we", "you", "i", "them", "there", "here", "so", "if", "then",
    "also", "only", "just", "already", "still", "yet", "now", "ago", "later", "earlier",
    "killed", "injured", "wounded", "died", "dead", "arrested", "detained", "held",
    "nearly", "almost", "roughly", "approximately", "estimated", "least",
}  # fmt: skip


def _counted(head: str | None, clause: str, unit_hint: str | None) -> tuple[str, str]:
    """(counted, unit) for a figure whose counted noun is `head` in `clause`."""
    if unit_hint == "percent":
        return "percentage", "percent"
    if unit_hint == "money":
        return "money", "money"
    if head in TIME_UNITS:
        return "duration", TIME_UNITS[head]
    if head in ("countries", "country", "nations"):
        return "countries", "country"
    # "a report released by the committee" releases no one
    lowered = re.sub(r"\b(?:released|published|issued) by\b", " ", clause.lower())
    # "an assessment ... released Thursday": a document released, not people
    lowered = re.sub(
        r"\b((?:report|assessment|statement|study|survey|data|figures|video|document)\b"
        r"(?:\s+\S+){0,10}?)\s+released\b",
        r"\1",
        lowered,
    )
    if head in HEAD_COUNTED:  # the counted noun says it best ("120 escapees")
        return HEAD_COUNTED[head], "person"
    if head in PEOPLE or head in ("them", "whom", "those", "these") or head is None:
        for counted, cues in COUNTED_CUES:
            if any(re.search(rf"\b{re.escape(c)}\b", lowered) for c in cues):
                return counted, "person"
        if head in PEOPLE:
            return "people_other", "person"
    if head in OBJECTS:
        return "objects", "item"
    return "other", "other"


def _realis(clause: str) -> str:
    clause = _MONTH_MAY.sub("in_month", clause)  # "since May": the month, not a modal
    lowered = _NOT_PLANNED.sub(" ", f" {clause.lower()} ")
    if _CONDITION.search(lowered):
        return "possible"
    if _PLANNED.search(lowered):
        return "planned"
    if _POSSIBLE.search(lowered):
        return "possible"
    if _GENERIC.search(lowered):
        return "generic"
    return "actual"


# habits and rules: "issues around 400 licenses annually", "must spend ten days"
_MONTH_MAY = re.compile(r"(?<=[a-z,] )May\b|\bMay(?= \d)")
_GENERIC = re.compile(
    r"\b(?:annually|(?:every|each|per) (?:day|week|month|year)|must|on average)\b"
)
_CUT = re.compile(r"[,;:—–]|\band\b|\bbut\b|\bwhile\b")
# a modal governs its own clause only: before the figure, an embedded clause opened by
# "how", "whether" or "that" ("we could tell her how happy we were after her eight
# years") starts afresh; after it, a relative clause or a complement of the noun ("two
# tests that experts think may be related", "several requests for this hearing to be
# postponed") says something about the counted thing, not whether the figure holds
_CUT_BEFORE = re.compile(
    r"[,;:—–]|\b(?:and|but|while|how|whether)\b|(?<!chance )(?<!risk )(?<!fear )\bthat\b"
)
_CUT_AFTER = re.compile(
    r"[,;:—–]|\b(?:and|but|while|for)\b|\b(?:that|which|who|whom)\b"
    # a relative clause with its own subject ("that experts think may"), not one whose
    # subject is the counted thing ("300 people who could be displaced")
    r"(?!\s+(?:could|would|may|might|will|can|are|is|were|was|have|has|had|be|not)\b)"
)


def _realis_window(text: str, start: int, end: int) -> str:
    """The words that set a figure's realis: its clause up to the figure, and the few
    words after it ("up to 7,000 detainees are potentially scheduled"), not a modal
    verb at the far end of the clause that governs something else."""
    left, right = _sentence_bounds(text, start, end)
    cuts = list(_CUT_BEFORE.finditer(text, left, start))
    while cuts and (
        _shared_subject(text, cuts[-1])
        or (cuts[-1].group() == "," and re.fullmatch(r"\s+[a-z]+\s+", text[cuts[-1].end() : start]))
    ):
        cuts.pop()  # "Britain will cede ... and pay ... $116 million": one subject, one modal;
        # "a proposal for an immediate, interim 30-day ceasefire": a list of adjectives
    after = _CUT_AFTER.search(text, end, right)
    words = list(re.finditer(r"\S+", text[end : after.start() if after else right]))[:6]
    window = text[cuts[-1].end() if cuts else left : end + (words[-1].end() if words else 0)]
    if _ANTECEDENT.search(text, left, cuts[-1].end() if cuts else left):
        return f"if {window}"  # "if Europe follows through on it, he will impose 200%"
    if _PROJECTED.search(text, left, start):  # "had projected that by 2045, about 6% ..."
        return f"projected {window}"
    if _HABIT.search(text.lower(), left, right) and (
        _realis(window) == "actual" or re.search(r"\b(?:has|have) to\b", window)
    ):  # "I have to take six medications every day": a habit
        # "walked six miles to and from work every day"; an obligation kept up is a rule
        return re.sub(r"\b(?:has|have) to\b", "must", window) + " every day"
    if cuts and cuts[-1].group() in "—–" and not text[cuts[-1].end() : start].strip():
        # "the death toll may be higher — up to 10 fatalities": a figure right after a
        # dash spells out the clause before it, whose modal holds
        earlier = [c.end() for c in cuts[:-1]]
        return text[earlier[-1] if earlier else left : cuts[-1].start()] + window
    return window


_ANTECEDENT = re.compile(r"(?<!as )(?<!even )\b(?:if|unless)\b[^,;]{3,160}[,;]")


def _shared_subject(text: str, cut: re.Match[str]) -> bool:
    """Whether an "and" goes on with a second verb of the same subject ("will cede the
    islands and pay ..."): the word after it is a lower-case word that is not a function
    word, a pronoun or a number."""
    if cut.group() != "and":
        return False
    m = re.match(r"\s+([a-z]+)\b", text[cut.end() : cut.end() + 30])
    if m is None:
        return False
    word = m.group(1)
    return (
        word not in STOP_WORDS
        and word not in UNITS
        and word not in TENS
        and word not in VAGUE_WORDS
    )


_HABIT = re.compile(r"\b(?:every (?:day|week|month|year)|annually)\b")
_PROJECTED = re.compile(r"\b(?:projected|forecast|predicted|projects|predicts) that\b")


MEASURES = {
    "meters", "metres", "meter", "metre", "kilometers", "kilometres", "km", "miles", "feet",
    "tons", "tonnes", "hectares", "acres", "kilograms", "kg", "degrees", "liters", "litres",
    "barrels", "gallons", "megawatts", "inches", "centimeters", "millimeters",
}  # fmt: skip
CONTINUOUS_UNITS = {"percent", "money", "hour", "day", "week", "month", "year"}


def _interval(
    qualifier: str, value: float, counted_unit: str, head: str | None = None
) -> tuple[float | None, float | None, float | None]:
    # "more than 70 countries" is 71 (a count); "more than 2 meters" or "30 hours" is a
    # measure, where the bound is the number itself
    counts = counted_unit not in CONTINUOUS_UNITS and head not in MEASURES
    step = 1 if value.is_integer() and counts else 0
    if qualifier == "exact":
        return value, value, value
    if qualifier == "approximately":
        return None, value, None
    if qualifier == "at_least":
        return value, None, None
    if qualifier == "more_than":
        return value + step if step else value, None, None
    if qualifier in ("up_to", "at_most"):
        return None, None, value
    if qualifier == "less_than":
        return None, None, value - step if step else value
    raise ValueError(qualifier)


# --- attribution ---------------------------------------------------------------------------

NAME = r"(?:[A-Z][\w.'’&-]*|U\.S\.|U\.N\.)(?:\s+(?:of|the|for|and|&|de|al-|[A-Z][\w.'’&-]*))*"
_NOUNS = "|".join(ATTRIBUTION_NOUNS)
_ACCORDING = re.compile(rf"according to (?:the |a |an )?(?P<x>{NAME}|{_NOUNS})", re.I)
_VERBS = "|".join(REPORT_VERBS)
# verbs whose subject may follow them ("said Adm. Brad Cooper"); not "told", whose
# object is the addressee ("told Parliament"), nor "showed" or "put"
SAID_AFTER = (
    "said", "says", "reported", "announced", "added", "wrote", "noted", "stated",
    "claimed", "warned", "explained", "estimated", "confirmed", "fretted", "recalled",
    "adds",
)  # fmt: skip
WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
_WHEN = r"(?:\s+(?:on\s+)?(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day)?"
# a name and the body it heads: "U.N. agency", "Kenyan police", "Iraqi officials"
BODIES = (
    "agency", "ministry", "military", "army", "police", "government", "officials",
    "official", "spokesman", "spokeswoman", "spokesperson", "office", "council",
    "commission", "authorities", "forces", "minister", "chief", "commander", "envoy",
    "leader", "department", "directorate", "service", "spokesman", "statement", "survey",
    "report", "study", "poll", "assessment", "group", "outfit", "organization",
    "organisation", "institute", "reports", "website", "arm", "body", "researchers",
    "director", "head", "representative", "correspondent", "reporter", "data", "figures",
    "estimates",
)  # fmt: skip
_BODY = rf"(?:\s+[a-z]+)?\s+(?:{'|'.join(BODIES)})\b"  # "Ontario provincial leader"
_ADVERB = (
    r"(?:\s*,\s*(?:though|however|too|meanwhile|in turn|for their part|for its part)\s*,)?"
    r"(?:\s+(?:has|have|had))?"  # "The World Bank has also claimed"
    r"(?:\s+(?:\w+ly|also|later|earlier|previously|again|further|then|first))?"
)
_SUBJECT_SAID = re.compile(
    rf"(?P<x>(?:(?:the |a )?(?:{NAME})(?:{_BODY})?|\b(?i:{_NOUNS})"
    rf"|\b[Tt]he(?:\s+[a-z]+){{1,3}}?\s+(?:{'|'.join(BODIES)})\b)"
    rf"(?:\s+(?:in|of|from|at|for)\s+(?:the\s+)?{NAME})?)"
    rf"{_WHEN}\s*,?{_ADVERB}\s+(?:{_VERBS})\b",
)
# "Chaudhry, director general of military public relations, said": a name and its
# appositive before the verb
_APPOSITIVE_SAID = re.compile(
    rf"(?P<x>{NAME}),\s+(?:(?:a |an |the )?[a-z][^,.;\"“”]{{2,140}}?|\d{{1,3}}),"
    rf"(?:\s+[^,.;\"“”]{{2,80}}?,){{0,2}}"  # "..., Justice and Human Rights, told VOA"
    rf"{_ADVERB}\s+(?:{_VERBS})\b"
)
# a group or a plural of people as the subject of a speech verb, with the words before
# its head ("Human rights advocates say", "British media report", "The rights groups
# told VOA"), or the first of two coordinated subjects ("Kannavee and the rights groups
# say", "Rights groups and opposition lawmakers such as Kannavee, though, say")
GROUPS = (
    "groups", "advocates", "activists", "officials", "analysts", "experts", "media",
    "observers", "critics", "lawmakers", "legislators", "economists", "researchers",
    "scientists", "diplomats", "sources", "witnesses", "residents", "organizations",
    "organisations", "agencies", "authorities", "police", "monitors", "campaigners",
    "investigators", "prosecutors", "officers", "leaders", "doctors", "medics", "rescuers",
    "volunteers", "survivors", "families", "relatives", "villagers", "locals", "workers",
    "organizers", "organisers", "watchdogs", "charities", "unions", "environmentalists",
    "data", "figures", "estimates", "statistics", "records", "polls", "surveys", "studies",
    # one unnamed person: "A VOA reporter in the town said", "a senior official told"
    "reporter", "correspondent", "official", "source", "witness", "resident", "analyst",
    "expert", "diplomat", "doctor", "officer", "spokesman", "spokeswoman", "spokesperson",
)  # fmt: skip
_GROUP = (
    r"(?:(?:[A-Z][\w.’'-]*|[a-z][\w’'-]*)\s+){0,2}(?:"
    + "|".join(GROUPS + tuple(g.capitalize() for g in GROUPS))
    + r")\b"
)
_GROUP_SAID = re.compile(
    rf"(?P<x>{NAME}(?=\s+and\s+(?:the\s+)?{_GROUP})|{_GROUP})"
    rf"(?:\s+and\s+(?:the\s+)?(?:[^,.;\"“”]|\.(?=\S)|(?<=[A-Z])\.){{1,60}}?)?"
    rf"(?:\s+(?:in|of|from|at|for)\s+(?:the\s+)?(?:{NAME}|(?:[a-z]+\s+)?[a-z]+))?"
    rf"{_ADVERB}\s+(?:{_VERBS}|report(?=\s+that\b))\b(?!\s+(?:why|whether|how)\b)"
)
# a source's own numbers: "cited the World Bank's figures showing", "citing World Bank
# data"; the body that made them, not the one citing them
SOURCES = (
    "data", "figures", "estimates", "statistics", "report", "study", "survey", "assessment",
)  # fmt: skip
_SOURCE = re.compile(
    rf"(?:\b(?:cited|citing|cites|quoting|quoted)\s+(?:the\s+)?(?P<x>{NAME})(?:['’]s)?"
    rf"|(?P<y>{NAME})['’]s)\s+(?:[a-z]+\s+)?(?:{'|'.join(SOURCES)})"
    rf"(?=\s*,|\s+(?:show|shows|showed|showing|say|says|said|saying|found|suggest\w*|indicat\w*))"
)  # and "John Rockhold, 67, said": an age between the name and the verb
# 'According to the "2024 ... Report" released by the Game Working Committee': the body
# that released the titled report, not the title's first word
_TITLE_BY = re.compile(
    r"according to (?:the |a |an )?[\"“][^\"“”]{1,160}[\"”],?\s+"
    rf"(?:released|published|issued|compiled|prepared) by (?:the )?(?P<x>{NAME})",
    re.IGNORECASE,
)
# a subordinate clause after the figure: "doubling the 25% tariff after X said ..."
_SUBORDINATE = re.compile(r"\b(?:after|before|when|because|while|until|since)\s+(?:the\s+)?$")
# a relative clause that hangs on a name after the figure: "..., including Manus, which"
_RELATIVE_OF_NAME = re.compile(r"[A-Z][\w’'-]*,\s+(?:which|who)\s+$")
# what a claimant never is: a determiner or a lone function word
FUNCTION_WORDS = {
    "the", "a", "an", "of", "and", "or", "in", "on", "at", "for", "to", "by", "with",
    "from", "as", "its", "their", "his", "her", "our", "this", "that", "these", "those",
}  # fmt: skip
# "said disaster management department spokesperson Chipiliro Khamula": the role words
# before the name are skipped
_SAID_SUBJECT = re.compile(
    rf"\b(?:{'|'.join(SAID_AFTER)})\s+(?:(?:[a-z]+\s+){{0,4}}?(?:{'|'.join(BODIES)})\s+)?"
    rf"(?P<x>(?:the |a )?{NAME})"
)
PRONOUNS = {"he", "she", "they", "we", "i", "you", "it"}
NOT_CLAIMANTS = {"this", "that", "there", "who", "which"} | WEEKDAYS | MONTHS
# "NAIROBI, Kenya (AP) — ": the agency of a dateline reported the story, it did not
# assert its figures
_DATELINE = re.compile(r"\A\s*[A-Z][A-Za-z .,'’-]{1,60}?\([A-Za-z .&]{1,30}\)\s*[—–-]{1,2}\s*")
_TITLED = re.compile(
    r"\b(?:President|Minister|Mayor|Governor|Ambassador|Secretary|Senator|Commander|Chief|"
    r"Director|Adm\.|Gen\.|Col\.|Maj\.|Lt\.|Sgt\.|Sen\.|Rep\.|Dr\.|Mr\.|Mrs\.|Ms\.)"
    r"\s+(?P<x>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){1,2})"
)

Claim = tuple[str, int, int]  # the claimant as the text words it, start, end


def _clean(who: str, s: int, e: int) -> Claim | None:
    """Trim a sentence's period and a leading article; None for what cannot claim."""
    last = who.rsplit(" ", 1)[-1]
    if who.endswith(".") and last.count(".") == 1 and len(last) > 3:
        who, e = who[:-1], e - 1  # the sentence's period, not an abbreviation's
    conjunction = re.match(r"(?:But|And|So|Yet|Or|Then)\s+(?=[A-Z])", who)
    if conjunction:  # "But Lutnick said": the sentence's first word is no part of a name
        who, s = who[conjunction.end() :], s + conjunction.end()
    article = re.match(r"(?:the|a|an)\s+", who, re.IGNORECASE)
    if article and len(who) > article.end():
        who, s = who[article.end() :], s + article.end()
    if who.endswith(("’s", "'s")) and len(who) > 3:
        who, e = who[:-2], e - 2  # "the World Bank’s figures": whose, the body itself
    source = re.search(r"(?<=[A-Za-z.])\s+(?:data|figures)$", who)
    if source and who[:1].isupper():  # "General Statistics Office data show"
        who, e = who[: source.start()], s + source.start()
    if who.lower() in NOT_CLAIMANTS or who.lower() in FUNCTION_WORDS:
        return None
    return who, s, e


_HEAD_OF_ROLE = re.compile(
    r"(?P<x>[A-Z][a-z]+(?:[-’'][A-Za-z]+)?(?:\s+(?:al-|bin\s+|de\s+)?[A-Z][a-z]+(?:[-’'][A-Za-z]+)?){1,3})"
    r",\s+(?:the|a|an)\s+$"
)


# the words of one person's role: "the Ghazni provincial head for the Red Cross"
_PERSON_ROLE = re.compile(
    r"\b(?:head|spokes(?:man|woman|person)|director|minister|chief|official|commander|"
    r"governor|president|leader|representative|officer|secretary|chair(?:man|woman)?|"
    r"founder|analyst|expert|professor|researcher|envoy|ambassador|coordinator|manager)\b",
    re.IGNORECASE,
)


def _appositive_head(text: str, claim: Claim) -> Claim:
    """ "Sayed Abdul Wajeed Sadat, the Ghazni provincial head for the Red Cross told VOA":
    a role that stands in apposition after a person's name (no comma closes it) is the
    person's, who is the subject."""
    if _PERSON.fullmatch(claim[0]) or not _PERSON_ROLE.search(claim[0]):
        return claim
    m = _HEAD_OF_ROLE.search(text, max(0, claim[1] - 80), claim[1])
    if m is None or any(w in NOT_PERSON_WORDS for w in m.group("x").split()):
        return claim
    if _PREPOSITION.search(text, max(0, m.start() - 20), m.start()):
        return claim  # "Reporting from New York, the ministry's spokesman said": a place
    return m.group("x"), m.start("x"), m.end("x")


def _candidates(
    text: str, left: int, right: int, skip: tuple[int, int] = (0, 0)
) -> list[tuple[int, int, Claim]]:
    """(weight, start, claim) for every attribution in text[left:right]. Of the subjects
    one verb has, the one that starts first is its whole subject ("Rights groups and
    lawmakers such as Kannavee, though, say"); a name inside another's appositive ("X,
    director of Y, a rights group, says"), after a preposition ("who hail from China,
    claimed"), or denied ("Neither China nor Thailand has explained") claims nothing."""
    found: list[tuple[int, int, Claim, int]] = []
    appositives: list[tuple[int, int]] = []
    patterns = (
        (_TITLE_BY, -1),
        (_SOURCE, 0),
        (_SOURCE_FROM, 0),
        (_ACCORDING, 0),
        (_SUBJECT_SAID, 1),
        (_APPOSITIVE_SAID, 1),
        (_GROUP_SAID, 1),
        (_SAID_SUBJECT, 2),
    )
    for pattern, weight in patterns:
        for m in pattern.finditer(text, left, right):
            group = "x" if m.group("x") is not None else "y"
            s = m.start(group)
            raw = m.group(group)
            lead = _lead_length(raw)
            words = raw[lead:].strip()
            s += lead + len(raw[lead:]) - len(raw[lead:].lstrip())
            claim = _clean(words, s, s + len(words))
            if claim is None or (claim[1] < skip[1] and skip[0] < claim[2]):
                continue
            if weight >= 1:
                claim = _appositive_head(text, claim)
            if weight == 1 and claim[1] < skip[0] and skip[1] <= m.end():
                continue  # "Matthaes, a Vietnam dweller of 25 years, warned", "Officials in
                # the two countries said": a figure inside the subject is not its claim
            if skip[1] and skip[1] <= s and _SUBORDINATE.search(text[skip[1] : s]):
                continue  # "the 25% tariff ... after Canada's leader said": not his figure
            if skip[1] and skip[1] <= s and _RELATIVE_OF_NAME.search(text[skip[1] : s]):
                continue  # "several models, including Manus, which experts say can rival":
                # the speech is about the name, not the figure
            if weight >= 1 and _not_subject(text, max(left, s - 30), claim, m.end()):
                continue
            if skip[1] and _COUNTS_SPEAKERS.fullmatch(text, skip[1], claim[1]):
                continue  # "Two U.S. defense officials told VOA": the figure counts them
            if pattern is _APPOSITIVE_SAID:
                appositives.append((claim[2], m.end()))
            found.append((weight, s, claim, m.end() if weight >= 1 else -1))
    found = [f for f in found if not any(a < f[1] < b for a, b in appositives)]
    first: dict[int, int] = {}
    for f in found:
        if f[3] >= 0 and (f[3] not in first or f[1] < first[f[3]]):
            first[f[3]] = f[1]
    return [(w, s, c) for w, s, c, v in found if v < 0 or first[v] == s]


# "A preliminary assessment from Malawi's Department of ... released Thursday showed"
_SOURCE_FROM = re.compile(
    rf"\b(?:{'|'.join(SOURCES)})\s+(?:from|by)\s+(?:the\s+)?(?P<x>{NAME})"
    rf"(?=(?:\s+[a-z]+){{0,3}}(?:\s+[A-Z][a-z]+day)?\s+(?:show|shows|showed|said|says|found|"
    rf"estimated|indicated|suggested)\b"
    # "a report by the Global Terrorism Index, which identified ...": the body's report
    rf"|,\s+which\s+(?:\w+\s+)?(?:show|shows|showed|said|says|found|finds|estimated|"
    rf"indicated|suggested|identified|identifies|ranked|named|listed|counted|recorded)\b)"
)
_PREPOSITION = re.compile(
    r"\b(?:of|from|in|at|to|with|on|into|than|against)\s+(?:the\s+)?$", re.IGNORECASE
)
_DENIED = re.compile(r"\b(?:neither|nor)\s+(?:the\s+)?$", re.IGNORECASE)
_COUNTS_SPEAKERS = re.compile(r"\s+(?:[\w.’'-]+\s+){0,2}")


def _not_subject(text: str, left: int, claim: Claim, verb_end: int) -> bool:
    """A name that is denied ("Neither China nor Thailand has explained"), or the object
    of a preposition closed by a comma ("who hail from China, claimed"; not "officials
    in Quetta told"), is not the subject of the verb after it."""
    if _DENIED.search(text, left, claim[1]):
        return True
    m = _PREPOSITION.search(text, left, claim[1])
    if m is None or "," not in text[claim[2] : verb_end]:
        return False
    head = re.search(r"(\w+)\s*$", text[left : m.start()])
    # "Data from Dog Meat Free Indonesia, which ..., suggests": the source's data speak
    return not (head and head.group(1).lower() in SOURCES + GROUPS + BODIES)


# words that open a sentence or a clause before a subject: "But rights groups tell VOA"
LEAD_WORDS = STOP_WORDS | WEEKDAYS | MONTHS | {"but", "so", "yet", "then", "however", "meanwhile"}


def _lead_length(words: str) -> int:
    """How many characters of function words the pattern took before the subject ("But
    rights groups" -> the length of "But ")."""
    lead = 0
    for m in re.finditer(r"\s*(\S+)\s+", words):
        if m.group(1).lower() not in LEAD_WORDS - {"the", "a", "an"}:
            break
        lead = m.end()
    return lead if words[lead:].strip() else 0


def claimant(text: str, start: int, end: int) -> Claim | None:
    """Who the sentence around [start, end) says asserted it: (words, start, end); it
    may be a pronoun (`attribute` resolves those)."""
    left, right = _sentence_bounds(text, start, end)
    left = max(left, _dateline_end(text))
    found = _candidates(text, left, right, (start, end))
    if not found:
        return None
    return min(found, key=lambda f: (f[0], abs(f[1] - start)))[2]


def _dateline_end(text: str) -> int:
    m = _DATELINE.match(text[:120])
    return m.end() if m else 0


def _quotes(text: str) -> list[tuple[int, int]]:
    """(start, end) of every quotation: curly pairs, straight quotes paired in order."""
    out, opened = [], None
    for m in re.finditer(r"[\"“”]", text):
        mark = m.group()
        if opened is None and mark != "”":
            opened = m.start()
        elif opened is not None and mark != "“":
            out.append((opened, m.end()))
            opened = None
    return out


def _quote_speaker(text: str, quotes: list[tuple[int, int]], k: int) -> Claim | None:
    """The speaker quotation k is attributed to: '..." said X.', 'X said: "...', or, for
    a quotation with neither that follows another closely ('"...," he said. "..."'),
    the speaker of that one."""
    who = _attributed(text, quotes[k])
    if who is None and k > 0 and quotes[k][0] - quotes[k - 1][1] < 70:
        who = _attributed(text, quotes[k - 1])
    return who


def _attributed(text: str, quote: tuple[int, int]) -> Claim | None:
    qs, qe = quote
    _, right = _sentence_bounds(text, qe - 1, qe)
    after = _candidates(text, qe, max(right, qe))
    if after:
        return min(after, key=lambda f: (f[1], f[0]))[2]
    left, _ = _sentence_bounds(text, qs, qs + 1)
    before = _candidates(text, left, qs)
    return max(before, key=lambda f: f[1])[2] if before else None


# a sentence that goes on with the claim of the one before: "Of those, 12 were ..."
_CONTINUES = re.compile(
    r"\s*[\"“]?(?:of (?:those|them|these|the (?:dead|injured|total))|among (?:them|those|the)|"
    r"another|in addition|that (?:includes|number)|this (?:includes|number)|the (?:rest|"
    r"remaining|figure|toll|number|total|tally)"
    # a sentence that points back at the one before: "That is down from ...", "It
    # includes ..."
    r"|(?:that|this|it)(?:\s+(?:number|figure|total|plan|amount))?\s+(?:is|was|includes|included|"
    r"means|meant|marks|marked|brings|brought|compares|compared))\b",
    re.IGNORECASE,
)


def _speakers(text: str) -> list[tuple[int, Claim | None]]:
    """(sentence start, its attribution) for every sentence, in reading order."""
    out = []
    start = _dateline_end(text)
    for left, right in sentences(text):
        found = _candidates(text, max(left, start), right)
        best = min(found, key=lambda f: (f[0], f[1]))[2] if found else None
        out.append((left, best))
    return out


# a person's name: two or three capitalised words, none of them a word that heads the
# name of a place or an organisation
_PERSON = re.compile(
    r"\b[A-Z][a-z]+(?:[-’'][A-Za-z]+)?"
    r"(?:\s+(?:al-|bin\s+|de\s+)?[A-Z][a-z]+(?:[-’'][A-Za-z]+)?){1,2}\b"
)
NOT_PERSON_WORDS = {
    "The", "In", "On", "At", "A", "An", "As", "But", "And", "For", "If", "When", "While",
    "This", "That", "These", "Those", "It", "There", "Week", "Show",
    "Republic", "Union", "Nations", "Council", "Ministry", "Army", "Forces", "Department",
    "Office", "Agency", "Committee", "Court", "Party", "Front", "Organization", "Bank",
    "Fund", "Program", "Programme", "Security", "Express", "Times", "Journal", "Post",
    "News", "Street", "States", "Kingdom", "Emirates", "Arabia", "Africa", "America",
    "Asia", "Europe", "Sea", "River", "Islands", "Province", "State", "County",
    "District", "Region", "City", "Camp", "Prison", "Hospital", "University", "Institute",
    "Commission", "Parliament", "Assembly", "Congress", "Senate", "House", "Command",
    "Guard", "Corps", "Brigade", "Service", "Center", "Centre", "Airport", "Base",
    "Affairs", "Management", "Liberation", "Shabab", "Islamic", "General", "Minister",
    "President", "Chief", "Secretary", "Governor", "Director", "Prime", "Group", "Services",
    "Movement", "Network", "Alliance", "Coalition", "Federation", "Association",
    "Foundation", "Society", "Initiative", "Unit", "Division", "Police", "Authority",
    "Board", "Company", "Corporation", "Organisation", "Nation",
} | {m.capitalize() for m in MONTHS} | {d.capitalize() for d in WEEKDAYS}  # fmt: skip


def _is_person(name: str) -> bool:
    """Whether a claimant's words end in a person's name ("spokesman Ahmed Chaudhry"),
    not a body's ("Baloch Liberation Army")."""
    m = _PERSON.search(name)
    if m is None or m.end() != len(name):
        return False
    return not any(w in NOT_PERSON_WORDS for w in re.findall(r"[A-Za-z’'-]+", m.group()))


def _persons(text: str, until: int) -> list[Claim]:
    out = []
    for m in _PERSON.finditer(text, 0, until):
        words = re.findall(r"[A-Za-z’'-]+", m.group())
        if m.group().endswith(("’s", "'s")):
            continue  # "Burkina Faso’s", "Boko Haram’s": whose, not who
        if not any(w in NOT_PERSON_WORDS for w in words):
            out.append((m.group(), m.start(), m.end()))
    return out


def _last_named(
    text: str, pronoun: str, until: int, speakers: list[tuple[int, Claim | None]]
) -> Claim | None:
    """Whom a pronoun at `until` points back to: for "he" and "she" the last person
    named (a claimant, a titled name or a name alone), for "they" and "we" the last
    named claimant; None when there is none."""
    named = [c for _, c in speakers if c and c[2] <= until and c[0].lower() not in PRONOUNS]
    if pronoun.lower() == "it":  # "It later claimed ...": the body named last
        named = [c for c in named if not _is_person(c[0])]
    elif pronoun.lower() in ("he", "she", "i"):
        titled = [
            (m.group("x"), m.start("x"), m.end("x")) for m in _TITLED.finditer(text, 0, until)
        ]
        opener = _sentence_subject(text, until)
        if opener is not None:  # "Chalida ... echoed their concerns. She told VOA"
            return opener
        persons = _persons(text, until)
        spoke = [c for c in named if _is_person(c[0]) or _is_surname(c[0], persons)]
        named = persons
        if spoke or titled:  # "he said": the last who spoke or was named with a title
            named = spoke + titled
    return max(named, key=lambda c: c[1]) if named else None


def _source_named(text: str, who: Claim) -> Claim:
    """The body a bare "the data" / "the assessment" points back to: the last name
    written before it with the same noun ("citing World Bank data", "an assessment from
    Malawi's Department of Disaster Management Affairs"), else the noun itself."""
    noun = re.escape(who[0].lower())
    before = re.compile(rf"(?P<x>{NAME})(?:['’]s)?\s+(?:[a-z]+\s+)?{noun}\b")
    after = re.compile(rf"\b{noun}\s+(?:from|by|of)\s+(?:the\s+)?(?P<x>{NAME})")
    found = [
        (m.group("x"), m.start("x"), m.end("x"))
        for pattern in (before, after)
        for m in pattern.finditer(text, 0, who[1])
        if m.group("x")[:1].isupper() and not re.search(r"[.!?]\s", m.group("x"))
    ]
    if not found:
        return who
    name = max(found, key=lambda c: c[1])
    return _clean(*name) or who


# one person's role: "the spokesman said" points back to "spokesman Ahmed Chaudhry"
ROLES = {
    "spokesman", "spokeswoman", "spokesperson", "minister", "president", "governor",
    "mayor", "commander", "envoy", "ambassador", "director", "chief", "official",
}  # fmt: skip


def _role_named(text: str, who: Claim) -> Claim:
    """The person a bare role ("the spokesman") points back to: the last one named with
    it ("spokesman Ahmed Chaudhry", "Glenn Jusnes, a spokesperson for UNHCR"), else the
    role itself."""
    role = re.escape(who[0].lower())
    person = r"[A-Z][a-z]+(?:[-’'][A-Za-z]+)?(?:\s+(?:al-|bin\s+|de\s+)?[A-Z][a-z]+(?:[-’'][A-Za-z]+)?){1,2}"
    patterns = (
        re.compile(rf"\b(?i:{role})\s+(?P<x>{person})"),
        re.compile(rf"(?P<x>{person}),\s+(?:a|an|the)\s+(?:[\w.-]+\s+){{0,3}}?{role}\b"),
    )
    found = [
        (m.group("x"), m.start("x"), m.end("x"))
        for pattern in patterns
        for m in pattern.finditer(text, 0, who[1])
        if _is_person(m.group("x"))
    ]
    return max(found, key=lambda c: c[1]) if found else who


def _in_compound(text: str, p: Proposal) -> bool:
    """ "the 27-nation bloc", "the 15-nation Security Council": a number joined by a
    hyphen to the noun after it, which describes a thing rather than counts it."""
    return p.counted not in ("duration",) and bool(
        re.match(r"[-‑][a-z]+\s+[A-Za-z]", text[p.end : p.end + 30])
    )


def _is_surname(word: str, persons: list[Claim]) -> bool:
    """ "Wine says": one capitalised word that ends a person's name named before ("Bobi
    Wine")."""
    return " " not in word and any(p[0].endswith(f" {word}") for p in persons)


# words that open a sentence with a phrase before its subject
OPENERS = {
    "like", "unlike", "despite", "following", "without", "after", "before", "since",
    "during", "among", "under", "over", "besides", "speaking", "asked", "citing",
}  # fmt: skip


def _sentence_subject(text: str, pronoun_at: int) -> Claim | None:
    """The person whose name opens the sentence before, when the pronoun opens its own
    ("Chalida Tajaroensuk, who heads ..., echoed their concerns. She told VOA ...")."""
    bounds = sentences(text)
    n = next((n for n, (a, b) in enumerate(bounds) if a <= pronoun_at < b), None)
    lead = text[bounds[n][0] : pronoun_at].strip(" \n\"“‘'") if n else ""
    if not n or (lead and not _WHOLE_QUOTE.fullmatch(text, bounds[n][0], pronoun_at)):
        return None  # the pronoun opens its sentence, or follows a whole quotation
    left, right = bounds[n - 1]
    if lead and re.search(r"[\"“”]", text[left:right]):
        return None  # '"...," he said' after a quotation: its speaker, not this opener
    at = left + len(text[left:right]) - len(text[left:right].lstrip())
    first = re.match(r"[A-Za-z]+", text[at:right])
    if first and first.group().lower() in OPENERS:  # "Like Lutnick, Kevin Hassett ..."
        comma = text.find(",", at, right)
        if comma < 0:
            return None
        at = comma + 1 + len(text[comma + 1 : right]) - len(text[comma + 1 : right].lstrip())
    titled = _TITLED.match(text, at)
    if titled:  # "Mayor Ana Reyes spoke": the name, not its title
        return titled.group("x"), titled.start("x"), titled.end("x")
    m = _PERSON.match(text, at)
    if m is None or not _is_person(m.group()) or text[m.end() : m.end() + 1] not in (",", " "):
        alone = re.match(r"[A-Z][a-z]+(?:[-’'][A-Za-z]+)?(?=\s+[a-z])", text[at:right])
        if alone and _is_surname(alone.group(), _persons(text, at)):  # "Countryman sees"
            return alone.group(), at, at + alone.end()
        return None
    return m.group(), m.start(), m.end()


# a sentence that is one quotation up to its speaker: '"I think ... in other cases," '
_WHOLE_QUOTE = re.compile(r"\s*[\"“][^\"“”]{2,1500}[,?!]\s*[\"”]\s*")


# the speaker labels of an interview: "VOA: ...? Richard Armitage, former U.S. deputy
# secretary of state: The obvious message ... Armitage: That type of exercise ..."
_LABEL = re.compile(
    r"(?:(?<=[.?!”\"]\s)|(?<=\n)|\A)"
    r"(?P<x>[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3})(?:,\s+(?:[^:.\n\"“”]|\.(?=\S|\s+[a-z])){1,80})?:\s"
)
INTERVIEWERS = {"voa", "q", "question", "interviewer", "host", "reporter"}
ANSWER_LABELS = {"a", "answer"}  # "Q: ... A: ...": an answer that does not name its speaker


def _turns(text: str) -> list[tuple[int, Claim | None]]:
    """(start, speaker) of every turn of an interview written as "Name: ..." labels, the
    interviewer's turns with no speaker; none unless the interviewer and another speaker
    each have a label (a text in questions and answers)."""
    labels = [(m.start(), (m.group("x"), m.start("x"), m.end("x"))) for m in _LABEL.finditer(text)]
    asks = [at for at, who in labels if who[0].lower() in INTERVIEWERS]
    answers = [at for at, who in labels if who[0].lower() not in INTERVIEWERS]
    if not asks or not answers:
        return []
    return [
        (at, None if who[0].lower() in INTERVIEWERS | ANSWER_LABELS else who) for at, who in labels
    ]


def attribute(text: str, proposals: list[Proposal]) -> None:
    """Set each proposal's claimant hint: the attribution of its sentence, else of the
    quotation it stands in, else of the sentence before (a claim that goes on); a pronoun
    is resolved to the name it points back to, or left null. Never a dateline agency,
    a weekday or a bare pronoun."""
    if not proposals:
        return
    quotes = _quotes(text)
    speakers = _speakers(text)
    starts = [left for left, _ in speakers]
    turns = _turns(text)
    turn_starts = [at for at, _ in turns]
    for p in proposals:
        who = claimant(text, p.start, p.end)
        k = next((k for k, q in enumerate(quotes) if q[0] < p.start and p.end <= q[1]), None)
        if who is None and k is not None:
            who = _quote_speaker(text, quotes, k)
        answerer = (
            turns[bisect.bisect_right(turn_starts, p.start) - 1][1]
            if turns and p.start > turns[0][0]
            else None
        )  # in an interview, the one whose turn holds the figure
        if who is None and answerer is not None:
            who = answerer  # an answer
        if who is None:
            n = bisect.bisect_right(starts, p.start) - 1
            goes_on = _CONTINUES.match(text, starts[n]) if n > 0 else None
            who = speakers[n - 1][1] if goes_on else None
        if who is not None and who[0].lower() in ("i", "we") and turns and p.start > turns[0][0]:
            who = answerer  # the one answering
        if who is not None and who[0].lower() in PRONOUNS:
            who = _last_named(text, who[0], who[1], speakers)
        if who is not None and who[0].lower() in SOURCES:
            who = _source_named(text, who)  # "according to the data": whose data
        if who is not None and who[0].lower() in ROLES:
            who = _role_named(text, who)  # "the spokesman said": the spokesman named before
        if _in_compound(text, p) and k is None:
            who = None  # "the 27-nation bloc": the noun's description, nobody's claim (a
            # speaker's words in a quotation are the speaker's: "the 5,000-man troops")
        if who is not None:
            p.claimed_by, p.claimed_by_start, p.claimed_by_end = who


# --- the finder ----------------------------------------------------------------------------


def find_figures(text: str) -> list[Proposal]:
    """Every figure the rules find in `text`, in reading order."""
    tokens = tokenize(text)
    out: list[Proposal] = []
    used: set[int] = _date_tokens(text, tokens)
    i = 0
    while i < len(tokens):
        if i in used:
            i += 1
            continue
        found = _vague(text, tokens, i) or _fraction(text, tokens, i) or _figure(text, tokens, i)
        if found is None:
            i += 1
            continue
        proposal, j = found
        if not any(k in used for k in range(i, j)):
            out.append(proposal)
            used.update(range(i, j))
        i = max(j, i + 1)
    _link_parts(text, out)
    for part in out:  # "up to 10 fatalities, including five militants": the part may be too
        whole = out[part.part_of] if part.part_of is not None else None
        if (
            whole is not None
            and part.realis == "actual"
            and whole.realis in ("possible", "planned")
        ):
            part.realis = whole.realis
    for p in out:  # "could board along the roughly 1,600-kilometer route": the size of a
        # thing that is, not of one that may be (not "a 500-bed hospital")
        if (
            p.realis == "possible"
            and p.counted != "duration"
            and _in_compound(text, p)
            and re.search(r"\b(?:the|its|their|this|that)\s+$", text[max(0, p.start - 8) : p.start])
        ):
            p.realis = "actual"
    attribute(text, out)
    return out


_VAGUE_ORDER = sorted(VAGUE.items(), key=lambda kv: -len(kv[0]))
_VAGUE_FIRST = {words[0] for words in VAGUE}
_BEFORE_ORDER = sorted(BEFORE.items(), key=lambda kv: -len(kv[0]))


def _vague(text: str, tokens: list[Token], i: int) -> tuple[Proposal, int] | None:
    if tokens[i].low not in _VAGUE_FIRST:
        return None
    if _match_words(tokens, i, ("a", "dozen")) and _qualifier_before(tokens, i):
        return None  # "more than a dozen" is more than 12, read by _figure
    for words, term in _VAGUE_ORDER:
        if not _match_words(tokens, i, words):
            continue
        j = i + len(words)
        if i > 0 and (tokens[i - 1].is_digits or tokens[i - 1].low in UNITS):
            return None  # "two hundreds"? not vague
        hedge = 2 if _match_words(tokens, j, ("or", "so")) else 0  # "a dozen or so"
        noun, k, head = _noun_after(tokens, j + hedge)
        if head in TIME_UNITS and k < len(tokens) and tokens[k].low in DATE_ANCHORS:
            return None  # "A few hours later": when, not how long
        if _multiplier(tokens, j):
            return None  # "several times smaller": how many times, not a count
        if term in ("several", "a_few", "a_dozen") and not _counts_something(
            tokens, j + hedge, head
        ):
            return None  # "several" alone is too often not a count of anything
        start, end = tokens[i].start, tokens[j - 1].end
        clause = _clause(text, start, end)
        known = head in PEOPLE or head in OBJECTS or head in TIME_UNITS or head in CURRENCY_WORDS
        # "Dozens remain missing": no counted noun, the clause says what is counted
        counted, unit = _counted(head if known else None, clause, None)
        currency = None
        if head in CURRENCY_WORDS and j < len(tokens) and tokens[j].low == "of":
            currency, counted, unit = CURRENCY_WORDS[head], "money", "money"
            end = tokens[j + 1].end  # "millions of dollars": the currency is the unit
            noun = None
        low, high = _vague_intervals()[term]
        return Proposal(
            start,
            end,
            text[start:end],
            low,
            None,
            high,
            "vague",
            term,
            unit,
            counted,
            noun,
            currency,
            _realis(_realis_window(text, start, end)),
            score=0.6,
            rule="vague",
        ), j
    return None


def _decades(
    tokens: list[Token], i: int, number: tuple[float, int] | None
) -> tuple[float, int] | None:
    """ "nearly two decades" (20 years, the span "nearly two"), "more than a decade" (10
    years, the span "more than a decade"); not a time window ("in more than a decade")."""
    if number is None and tokens[i].low == "a":
        if i + 1 < len(tokens) and tokens[i + 1].low == "decade":
            found = _qualifier_before(tokens, i)
            if found is None or (found[1] > 0 and tokens[found[1] - 1].low == "in"):
                return None
            return 10.0, i + 2
        return None
    if number is None or number[1] >= len(tokens) or tokens[number[1]].low != "decades":
        return None
    return number[0] * 10, number[1]


def _multiplier(tokens: list[Token], j: int) -> bool:
    """ "several times smaller", "dozens of times more", "a few times as large": a factor
    that compares two amounts."""
    k = j + 2 if _match_words(tokens, j, ("of", "times")) else j + 1
    if not (k - 1 < len(tokens) and tokens[k - 1].low == "times") or k >= len(tokens):
        return False
    word = tokens[k].low
    return word in ("more", "less", "fewer", "as", "higher", "lower", "larger", "bigger") or (
        word.endswith("er") and len(word) > 4 and word not in STOP_WORDS
    )


def _counts_something(tokens: list[Token], j: int, head: str | None) -> bool:
    """Whether "several" / "a few" before tokens[j] counts a thing: a known noun, or a
    plural ("several times", "several others", "several rebel groups")."""
    if head in PEOPLE or head in OBJECTS or head in TIME_UNITS:
        return True
    if head in ("them", "those", "countries"):
        return True
    first = tokens[j].low if j < len(tokens) and tokens[j].text[:1].isalpha() else ""
    return any(
        w and w.endswith("s") and len(w) > 3 and w not in STOP_WORDS and not w.endswith("ss")
        for w in (first, head)
    )


def _fraction(text: str, tokens: list[Token], i: int) -> tuple[Proposal, int] | None:
    k = i
    if tokens[k].low in ("one", "1") and _match_words(tokens, k + 1, ("in",)):
        whole = read_number(tokens, k + 2)  # "one in five": 20 percent
        if whole and whole[0] > 1 and (whole[1] >= len(tokens) or tokens[whole[1]].text != "-"):
            return _fraction_proposal(text, tokens, i, whole[1], 100 / whole[0])
    if (
        k < len(tokens)
        and tokens[k].low in ("a", "one")
        and k + 1 < len(tokens)
        and (tokens[k + 1].low in FRACTIONS)
    ):
        k += 1
    elif not (k < len(tokens) and tokens[k].low == "half"):
        two = read_number(tokens, k) if tokens[k].low in UNITS else None
        if not (
            two
            and two[1] + 1 < len(tokens)
            and tokens[two[1]].text in "-‑"
            and tokens[two[1] + 1].low.rstrip("s") in FRACTIONS
        ):
            return None
        value = two[0] * FRACTIONS[tokens[two[1] + 1].low.rstrip("s")]
        j = two[1] + 2
        return _fraction_proposal(text, tokens, i, j, value)
    value = FRACTIONS[tokens[k].low.rstrip("s")]
    j = k + 1
    if j < len(tokens) and tokens[j].text in "-‑" and _match_words(tokens, j + 1, ("a",)):
        return None  # "half-a-million" is a number
    if not (j < len(tokens) and tokens[j].low == "of") and not _qualifier_before(tokens, i):
        return None  # "roughly a quarter from South Sudan" is qualified enough
    return _fraction_proposal(text, tokens, i, j, value)


PRICES = {"price", "prices", "cost", "costs", "rate", "rates", "fee", "fees", "level", "size"}


def _scales_a_price(tokens: list[Token], i: int, j: int) -> bool:
    """ "costs one-tenth of the prices asked": a multiplier of an amount, not a share."""
    if i > 0 and tokens[i - 1].low in ("cost", "costs", "costing", "priced"):
        return True
    return (
        j + 2 < len(tokens)
        and tokens[j].low == "of"
        and tokens[j + 1].low in ("the", "its", "their", "what")
        and tokens[j + 2].low in PRICES
    )


def _fraction_proposal(
    text: str, tokens: list[Token], i: int, j: int, value: float
) -> tuple[Proposal, int] | None:
    if _scales_a_price(tokens, i, j):
        return None
    start, end = tokens[i].start, tokens[j - 1].end
    noun, _, _head = _noun_after(tokens, j)
    value = float(round(value, 2))  # two-thirds: 66.67 percent, as the gold writes it
    qualifier, rule = "exact", "fraction"
    found = _qualifier_before(tokens, i)
    if found:  # "more than half", "roughly a quarter"
        qualifier, first = found
        start, rule = tokens[first].start, "qualified fraction"
    low, best, high = _interval(qualifier, value, "percent")
    return Proposal(
        start,
        end,
        text[start:end],
        low,
        best,
        high,
        qualifier,
        None,
        "percent",
        "percentage",
        noun,
        None,
        _realis(_realis_window(text, start, end)),
        score=0.5,
        rule=rule,
    ), j


def _figure(text: str, tokens: list[Token], i: int) -> tuple[Proposal, int] | None:
    tok = tokens[i]
    currency = None
    first = i
    if tok.text in CURRENCY:
        currency = CURRENCY[tok.text]
        i += 1
        if i >= len(tokens):
            return None
    number = read_number(tokens, i)
    duration_word = None
    if (
        number is None
        and tok.low in ("a", "an")
        and i + 1 < len(tokens)
        and tokens[i + 1].low in TIME_UNITS
        and (_qualifier_before(tokens, i) is not None or (i > 0 and tokens[i - 1].low == "for"))
    ):
        number = (1.0, i + 1)  # "more than a year", "about an hour", "for a month"
        duration_word = tokens[i + 1]  # inside the span: "a" alone says nothing
    if (
        number is None
        and tok.low == "a"
        and i + 1 < len(tokens)
        and tokens[i + 1].low == "dozen"
        and _qualifier_before(tokens, i) is not None
    ):
        number = (12.0, i + 2)  # "more than a dozen", "nearly a dozen"
    if number is None and tok.low in ("a", "half") and _qualifier_before(tokens, i) is not None:
        number = _a_scale(tokens, i)  # "close to a million", "nearly half-a-million"
    if (
        number is None
        and tok.low == "a"
        and i + 2 < len(tokens)
        and tokens[i + 1].low in SCALES
        and tokens[i + 1].low != "dozen"
        and (
            tokens[i + 2].low in CURRENCY_WORDS
            or tokens[i + 2].low in PEOPLE
            or tokens[i + 2].low in OBJECTS
        )
    ):
        number = (float(SCALES[tokens[i + 1].low]), i + 2)  # "a billion dollars"
    decade = _decades(tokens, i, number)
    if decade is not None:
        number = decade
    if number is None and tok.low in LONG_WORDS:
        return _long_word(text, tokens, i)
    if number is None:
        return None
    value, j = number
    why = _not_a_figure(text, tokens, i, j, value)
    if why:
        return None
    start = tokens[first].start
    qualifier = "exact"
    rule = "number"
    low = best = high = None
    # "between 30 and 40", "from 200 to 300", "3,000-5,000", "200 to 300"
    second = None
    if (
        first > 0
        and tokens[first - 1].low == "between"
        and j < len(tokens)
        and tokens[j].low == "and"
    ):
        second = read_number(tokens, j + 1)
        if second:
            start = tokens[first - 1].start
    elif (
        currency
        and j + 2 < len(tokens)
        and tokens[j].text in "-–‑"
        and tokens[j + 1].text == tokens[first].text
        and (candidate := read_number(tokens, j + 2)) is not None
        and candidate[0] > value
    ):
        second = candidate  # "$6 - $8 billion"
    elif j < len(tokens) and (tokens[j].text in "-–‑" or tokens[j].low == "to"):
        candidate = read_number(tokens, j + 1)
        if (
            candidate
            and candidate[0] > value
            and (tokens[j].low == "to" or tokens[j].end == tokens[j + 1].start)
        ):
            second = candidate
            if first > 0 and tokens[first - 1].low == "from":
                start = tokens[first - 1].start
    elif (
        j + 1 < len(tokens)
        and tokens[j].low == "or"
        and number[1] == i + 1
        and (candidate := read_number(tokens, j + 1)) is not None
        and candidate[1] == j + 2
        and candidate[0] == value + 1
        and tokens[j + 1].is_digits == tok.is_digits
    ):
        second = candidate  # "five or six": a range of two neighbours
    elif (
        j + 2 < len(tokens)
        and tokens[j].text == "%"
        and tokens[j + 1].low == "to"
        and (candidate := read_number(tokens, j + 2)) is not None
        and candidate[1] < len(tokens)
        and tokens[candidate[1]].text == "%"
    ):
        second = candidate  # "250% to 390%": the sign after both ends
    if second is not None:
        top, j = second
        if tokens[first].text in CURRENCY or (j < len(tokens) and tokens[j].low in SCALES):
            pass
        scale = SCALES.get(tokens[j - 1].low)
        if scale and number[1] == i + 1 and value * scale < top:
            value *= scale  # "$6 - $8 billion", "two to three million": both ends scaled
        if value < top:
            qualifier, low, high, rule = "range", value, top, "range"
    # units after the number
    unit_hint = None
    if j < len(tokens) and (tokens[j].text == "%" or tokens[j].low in ("percent", "percentage")):
        unit_hint = "percent"
        j += 1
        if j < len(tokens) and tokens[j].low in ("point", "points"):
            j += 1  # "2 percentage points"
    elif j + 1 < len(tokens) and tokens[j].low == "per" and tokens[j + 1].low == "cent":
        unit_hint = "percent"
        j += 2
    if unit_hint == "percent" and j < len(tokens) and tokens[j].low in CERTAINTY:
        return None  # "100% sure": how sure, not a share of anything
    if (
        unit_hint == "percent"
        and value == 100
        and first > 0
        and tokens[first - 1].low in COPULAS
        and j < len(tokens)
        and tokens[j].low.endswith("ed")
    ):
        return None  # "China is 100% dedicated to": how wholly, a manner of speaking
    if currency:
        unit_hint = "money"
    elif j < len(tokens) and tokens[j].low in CURRENCY_WORDS:
        currency = CURRENCY_WORDS[tokens[j].low]
        unit_hint = "money"
        j += 1  # the currency word is the unit, like "percent": inside the span
    # hyphenated durations: "four-day", "42-day"
    duration = None
    if (
        j + 1 < len(tokens)
        and tokens[j].text in "-‑"
        and tokens[j + 1].low in TIME_UNITS
        and (tokens[j].start == tokens[j - 1].end)
    ):
        duration = TIME_UNITS[tokens[j + 1].low]
        j += 2
    qword = ""
    if rule != "range":
        found = _qualifier_before(tokens, first)
        if found:
            qualifier, qstart = found
            qword = tokens[qstart].low
            start = tokens[qstart].start
            rule = "qualified"
    end = tokens[j - 1].end
    if duration_word is not None:
        end = duration_word.end - duration_word.text.endswith(".")
    if tokens[j - 1].text[0].isalpha() and tokens[j - 1].text.endswith("."):
        end -= 1  # "1.5 million." ends the sentence; the period is not the number's
    noun, _, head = (None, j, None) if duration else _noun_after(tokens, j)
    if unit_hint == "money" and currency is None:
        currency = None
    clause = _clause(text, start, end)
    sentence = text[slice(*_sentence_bounds(text, start, end))]
    if duration or decade:
        counted, unit = "duration", duration or "year"
        noun = None
    else:
        counted, unit = _counted(head, clause, unit_hint)
        if counted == "people_other":  # the cue may sit outside the clause
            counted, unit = _counted(head, sentence, unit_hint)
    if qword == "over" and counted == "duration":
        qualifier, start, rule = "exact", tokens[first].start, "number"  # "over four years": during
    if qualifier != "range":
        low, best, high = _interval(qualifier, value, unit, head)
    score = 0.9 if head in PEOPLE or unit in ("percent", "money") or duration else 0.6
    if counted == "other":
        score = 0.4
    realis = _realis(_realis_window(text, start, end))
    if _start_of_change(tokens, first, j):
        realis = "actual"  # "would increase from $106 trillion to ...": what is now
    return Proposal(
        start,
        end,
        text[start:end],
        low,
        best,
        high,
        qualifier,
        None,
        unit,
        counted,
        noun,
        currency,
        realis,
        score=score,
        rule=rule,
    ), j


def _start_of_change(tokens: list[Token], first: int, j: int) -> bool:
    """ "from $106 trillion to $127 trillion": the first figure of a change, the amount
    the change starts from."""
    return (
        first > 0
        and tokens[first - 1].low == "from"
        and j + 1 < len(tokens)
        and tokens[j].low == "to"
        and (tokens[j + 1].is_digits or tokens[j + 1].text in CURRENCY)
    )


INCLUDING = ("including", "included", "includes", "include", "among them", "among whom")


LONG_WORDS = {"weeklong": "week", "monthlong": "month", "yearlong": "year", "daylong": "day"}


def _long_word(text: str, tokens: list[Token], i: int) -> tuple[Proposal, int]:
    """ "a weeklong hearing": one week."""
    tok = tokens[i]
    unit = LONG_WORDS[tok.low]
    return Proposal(
        tok.start, tok.end, tok.text, 1, 1, 1, "exact", None, unit, "duration", None, None,
        _realis(_realis_window(text, tok.start, tok.end)), score=0.6, rule="duration word",
    ), i + 1  # fmt: skip


def _link_parts(text: str, proposals: list[Proposal]) -> None:
    """The part points at its whole: "81 of the 120", "of the 120 inmates who escaped,
    81 ...", "including 12 children", "the 300 passengers included 45 children",
    "12 of them"."""
    for n, part in enumerate(proposals):
        if _part_of_next(text, proposals, n):
            continue
        whole = _whole_before(text, proposals, n)
        if whole is not None:
            part.part_of = whole


def _same_sentence(text: str, a: Proposal, b: Proposal) -> bool:
    return _sentence_bounds(text, a.start, a.end) == _sentence_bounds(text, b.start, b.end)


def _part_of_next(text: str, proposals: list[Proposal], n: int) -> bool:
    """ "81 of the 120": the whole follows the part."""
    part = proposals[n]
    if n + 1 >= len(proposals):
        return False
    whole = proposals[n + 1]
    gap = text[part.end : whole.start].lower().strip()
    if gap not in ("of the", "of") or whole.unit not in (part.unit, "other"):
        return False
    part.part_of = n + 1
    if part.counted in ("other", "people_other") and whole.counted != "other":
        part.counted, part.unit = whole.counted, whole.unit
    return True


def _whole_before(text: str, proposals: list[Proposal], n: int) -> int | None:
    """The index of the whole that comes before the part in its sentence, or None."""
    part = proposals[n]
    if n == 0 or not _same_sentence(text, proposals[n - 1], part):
        return None
    whole = proposals[n - 1]
    left, _ = _sentence_bounds(text, whole.start, whole.end)
    lead = text[left : whole.start].strip().lower()
    between = text[whole.end : part.start].lower()
    after = text[part.end : part.end + 12].lower()
    if part.unit == "other" and part.description is None and between.rstrip().endswith(INCLUDING):
        part.counted, part.unit = whole.counted, whole.unit  # "4 killed, including one"
    if whole.unit != part.unit:
        return None
    if lead in ("of the", "of") and "," in between:
        return n - 1  # "Of the 120 inmates who escaped, 81 have been recaptured"
    if between.rstrip().endswith(INCLUDING) and (
        whole.high is None or (part.high or 0) <= whole.high
    ):
        return n - 1
    if after.startswith(" of them"):
        part.counted = whole.counted
        return n - 1
    return None
