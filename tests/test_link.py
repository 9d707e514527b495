"""`sitrep link`: the real engine (splink on DuckDB) on a small registry written here by
the registry contract, annotation files in two serialisations, the review file a person
edits, and the errors. Nothing is mocked; every run of the engine is a real one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sitrep.annotate.link.edit import entity_spans, linked_text
from sitrep.annotate.link.engine import exclusive
from sitrep.annotate.link.linking import link
from sitrep.annotate.link.problems import LinkCode, LinkError
from sitrep.cli import app

REPO = Path(__file__).resolve().parent.parent
ANNOTATIONS = REPO / "datasets" / "annotations"

# (id, kind, name, type, aliases, country): enough entities that random pairs are
# non-matches, as splink's u estimation assumes.
ENTITIES = [
    ("ent-centcom", "actor", "U.S. Central Command", "state_armed_forces", ["CENTCOM"], "USA"),
    (
        "ent-us-state-department",
        "actor",
        "U.S. State Department",
        "government_body",
        ["State Department"],
        "USA",
    ),
    ("ent-syria-interior", "actor", "Ministry of Interior", "government_body", [], "SYR"),
    ("ent-iraq-interior", "actor", "Ministry of Interior", "government_body", [], "IRQ"),
    ("ent-sdf", "actor", "Syrian Democratic Forces", "non_state_armed_group", ["SDF"], "SYR"),
    ("ent-islamic-state", "actor", "Islamic State", "non_state_armed_group", ["ISIS", "IS"], None),
    ("ent-bla", "actor", "Baloch Liberation Army", "non_state_armed_group", ["BLA"], "PAK"),
    ("ent-al-shabab", "actor", "al-Shabab", "non_state_armed_group", [], "SOM"),
    ("ent-unicef", "actor", "UNICEF", "international_organisation", [], None),
    ("ent-un", "actor", "United Nations", "international_organisation", ["U.N."], None),
    ("ent-nato", "actor", "NATO", "international_organisation", [], None),
    ("ent-voa", "actor", "Voice of America", "media", ["VOA"], "USA"),
    ("ent-brad-cooper", "actor", "Brad Cooper", "person", ["Adm. Brad Cooper"], "USA"),
    ("ent-tom-barrack", "actor", "Tom Barrack", "person", [], "USA"),
    ("ent-ahmed-al-sharaa", "actor", "Ahmed al-Sharaa", "person", [], "SYR"),
    ("ent-pakistan-army", "actor", "Pakistan Army", "state_armed_forces", [], "PAK"),
    ("ent-iraqi-government", "actor", "Iraqi government", "government_body", [], "IRQ"),
    ("ent-kurds", "actor", "Kurds", "ethnic_or_social_group", [], None),
    (
        "ent-red-cross",
        "actor",
        "International Committee of the Red Cross",
        "international_organisation",
        ["ICRC"],
        None,
    ),
    ("ent-reuters", "actor", "Reuters", "media", [], "GBR"),
    ("ent-syria", "location", "Syria", "country", [], "SYR"),
    ("ent-iraq", "location", "Iraq", "country", [], "IRQ"),
    ("ent-pakistan", "location", "Pakistan", "country", [], "PAK"),
    ("ent-somalia", "location", "Somalia", "country", [], "SOM"),
    ("ent-ukraine", "location", "Ukraine", "country", [], "UKR"),
    ("ent-damascus", "location", "Damascus", "city_or_town", [], "SYR"),
    ("ent-aleppo", "location", "Aleppo", "city_or_town", [], "SYR"),
    ("ent-hasakah", "location", "Hasakah", "city_or_town", ["al-Hasakah"], "SYR"),
    ("ent-baghdad", "location", "Baghdad", "city_or_town", [], "IRQ"),
    ("ent-mosul", "location", "Mosul", "city_or_town", [], "IRQ"),
    ("ent-quetta", "location", "Quetta", "city_or_town", [], "PAK"),
    ("ent-balochistan", "location", "Balochistan", "admin_area", [], "PAK"),
    ("ent-mogadishu", "location", "Mogadishu", "city_or_town", [], "SOM"),
    ("ent-kyiv", "location", "Kyiv", "city_or_town", ["Kiev"], "UKR"),
    ("ent-al-hol", "location", "al-Hol camp", "facility", ["al-Hol"], "SYR"),
]


def registry_json() -> dict[str, Any]:
    entities = [
        {"id": i, "kind": k, "name": n, "type": t, "aliases": a, "country": c, "wikidata": None,
         "geonames": None, "coordinates": None,
         "provenance": {"method": "manual", "by": "sitrep team", "date": "2026-12-03",
                        "source": "written for tests/test_link.py"}}
        for i, k, n, t, a, c in ENTITIES
    ]  # fmt: skip
    return {
        "registry_version": "1.0.0",
        "description": "a small registry for the tests",
        "sources": [],
        "entities": sorted(entities, key=lambda e: e["id"]),
    }


def actor(rid: str, name: str, type_: str, country: str | None, entity: str | None = None,
          aliases: list[str] | None = None) -> dict[str, Any]:  # fmt: skip
    return {"id": rid, "name": name, "aliases": aliases or [], "type": type_, "country": country,
            "wikidata": None, "entity": entity, "affiliated_with": None, "spans": []}  # fmt: skip


def place(
    rid: str, name: str, type_: str, country: str | None, entity: str | None = None
) -> dict[str, Any]:
    return {"id": rid, "name": name, "type": type_, "country": country, "parent": None,
            "coordinates": None, "wikidata": None, "entity": entity, "spans": []}  # fmt: skip


def doc_one() -> dict[str, Any]:
    return {
        "schema_version": "1.2.0",
        "document": {"id": "doc-one", "text": "Café “quoted” text"},
        "actors": [
            actor("act-centcom", "US Central Command", "state_armed_forces", "USA"),
            actor("act-voa", "Voice of America", "media", "USA"),
            actor("act-moi", "Ministry of Interior", "government_body", None),
            actor("act-militants", "gunmen on motorbikes", "non_state_armed_group", None),
            actor("act-bla", "Baloch Liberation Army", "non_state_armed_group", "PAK"),
        ],
        "locations": [
            place("loc-damascus", "Damascus", "city_or_town", "SYR"),
            place(
                "loc-aleppo", "Aleppo", "city_or_town", "SYR", entity="ent-damascus"
            ),  # wrong, by hand
            place("loc-quetta", "Quetta", "city_or_town", "PAK"),
        ],
    }


def doc_two() -> dict[str, Any]:
    return {
        "schema_version": "1.2.0",
        "document": {"id": "doc-two", "text": "x"},
        "actors": [
            actor("act-isis", "ISIS", "non_state_armed_group", None),
            actor("act-unicef", "UNICEF", "international_organisation", None),
        ],
        "locations": [
            place("loc-mosul", "Mosul", "city_or_town", "IRQ"),
            place("loc-iraq", "Iraq", "country", "IRQ"),
        ],
    }


@pytest.fixture
def corpus(tmp_path: Path) -> dict[str, Path]:
    """Two annotation files in two styles (2-space indent and UTF-8; 1-space indent with
    escapes), the registry, and where the review file goes."""
    folder = tmp_path / "annotations"
    folder.mkdir()
    one, two = folder / "doc-one.json", folder / "doc-two.json"
    one.write_text(json.dumps(doc_one(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    two.write_text(json.dumps(doc_two(), indent=1), encoding="utf-8")  # no final newline
    registry = tmp_path / "registry.json"
    registry.write_text(json.dumps(registry_json(), indent=2) + "\n", encoding="utf-8")
    return {"folder": folder, "one": one, "two": two, "registry": registry,
            "out": tmp_path / "review.json"}  # fmt: skip


def _review(path: Path) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in json.loads(path.read_text(encoding="utf-8"))["records"]}


def _files(c: dict[str, Path]) -> dict[str, bytes]:
    return {name: c[name].read_bytes() for name in ("one", "two")}


def test_obvious_matches_are_proposed_and_nothing_is_applied_without_apply(
    corpus: dict[str, Path],
) -> None:
    before = _files(corpus)
    result = link([corpus["folder"]], corpus["registry"], corpus["out"], threshold=0.9)
    assert _files(corpus) == before  # nothing is linked without --apply
    assert result.engine.startswith("splink 5.") and "DuckDB" in result.engine
    assert (result.seen, result.already, result.linked) == (12, 1, 0)
    review = _review(corpus["out"])
    assert "loc-aleppo" not in review  # linked already: not proposed again
    expected = {
        "act-centcom": "ent-centcom", "act-voa": "ent-voa", "act-bla": "ent-bla",
        "loc-damascus": "ent-damascus", "loc-quetta": "ent-quetta", "act-isis": "ent-islamic-state",
        "loc-mosul": "ent-mosul", "loc-iraq": "ent-iraq",
    }  # fmt: skip
    assert {rid: review[rid]["proposal"] for rid in expected} == expected
    # the same name, but no country to compare: on a registry this small that is short
    # of 0.9, so a person confirms it
    assert review["act-unicef"]["candidates"][0]["entity"] == "ent-unicef"
    centcom = review["act-centcom"]
    assert centcom["file"].endswith("doc-one.json") and centcom["pointer"] == "/actors/0"
    assert (centcom["name"], centcom["type"], centcom["decision"]) == (
        "US Central Command",
        "state_armed_forces",
        None,
    )
    top = centcom["candidates"][0]
    assert top["entity"] == "ent-centcom" and top["probability"] >= 0.9
    assert top["name"] == "U.S. Central Command"
    for record in review.values():  # candidates best first, of the record's kind only
        probs = [c["probability"] for c in record["candidates"]]
        assert probs == sorted(probs, reverse=True)
        assert all(
            c["entity"] in {e[0] for e in ENTITIES if e[1] == record["kind"]}
            for c in record["candidates"]
        )
    assert result.certain == len(expected)


def test_an_ambiguous_record_is_left_for_review(corpus: dict[str, Path]) -> None:
    result = link([corpus["folder"]], corpus["registry"], corpus["out"], apply=True)
    review = _review(corpus["out"])
    moi = review["act-moi"]  # two ministries of that name; the record names no country
    assert moi["proposal"] is None
    assert {c["entity"] for c in moi["candidates"][:2]} == {
        "ent-syria-interior",
        "ent-iraq-interior",
    }
    assert moi["candidates"][0]["probability"] >= 0.5
    assert json.loads(corpus["one"].read_text(encoding="utf-8"))["actors"][2]["entity"] is None
    assert result.review >= 1


def _changed_lines(before: bytes, after: bytes) -> list[tuple[str, str]]:
    old, new = before.decode().split("\n"), after.decode().split("\n")
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


def test_apply_changes_only_entity_lines_and_never_overwrites(corpus: dict[str, Path]) -> None:
    before = _files(corpus)
    result = link([corpus["folder"]], corpus["registry"], corpus["out"], apply=True)
    after = _files(corpus)
    for name in ("one", "two"):
        changed = _changed_lines(before[name], after[name])
        assert changed and all(a.strip() == '"entity": null,' for a, _ in changed)
        assert all(b.strip().startswith('"entity": "ent-') for _, b in changed)
    assert not after["two"].endswith(b"\n")  # the file's own style, to the last byte
    one = json.loads(after["one"])
    assert one["locations"][1]["entity"] == "ent-damascus"  # linked by hand: never overwritten
    assert one["actors"][0]["entity"] == "ent-centcom"
    assert one["actors"][3]["entity"] is None  # no candidate: left alone
    assert result.linked == 8 and set(result.files) == {str(corpus["one"]), str(corpus["two"])}
    assert set(_review(corpus["out"])) == {"act-moi", "act-militants", "act-unicef"}  # what is left


def test_a_decision_in_the_review_file_is_applied(corpus: dict[str, Path]) -> None:
    link([corpus["folder"]], corpus["registry"], corpus["out"])
    data = json.loads(corpus["out"].read_text(encoding="utf-8"))
    for record in data["records"]:
        if record["id"] == "act-moi":
            record["decision"] = "ent-syria-interior"
        if record["id"] == "loc-quetta":
            record["decision"] = "none"  # a person's "none" wins over a certain proposal
    corpus["out"].write_text(json.dumps(data, indent=2), encoding="utf-8")
    result = link([corpus["folder"]], corpus["registry"], corpus["out"], apply=True)
    one = json.loads(corpus["one"].read_text(encoding="utf-8"))
    assert one["actors"][2]["entity"] == "ent-syria-interior"
    assert one["locations"][2]["entity"] is None
    assert result.decided == 1
    assert _review(corpus["out"])["loc-quetta"]["decision"] == "none"  # carried over


def _decide(c: dict[str, Path], rid: str, decision: str) -> None:
    link([c["folder"]], c["registry"], c["out"])
    data = json.loads(c["out"].read_text(encoding="utf-8"))
    for record in data["records"]:
        if record["id"] == rid:
            record["decision"] = decision
    c["out"].write_text(json.dumps(data, indent=2), encoding="utf-8")


@pytest.mark.parametrize(
    ("decision", "code"),
    [
        ("ent-nowhere", LinkCode.DECISION_UNKNOWN_ENTITY),
        ("ent-damascus", LinkCode.DECISION_WRONG_KIND),
        ("ent-voa", LinkCode.DECISION_WRONG_TYPE),  # media, the record a government_body
    ],
)
def test_a_bad_decision_names_file_and_record_and_writes_nothing(
    corpus: dict[str, Path], decision: str, code: LinkCode
) -> None:
    _decide(corpus, "act-moi", decision)
    review, before = corpus["out"].read_bytes(), _files(corpus)
    with pytest.raises(LinkError) as caught:
        link([corpus["folder"]], corpus["registry"], corpus["out"], apply=True)
    [problem] = caught.value.problems
    assert problem.code is code and problem.file == str(corpus["out"])
    assert problem.pointer.startswith("/records/") and problem.pointer.endswith("/decision")
    assert "act-moi" in problem.expected and "doc-one.json" in problem.expected
    assert decision in problem.found
    assert _files(corpus) == before and corpus["out"].read_bytes() == review


def test_the_cli_reports_an_unreadable_registry_with_exit_1(corpus: dict[str, Path]) -> None:
    corpus["registry"].write_text("{not json", encoding="utf-8")
    before = _files(corpus)
    argv = [
        "link",
        str(corpus["folder"]),
        "--registry",
        str(corpus["registry"]),
        "--out",
        str(corpus["out"]),
        "--apply",
    ]
    done = CliRunner().invoke(app, argv)
    assert done.exit_code == 1
    assert str(corpus["registry"]) in done.output and "registry.read" in done.output
    assert _files(corpus) == before and not corpus["out"].exists()


def test_a_record_without_an_entity_field_stops_the_apply_before_any_write(
    corpus: dict[str, Path],
) -> None:
    doc = doc_two()
    del doc["locations"][0]["entity"]  # a 1.1.0-style record: nothing to edit in place
    corpus["two"].write_text(json.dumps(doc, indent=1), encoding="utf-8")
    before = _files(corpus)
    with pytest.raises(LinkError) as caught:
        link([corpus["folder"]], corpus["registry"], corpus["out"], apply=True)
    assert [(p.code, p.file, p.pointer) for p in caught.value.problems] == [
        (LinkCode.NO_ENTITY_FIELD, str(corpus["two"]), "/locations/0")
    ]
    assert _files(corpus) == before and not corpus["out"].exists()


def test_the_cli_summary_and_a_rerun_give_the_same_review(corpus: dict[str, Path]) -> None:
    argv = [
        "link",
        str(corpus["folder"]),
        "--registry",
        str(corpus["registry"]),
        "--out",
        str(corpus["out"]),
    ]
    first = CliRunner().invoke(app, argv)
    assert first.exit_code == 0, first.output
    assert "records seen: 12 (1 already linked)" in first.output
    assert "run with --apply" in first.output and "no candidate: 1" in first.output
    kept = corpus["out"].read_bytes()
    again = CliRunner().invoke(app, [*argv, "--format", "json"])
    assert json.loads(again.output)["certain"] == 8
    assert corpus["out"].read_bytes() == kept  # fixed seed: the same probabilities


def test_without_splink_the_error_names_the_extra(corpus: dict[str, Path]) -> None:
    code = (
        "import sys\nsys.modules['splink'] = None\n"
        f"sys.argv = ['sitrep', 'link', {str(corpus['folder'])!r}, '--registry', "
        f"{str(corpus['registry'])!r}, '--out', {str(corpus['out'])!r}]\n"
        "from sitrep.cli import main\nmain()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2
    assert "`link` extra" in done.stderr and "sitrep[link]" in done.stderr


def test_exclusive_probabilities_share_one_record() -> None:
    from sitrep.annotate.link.engine import Candidate

    two = exclusive([Candidate("a", 0.99, 0), Candidate("b", 0.99, 0)])
    assert two[0] == pytest.approx(99 / 199) and sum(two) < 1
    assert exclusive([Candidate("a", 0.99, 0)])[0] == pytest.approx(0.99)


@pytest.mark.parametrize("path", sorted(ANNOTATIONS.glob("*.json")), ids=lambda p: p.stem)
def test_the_edit_round_trips_every_annotation_file(path: Path) -> None:
    """Clearing each record's entity and linking it again gives back the file byte for
    byte, whichever style the file was written in."""
    text = path.read_text(encoding="utf-8")
    doc = json.loads(text)
    spans = entity_spans(text)
    linked = {p: json.loads(text[s:e]) for p, (s, e) in spans.items()}
    assert len(spans) == len(doc.get("actors", [])) + len(doc.get("locations", []))
    cleared = text
    for s, e in sorted(spans.values(), reverse=True):
        cleared = cleared[:s] + "null" + cleared[e:]
    restored = linked_text(cleared, {p: v for p, v in linked.items() if v is not None})
    assert restored == text
    some = [p for p, v in linked.items() if v]
    if some:  # a file with no linked record (no actor, no place) has nothing to refuse
        with pytest.raises(ValueError, match="not null"):
            linked_text(text, {some[0]: "ent-other"})


def test_a_decision_for_a_record_that_does_not_exist_is_refused(corpus: dict[str, Path]) -> None:
    link([corpus["folder"]], corpus["registry"], corpus["out"])
    data = json.loads(corpus["out"].read_text(encoding="utf-8"))
    data["records"][0].update(id="act-gone", decision="ent-centcom")
    corpus["out"].write_text(json.dumps(data, indent=2), encoding="utf-8")
    with pytest.raises(LinkError) as caught:
        link([corpus["folder"]], corpus["registry"], corpus["out"], apply=True)
    [problem] = caught.value.problems
    assert (problem.code, problem.pointer) == (LinkCode.RECORD_MISSING, "/records/0/decision")
    assert "act-gone" in problem.expected


def test_an_unreadable_annotation_file_is_named(corpus: dict[str, Path]) -> None:
    corpus["two"].write_bytes(b'{"actors": [')
    with pytest.raises(LinkError) as caught:
        link([corpus["folder"]], corpus["registry"], corpus["out"])
    [problem] = caught.value.problems
    assert (problem.code, problem.file) == (LinkCode.FILE_UNREADABLE, str(corpus["two"]))
    assert not corpus["out"].exists()


def test_the_share_in_the_review_file_is_what_the_threshold_applies_to(
    corpus: dict[str, Path],
) -> None:
    link([corpus["folder"]], corpus["registry"], corpus["out"], threshold=0.9)
    for record in _review(corpus["out"]).values():
        shares = [c["share"] for c in record["candidates"]]
        assert sum(shares) < 1 and all(c["share"] <= c["probability"] for c in record["candidates"])
        assert (record["proposal"] is not None) == bool(shares and shares[0] >= 0.9)


def test_a_fifo_given_as_an_annotation_file_is_reported_not_opened(corpus: dict[str, Path]) -> None:
    import os

    fifo = corpus["folder"] / "pipe.json"
    os.mkfifo(fifo)  # opening it for reading would block forever
    with pytest.raises(LinkError) as caught:
        link([corpus["folder"]], corpus["registry"], corpus["out"])
    [problem] = caught.value.problems
    assert (problem.code, problem.file) == (LinkCode.FILE_UNREADABLE, str(fifo))
