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

import re
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any

from sitrep.schema import spec

MODEL = "sitrep-figures"
VERSION = "0.1.0"

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
}
SHORT_SCALES = {"k": 1_000, "m": 1_000_000, "bn": 1_000_000_000}
VAGUE = {  # words -> vague term of the schema
    ("a", "few"): "a_few", ("several",): "several", ("a", "dozen"): "a_dozen",
    ("dozens",): "dozens", ("scores",): "scores", ("hundreds",): "hundreds",
    ("thousands",): "thousands", ("tens", "of", "thousands"): "tens_of_thousands",
    ("hundreds", "of", "thousands"): "hundreds_of_thousands", ("millions",): "millions",
}  # fmt: skip
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
NAMED = {
    "article", "resolution", "no", "number", "chapter", "section", "route", "highway",
    "flight", "phase", "level", "category", "grade", "class", "room", "page", "line",
    "version", "season", "episode", "district", "zone", "gate", "platform", "unit",
    "battalion", "brigade", "division", "regiment", "corps", "squadron", "term", "covid",
    "g", "f", "su", "mig", "s", "t", "mh", "ms", "type", "model", "block", "camp",
}  # fmt: skip
STOREYS = {"story", "storey", "stories", "storeys", "floor", "floors", "storied"}
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
    "veterans", "elderly", "youths", "youth", "minors", "orphans",
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
                            "repatriated", "deported", "deportation", "expelled", "flown",
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
    "captives": "people_abducted",
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
    "would ",
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
    "could be",
    "are to",
    "is to",
)
MODAL_POSSIBLE = ("could", "may ", "might", "possibly", "potential", "feared", "risk")
REPORT_VERBS = (
    "said", "says", "say", "told", "tells", "reported", "reports", "announced", "announces",
    "stated", "states", "estimated", "estimates", "confirmed", "confirms", "added", "wrote",
    "claimed", "claims", "noted", "notes", "warned", "warns", "tweeted", "posted",
    "explained", "testified", "acknowledged", "insisted", "cited", "counted", "recorded",
    "documented", "put", "puts", "showed", "shows", "indicated", "indicates",
)  # fmt: skip
ATTRIBUTION_NOUNS = (
    "officials", "police", "authorities", "witnesses", "residents", "sources", "activists",
    "organizers", "doctors", "medics", "experts", "analysts", "diplomats", "rescuers",
    "he", "she", "they", "the ministry", "the military", "the army", "the government",
    "the group", "the agency", "the report", "the statement", "the organization",
    "the company", "the court", "the u.n.", "the un", "the office", "the department",
    "the council", "the commission", "the survey", "the study", "data", "figures",
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
    total, current, j, seen = 0.0, 0.0, i, False
    while j < len(tokens):
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
    if before is not None and before.low in MONTHS:
        return "date"
    if after is not None and after.low in MONTHS:
        return "date"
    if before is not None and before.low in NAMED and before.text[:1].isupper():
        return "part of a name"
    if before is not None and before.low in ("no", "number") and before.text[:1].isupper():
        return "part of a name"
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
            and (tokens[j + 2].text in "-‑" and tokens[j + 3].low == "old")
        ):
            return "age"
        if after2.low in STOREYS:
            return "storey"
    if after is not None and after.low in STOREYS:
        return "storey"
    if before is not None and before.low in ("aged", "age"):
        return "age"
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
        not qualified
        and after is not None
        and after.low in TIME_UNITS
        and after2 is not None
        and after2.low in ANCHORS
    ):
        return "date anchor"
    # windows that place something in time: "in the past three months", "last 15 months"
    if (
        before is not None
        and before.low in ("past", "last", "next", "coming", "recent", "previous", "first")
        and after is not None
        and after.low in TIME_UNITS
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
    if not tok.is_digits and tok.low == "one" and j == i + 1 and not qualified:
        nxt = after.low if after is not None else ""
        if nxt not in PEOPLE and nxt not in OBJECTS:
            return "the word one"
    return None


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
    lowered = clause.lower()
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
    lowered = f" {clause.lower()} "
    if any(w in lowered for w in MODAL_PLANNED):
        return "planned"
    if any(f" {w}" in lowered for w in MODAL_POSSIBLE):
        return "possible"
    return "actual"


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

NAME = r"(?:[A-Z][\w.'’&-]*|U\.S\.|U\.N\.)(?:\s+(?:of|the|for|and|de|al-|[A-Z][\w.'’&-]*))*"
_ACCORDING = re.compile(
    rf"according to (?:the |a |an )?(?P<x>{NAME}|{'|'.join(ATTRIBUTION_NOUNS)})", re.I
)
_VERBS = "|".join(REPORT_VERBS)
_SUBJECT_SAID = re.compile(
    rf"(?P<x>(?:(?:the |a )?(?:{NAME})|\b(?:{'|'.join(ATTRIBUTION_NOUNS)}))"
    rf"(?:\s+(?:in|of|from|at|for)\s+(?:the\s+)?{NAME})?)"
    rf"\s*,?\s+(?:\w+ly\s+)?(?:{_VERBS})\b",
)
_SAID_SUBJECT = re.compile(rf"\b(?:{_VERBS})\s+(?P<x>(?:the |a )?{NAME})")


def claimant(text: str, start: int, end: int) -> tuple[str, int, int] | None:
    """Who the sentence around [start, end) says asserted it: (words, start, end)."""
    left, right = _sentence_bounds(text, start, end)
    sentence = text[left:right]
    found: list[tuple[int, str, int, int]] = []
    for pattern, weight in ((_ACCORDING, 0), (_SUBJECT_SAID, 1), (_SAID_SUBJECT, 2)):
        for m in pattern.finditer(sentence):
            who = m.group("x").strip()
            s = left + m.start("x")
            if who.lower() in ("it", "this", "that", "there"):
                continue
            if s <= start < s + len(who):
                continue
            found.append((weight, who, s, s + len(who)))
    if not found:
        return None
    weight, who, s, e = min(found, key=lambda f: (f[0], abs(f[2] - start)))
    last = who.rsplit(" ", 1)[-1]
    if who.endswith(".") and last.count(".") == 1 and len(last) > 3:
        who, e = who[:-1], e - 1  # the sentence's period, not an abbreviation's
    article = re.match(r"(?:the|a|an)\s+", who, re.IGNORECASE)
    if article and len(who) > article.end():
        who, s = who[article.end() :], s + article.end()
    return who, s, e


# --- the finder ----------------------------------------------------------------------------


def find_figures(text: str) -> list[Proposal]:
    """Every figure the rules find in `text`, in reading order."""
    tokens = tokenize(text)
    out: list[Proposal] = []
    used: set[int] = set()
    i = 0
    while i < len(tokens):
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
    for p in out:
        who = claimant(text, p.start, p.end)
        if who:
            p.claimed_by, p.claimed_by_start, p.claimed_by_end = who
    return out


_VAGUE_ORDER = sorted(VAGUE.items(), key=lambda kv: -len(kv[0]))
_VAGUE_FIRST = {words[0] for words in VAGUE}
_BEFORE_ORDER = sorted(BEFORE.items(), key=lambda kv: -len(kv[0]))


def _vague(text: str, tokens: list[Token], i: int) -> tuple[Proposal, int] | None:
    if tokens[i].low not in _VAGUE_FIRST:
        return None
    for words, term in _VAGUE_ORDER:
        if not _match_words(tokens, i, words):
            continue
        j = i + len(words)
        if i > 0 and (tokens[i - 1].is_digits or tokens[i - 1].low in UNITS):
            return None  # "two hundreds"? not vague
        noun, _k, head = _noun_after(tokens, j)
        if (
            head is None
            or (
                head not in PEOPLE
                and head not in OBJECTS
                and head not in TIME_UNITS
                and head not in ("them", "those", "countries")
            )
        ) and term in ("several", "a_few", "a_dozen"):
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
            _realis(clause),
            score=0.6,
            rule="vague",
        ), j
    return None


def _fraction(text: str, tokens: list[Token], i: int) -> tuple[Proposal, int] | None:
    k = i
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
    if not (j < len(tokens) and tokens[j].low == "of"):
        return None
    return _fraction_proposal(text, tokens, i, j, value)


def _fraction_proposal(
    text: str, tokens: list[Token], i: int, j: int, value: float
) -> tuple[Proposal, int]:
    start, end = tokens[i].start, tokens[j - 1].end
    noun, _, _head = _noun_after(tokens, j)
    value = round(value, 4)
    return Proposal(
        start,
        end,
        text[start:end],
        value,
        value,
        value,
        "exact",
        None,
        "percent",
        "percentage",
        noun,
        None,
        _realis(_clause(text, start, end)),
        score=0.5,
        rule="fraction",
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
    if (
        number is None
        and tok.low in ("a", "an")
        and i + 1 < len(tokens)
        and tokens[i + 1].low in TIME_UNITS
        and (_qualifier_before(tokens, i) is not None or (i > 0 and tokens[i - 1].low == "for"))
    ):
        number = (1.0, i + 1)  # "more than a year", "about an hour", "for a month"
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
    if tokens[j - 1].text[0].isalpha() and tokens[j - 1].text.endswith("."):
        end -= 1  # "1.5 million." ends the sentence; the period is not the number's
    noun, _, head = (None, j, None) if duration else _noun_after(tokens, j)
    if unit_hint == "money" and currency is None:
        currency = None
    clause = _clause(text, start, end)
    sentence = text[slice(*_sentence_bounds(text, start, end))]
    if duration:
        counted, unit = "duration", duration
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
        _realis(clause),
        score=score,
        rule=rule,
    ), j


def _link_parts(text: str, proposals: list[Proposal]) -> None:
    """'81 of the 120' and 'including 12 children': the part points at its whole."""
    for n, part in enumerate(proposals):
        after = text[part.end : part.end + 12].lower()
        if after.startswith((" of the ", " of ")) and n + 1 < len(proposals):
            whole = proposals[n + 1]
            gap = text[part.end : whole.start].lower().strip()
            if gap in ("of the", "of") and whole.unit in (part.unit, "other"):
                part.part_of = n + 1
                if part.counted in ("other", "people_other") and whole.counted != "other":
                    part.counted, part.unit = whole.counted, whole.unit
                continue
        before = text[max(0, part.start - 12) : part.start].lower()
        if before.rstrip().endswith("including") and n > 0:
            whole = proposals[n - 1]
            if whole.unit == part.unit and (whole.high is None or (part.high or 0) <= whole.high):
                part.part_of = n - 1
        if after.startswith(" of them") and n > 0 and proposals[n - 1].unit == part.unit:
            part.part_of = n - 1
            part.counted = proposals[n - 1].counted
