"""Tests for sitrep.testing.synthetic: generated documents are valid, realistic and
reproducible."""

from __future__ import annotations

import json
import random
import statistics
from typing import Any

import pytest

from sitrep.errors import ConfigError
from sitrep.schema import spec
from sitrep.schema.report import Code
from sitrep.schema.rules import QUALIFIER_SHAPES, RECORD_KINDS
from sitrep.schema.validation import Engine, validate_document
from sitrep.testing import synthetic
from sitrep.testing.synthetic import generate_document, generate_documents

SEEDS = (0, 1, 2, 2026)
PREFIXES = {"actors": "act-", "locations": "loc-", "events": "evt-", "figures": "fig-"}


@pytest.fixture(scope="module")
def sample() -> list[dict[str, Any]]:
    """Ten documents from each of several seeds."""
    return [doc for seed in SEEDS for doc in generate_documents(10, seed)]


@pytest.fixture(scope="module")
def many() -> list[dict[str, Any]]:
    return list(generate_documents(200, 99))


def _spans(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [span for kind in RECORD_KINDS for record in doc[kind] for span in record["spans"]]


@pytest.mark.parametrize("engine_name", ["rust", "python"])
def test_generated_documents_have_no_issue(
    sample: list[dict[str, Any]], engine_name: Engine
) -> None:
    issues = [i for doc in sample for i in validate_document(doc, engine_name=engine_name)]
    assert issues == []
    assert len(sample) == 40


def test_a_broken_span_is_caught(sample: list[dict[str, Any]]) -> None:
    """The zero-issue test above means something: the validator sees generated spans."""
    doc = json.loads(json.dumps(sample[0]))
    doc["actors"][0]["spans"][0]["text"] += "x"
    assert [i.code for i in validate_document(doc)] == [Code.SPAN_TEXT]


def test_same_seed_same_documents() -> None:
    first = json.dumps(list(generate_documents(5, 7)), ensure_ascii=False)
    assert first == json.dumps(list(generate_documents(5, 7)), ensure_ascii=False)


def test_different_seeds_different_documents() -> None:
    texts = [doc["document"]["text"] for seed in SEEDS for doc in generate_documents(3, seed)]
    assert len(set(texts)) == len(texts)


def test_a_document_depends_only_on_seed_and_index() -> None:
    assert generate_document(7, 3) == list(generate_documents(5, 7))[3]
    assert generate_document(7, 3)["document"]["id"] == "synthetic-0000003"


def test_a_random_instance_can_drive_the_generator() -> None:
    doc = generate_document(random.Random(5), 0)
    assert doc == generate_document(random.Random(5), 0)
    assert validate_document(doc) == []


def test_every_span_quotes_its_slice(sample: list[dict[str, Any]]) -> None:
    for doc in sample:
        text = doc["document"]["text"]
        for span in _spans(doc):
            assert text[span["start"] : span["end"]] == span["text"]
            assert span["text"] == span["text"].strip()


def test_every_record_has_a_span_and_a_patterned_id(sample: list[dict[str, Any]]) -> None:
    for doc in sample:
        for kind, prefix in PREFIXES.items():
            ids = [r["id"] for r in doc[kind]]
            assert all(i.startswith(prefix) for i in ids)
            assert len(set(ids)) == len(ids)
            assert all(r["spans"] for r in doc[kind])


@pytest.mark.parametrize(
    "counts",
    [
        {"actors": 1, "locations": 1, "events": 0, "figures": 0},
        {"actors": 2, "locations": 1, "events": 3, "figures": 9},
        {"actors": 40, "locations": 30, "events": 50, "figures": 20},
    ],
)
def test_count_knobs_set_the_record_counts(counts: dict[str, int]) -> None:
    for doc in generate_documents(3, 11, **counts):
        assert {kind: len(doc[kind]) for kind in RECORD_KINDS} == counts
        assert validate_document(doc) == []


def test_counts_vary_when_not_given(many: list[dict[str, Any]]) -> None:
    assert len({len(doc["events"]) for doc in many}) > 5
    assert {len(doc["events"]) for doc in generate_documents(20, 3, events=4)} == {4}


@pytest.mark.parametrize("counts", [{"actors": 0}, {"locations": 0}, {"figures": -1}])
def test_impossible_counts_are_refused(counts: dict[str, int]) -> None:
    with pytest.raises(ConfigError, match="needs >= 1 actor"):
        generate_document(0, 0, **counts)


def test_default_sizes_are_like_the_seed_article(many: list[dict[str, Any]]) -> None:
    def mean(values: Any) -> float:
        return statistics.mean(values)

    assert 2_300 < mean(len(doc["document"]["text"]) for doc in many) < 3_500
    assert 70 < mean(len(_spans(doc)) for doc in many) < 110
    expected = {"actors": 18, "locations": 14, "events": 12, "figures": 7}
    for kind, target in expected.items():
        assert abs(mean(len(doc[kind]) for doc in many) - target) < 1.5, kind


def test_texts_hold_non_ascii(many: list[dict[str, Any]]) -> None:
    with_non_ascii = [doc for doc in many if not doc["document"]["text"].isascii()]
    assert len(with_non_ascii) > 0.9 * len(many)
    assert any("“" in doc["document"]["text"] for doc in many)


def test_every_vocabulary_value_is_generated(many: list[dict[str, Any]]) -> None:
    used = {
        "EventType": {e["type"] for doc in many for e in doc["events"]},
        "ActorType": {a["type"] for doc in many for a in doc["actors"]},
        "LocationType": {loc["type"] for doc in many for loc in doc["locations"]},
        "Realis": {f["realis"] for doc in many for f in doc["figures"]},
        "Qualifier": {f["qualifier"] for doc in many for f in doc["figures"]},
        "VagueTerm": {f["vague_term"] for doc in many for f in doc["figures"]} - {None},
        "DatePrecision": {e["date"]["precision"] for doc in many for e in doc["events"]},
        "Role": {p["role"] for doc in many for e in doc["events"] for p in e["participants"]},
    }
    for name, values in used.items():
        assert values == set(spec.enum_values(name)), name


def test_figures_have_the_shape_of_their_qualifier(many: list[dict[str, Any]]) -> None:
    vague = spec.vague_intervals()
    for fig in (f for doc in many for f in doc["figures"]):
        required, empty = QUALIFIER_SHAPES[fig["qualifier"]]
        assert all(fig[k] is not None for k in required)
        assert all(fig[k] is None for k in empty)
        if fig["qualifier"] == "exact":
            assert fig["low"] == fig["best"] == fig["high"]
        if fig["qualifier"] == "vague":
            assert (fig["low"], fig["high"]) == vague[fig["vague_term"]]
        else:
            assert fig["vague_term"] is None


def test_parts_follow_their_whole_and_fit_in_it(many: list[dict[str, Any]]) -> None:
    parts = 0
    for doc in many:
        index = {f["id"]: n for n, f in enumerate(doc["figures"])}
        for n, fig in enumerate(doc["figures"]):
            if fig["part_of"] is None:
                continue
            whole = doc["figures"][index[fig["part_of"]]]
            parts += 1
            assert index[fig["part_of"]] == n - 1
            assert (fig["unit"], fig["event"]) == (whole["unit"], whole["event"])
            bounds = [whole[k] for k in ("low", "best", "high") if whole[k] is not None]
            assert fig["best"] <= min(bounds)
    assert parts > 50


def test_dates_are_consistent_intervals(many: list[dict[str, Any]]) -> None:
    for event in (e for doc in many for e in doc["events"]):
        date = event["date"]
        if date["precision"] == "unknown":
            assert (date["start"], date["end"]) == (None, None)
        else:
            assert date["start"] <= date["end"]
        if date["precision"] == "day":
            assert date["start"] == date["end"]


def test_references_point_backwards_so_there_are_no_cycles(many: list[dict[str, Any]]) -> None:
    for doc in many:
        for kind, name in (("actors", "affiliated_with"), ("locations", "parent")):
            order = [r["id"] for r in doc[kind]]
            for n, record in enumerate(doc[kind]):
                assert record[name] is None or order.index(record[name]) < n


def test_the_generator_tables_match_the_schema() -> None:
    """The phrase tables are keyed by vocabulary values: a schema change must show here."""
    values = {name: set(spec.enum_values(name)) for name in spec.enumerations()}
    assert set(synthetic.HEDGES) | {synthetic.VAGUE} == values["Qualifier"]
    assert set(synthetic.REALIS_VERBS) == values["Realis"]
    assert set(synthetic.ACTOR_FORMS) <= values["ActorType"]
    assert set(synthetic.PLACE_FORMS) <= values["LocationType"]
    assert values["DatePrecision"] - set(synthetic.DATE_FORMS) == {"unknown"}
    assert {synthetic.EXACT, synthetic.RANGE, synthetic.VAGUE} <= values["Qualifier"]
    assert synthetic.PERSON in values["ActorType"]
    assert synthetic.COUNTRY in values["LocationType"]
    assert synthetic.PEOPLE in values["Unit"]
    assert synthetic.MANUAL in values["ProvenanceMethod"]
    assert {c.code for c in synthetic.COUNTRIES} <= values["CountryCode"]
    assert set(synthetic.SHIFTS) <= values["Qualifier"]
