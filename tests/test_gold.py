"""The seed article's gold annotation: valid, complete, and with the right semantics."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from sitrep import paths
from sitrep.schema import documents
from sitrep.schema.validation import validate_document, validate_paths

ROOT = Path(__file__).resolve().parent.parent
SEED_ID = "seed-8128c0eee969d3a6"


@pytest.fixture(scope="module")
def gold() -> dict[str, Any]:
    return json.loads((paths.annotations_dir(ROOT) / f"{SEED_ID}.json").read_text(encoding="utf-8"))


def _by_id(doc: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in doc[kind]}


def test_the_whole_dataset_validates_under_both_engines() -> None:
    for engine in ("rust", "python"):
        report = validate_paths([paths.annotations_dir(ROOT)], engine_name=engine)
        assert report.issues == []
        assert report.counts["documents"] >= 1


def test_gold_text_is_the_seed_exactly(gold: dict[str, Any]) -> None:
    raw = (ROOT / "seeds" / "articles" / "000_8128c0eee969d3a6.txt").read_bytes()
    assert gold["document"]["text"] == raw.decode("utf-8")
    assert gold["document"]["text_sha256"] == documents.text_sha256(raw.decode("utf-8"))
    assert "said to assume security responsibilities" in gold["document"]["text"]  # lost words kept


def test_every_figure_has_the_right_interval_and_claimant(gold: dict[str, Any]) -> None:
    figures = {f["spans"][0]["text"]: f for f in gold["figures"]}
    expected = {
        "150": (150, 150, 150, "exact", "actual", "act-centcom"),
        "up to 7,000": (None, None, 7000, "up_to", "planned", "act-centcom"),
        "approximately 8,400": (
            None,
            8400,
            None,
            "approximately",
            "actual",
            "act-state-department",
        ),
        "more than 70": (71, None, None, "more_than", "actual", "act-state-department"),
        "four-day": (4, 4, 4, "exact", "actual", None),
        "81": (81, 81, 81, "exact", "actual", "act-syria-interior-ministry"),
        "120": (120, 120, 120, "exact", "actual", "act-syria-interior-ministry"),
    }
    assert set(figures) == set(expected)
    for text, (low, best, high, qualifier, realis, claimant) in expected.items():
        f = figures[text]
        assert (f["low"], f["best"], f["high"], f["qualifier"], f["realis"], f["claimed_by"]) == (
            low,
            best,
            high,
            qualifier,
            realis,
            claimant,
        ), text


def test_part_of_and_units(gold: dict[str, Any]) -> None:
    figures = {f["spans"][0]["text"]: f for f in gold["figures"]}
    assert figures["81"]["part_of"] == figures["120"]["id"]
    assert figures["more than 70"]["unit"] == "country"
    assert figures["four-day"]["unit"] == "day"
    assert sum(1 for f in gold["figures"] if f["part_of"]) == 1


def test_every_number_in_the_text_is_a_figure_or_a_documented_non_figure(
    gold: dict[str, Any],
) -> None:
    text = gold["document"]["text"]
    covered = [(s["start"], s["end"]) for f in gold["figures"] for s in f["spans"]]
    not_figures = {"one day after"}  # a temporal offset anchoring a date, per the codebook
    numbers = [m for m in re.finditer(r"\d[\d,]*|\b(?:one|two|three|four|five)\b(?:-day)?", text)]
    for match in numbers:
        inside = any(a <= match.start() and match.end() <= b for a, b in covered)
        context = text[match.start() : match.start() + 13]
        assert inside or context in not_figures, (
            f"number {match.group()!r} at {match.start()} is not annotated"
        )


def test_affiliations_and_attribution(gold: dict[str, Any]) -> None:
    actors = _by_id(gold, "actors")
    assert actors["act-brad-cooper"]["affiliated_with"] == "act-centcom"
    assert actors["act-syria-interior-ministry"]["affiliated_with"] == "act-syrian-government"
    events = _by_id(gold, "events")
    assert events["evt-transfer-planned"]["realis"] == "planned"
    assert events["evt-us-presence"]["realis"] == "negated"
    assert {"actor": "act-tom-barrack", "role": "mediator"} in events["evt-ceasefire"][
        "participants"
    ]


def test_gold_validates_as_a_dict(gold: dict[str, Any]) -> None:
    assert validate_document(gold, "gold") == []
