"""A catalogue of invalid documents: the valid test document with one thing broken.

Each case names the one mutation and the exact issues it must produce, as (code,
JSON pointer) pairs, and runs under both JSON Schema engines.
"""

from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from sitrep.schema import rules, spec
from sitrep.schema.report import Code
from sitrep.schema.validation import KEYWORD_CODES, Engine, pointer, validate_document

Json = dict[str, Any]
Mutation = Callable[[Json], None]
ENGINES: tuple[Engine, ...] = ("rust", "python")
FILE = "annotations/doc.json"

# --- mutations addressed by JSON pointer ---------------------------------------------


def _locate(doc: Json, ptr: str) -> tuple[Any, Any]:
    """The container holding `ptr`'s target, and the key or index in it."""
    parts = ptr.lstrip("/").split("/")
    node: Any = doc
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    return node, int(last) if isinstance(node, list) else last


def set_to(ptr: str, value: Any) -> Mutation:
    def mutate(doc: Json) -> None:
        parent, key = _locate(doc, ptr)
        parent[key] = copy.deepcopy(value)

    return mutate


def drop(ptr: str) -> Mutation:
    def mutate(doc: Json) -> None:
        parent, key = _locate(doc, ptr)
        del parent[key]

    return mutate


def append(ptr: str, value: Any) -> Mutation:
    def mutate(doc: Json) -> None:
        parent, key = _locate(doc, ptr)
        parent[key].append(copy.deepcopy(value))

    return mutate


def copy_last_record(kind: str) -> Mutation:
    """Append a copy of the last record of `kind` (same id)."""

    def mutate(doc: Json) -> None:
        doc[kind].append(copy.deepcopy(doc[kind][-1]))

    return mutate


def end_at_start(ptr: str) -> Mutation:
    """Give the span at `ptr` an end equal to its start (an empty span)."""

    def mutate(doc: Json) -> None:
        parent, key = _locate(doc, ptr)
        parent[key]["end"] = parent[key]["start"]

    return mutate


def shift_span(ptr: str, by: int) -> Mutation:
    """Move the span at `ptr` by `by` characters, keeping its quoted text."""

    def mutate(doc: Json) -> None:
        parent, key = _locate(doc, ptr)
        parent[key]["start"] += by
        parent[key]["end"] += by

    return mutate


def span_of(phrase: str, ptr: str) -> Mutation:
    """Append a correct span of `phrase` (first occurrence) to the span list at `ptr`."""

    def mutate(doc: Json) -> None:
        start = doc["document"]["text"].index(phrase)
        parent, key = _locate(doc, ptr)
        parent[key].append({"start": start, "end": start + len(phrase), "text": phrase})

    return mutate


# --- the catalogue -------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    mutate: Mutation
    expected: tuple[tuple[Code, str], ...]


def case(
    id: str,
    mutate: Mutation,
    *expected: tuple[Code, str],
) -> Case:
    return Case(id, mutate, expected)


C = Code
CASES = [
    # --- JSON Schema keywords ---
    case("required-top-level-figures", drop("/figures"), (C.SCHEMA_REQUIRED, "/figures")),
    case("required-actor-name", drop("/actors/0/name"), (C.SCHEMA_REQUIRED, "/actors/0/name")),
    case(
        "required-span-text",
        drop("/actors/1/spans/0/text"),
        (C.SCHEMA_REQUIRED, "/actors/1/spans/0/text"),
    ),
    case(
        "required-three-missing-in-one-span",
        set_to("/actors/0/spans/0", {}),
        (C.SCHEMA_REQUIRED, "/actors/0/spans/0/start"),
        (C.SCHEMA_REQUIRED, "/actors/0/spans/0/end"),
        (C.SCHEMA_REQUIRED, "/actors/0/spans/0/text"),
    ),
    case(
        "required-money-without-currency",
        set_to("/figures/3/unit", "money"),
        (C.SCHEMA_REQUIRED, "/figures/3/currency"),
    ),
    case(
        "required-vague-without-vague-term",
        drop("/figures/4/vague_term"),
        (C.SCHEMA_REQUIRED, "/figures/4/vague_term"),
    ),
    case(
        "provenance-machine-without-model",
        set_to("/figures/4/provenance", {"method": "machine", "model_version": "0.4.0"}),
        (C.SCHEMA_REQUIRED, "/figures/4/provenance/model"),
    ),
    case(
        "provenance-proposed-without-model-version",
        drop("/actors/2/provenance/model_version"),
        (C.SCHEMA_REQUIRED, "/actors/2/provenance/model_version"),
    ),
    case(
        "provenance-machine-model-null",
        set_to("/figures/4/provenance", {"method": "machine", "model": None, "model_version": "1"}),
        (C.SCHEMA_TYPE, "/figures/4/provenance/model"),
    ),
    case("type-actor-name-number", set_to("/actors/0/name", 5), (C.SCHEMA_TYPE, "/actors/0/name")),
    case(
        "type-participants-object",
        set_to("/events/0/participants", {}),
        (C.SCHEMA_TYPE, "/events/0/participants"),
    ),
    case(
        "type-span-end-string",
        set_to("/actors/1/spans/0/end", "5"),
        (C.SCHEMA_TYPE, "/actors/1/spans/0/end"),
    ),
    case("type-document-array", set_to("/document", []), (C.SCHEMA_TYPE, "/document")),
    case(
        "type-figure-bound-string",
        set_to("/figures/0/low", "150"),
        (C.SCHEMA_TYPE, "/figures/0/low"),
    ),
    case("enum-actor-type", set_to("/actors/0/type", "army"), (C.SCHEMA_ENUM, "/actors/0/type")),
    case(
        "enum-country-alpha2",
        set_to("/actors/0/country", "US"),
        (C.SCHEMA_ENUM, "/actors/0/country"),
    ),
    case(
        "enum-participant-role",
        set_to("/events/0/participants/0/role", "attacker"),
        (C.SCHEMA_ENUM, "/events/0/participants/0/role"),
    ),
    case("enum-realis", set_to("/figures/0/realis", "real"), (C.SCHEMA_ENUM, "/figures/0/realis")),
    case(
        "enum-vague-term-null-when-vague",
        set_to("/figures/4/vague_term", None),
        (C.SCHEMA_ENUM, "/figures/4/vague_term"),
    ),
    case(
        "pattern-document-id", set_to("/document/id", "Bad ID"), (C.SCHEMA_PATTERN, "/document/id")
    ),
    case(
        "pattern-language-upper-case",
        set_to("/document/language", "EN"),
        (C.SCHEMA_PATTERN, "/document/language"),
    ),
    case(
        "pattern-claimed-by-a-location",
        set_to("/figures/0/claimed_by", "loc-iraq"),
        (C.SCHEMA_PATTERN, "/figures/0/claimed_by"),
        (C.REF_UNRESOLVED, "/figures/0/claimed_by"),
    ),
    case(
        "pattern-actor-id-prefix",
        set_to("/actors/1/id", "actor-isis"),
        (C.SCHEMA_PATTERN, "/actors/1/id"),
        (C.REF_UNRESOLVED, "/events/0/participants/1/actor"),
    ),
    case(
        "format-date-february-30",
        set_to("/document/published", "2026-02-30"),
        (C.SCHEMA_FORMAT, "/document/published"),
    ),
    case(
        "format-event-date-day-32",
        set_to("/events/1/date/start", "2026-01-32"),
        (C.SCHEMA_FORMAT, "/events/1/date/start"),
    ),
    case(
        "format-date-time-words",
        set_to("/provenance/created", "yesterday"),
        (C.SCHEMA_FORMAT, "/provenance/created"),
    ),
    case(
        "format-date-time-without-offset",
        set_to("/provenance/created", "2026-01-22T09:30:00"),
        (C.SCHEMA_FORMAT, "/provenance/created"),
    ),
    case(
        "format-uri-without-scheme",
        set_to("/document/url", "example.org/news"),
        (C.SCHEMA_FORMAT, "/document/url"),
    ),
    case(
        "additional-property-actor",
        set_to("/actors/0/nickname", "CC"),
        (C.SCHEMA_ADDITIONAL, "/actors/0"),
    ),
    case("additional-property-top-level", set_to("/comment", "x"), (C.SCHEMA_ADDITIONAL, "")),
    case("range-negative-low", set_to("/figures/3/low", -1), (C.SCHEMA_RANGE, "/figures/3/low")),
    case(
        "range-score-above-one",
        set_to("/actors/2/provenance/score", 1.5),
        (C.SCHEMA_RANGE, "/actors/2/provenance/score"),
    ),
    case(
        "range-negative-span-start",
        set_to("/actors/1/spans/0/start", -1),
        (C.SCHEMA_RANGE, "/actors/1/spans/0/start"),
    ),
    case(
        "range-latitude-91",
        set_to("/locations/1/coordinates/lat", 91),
        (C.SCHEMA_RANGE, "/locations/1/coordinates/lat"),
    ),
    case(
        "range-label-studio-project-0",
        set_to("/provenance/label_studio/project_id", 0),
        (C.SCHEMA_RANGE, "/provenance/label_studio/project_id"),
    ),
    case("length-empty-spans", set_to("/actors/1/spans", []), (C.SCHEMA_LENGTH, "/actors/1/spans")),
    case(
        "length-empty-alias",
        append("/actors/0/aliases", ""),
        (C.SCHEMA_LENGTH, "/actors/0/aliases/2"),
    ),
    case(
        "length-no-annotators",
        set_to("/provenance/annotators", []),
        (C.SCHEMA_LENGTH, "/provenance/annotators"),
    ),
    case(
        "unique-items-aliases",
        append("/actors/0/aliases", "CENTCOM"),
        (C.SCHEMA_UNIQUE, "/actors/0/aliases"),
    ),
    case(
        "unique-items-annotators",
        append("/provenance/annotators", "ann-1"),
        (C.SCHEMA_UNIQUE, "/provenance/annotators"),
    ),
    # --- rules JSON Schema cannot express ---
    case("version-major", set_to("/schema_version", "2.0.0"), (C.VERSION_MAJOR, "/schema_version")),
    case(
        "version-not-semver",
        set_to("/schema_version", "1x"),
        (C.SCHEMA_PATTERN, "/schema_version"),
    ),
    case(
        "text-sha256-stale",
        set_to("/document/text_sha256", "0" * 64),
        (C.TEXT_HASH, "/document/text_sha256"),
    ),
    case(
        "span-order-empty-span",
        end_at_start("/actors/1/spans/0"),
        (C.SPAN_ORDER, "/actors/1/spans/0"),
    ),
    case(
        "span-bounds-past-the-end",
        set_to("/actors/1/spans/0/end", 10_000),
        (C.SPAN_BOUNDS, "/actors/1/spans/0/end"),
    ),
    case(
        "span-text-misquoted",
        set_to("/actors/1/spans/0/text", "IS1S"),
        (C.SPAN_TEXT, "/actors/1/spans/0/text"),
    ),
    case(
        # the curly apostrophe before it is 3 bytes in UTF-8: offsets counted in bytes
        "span-text-offsets-in-utf8-bytes",
        shift_span("/locations/1/spans/0", 2),
        (C.SPAN_TEXT, "/locations/1/spans/0/text"),
    ),
    case(
        "id-duplicate-location", copy_last_record("locations"), (C.ID_DUPLICATE, "/locations/4/id")
    ),
    case(
        "id-duplicate-figure-reports-the-later",
        set_to("/figures/2/id", "fig-countries"),
        (C.ID_DUPLICATE, "/figures/3/id"),
    ),
    case(
        "ref-affiliated-with",
        set_to("/actors/3/affiliated_with", "act-nobody"),
        (C.REF_UNRESOLVED, "/actors/3/affiliated_with"),
    ),
    case(
        "ref-location-parent",
        set_to("/locations/1/parent", "loc-nowhere"),
        (C.REF_UNRESOLVED, "/locations/1/parent"),
    ),
    case(
        "ref-event-reported-by",
        set_to("/events/0/reported_by", "act-nobody"),
        (C.REF_UNRESOLVED, "/events/0/reported_by"),
    ),
    case(
        "ref-figure-event",
        set_to("/figures/0/event", "evt-nothing"),
        (C.REF_UNRESOLVED, "/figures/0/event"),
    ),
    case(
        "ref-figure-part-of",
        set_to("/figures/1/part_of", "fig-nothing"),
        (C.REF_UNRESOLVED, "/figures/1/part_of"),
    ),
    case(
        "ref-figure-claimed-by",
        set_to("/figures/0/claimed_by", "act-nobody"),
        (C.REF_UNRESOLVED, "/figures/0/claimed_by"),
    ),
    case(
        "ref-participant-actor",
        set_to("/events/0/participants/1/actor", "act-nobody"),
        (C.REF_UNRESOLVED, "/events/0/participants/1/actor"),
    ),
    case(
        "ref-event-location",
        set_to("/events/0/locations/1/location", "loc-nowhere"),
        (C.REF_UNRESOLVED, "/events/0/locations/1/location"),
    ),
    case(
        "cycle-affiliated-with-two-actors",
        set_to("/actors/2/affiliated_with", "act-sdf-spokesman"),
        (C.REF_CYCLE, "/actors/2/affiliated_with"),
    ),
    case(
        "cycle-affiliated-with-itself",
        set_to("/actors/0/affiliated_with", "act-centcom"),
        (C.REF_CYCLE, "/actors/0/affiliated_with"),
    ),
    case(
        "cycle-parent-three-locations",
        set_to("/locations/0/parent", "loc-shaddadi-prison"),
        (C.REF_CYCLE, "/locations/0/parent"),
    ),
    case(
        "cycle-part-of-itself",
        set_to("/figures/0/part_of", "fig-transferred"),
        (C.REF_CYCLE, "/figures/0/part_of"),
    ),
    case(
        # the whole (150) becomes a part of its own part (81): a cycle, and too large
        "cycle-part-of-two-figures",
        set_to("/figures/0/part_of", "fig-iraqi"),
        (C.REF_CYCLE, "/figures/0/part_of"),
        (C.FIGURE_PART_INTERVAL, "/figures/0"),
    ),
    case(
        "figure-interval-best-above-high",
        set_to("/figures/5/best", 11_000),
        (C.FIGURE_INTERVAL, "/figures/5/high"),
    ),
    case(
        "figure-interval-range-low-above-high",
        set_to("/figures/5/low", 12_000),
        (C.FIGURE_INTERVAL, "/figures/5/high"),
    ),
    case(
        "qualifier-exact-unequal-bounds",
        set_to("/figures/1/low", 80),
        (C.FIGURE_QUALIFIER, "/figures/1"),
    ),
    case(
        "qualifier-exact-without-best",
        set_to("/figures/1/best", None),
        (C.FIGURE_QUALIFIER, "/figures/1/best"),
    ),
    case(
        "qualifier-up-to-with-low",
        set_to("/figures/2/low", 1),
        (C.FIGURE_QUALIFIER, "/figures/2/low"),
    ),
    case(
        "qualifier-more-than-with-best",
        set_to("/figures/3/best", 71),
        (C.FIGURE_QUALIFIER, "/figures/3/best"),
    ),
    case(
        "qualifier-more-than-without-low",
        set_to("/figures/3/low", None),
        (C.FIGURE_QUALIFIER, "/figures/3/low"),
    ),
    case(
        "qualifier-approximately-shaped-as-more-than",
        set_to("/figures/3/qualifier", "approximately"),
        (C.FIGURE_QUALIFIER, "/figures/3/best"),
        (C.FIGURE_QUALIFIER, "/figures/3/low"),
    ),
    case(
        "qualifier-at-most-shaped-as-more-than",
        set_to("/figures/3/qualifier", "at_most"),
        (C.FIGURE_QUALIFIER, "/figures/3/high"),
        (C.FIGURE_QUALIFIER, "/figures/3/low"),
    ),
    case(
        "qualifier-vague-with-best",
        set_to("/figures/4/best", 50),
        (C.FIGURE_QUALIFIER, "/figures/4/best"),
    ),
    case(
        "qualifier-range-low-equals-high",
        set_to("/figures/5/high", 8_000),
        (C.FIGURE_QUALIFIER, "/figures/5/high"),
    ),
    case(
        "vague-interval-not-the-codebook",
        set_to("/figures/4/low", 20),
        (C.FIGURE_VAGUE, "/figures/4"),
    ),
    case(
        "vague-term-other-interval",
        set_to("/figures/4/vague_term", "hundreds"),
        (C.FIGURE_VAGUE, "/figures/4"),
    ),
    case(
        "vague-term-on-exact-figure",
        set_to("/figures/0/vague_term", "dozens"),
        (C.FIGURE_VAGUE, "/figures/0/vague_term"),
    ),
    case(
        "part-of-other-unit",
        set_to("/figures/1/unit", "item"),
        (C.FIGURE_PART_UNIT, "/figures/1/unit"),
    ),
    case(
        # "between 8,000 and 10,000" as a part of "150 ISIS detainees"
        "part-of-larger-than-whole",
        set_to("/figures/5/part_of", "fig-transferred"),
        (C.FIGURE_PART_INTERVAL, "/figures/5"),
    ),
    case(
        "date-ends-before-it-starts",
        set_to("/events/1/date/start", "2026-05-01"),
        (C.DATE_ORDER, "/events/1/date/end"),
    ),
    case(
        "date-one-end-only",
        set_to("/events/1/date/end", None),
        (C.DATE_PRECISION, "/events/1/date"),
    ),
    case(
        "date-resolved-but-unknown-precision",
        set_to("/events/0/date/precision", "unknown"),
        (C.DATE_PRECISION, "/events/0/date/precision"),
    ),
    case(
        "date-unresolved-but-day-precision",
        set_to("/events/2/date/precision", "day"),
        (C.DATE_PRECISION, "/events/2/date/precision"),
    ),
    case(
        "participant-twice-in-one-role",
        append("/events/0/participants", {"actor": "act-isis", "role": "target"}),
        (C.PARTICIPANT_DUPLICATE, "/events/0/participants/2"),
    ),
    case(
        "participant-actor-list",
        set_to("/events/0/participants/1/actor", ["act-isis"]),
        (C.SCHEMA_TYPE, "/events/0/participants/1/actor"),
    ),
]

# One mutation each that keeps the document valid: the other half of the pairs.
VALID_VARIANTS = [
    pytest.param(set_to("/schema_version", "1.7.3"), id="version-minor-bump"),
    pytest.param(
        set_to("/figures/4/provenance", {"method": "manual"}), id="provenance-manual-no-model"
    ),
    pytest.param(drop("/actors/2/provenance"), id="provenance-absent"),
    pytest.param(set_to("/locations/1/coordinates", None), id="coordinates-null"),
    pytest.param(set_to("/provenance/label_studio", None), id="label-studio-null"),
    pytest.param(set_to("/document/published", None), id="published-null"),
    pytest.param(set_to("/document/url", "mailto:desk@example.org"), id="uri-mailto"),
    pytest.param(set_to("/provenance/created", "2026-01-22T10:30:00+01:00"), id="date-time-offset"),
    pytest.param(set_to("/document/published", "2024-02-29"), id="date-leap-day"),
    pytest.param(
        set_to("/events/2/date", {"start": None, "end": None, "precision": "unknown"}),
        id="date-unresolved-no-expression",
    ),
    pytest.param(set_to("/figures/3/qualifier", "at_least"), id="qualifier-at-least-low-only"),
    pytest.param(set_to("/figures/2/qualifier", "at_most"), id="qualifier-at-most-high-only"),
    pytest.param(set_to("/figures/5/best", 9_000), id="qualifier-range-best-inside"),
    pytest.param(drop("/figures/0/vague_term"), id="vague-term-absent-on-exact"),
    pytest.param(set_to("/actors/0/aliases", []), id="aliases-empty"),
    pytest.param(set_to("/figures", []), id="no-figures"),
    pytest.param(set_to("/figures/0/part_of", "fig-camp-fighters"), id="part-of-within-whole"),
    pytest.param(
        set_to("/figures/2/part_of", "fig-transferred"),
        id="part-of-up-to-within-whole",
    ),
    pytest.param(
        append("/events/0/participants", {"actor": "act-isis", "role": "recipient"}),
        id="participant-same-actor-other-role",
    ),
    pytest.param(span_of("military’s", "/actors/0/spans"), id="span-over-non-ascii"),
]


def _issues(doc: Any, engine: Engine) -> list[tuple[str, str]]:
    return sorted(
        (str(i.code), i.pointer) for i in validate_document(doc, FILE, engine_name=engine)
    )


def _params(*, per_engine: bool) -> list[Any]:
    return list(_iter_params(per_engine=per_engine))


def _iter_params(*, per_engine: bool) -> Iterator[Any]:
    for c in CASES:
        if per_engine:
            for engine in ENGINES:
                yield pytest.param(c, engine, id=f"{c.id}-{engine}")
        else:
            yield pytest.param(c, id=c.id)


# --- the valid document --------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_valid_doc_has_no_issues(valid_doc: Json, engine: Engine) -> None:
    assert _issues(valid_doc, engine) == []


def test_valid_doc_has_every_kind_of_record(valid_doc: Json) -> None:
    actors, locations = valid_doc["actors"], valid_doc["locations"]
    events, figures = valid_doc["events"], valid_doc["figures"]
    assert min(len(actors), len(locations), len(events)) >= 3
    assert len(figures) >= 4
    assert not valid_doc["document"]["text"].isascii()
    assert any(a["affiliated_with"] for a in actors)
    assert any(loc["parent"] for loc in locations)
    assert any(loc.get("coordinates") for loc in locations)
    assert any(p["role"] for e in events for p in e["participants"])
    assert any(loc["role"] for e in events for loc in e["locations"])
    assert any(e["date"]["start"] and e["date"]["end"] for e in events)
    assert any(e["date"]["precision"] == "unknown" for e in events)
    assert {f["qualifier"] for f in figures} >= {"exact", "up_to", "more_than", "vague"}
    assert any(f["part_of"] for f in figures)
    assert any(f["claimed_by"] for f in figures)
    vague = next(f for f in figures if f["qualifier"] == "vague")
    assert (vague["low"], vague["high"]) == spec.vague_intervals()[vague["vague_term"]]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("mutate", VALID_VARIANTS)
def test_valid_variant(valid_doc: Json, mutate: Mutation, engine: Engine) -> None:
    before = copy.deepcopy(valid_doc)
    mutate(valid_doc)
    assert valid_doc != before
    assert _issues(valid_doc, engine) == []


# --- the invalid documents -----------------------------------------------------------


@pytest.mark.parametrize(("c", "engine"), _params(per_engine=True))
def test_invalid_case(valid_doc: Json, c: Case, engine: Engine) -> None:
    c.mutate(valid_doc)
    assert _issues(valid_doc, engine) == sorted((str(code), ptr) for code, ptr in c.expected)


@pytest.mark.parametrize("c", _params(per_engine=False))
def test_engines_agree(valid_doc: Json, c: Case) -> None:
    c.mutate(valid_doc)
    assert _issues(valid_doc, "rust") == _issues(valid_doc, "python")


@pytest.mark.parametrize(
    "value",
    [
        "2024-02-29",
        "2026-02-29",
        "2026-1-5",
        "20260120",
        "2026-01-20T00:00:00",
        "2026-W03-1",
        "２０２６-01-20",
        "0000-01-01",  # the schema's pattern refuses year 0000, which Python's date cannot hold
    ],
)
def test_engines_agree_on_dates(valid_doc: Json, value: str) -> None:
    valid_doc["document"]["published"] = value
    assert _issues(valid_doc, "rust") == _issues(valid_doc, "python")


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2026-11-27T00:00:00Z", True),
        ("2026-11-27t00:00:00z", True),  # RFC 3339 allows either case
        ("2026-11-27T00:00:00.123456789+05:30", True),
        ("2020-06-30T23:59:60Z", False),  # a leap second: the tables cannot hold it
        ("2026-11-27T00:00:00.1234567890Z", False),  # ten decimals
        ("9999-12-31T23:59:59-23:59", False),  # past year 9999 in UTC
        ("0000-01-01T00:00:00Z", False),
        ("2026-11-27T00:00:00Z\n", False),
    ],
)
def test_engines_agree_on_date_times(valid_doc: Json, value: str, valid: bool) -> None:
    valid_doc["provenance"]["created"] = value
    rust, python = _issues(valid_doc, "rust"), _issues(valid_doc, "python")
    assert rust == python
    assert rust == ([] if valid else [(C.SCHEMA_FORMAT, "/provenance/created")])


def test_issues_name_the_file(valid_doc: Json) -> None:
    valid_doc["document"]["text_sha256"] = "0" * 64
    valid_doc["actors"][0]["name"] = 5
    issues = validate_document(valid_doc, FILE)
    assert [i.file for i in issues] == [FILE, FILE]
    assert all(i.message and i.expected and i.found for i in issues)


# --- the catalogue itself ------------------------------------------------------------


def _document_codes() -> set[Code]:
    """Every code a document can get: one per JSON Schema keyword family (but `const`,
    which only appears inside `if`: see test_const_only_in_conditions) and every code the
    rules module emits. A new rule code without a catalogue case fails the test below."""
    emitted = re.findall(r"\bCode\.([A-Z_]+)\b", inspect.getsource(rules))
    keywords = set(KEYWORD_CODES.values()) - {C.SCHEMA_CONST}
    return keywords | {Code[name] for name in emitted}


def test_catalogue_is_large_and_ids_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) >= 35
    assert len(set(ids)) == len(ids)


def test_catalogue_covers_every_document_code() -> None:
    covered = {code for c in CASES for code, _ in c.expected}
    assert covered >= _document_codes()


@pytest.mark.parametrize(
    ("kind", "field"),
    [(k, f) for k, f, _ in rules.SINGLE_REFS]
    + [(k, f"{f}/*/{i}") for k, f, i, _ in rules.LIST_REFS],
)
def test_catalogue_covers_every_reference_field(kind: str, field: str) -> None:
    head, _, tail = field.partition("/*/")
    pointers = {p for c in CASES for code, p in c.expected if code == C.REF_UNRESOLVED}
    assert any(
        p.startswith(f"/{kind}/") and p.split("/")[3] == head and p.endswith(tail) for p in pointers
    )


@pytest.mark.parametrize(("kind", "field"), rules.CYCLE_FIELDS)
def test_catalogue_covers_every_cycle_field(kind: str, field: str) -> None:
    pointers = {p for c in CASES for code, p in c.expected if code == C.REF_CYCLE}
    assert any(p.startswith(f"/{kind}/") and p.endswith(f"/{field}") for p in pointers)


def _const_paths(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "const":
                yield path
            yield from _const_paths(value, (*path, str(key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _const_paths(value, (*path, str(i)))


def test_const_only_in_conditions() -> None:
    """Why no case expects schema.const: the validators' schema has `const` only inside
    `if`, where a mismatch selects a branch instead of failing."""
    paths = list(_const_paths(spec.validation_schema()))
    assert paths
    assert all("if" in p for p in paths)


def test_pointer_escapes_rfc6901() -> None:
    assert pointer(["a/b", "c~d", 0]) == "/a~1b/c~0d/0"
    assert pointer([]) == ""
