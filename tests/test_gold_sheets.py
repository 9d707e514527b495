"""Hand-written annotation sheets (datasets/sheets/) and the tool that turns them into
dataset files (tools/gold_from_phrases.py): offsets computed from exact phrases, in
code points, never typed; every sheet in step with its committed annotation file."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path

import pytest
from tests_support import REPO

from sitrep.annotate.review import agreement as agr
from sitrep.schema.documents import SourceDocument, scan_sources

SHEETS = sorted((REPO / "datasets" / "sheets").glob("*.json"))
spec = importlib.util.spec_from_file_location(
    "gold_sheets", REPO / "tools" / "gold_from_phrases.py"
)
assert spec and spec.loader
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)


def _source(text: str) -> SourceDocument:
    sources, _ = scan_sources(REPO / "seeds")
    return dataclasses.replace(sources[0], id="voa-1", text=text)


def _sheet(**figure: object) -> dict:
    return {
        "document": "voa-1",
        "annotators": ["a"],
        "created": "2026-12-02T00:00:00Z",
        "notes": "n",
        "actors": [{"id": "act-x", "name": "Ana Reyes", "type": "person", "mentions": ["Reyes"]}],
        "locations": [],
        "figures": [{"id": "fig-1", "counted": "other", "unit": "other", **figure}],
    }


def test_offsets_come_from_the_phrase_in_code_points() -> None:
    text = "😀 Reyes said 16.5 million and 16 more; 16 again. 368-7 vote."
    doc = tool.build(_sheet(phrase="16", n=2), _source(text))
    [span] = doc["figures"][0]["spans"]
    assert text[span["start"] : span["end"]] == "16" and span["start"] == text.index("16 again")
    assert doc["actors"][0]["spans"] == [{"start": 2, "end": 7, "text": "Reyes"}]
    inside = tool.build(_sheet(phrase="7", within="368-7"), _source(text))
    assert inside["figures"][0]["spans"][0]["start"] == text.index("368-7") + 4


@pytest.mark.parametrize(
    ("figure", "message"),
    [
        ({"phrase": "17"}, "not in the text"),
        ({"phrase": "16"}, "occurs 2 times; give n"),
        ({"phrase": "16", "n": 3}, "occurs 2 times, not 3"),
    ],
)
def test_a_missing_or_ambiguous_phrase_is_refused(figure: dict, message: str) -> None:
    with pytest.raises(tool.SheetError, match=message):
        tool.build(_sheet(**figure), _source("Reyes said 16.5 million, 16 more, 16 again."))


@pytest.mark.parametrize("sheet", SHEETS, ids=[s.stem for s in SHEETS])
def test_every_sheet_gives_its_committed_file(sheet: Path) -> None:
    data = json.loads(sheet.read_text(encoding="utf-8"))
    sources, _ = scan_sources(REPO / "seeds")
    [source] = [s for s in sources if s.id == data["document"]]
    committed = REPO / "datasets" / "annotations" / f"{data['document']}.json"
    assert tool.build(data, source) == json.loads(committed.read_text(encoding="utf-8"))


def test_the_held_out_split_is_made_of_sheets() -> None:
    """The held-out stories all come from sheets; a retired held-out set keeps its sheets
    (it joined the development set), so every sheet is held out now or was."""
    held = SPLITS["held_out"]["documents"]
    retired = {d for r in SPLITS["retired_held_out"] for d in r["documents"]}
    stems = {s.stem for s in SHEETS}
    # at least 8 stories per held-out set (issue 12), but the sixth: it is every story of
    # seeds/voa with a number that nobody had read (7), and splits.json says so
    whole_pool = "last never-read stories" in SPLITS["held_out"]["draw"]["rule"]
    assert len(held) >= (7 if whole_pool else 8)
    assert set(held) <= stems and stems <= set(held) | retired
    assert not set(held) & set(SPLITS["joined_development"]["documents"])
    assert not set(held) & retired


SECOND = sorted((REPO / "datasets" / "sheets" / "second-reading").glob("*.json"))
SPLITS = json.loads((REPO / "datasets" / "splits.json").read_text(encoding="utf-8"))
# every held-out set read twice, with the figure-span overlap F1 of its two readings
# as BENCHMARKS.md records it: set 5 (seed 20261205, retired) and set 6 (the current)
(SET_5,) = (r for r in SPLITS["retired_held_out"] if r.get("draw", {}).get("seed") == 20261205)
READ_TWICE = {
    "set 5": (SET_5["documents"], 0.877),
    "set 6": (SPLITS["held_out"]["documents"], 1.0),
}


def test_the_second_reading_is_of_held_out_sets_only() -> None:
    read_twice = {d for docs, _ in READ_TWICE.values() for d in docs}
    assert {s.stem for s in SECOND} == read_twice


@pytest.mark.parametrize("name", sorted(READ_TWICE))
def test_the_second_reading_builds_outside_the_dataset_and_agreement_compares_it(
    name: str, tmp_path: Path
) -> None:
    """An independent second reading of a held-out set (another annotator id), built with
    --out into its own folder: the dataset's files are not touched, and the project's
    agreement measure compares it with the first reading."""
    docs, f1 = READ_TWICE[name]
    before = {p: p.read_bytes() for p in (REPO / "datasets" / "annotations").glob("*.json")}
    second = tmp_path / "second"
    second.mkdir()
    sheets = [REPO / "datasets" / "sheets" / "second-reading" / f"{d}.json" for d in docs]
    assert tool.main(["--out", str(second), *map(str, sheets)]) == 0
    assert {p: p.read_bytes() for p in before} == before
    first = tmp_path / "first"
    first.mkdir()
    for doc in docs:
        committed = REPO / "datasets" / "annotations" / f"{doc}.json"
        (first / f"{doc}.json").write_bytes(committed.read_bytes())
    annotations = agr.load_annotations(tmp_path)
    assert {a.annotator for a in annotations} == {"sitrep-editors", "sitrep-editors-second"}
    summary = agr.agreement(annotations).summary()
    assert summary["documents"] == len(docs)
    assert summary["span_f1"]["Figure"]["overlap_f1"] == pytest.approx(f1, abs=0.0005)
    assert summary["alpha"]["figures.realis"] == 1.0


def test_out_must_be_an_existing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert tool.main(["--out", str(tmp_path / "missing"), str(SECOND[0])]) == 2
    assert "[out.missing] expected an existing folder" in capsys.readouterr().err
