"""Schema documents <-> Label Studio results, offline: lossless both ways, and every bad
result named with its task, annotation and region."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests_support import REPO, insert_text, strip_record_provenance

from sitrep.annotate.labelstudio import convert as cv
from sitrep.annotate.labelstudio import labelconfig as lc
from sitrep.annotate.labelstudio.project import _content
from sitrep.schema import spec
from sitrep.testing.synthetic import generate_document
from sitrep.validate.registry import Entity, Found, Registry

GOLD = REPO / "datasets" / "annotations" / "seed-8128c0eee969d3a6.json"
ORIGIN = cv.Origin(
    project_id=3,
    task_id=41,
    annotation_id=59,
    annotator="ann@example.org",
    created="2026-11-27T08:00:00Z",
    config_sha256="a" * 64,
    server_url="http://127.0.0.1:8080",
)
LINK = "http://127.0.0.1:8080/projects/3/data?task=41"
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
    for kind in ("actors", "locations"):  # every other record linked to the registry
        for n, record in enumerate(doc[kind]):
            record["entity"] = f"ent-{record['id']}" if (n + seed) % 2 else None
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


def _ids(results: list[dict[str, Any]], control: str) -> list[str]:
    """The region ids that carry a record id control (one per record)."""
    return [r["id"] for r in results if r.get("from_name") == control]


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
    "relation-without-label": lambda rs: _first(rs, type="relation", labels=["agent"]).pop(
        "labels"
    ),
    "contradictory-tie": lambda rs: rs.append(
        {"type": "relation", "from_id": "act-centcom_0", "to_id": _ids(rs, "actor_id")[1]}
    ),
    "tie-kinds": lambda rs: rs.append(
        {
            "type": "relation",
            "from_id": "act-centcom_0",
            "to_id": _ids(rs, "figure_id")[0],
            "labels": ["same_as"],
        }
    ),
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
    "conflicting-attribute": lambda rs: _first(rs, from_name="actor_type", id="act-centcom_1")[
        "value"
    ].update(choices=["media"]),
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
    assert problem.annotator == "ann@example.org" and problem.link == LINK
    assert problem.region
    if rule not in ("attribute-without-span", "unknown-label", "quote-mismatch", "bad-offsets"):
        assert problem.quote and problem.quote.startswith('"'), problem  # the region's text
    assert str(problem).startswith(
        "task 41 (document seed-8128c0eee969d3a6) annotation 59 by ann@example.org region "
    )
    assert str(problem).endswith(f"<{LINK}>")


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
    quote = next(f for f in back["figures"] if f["best"] == 150)["spans"][0]["text"]
    made = "fig-" + "-".join(quote.lower().replace(",", "").split())
    figure = next(f for f in back["figures"] if f["id"] == made)  # named after its text
    assert figure["best"] == 150


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


def _old_style(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Results as sitrep wrote them before ties: the record id on every mention."""
    first_id = {r["from_id"]: r["to_id"] for r in results if r.get("labels") == ["same_as"]}
    ids = {r["id"]: r["value"]["text"] for r in results if str(r.get("from_name")).endswith("_id")}
    out = [r for r in results if r.get("labels") != ["same_as"]]
    for r in results:
        if r.get("from_name") == "label" and r["id"] in first_id:
            kind = r["value"]["labels"][0].lower()
            out.append(
                {**r, "from_name": f"{kind}_id", "type": "textarea", "value": {
                    "start": r["value"]["start"], "end": r["value"]["end"],
                    "text": ids[first_id[r["id"]]]}}
            )  # fmt: skip
    return out


def test_older_annotations_with_the_id_on_every_mention_are_still_read(gold_results: Any) -> None:
    document, text, results = gold_results
    old = _old_style(results)
    assert not any(r.get("labels") == ["same_as"] for r in old)
    back, problems = cv.from_results(document, text, old, ORIGIN)
    assert problems == []
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    assert back is not None and back["actors"] == gold["actors"]


def test_an_unlabelled_relation_ties_two_mentions_into_one_record(gold_results: Any) -> None:
    document, text, results = gold_results
    centcom = [r for r in results if r.get("from_id") == "act-centcom_1"]
    assert centcom and centcom[0]["labels"] == ["same_as"]
    for r in centcom:
        r.pop("labels")  # drawn without choosing a label
    back, problems = cv.from_results(document, text, results, ORIGIN)
    assert problems == []
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    assert back is not None and back["actors"] == gold["actors"]
    spans = next(a for a in back["actors"] if a["id"] == "act-centcom")["spans"]
    assert len(spans) == len(next(a for a in gold["actors"] if a["id"] == "act-centcom")["spans"])


def test_without_a_tie_a_further_mention_is_a_record_of_its_own(gold_results: Any) -> None:
    document, text, results = gold_results
    assert _first(results, id="act-centcom_1", from_name="actor_type")  # asked of every mention
    untied = [r for r in results if r.get("from_id") != "act-centcom_1"]
    back, problems = cv.from_results(document, text, untied, ORIGIN)
    assert problems == [] and back is not None
    # a record of its own, its id made from its text (act-centcom is taken)
    [made] = [a for a in back["actors"] if a["id"] == "act-centcom-2"]
    assert made["name"] == "CENTCOM"  # a name left empty is the mention's text
    assert made["type"] == "state_armed_forces" and len(made["spans"]) == 1


def test_unlabelled_relations_take_the_only_role_the_kinds_admit(gold_results: Any) -> None:
    document, text, results = gold_results
    for r in results:
        if r.get("labels") in (["claimed_by"], ["counts"], ["part_of"], ["located_in"]):
            r.pop("labels")
    back, problems = cv.from_results(document, text, results, ORIGIN)
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    # part_of and located_in join two records of one kind: unlabelled, that is a tie
    assert {p.rule for p in problems} <= {"conflicting-attribute", "contradictory-tie"}
    for r in results:
        if r.get("type") == "relation" and "labels" not in r:
            a, b = r["from_id"].split("-")[0], r["to_id"].split("-")[0]
            if a != b:
                continue
            r["labels"] = ["part_of" if a == "fig" else "located_in"]
    back, problems = cv.from_results(document, text, results, ORIGIN)
    assert problems == []
    assert back is not None and back["figures"] == gold["figures"]


def test_an_ambiguous_unlabelled_relation_names_the_roles_that_fit(gold_results: Any) -> None:
    problems = _problems(gold_results, CASES["relation-without-label"])
    [problem] = [p for p in problems if p.rule == "relation-without-label"]
    assert "agent" in problem.expected and "reported_by" in problem.expected
    assert "claimed_by" not in problem.expected
    assert "->" in str(problem.region) and problem.quote and " -> " in problem.quote


def test_a_schema_problem_names_the_region_and_its_text(gold_results: Any) -> None:
    document, text, results = gold_results
    realis = _first(results, from_name="figure_realis")
    results.remove(realis)
    back, problems = cv.from_results(document, text, results, ORIGIN)
    assert back is None
    [problem] = [p for p in problems if "realis" in p.message]
    assert problem.region == realis["id"]
    assert problem.quote == f'"{realis["value"]["start"] and _quote(results, realis["id"])}"'


def _quote(results: list[dict[str, Any]], rid: str) -> str:
    return str(_first(results, id=rid, from_name="label")["value"]["text"])


def test_an_event_without_a_date_gets_the_codebook_default(gold_results: Any) -> None:
    document, text, results = gold_results
    event = _first(results, from_name="event_type")["id"]
    kept = [r for r in results if not (r.get("id") == event and "date" in str(r.get("from_name")))]
    back, problems = cv.from_results(document, text, kept, ORIGIN)
    assert problems == []
    assert back is not None
    [record] = [e for e in back["events"] if e["id"] == event.rsplit("_", 1)[0]]
    assert record["date"] == {
        "start": None,
        "end": None,
        "precision": "unknown",
        "expression": None,
    }


# --- registry links ---------------------------------------------------------------------------

REGISTRY = Found(
    Path("registry.json"),
    Registry(
        Path("registry.json"),
        {
            "ent-us-central-command": Entity(
                "ent-us-central-command", "actor", "U.S. Central Command", "state_armed_forces"
            ),
            "ent-islamic-state": Entity(
                "ent-islamic-state", "actor", "Islamic State", "non_state_armed_group"
            ),
            "ent-syria": Entity("ent-syria", "location", "Syria", "country"),
        },
    ),
)


def _linked() -> dict[str, Any]:
    """The seed gold with CENTCOM and Syria linked to the registry."""
    doc = json.loads(GOLD.read_text(encoding="utf-8"))
    for record in [*doc["actors"], *doc["locations"]]:
        record["entity"] = None
    next(a for a in doc["actors"] if a["id"] == "act-centcom")["entity"] = "ent-us-central-command"
    next(x for x in doc["locations"] if x["id"] == "loc-syria")["entity"] = "ent-syria"
    return doc


@pytest.fixture
def linked_results() -> tuple[dict[str, Any], cv.TaskText, list[dict[str, Any]]]:
    doc = _linked()
    document, text = cv.document_of(cv.task_data(doc["document"]))
    return document, text, cv.to_results(doc, text=text)


def test_a_registry_link_is_a_choice_on_the_first_mention_and_comes_back(
    linked_results: Any,
) -> None:
    document, text, results = linked_results
    picked = [r for r in results if r.get("from_name") in ("actor_entity", "location_entity")]
    assert [(r["id"], r["type"], r["value"]["choices"]) for r in picked] == [
        ("act-centcom_0", "choices", ["ent-us-central-command"]),
        ("loc-syria_0", "choices", ["ent-syria"]),
    ]
    back, problems = cv.from_results(document, text, results, ORIGIN, registry=REGISTRY)
    assert problems == []
    assert back is not None and _content(back) == _content(cv.canonical(_linked()))


def test_none_leaves_the_record_unlinked_and_older_typed_ids_still_read(
    linked_results: Any,
) -> None:
    document, text, results = linked_results
    _first(results, from_name="actor_entity")["value"]["choices"] = [lc.NO_ENTITY]
    typed = _first(results, from_name="location_entity")  # config +ls2: a TextArea
    typed.update(type="textarea", value={**typed["value"], "text": ["ent-syria"]})
    del typed["value"]["choices"]
    back, problems = cv.from_results(document, text, results, ORIGIN, registry=REGISTRY)
    assert problems == [] and back is not None
    assert next(a for a in back["actors"] if a["id"] == "act-centcom")["entity"] is None
    assert next(x for x in back["locations"] if x["id"] == "loc-syria")["entity"] == "ent-syria"


BAD_LINKS = {  # the choice on CENTCOM's first mention -> the rule, expected, found
    "ent-nowhere": ("entity.unknown", "an entity id of the registry", "ent-nowhere"),
    "ent-syria": ("entity.kind", "an actor entity", "location entity"),
    "ent-islamic-state": ("entity.type", "non_state_armed_group", "state_armed_forces"),
}


@pytest.mark.parametrize("picked", sorted(BAD_LINKS))
def test_a_bad_registry_link_is_a_problem_named_like_any_other(
    linked_results: Any, picked: str
) -> None:
    document, text, results = linked_results
    _first(results, from_name="actor_entity")["value"]["choices"] = [picked]
    back, problems = cv.from_results(document, text, results, ORIGIN, registry=REGISTRY)
    assert back is None
    rule, expected, found = BAD_LINKS[picked]
    [problem] = problems
    assert (problem.rule, problem.expected, problem.found) == (rule, expected, found)
    assert (problem.task, problem.annotation, problem.region) == (41, 59, "act-centcom_0")
    assert problem.annotator == "ann@example.org" and problem.quote == '"U.S. Central Command"'
    assert str(problem).startswith(
        "task 41 (document seed-8128c0eee969d3a6) annotation 59 by ann@example.org "
        'region act-centcom_0 "U.S. Central Command": ['
    )
    assert problem.link == LINK


def test_without_a_registry_links_are_not_checked(linked_results: Any) -> None:
    document, text, results = linked_results
    _first(results, from_name="actor_entity")["value"]["choices"] = ["ent-nowhere"]
    back, problems = cv.from_results(document, text, results, ORIGIN)
    assert problems == [] and back is not None


def test_a_linked_annotation_without_a_registry_is_named_once(linked_results: Any) -> None:
    document, text, results = linked_results
    back, problems = cv.from_results(document, text, results, ORIGIN, registry=Found(None, None))
    assert back is None
    assert [(p.rule, p.region) for p in problems] == [("registry.missing", "act-centcom_0")]
