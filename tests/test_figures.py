"""The figure finder on edge-case phrases (tests/data/figure_phrases.jsonl): every shape the
issue names, and every thing that is not a figure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sitrep.annotate.prelabel import figures, propose
from sitrep.schema import spec
from sitrep.schema.rules import QUALIFIER_SHAPES

CASES = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "figure_phrases.jsonl")
    .read_text(encoding="utf-8")
    .splitlines()
    if line.strip()
]


def _num(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:40] for c in CASES])
def test_phrase(case: dict[str, Any]) -> None:
    found = figures.find_figures(case["text"])
    got = [
        [p.text, _num(p.low), _num(p.best), _num(p.high), p.qualifier, p.unit, p.counted]
        for p in found
    ]
    want = [[f[0], *(_num(x) for x in f[1:4]), *f[4:]] for f in case["figures"]]
    assert got == want
    for p in found:
        assert case["text"][p.start : p.end] == p.text
        if p.claimed_by is not None:  # every claimant hint is the text at its offsets
            assert case["text"][p.claimed_by_start : p.claimed_by_end] == p.claimed_by
    for part, whole in case.get("part_of", []):
        assert found[part].part_of == whole
    if "claimant" in case and case["claimant"] is None:  # a dateline agency, a bare pronoun
        assert (found[0].claimed_by, found[0].claimed_by_start) == (None, None)
    elif "claimant" in case:
        assert found[0].claimed_by == case["claimant"]
        assert case["text"][found[0].claimed_by_start : found[0].claimed_by_end] == case["claimant"]
    if "realis" in case:
        assert [p.realis for p in found] == case["realis"]


def test_every_proposal_has_the_shape_its_qualifier_requires() -> None:
    vague = spec.vague_intervals()
    for case in CASES:
        for p in figures.find_figures(case["text"]):
            required, empty = QUALIFIER_SHAPES[p.qualifier]
            values = {"low": p.low, "best": p.best, "high": p.high}
            assert all(values[k] is not None for k in required), case["text"]
            assert all(values[k] is None for k in empty), case["text"]
            if p.qualifier == "vague":
                assert (p.low, p.high) == vague[p.vague_term]


def test_vocabularies_are_the_schema_s() -> None:
    assert set(figures.VAGUE.values()) <= set(spec.enum_values("VagueTerm"))
    assert set(figures.BEFORE.values()) <= set(spec.enum_values("Qualifier"))
    assert {c for c, _ in figures.COUNTED_CUES} <= set(spec.enum_values("Counted"))
    assert set(figures.TIME_UNITS.values()) <= set(spec.enum_values("Unit"))
    assert set(propose.TRIGGERS.values()) <= set(spec.enum_values("EventType"))


def test_the_seed_article_gives_every_gold_figure_with_its_interval() -> None:
    gold = json.loads(
        (
            Path(__file__).resolve().parents[1]
            / "datasets"
            / "annotations"
            / "seed-8128c0eee969d3a6.json"
        ).read_text(encoding="utf-8")
    )
    found = {(p.start, p.end): p for p in figures.find_figures(gold["document"]["text"])}
    for figure in gold["figures"]:
        span = figure["spans"][0]
        p = found[span["start"], span["end"]]
        assert (p.low, p.best, p.high, p.qualifier) == (
            figure["low"],
            figure["best"],
            figure["high"],
            figure["qualifier"],
        )


def test_mentions_come_from_the_gazetteer_and_country_names() -> None:
    entries = propose.gazetteer([])
    text = "Fighting in Syria and Sudan; protesters gathered in Kenya."
    kinds = {(m.kind, m.text) for m in propose.find_mentions(text, entries)}
    assert ("location", "Syria") in kinds and ("location", "Kenya") in kinds
    assert ("event", "Fighting") in kinds and ("event", "protesters") in kinds


def test_named_actors_come_from_name_patterns() -> None:
    text = (
        "The U.S. Central Command (CENTCOM) said so, and Adm. Brad Cooper agreed; "
        "the State Department did not. The Command declined to comment."
    )
    found = {(m.text, m.type, m.rule) for m in propose.find_mentions(text, {}) if m.kind == "actor"}
    assert found == {
        ("U.S. Central Command", "state_armed_forces", "name pattern"),
        ("CENTCOM", "state_armed_forces", "acronym"),
        ("Brad Cooper", "person", "title and name"),
        ("State Department", "government_body", "name pattern"),
    }


def test_the_gazetteer_knows_cities_and_provinces_offline() -> None:
    entries = propose.gazetteer([])
    text = (
        "Gunmen attacked a school in Kaduna State; aid reached Maiduguri and Mosul. "
        "Adm. Brad Cooper said the Iraqi government agreed."
    )
    found = {(m.kind, m.text, m.type, m.country) for m in propose.find_mentions(text, entries)}
    assert ("location", "Kaduna State", "admin_area", "NGA") in found
    assert ("location", "Maiduguri", "city_or_town", "NGA") in found
    assert ("location", "Mosul", "city_or_town", "IRQ") in found
    # a town called Brad (Romania) does not eat the name after a title
    assert ("actor", "Brad Cooper", "person", None) in found
    assert not any(text == "Brad" for _, text, _, _ in found)
    assert ("actor", "Iraqi government", "government_body", None) in found


def test_the_dataset_s_registry_wins_over_the_place_lists() -> None:
    doc = {
        "document": {"id": "voa-1"},
        "actors": [
            {
                "name": "Government of Syria",
                "type": "government_body",
                "country": "SYR",
                "aliases": ["Damascus"],
                "spans": [],
            }
        ],
        "locations": [],
    }
    entries = propose.gazetteer_of([doc])
    [mention] = [
        m for m in propose.find_mentions("Damascus said no.", entries) if m.kind != "event"
    ]
    assert (mention.kind, mention.name, mention.rule) == (
        "actor",
        "Government of Syria",
        "gazetteer",
    )
    # left out (leave-one-out evaluation), the city list answers instead
    alone = propose.gazetteer_of([doc], exclude=frozenset({"voa-1"}))
    [city] = [m for m in propose.find_mentions("Damascus said no.", alone) if m.kind != "event"]
    assert (city.kind, city.type, city.country, city.rule) == (
        "location",
        "city_or_town",
        "SYR",
        "place list",
    )
