"""Synthetic annotation documents: realistic in size and shape, valid by construction.

Benchmarks and table tests need many documents that look like real annotations (a few
thousand characters of news text, dozens of records, ~80 evidence spans) without anyone
annotating them. Each document is written sentence by sentence from templates, and every
mention is recorded as it is written, so each span quotes its slice of the text exactly.
Vocabularies come from the schema (`spec`), figure shapes from `rules.QUALIFIER_SHAPES`
and vague intervals from the codebook table, so a document is valid against the schema
it was generated with.

Record counts are parameters (`events=...`), so bulk work can ask for exactly as many
records as it needs. Every figure counts people (unit "person"), as most figures in the
news do; part-of links, affiliations and location parents always point to an earlier
record, so they never form a cycle.

The same (seed, index) always gives the same document, whatever was generated before it:
`generate_documents(n, seed)` can be sliced or split across processes.
"""

from __future__ import annotations

import random
import string
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Any, NamedTuple

from sitrep.errors import ConfigError
from sitrep.schema import spec
from sitrep.schema.documents import SourceDocument, new_annotation
from sitrep.schema.rules import QUALIFIER_SHAPES, RECORD_KINDS

Json = dict[str, Any]
Piece = tuple[str, str | None]  # a stretch of text, and the id of the record it mentions

# Counts drawn when not given (inclusive bounds); the means are the seed article's.
DEFAULT_COUNTS = {"actors": (10, 26), "locations": (8, 20), "events": (6, 18), "figures": (3, 11)}
MACHINE = "synthetic"  # annotator and model name on everything generated here

# The few values the generator gives a meaning to; tests check that the schema has them.
PERSON = "person"  # ActorType
COUNTRY = "country"  # LocationType
PEOPLE = "person"  # Unit
EXACT, RANGE, VAGUE = "exact", "range", "vague"  # Qualifier
MANUAL = "manual"  # ProvenanceMethod


class Country(NamedTuple):
    """A country a document is set in: its name, adjective, ISO code and centre."""

    name: str
    demonym: str
    code: str
    lat: float
    lon: float


COUNTRIES = (
    Country("Syria", "Syrian", "SYR", 35.0, 38.5),
    Country("Iraq", "Iraqi", "IRQ", 33.2, 43.7),
    Country("Türkiye", "Turkish", "TUR", 39.0, 35.2),
    Country("Somalia", "Somali", "SOM", 5.2, 46.2),
    Country("Nigeria", "Nigerian", "NGA", 9.1, 8.7),
    Country("DR Congo", "Congolese", "COD", -2.9, 23.6),
    Country("Mali", "Malian", "MLI", 17.6, -4.0),
    Country("Colombia", "Colombian", "COL", 4.6, -74.3),
    Country("México", "Mexican", "MEX", 23.6, -102.5),
    Country("Côte d’Ivoire", "Ivorian", "CIV", 7.5, -5.5),
    Country("Yemen", "Yemeni", "YEM", 15.6, 48.5),
    Country("Sudan", "Sudanese", "SDN", 12.9, 30.2),
    Country("Ukraine", "Ukrainian", "UKR", 48.4, 31.2),
    Country("Burkina Faso", "Burkinabè", "BFA", 12.2, -1.6),
)
FIRST_NAMES = (
    "Brad", "Amani", "José", "Zoë", "Søren", "Łukasz", "Aïcha", "İbrahim", "Chloé",
    "Kwame", "Ngozi", "Mehmet", "Fatima", "Björn", "Thảo", "Rania", "Émile", "Oksana",
)  # fmt: skip
LAST_NAMES = (
    "Cooper", "al-Sharaa", "Müller", "Ødegaard", "Kowalczyk", "Ndiaye", "Hernández",
    "Çelik", "Okafor", "Haddad", "Barzani", "Nguyễn", "Dubois", "Žukauskas", "O’Neill",
)  # fmt: skip
HONORIFICS = ("", "", "", "Adm. ", "Gen. ", "Col. ", "Minister ", "Sheikh ", "Dr. ")
SYLLABLES = (
    "ha", "sa", "kah", "qa", "mi", "şlo", "ma", "ri", "bou", "dja", "ngo", "lé", "tom",
    "bu", "ze", "ro", "ga", "wa", "ké", "mü", "dan", "sul", "bil", "ţa", "hol", "raq",
)  # fmt: skip
PLACE_PREFIXES = ("", "", "", "al-", "Tel ", "Kafr ", "Deir ", "Ras ", "Ain ")
# Name templates by ActorType and LocationType; types without one use the fallback.
ACTOR_FORMS = {
    PERSON: ("{person}",),
    "state_armed_forces": (
        "the {demonym} Army", "{demonym} security forces", "the {place} Border Guard",
    ),
    "government_body": (
        "{country}’s Ministry of Interior", "the {demonym} government",
        "the {demonym} Foreign Ministry", "the governor’s office in {place}",
    ),
    "non_state_armed_group": (
        "the {place} Liberation Front", "the {place} Brigades", "the Army of {place}",
    ),
    "political_organisation": ("the {demonym} Democratic Party", "the Movement for {place}"),
    "international_organisation": (
        "the United Nations", "the International Committee of the Red Cross",
        "Médecins Sans Frontières", "the African Union", "the UN refugee agency",
    ),
    "ethnic_or_social_group": ("{place} tribal elders", "the {place} community"),
    "civilians": ("residents of {place}", "displaced families in {place}"),
    "media": ("Radio {place}", "the {place} Tribune", "Télé {place}"),
}  # fmt: skip
OTHER_ACTOR_FORMS = ("the {place} committee", "officials in {place}")
PLACE_FORMS = {
    "region": ("northern {country}", "north-eastern {country}", "the {place} valley"),
    "admin_area": ("{place} Province", "{place} Governorate", "the {place} district"),
    "facility": (
        "the {place} prison", "{place} airport", "the {place} dam", "{place} General Hospital",
    ),
    "camp": ("the {place} camp", "the {place} displacement camp"),
    "other": ("the {place} desert", "the {place} highway"),
}  # fmt: skip
OTHER_PLACE_FORMS = ("{place}",)
# How the text words each Qualifier: {n} the stated number, {a} and {b} a range's ends.
HEDGES = {
    EXACT: ("{n}",),
    "approximately": ("approximately {n}", "about {n}", "around {n}", "an estimated {n}"),
    "at_least": ("at least {n}", "no fewer than {n}"),
    "more_than": ("more than {n}", "over {n}"),
    "up_to": ("up to {n}", "as many as {n}"),
    "at_most": ("at most {n}", "no more than {n}"),
    "less_than": ("fewer than {n}", "less than {n}"),
    RANGE: ("between {a} and {b}", "{a} to {b}", "{a}–{b}"),
}  # VAGUE: the vague term's own words (its title in the schema)
SHIFTS = {"more_than": 1, "less_than": -1}  # the bound is the next count past the stated one
REALIS_VERBS = {
    "actual": "took part in",
    "planned": "will take part in",
    "possible": "may have taken part in",
    "negated": "denied taking part in",
    "generic": "routinely took part in",
}
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
UNDATED = ("recently", "at an unknown date", "some time ago")
PUBLISHERS = (
    "The Levant Wire", "Agence Européenne de Presse", "Sahel Observer", "The Horn Courier",
    "Noticias del Río", "Gazeta Morska",
)  # fmt: skip
QUOTES = (
    "We will not allow the situation to deteriorate further",
    "The transfer is proceeding in an orderly and secure way",
    "Our priority is the safety of civilians",
    "We call on all parties to respect the ceasefire",
    "Nobody has yet been held accountable for what happened",
)
EVENT_TEMPLATES = (
    "{source} said {when} that {who} {did} the {what} in {where}.",
    "According to {source}, {who} {did} the {what} in {where} {when}.",
    "{who} {did} the {what} in {where} {when}, {source} said in a statement.",
)
UNSOURCED_EVENT_TEMPLATES = (
    "{who} {did} the {what} in {where} {when}.",
    "{when}, {who} {did} the {what} in {where}.",
)
FIGURE_TEMPLATES = (
    "{source} put the number of {counted} at {amount}.",
    "According to {source}, the number of {counted} stood at {amount}.",
)
UNSOURCED_FIGURE_TEMPLATES = ("The number of {counted} was put at {amount}.",)
PART_TEMPLATES = ("Of those, {amount} were {participle}, {source} said.",)
UNSOURCED_PART_TEMPLATES = ("Of those, {amount} were {participle}.",)


# --- vocabularies read from the schema -----------------------------------------------


@cache
def _values(name: str) -> tuple[Any, ...]:
    return tuple(spec.enum_values(name))


@cache
def _titles(name: str) -> dict[Any, str]:
    return {e.value: e.title for e in spec.enum_entries(name)}


@cache
def _people_counts() -> tuple[tuple[str, str], ...]:
    """(Counted value, its words) for the counts of people: ('people_killed', 'people killed')."""
    return tuple(
        (value, title.lower())
        for value, title in _titles("Counted").items()
        if title.startswith("People ") and title.split()[-1].isalpha()
    )


@cache
def _qualifiers() -> tuple[str, ...]:
    return tuple(q for q in _values("Qualifier") if q in QUALIFIER_SHAPES)


_intervals = cache(spec.vague_intervals)


# --- the text being written ----------------------------------------------------------


@cache
def _parse(template: str) -> tuple[tuple[str, str | None], ...]:
    return tuple((literal, name) for literal, name, _, _ in string.Formatter().parse(template))


@dataclass
class _Story:
    """One document being written: its randomness, setting, text so far and spans."""

    rng: random.Random
    home: Country
    parts: list[str] = field(default_factory=list)
    size: int = 0
    spans: dict[str, list[Json]] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)

    def add(self, text: str, owner: str | None) -> None:
        if owner is not None:
            span = {"start": self.size, "end": self.size + len(text), "text": text}
            self.spans.setdefault(owner, []).append(span)
        self.parts.append(text)
        self.size += len(text)

    def write(self, template: str, **slots: Sequence[Piece]) -> None:
        """Append one sentence; slots are pieces, so mentions become spans."""
        if self.parts:
            self.add("\n\n" if self.rng.random() < 0.3 else " ", None)
        opening = True
        for literal, name in _parse(template):
            for text, owner in [(literal, None), *(slots[name] if name else ())]:
                if text and opening:
                    text, opening = text[0].upper() + text[1:], False
                if text:
                    self.add(text, owner)

    def fill(self, template: str) -> str:
        """A name from `template`: {person}, {place}, {country} and {demonym}."""
        if "{person}" in template:
            person = self.rng.choice(HONORIFICS) + self.rng.choice(FIRST_NAMES)
            return template.format(person=f"{person} {self.rng.choice(LAST_NAMES)}")
        place = self.place() if "{place}" in template else ""
        return template.format(place=place, country=self.home.name, demonym=self.home.demonym)

    def name(self, forms: tuple[str, ...]) -> str:
        """A name from one of `forms` that no other record of the document has (if a few
        tries find one: some forms have a single value per country)."""
        for _ in range(4):
            name = self.fill(self.rng.choice(forms))
            if name not in self.names:
                break
        self.names.add(name)
        return name

    def place(self) -> str:
        word = "".join(self.rng.choice(SYLLABLES) for _ in range(self.rng.randint(2, 3)))
        return self.rng.choice(PLACE_PREFIXES) + word.capitalize()


@dataclass
class _Cast:
    """Everything one document reports, in the order the records were made."""

    published: date
    actors: list[Json] = field(default_factory=list)
    locations: list[Json] = field(default_factory=list)
    events: list[Json] = field(default_factory=list)
    figures: list[Json] = field(default_factory=list)
    by_id: dict[str, Json] = field(default_factory=dict)  # actors and locations


def _join(mentions: list[list[Piece]]) -> list[Piece]:
    """'A', 'A and B', 'A, B and C'."""
    out: list[Piece] = []
    for i, mention in enumerate(mentions):
        if i:
            out.append((" and " if i == len(mentions) - 1 else ", ", None))
        out.extend(mention)
    return out


def _actor_mention(story: _Story, actor: Json) -> list[Piece]:
    """Full name first ('the Syrian Army (SA)'), the alias after that ('SA')."""
    aid, name, aliases = actor["id"], actor["name"], actor["aliases"]
    if not aliases:
        return [(name, aid)]
    if aid in story.spans:
        return [(aliases[0], aid)]
    if actor["type"] == PERSON:
        return [(name, aid)]
    return [(name, aid), (" (", None), (aliases[0], aid), (")", None)]


def _place_mention(story: _Story, place: Json, by_id: dict[str, Json]) -> list[Piece]:
    parent = by_id.get(place["parent"] or "")
    if parent is None or story.rng.random() < 0.75:
        return [(place["name"], place["id"])]
    return [(place["name"], place["id"]), (", ", None), (parent["name"], parent["id"])]


# --- records -------------------------------------------------------------------------


def _aliases(rng: random.Random, name: str, kind: str) -> list[str]:
    if rng.random() < 0.4:
        return []
    if kind == PERSON:
        return [name.split()[-1]]
    capitals = "".join(word[0] for word in name.split() if word[:1].isupper())
    return [capitals] if len(capitals) >= 3 else []


def _actor(story: _Story, number: int, earlier: list[Json]) -> Json:
    rng = story.rng
    kind = rng.choice(_values("ActorType"))
    name = story.name(ACTOR_FORMS.get(kind, OTHER_ACTOR_FORMS))
    patrons = [a["id"] for a in earlier if a["type"] != PERSON]
    return {
        "id": f"act-{number}",
        "name": name,
        "aliases": _aliases(rng, name, kind),
        "type": kind,
        "country": rng.choice((story.home.code, story.home.code, rng.choice(COUNTRIES).code, None)),
        "wikidata": f"Q{rng.randint(1, 10**8)}" if rng.random() < 0.3 else None,
        "affiliated_with": rng.choice(patrons) if patrons and rng.random() < 0.4 else None,
    }


def _coordinates(rng: random.Random, land: Country) -> Json | None:
    if rng.random() < 0.3:
        return None
    return {
        "lat": round(land.lat + rng.uniform(-2, 2), 4),
        "lon": round(land.lon + rng.uniform(-2, 2), 4),
        "precision": rng.choice(_values("GeoPrecision")),
    }


def _location(story: _Story, number: int, kind: str, earlier: list[Json]) -> Json:
    """Locations come largest kind first (schema order), so a parent is always earlier."""
    rng, rank = story.rng, _values("LocationType").index
    larger = [loc for loc in earlier if rank(loc["type"]) < rank(kind)]
    parent = rng.choice(larger) if larger and rng.random() < 0.85 else None
    if kind == COUNTRY:
        land = (
            rng.choice(COUNTRIES) if any(loc["type"] == COUNTRY for loc in earlier) else story.home
        )
        name, code = land.name, land.code
    else:
        land = story.home
        name = story.name(PLACE_FORMS.get(kind, OTHER_PLACE_FORMS))
        code = parent["country"] if parent else land.code
    return {
        "id": f"loc-{number}",
        "name": name,
        "type": kind,
        "country": code,
        "parent": parent["id"] if parent else None,
        "coordinates": _coordinates(rng, land),
    }


def _month_end(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _said_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _sunday(day: date) -> date:
    return _monday(day) + timedelta(days=6)


# DatePrecision -> (start, end, the text's words); a precision without one is unresolved.
DATE_FORMS: dict[str, Callable[[date], tuple[date, date, str]]] = {
    "day": lambda d: (d, d, f"on {_said_date(d)}"),
    "week": lambda d: (_monday(d), _sunday(d), f"in the week of {_said_date(_monday(d))}"),
    "month": lambda d: (d.replace(day=1), _month_end(d), f"in {MONTHS[d.month - 1]} {d.year}"),
    "year": lambda d: (date(d.year, 1, 1), date(d.year, 12, 31), f"in {d.year}"),
}


def _date(rng: random.Random, anchor: date) -> Json:
    precision = rng.choice(_values("DatePrecision"))
    form = DATE_FORMS.get(precision)
    if form is None:
        return {
            "start": None,
            "end": None,
            "precision": precision,
            "expression": rng.choice(UNDATED),
        }
    start, end, words = form(anchor)
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "precision": precision,
        "expression": words,
    }


def _event(story: _Story, number: int, cast: _Cast) -> Json:
    rng = story.rng
    reporter = rng.choice(cast.actors) if rng.random() < 0.75 else None
    others = [a for a in cast.actors if a is not reporter] or cast.actors
    participants = rng.sample(others, min(len(others), rng.choice((1, 1, 2, 3))))
    sites = rng.sample(cast.locations, min(len(cast.locations), rng.choice((1, 1, 1, 2))))
    return {
        "id": f"evt-{number}",
        "type": rng.choice(_values("EventType")),
        "participants": [
            {"actor": a["id"], "role": rng.choice(_values("Role"))} for a in participants
        ],
        "locations": [
            {"location": s["id"], "role": rng.choice(_values("LocationRole"))} for s in sites
        ],
        "date": _date(rng, cast.published - timedelta(days=rng.randint(0, 30))),
        "realis": rng.choice(_values("Realis")),
        "reported_by": reporter["id"] if reporter else None,
    }


def _amount(
    rng: random.Random, qualifier: str, n: int
) -> tuple[list[float | None], str | None, str]:
    """[low, best, high], the vague term and the text's words for a stated number `n`."""
    if qualifier == VAGUE:
        term = rng.choice(_values("VagueTerm"))
        low, high = _intervals()[term]
        return [low, None, high], term, _titles("VagueTerm")[term].split(",")[0]
    if qualifier == RANGE:
        high = n + rng.randint(1, n)
        return [n, None, high], None, rng.choice(HEDGES[RANGE]).format(a=f"{n:,}", b=f"{high:,}")
    required = QUALIFIER_SHAPES[qualifier][0]
    stated = n + SHIFTS.get(qualifier, 0)
    values: list[float | None] = [
        stated if k in required else None for k in ("low", "best", "high")
    ]
    return values, None, rng.choice(HEDGES.get(qualifier, ("{n}",))).format(n=f"{n:,}")


def _smallest(figure: Json) -> int:
    return int(min(v for v in (figure["low"], figure["best"], figure["high"]) if v is not None))


def _figure(story: _Story, number: int, event: Json | None, whole: Json | None) -> tuple[Json, str]:
    """A figure and its words; a part ('81 of the 120') is exact and no larger than its whole."""
    rng = story.rng
    if whole is not None:
        qualifier, n = EXACT, rng.randint(1, _smallest(whole))
    else:
        qualifier, n = rng.choice(_qualifiers()), int(10 ** rng.uniform(0.5, 4.5))
    (low, best, high), term, words = _amount(rng, qualifier, n)
    counted, noun = rng.choice(_people_counts())
    record = {
        "id": f"fig-{number}",
        "counted": counted,
        "description": noun,
        "unit": PEOPLE,
        "low": low,
        "best": best,
        "high": high,
        "qualifier": qualifier,
        "vague_term": term,
        "realis": rng.choice(_values("Realis")),
        "event": event["id"] if event else None,
        "part_of": whole["id"] if whole else None,
        "claimed_by": None,
    }
    return record, words


def _provenance(rng: random.Random) -> Json:
    method = rng.choice(_values("ProvenanceMethod"))
    if method == MANUAL:
        return {"method": method, "annotator": MACHINE}
    score = round(rng.random(), 3)
    return {"method": method, "model": MACHINE, "model_version": "1.0", "score": score}


# --- the document --------------------------------------------------------------------


def _write_event(story: _Story, event: Json, cast: _Cast) -> None:
    rng, by_id = story.rng, cast.by_id
    slots: dict[str, list[Piece]] = {
        "who": _join([_actor_mention(story, by_id[p["actor"]]) for p in event["participants"]]),
        "did": [(REALIS_VERBS.get(event["realis"], "took part in"), None)],
        "what": [(_titles("EventType")[event["type"]].lower(), event["id"])],
        "where": _join(
            [_place_mention(story, by_id[p["location"]], by_id) for p in event["locations"]]
        ),
        "when": [(event["date"]["expression"], None)],
    }
    source = by_id.get(event["reported_by"] or "")
    if source is None:
        story.write(rng.choice(UNSOURCED_EVENT_TEMPLATES), **slots)
        return
    story.write(rng.choice(EVENT_TEMPLATES), source=_actor_mention(story, source), **slots)
    if rng.random() < 0.25:
        quote = [(rng.choice(QUOTES), None)]
        story.write("“{quote},” {source} said.", quote=quote, source=_actor_mention(story, source))


def _claimant(rng: random.Random, cast: _Cast, event: Json | None) -> Json | None:
    """Who asserts a figure: often the event's reporter, else another actor or nobody."""
    roll = rng.random()
    if event is not None and event["reported_by"] and roll < 0.5:
        return cast.by_id[event["reported_by"]]
    return rng.choice(cast.actors) if roll < 0.85 else None


def _write_figure(story: _Story, figure: Json, words: str, source: Json | None) -> None:
    part = figure["part_of"] is not None
    slots: dict[str, list[Piece]] = {
        "amount": [(words, figure["id"])],
        "counted": [(figure["description"], None)],
        "participle": [(figure["description"].split()[-1], None)],
    }
    if source is None:
        unsourced = UNSOURCED_PART_TEMPLATES if part else UNSOURCED_FIGURE_TEMPLATES
        story.write(story.rng.choice(unsourced), **slots)
        return
    figure["claimed_by"] = source["id"]
    sourced = PART_TEMPLATES if part else FIGURE_TEMPLATES
    story.write(story.rng.choice(sourced), source=_actor_mention(story, source), **slots)


def _report_figures(story: _Story, cast: _Cast, count: int, event: Json | None) -> None:
    """`count` figures about `event`, each written as it is made; some are parts of the one
    before ('Of those, 81 were recaptured')."""
    rng, whole = story.rng, None
    for _ in range(count):
        part_of = whole if whole is not None and rng.random() < 0.3 else None
        figure, words = _figure(story, len(cast.figures) + 1, event, part_of)
        cast.figures.append(figure)
        _write_figure(story, figure, words, _claimant(rng, cast, event))
        whole = figure


def _write_rest(story: _Story, cast: _Cast) -> None:
    """Mention every actor and location that no event or figure named."""
    silent = [_actor_mention(story, a) for a in cast.actors if a["id"] not in story.spans]
    if silent:
        story.write("{who} did not respond to requests for comment.", who=_join(silent))
    for place in cast.locations:
        if place["id"] in story.spans:
            continue
        here = [(place["name"], place["id"])]
        parent = cast.by_id.get(place["parent"] or "")
        if parent is None:
            story.write("Aid groups also work in {place}.", place=here)
        else:
            there = [(parent["name"], parent["id"])]
            story.write("{place} lies in {parent}.", place=here, parent=there)


def _counts(rng: random.Random, given: dict[str, int | None]) -> dict[str, int]:
    counts = {k: rng.randint(*DEFAULT_COUNTS[k]) if v is None else v for k, v in given.items()}
    if counts["actors"] < 1 or counts["locations"] < 1 or min(counts.values()) < 0:
        raise ConfigError(
            f"a document needs >= 1 actor and location and no negative count: {counts}"
        )
    return counts


def _cast(story: _Story, cast: _Cast, counts: dict[str, int]) -> None:
    """The actors and locations; locations largest kind first, so parents come first."""
    for i in range(counts["actors"]):
        cast.actors.append(_actor(story, i + 1, cast.actors))
    kinds = _values("LocationType")
    drawn = sorted((story.rng.choice(kinds) for _ in range(counts["locations"])), key=kinds.index)
    for i, kind in enumerate(drawn):
        cast.locations.append(_location(story, i + 1, kind, cast.locations))
    cast.by_id = {r["id"]: r for r in cast.actors + cast.locations}


def _tell(story: _Story, cast: _Cast, counts: dict[str, int]) -> None:
    """The events and figures, each written as it is made, then whoever is still unnamed."""
    rng, n_events = story.rng, counts["events"]
    about = Counter(
        rng.randrange(n_events) if n_events and rng.random() < 0.8 else None
        for _ in range(counts["figures"])
    )
    for i in range(n_events):
        cast.events.append(_event(story, i + 1, cast))
        _write_event(story, cast.events[-1], cast)
        _report_figures(story, cast, about[i], cast.events[-1])
    _report_figures(story, cast, about[None], None)
    _write_rest(story, cast)


def _source(story: _Story, cast: _Cast, index: int) -> SourceDocument:
    rng, doc_id = story.rng, f"synthetic-{index:07d}"
    first = _titles("EventType")[cast.events[0]["type"]] if cast.events else "News report"
    return SourceDocument(
        id=doc_id,
        title=f"{first} in {story.home.name}",
        url=f"https://news.example.org/{cast.published.year}/{doc_id}",
        publisher=rng.choice(PUBLISHERS),
        author=story.fill("{person}") if rng.random() < 0.7 else None,
        section=rng.choice(("World", "Middle East", "Africa", None)),
        published=cast.published.isoformat(),
        language="en",
        retrieved=(cast.published + timedelta(days=rng.randint(0, 400))).isoformat(),
        license=None,
        credit=None,
        notes="Synthetic document made by sitrep.testing.synthetic; not a real report.",
        text="".join(story.parts),
        origin=MACHINE,
    )


def _finish(rng: random.Random, records: list[Json], spans: dict[str, list[Json]]) -> list[Json]:
    for record in records:
        record["spans"] = spans[record["id"]]
        if rng.random() < 0.15:
            record["provenance"] = _provenance(rng)
    return records


def generate_document(
    rng_or_seed: random.Random | int,
    index: int = 0,
    *,
    actors: int | None = None,
    locations: int | None = None,
    events: int | None = None,
    figures: int | None = None,
) -> Json:
    """One synthetic annotation document that passes `validate_document` with no issue.

    A count left as None is drawn from the rng around the seed article's (18 actors,
    14 locations, 12 events, 7 figures). Given a seed, document `index` depends only on
    (seed, index); given a `random.Random`, it is drawn from that generator.
    """
    rng = rng_or_seed if isinstance(rng_or_seed, random.Random) else _seeded(rng_or_seed, index)
    sizes = {"actors": actors, "locations": locations, "events": events, "figures": figures}
    counts = _counts(rng, sizes)
    story = _Story(rng, rng.choice(COUNTRIES))
    cast = _Cast(published=date(2015, 1, 1) + timedelta(days=rng.randint(0, 4000)))
    _cast(story, cast, counts)
    _tell(story, cast, counts)
    source = _source(story, cast, index)
    created = f"{source.retrieved}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z"
    doc = new_annotation(source, [MACHINE], created=created)
    for kind in RECORD_KINDS:
        doc[kind] = _finish(rng, getattr(cast, kind), story.spans)
    return doc


def _seeded(seed: int, index: int) -> random.Random:
    # A string seed is hashed with SHA-512: the same on every platform and Python run.
    return random.Random(f"sitrep:{seed}:{index}")


def generate_documents(n: int, seed: int = 0, **counts: int | None) -> Iterator[Json]:
    """`n` synthetic documents: document i is `generate_document(seed, i, **counts)`."""
    for index in range(n):
        yield generate_document(seed, index, **counts)
