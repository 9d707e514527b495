"""Schema documents <-> Label Studio results, offline: lossless both ways, and every bad
result named with its task, annotation and region."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests_support import REPO, insert_text, strip_record_provenance

from sitrep.annotate.labelstudio import convert as cv
from sitrep.annotate.labelstudio.project import _content
from sitrep.schema import spec
from sitrep.testing.synthetic import generate_document

GOLD = REPO / "datasets" / "annotations" / "seed-8128c0eee969d3a6.json"
ORIGIN = cv.Origin(
    project_id=3,
    task_id=41,
    annotation_id=59,
    annotator="ann@example.org",
    created="2026-11-27T08:00:00Z",
    config_sha256="a" * 64,
)
WIDE = ["😀", "𝔄", "🇸🇾", "\r\n", "\r\n\r\n", "é", "—"]


def _round_trip(doc: dict[str, Any]) -> tuple[dict[str, Any] | None, list[cv.Problem]]:
    data = json.loads(json.dumps(cv.task_data(doc["document"])))  # as the server keeps it
    document, text = cv.document_of(data)
    results = json.loads(json.dumps(cv.to_results(doc, text=text)))
    return cv.from_results(document, text, results, ORIGIN)


def _same(doc: dict[str, Any], back: dict[str, Any] | None) -> None:
    assert back is not None
    assert _content(back) == _content(cv.canonical(doc))


def test_the_seed_gold_comes_back_identical() -> None:
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    back, problems = _round_trip(gold)
    assert problems == []
    assert back is not None
    # the converter writes the current schema version; the gold file keeps the one it
    # was written for (same major)
    assert back["schema_version"] == spec.schema_version()
    mine = ("provenance", "schema_version")
    assert {k: v for k, v in back.items() if k not in mine} == {
        k: v for k, v in gold.items() if k not in mine
    }
    assert back["provenance"]["notes"] == gold["provenance"]["notes"]
    assert back["provenance"]["annotators"] == ["ann@example.org"]
    assert back["provenance"]["label_studio"] == {
        "project_id": 3,
        "task_id": 41,
        "annotation_ids": [59],
        "config_sha256": "a" * 64,
        "ground_truth": False,
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    inserts=st.lists(st.tuples(st.integers(0, 5000), st.sampled_from(WIDE)), max_size=8),
)
def test_generated_documents_come_back_identical(seed: int, inserts: list[tuple[int, str]]) -> None:
    doc = strip_record_provenance(generate_document(seed, 0))
    for position, piece in inserts:
        insert_text(doc, min(position, len(doc["document"]["text"])), piece)
    back, problems = _round_trip(doc)
    assert problems == []
    _same(doc, back)


@given(st.text(alphabet=st.sampled_from(["a", "\n", "\r", "😀", "é", " "]), max_size=40), st.data())
def test_offsets_map_both_ways_through_crlf_and_wide_characters(text: str, data: Any) -> None:
    mapped = cv.TaskText.of(text)
    assert "\r" not in mapped.shown and len(mapped.shown) == len(text) - len(mapped.cr)
    assert cv.TaskText.from_task(mapped.shown, list(mapped.cr), list(mapped.lone)).original == text
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    if text[start:end].endswith("\r") and text[end : end + 1] == "\n":
        return  # half a line break: not a span an annotator can select
    if start < len(text) and text[start - 1 : start + 1] == "\r\n" and start > 0:
        return
    s16, e16, shown = mapped.to_ls(start, end)
    assert shown == text[start:end].replace("\r\n", "\n").replace("\r", "\n")
    s, e, _ = mapped.from_ls(s16, e16)
    assert (s, e) == (start, end)


def test_browser_offsets_count_utf16_units() -> None:
    doc = strip_record_provenance(generate_document(3, 0))
    insert_text(doc, 0, "😀😀 ")
    results = cv.to_results(doc)
    first = next(r for r in results if r["type"] == "labels")
    span = doc[
        {"Actor": "actors", "Location": "locations", "Event": "events", "Figure": "figures"}[
            first["value"]["labels"][0]
        ]
    ][0]["spans"][0]
    assert first["value"]["start"] == span["start"] + 2  # two emoji, two extra units


def test_a_changed_task_text_is_refused() -> None:
    doc = json.loads(GOLD.read_text(encoding="utf-8"))
    data = cv.task_data(doc["document"])
    data["text"] = data["text"].replace("CENTCOM", "CENTCON", 1)
    with pytest.raises(ValueError, match="text_sha256"):
        cv.document_of(data)


# --- every bad result is named --------------------------------------------------------------


@pytest.fixture
def gold_results() -> tuple[dict[str, Any], cv.TaskText, list[dict[str, Any]]]:
    doc = json.loads(GOLD.read_text(encoding="utf-8"))
    document, text = cv.document_of(cv.task_data(doc["document"]))
    return document, text, cv.to_results(doc, text=text)


def _problems(gold_results: Any, change: Any) -> list[cv.Problem]:
    document, text, results = gold_results
    results = copy.deepcopy(results)
    change(results)
    back, problems = cv.from_results(document, text, results, ORIGIN)
    assert back is None
    assert problems
    return problems


def _first(results: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    return next(r for r in results if all(r.get(k) == v for k, v in match.items()))


CASES = {
    "unknown-label": lambda rs: _first(rs, from_name="label")["value"].update(labels=["Weapon"]),
    "unknown-control": lambda rs: rs.append(
        {**_first(rs, from_name="figure_low"), "from_name": "figure_mood"}
    ),
    "dangling-relation": lambda rs: _first(rs, type="relation").update(to_id="nope_0"),
    "attribute-without-span": lambda rs: rs.append(
        {**_first(rs, from_name="figure_best"), "id": "ghost_0"}
    ),
    "relation-kinds": lambda rs: _first(rs, type="relation").update(labels=["part_of"]),
    "unknown-relation": lambda rs: _first(rs, type="relation").update(labels=["loves"]),
    "relation-without-label": lambda rs: _first(rs, type="relation").pop("labels"),
    "bad-number": lambda rs: _first(rs, from_name="figure_best")["value"].update(number="7,000"),
    "unknown-choice": lambda rs: _first(rs, from_name="figure_qualifier")["value"].update(
        choices=["lots"]
    ),
    "quote-mismatch": lambda rs: _first(rs, from_name="label")["value"].update(text="CENTCON"),
    "bad-offsets": lambda rs: _first(rs, from_name="label")["value"].update(end=10**6),
    "bad-date": lambda rs: rs.append(
        {
            **_first(rs, from_name="event_realis"),
            "from_name": "event_date_start",
            "type": "datetime",
            "value": {"datetime": "last Tuesday"},
        }
    ),
    "bad-record-id": lambda rs: _first(rs, from_name="figure_id")["value"].update(
        text=["Figure One"]
    ),
    "conflicting-attribute": lambda rs: rs.append(
        {
            **_first(rs, from_name="actor_type", id="act-centcom_0"),
            "id": "act-centcom_1",
            "value": {"choices": ["media"]},
        }
    ),
    "attribute-of-wrong-kind": lambda rs: rs.append(
        {**_first(rs, from_name="figure_best"), "id": "act-centcom_0"}
    ),
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_bad_result_is_named_with_task_annotation_and_region(
    gold_results: Any, rule: str
) -> None:
    problems = _problems(gold_results, CASES[rule])
    assert rule in {p.rule for p in problems}, [str(p) for p in problems]
    problem = next(p for p in problems if p.rule == rule)
    assert problem.task == 41 and problem.annotation == 59
    assert problem.region
    assert str(problem).startswith("task 41 (document seed-8128c0eee969d3a6) annotation 59 region ")


def test_a_missing_required_attribute_is_reported_by_the_schema(gold_results: Any) -> None:
    problems = _problems(
        gold_results,
        lambda rs: rs.remove(_first(rs, from_name="figure_qualifier")),
    )
    assert any("qualifier" in p.message for p in problems), [str(p) for p in problems]
    assert all(p.task == 41 for p in problems)


def test_a_new_region_without_an_id_becomes_its_own_record(gold_results: Any) -> None:
    document, text, results = gold_results
    results = [
        r
        for r in results
        if r.get("from_name") != "figure_id" or r["id"] != "fig-150-transferred_0"
    ]
    back, problems = cv.from_results(document, text, results, ORIGIN)
    assert problems == []
    assert back is not None
    ids = [f["id"] for f in back["figures"]]
    assert "fig-fig-150-transferred-0" in ids
    event = next(e for e in back["figures"] if e["id"] == "fig-fig-150-transferred-0")
    assert event["best"] == 150


def test_relations_drawn_backwards_are_read_the_right_way(gold_results: Any) -> None:
    document, text, results = gold_results
    flipped = copy.deepcopy(results)
    for r in flipped:
        if r["type"] == "relation":
            r["from_id"], r["to_id"], r["direction"] = r["to_id"], r["from_id"], "left"
    back, problems = cv.from_results(document, text, flipped, ORIGIN)
    assert problems == []
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    assert (
        back is not None and back["events"] == gold["events"] and back["figures"] == gold["figures"]
    )


def test_proposed_records_say_so(gold_results: Any) -> None:
    document, text, results = gold_results
    results = copy.deepcopy(results)
    for r in results:
        if r.get("id") == "fig-150-transferred_0":
            r["origin"] = "prediction"
    origin = cv.Origin(
        **{**ORIGIN.__dict__, "model": "figures", "model_version": "0.1", "score": 0.8}
    )
    back, problems = cv.from_results(document, text, results, origin)
    assert problems == []
    assert back is not None
    figure = next(f for f in back["figures"] if f["id"] == "fig-150-transferred")
    assert figure["provenance"] == {
        "method": "proposed_accepted",
        "annotator": "ann@example.org",
        "model": "figures",
        "model_version": "0.1",
        "score": 0.8,
    }


def test_the_report_shape_is_json(gold_results: Any) -> None:
    problems = _problems(gold_results, CASES["unknown-label"])
    assert json.loads(json.dumps([p.to_dict() for p in problems]))[0]["rule"] == "unknown-label"
