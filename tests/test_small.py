"""`sitrep validate`'s two paths give one report: the per-document path that small inputs
take (no Polars) and the table path (`load_dataset`), on every catalogue case at once,
on randomly broken documents, on files that do not parse and on repeated document ids.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

from conftest import build_valid_doc  # tests/ is on sys.path (pytest's rootdir import)
from test_catalogue import CASES
from test_table_rules import _break

from sitrep.schema.report import Code, Issue, reading_order
from sitrep.testing.synthetic import generate_document
from sitrep.validate.dataset import load_dataset
from sitrep.validate.small import SMALL, check_paths

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "datasets" / "annotations"


def _write(folder: Path, name: str, doc: Any) -> Path:
    path = folder / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def _both(paths: list[Path]) -> tuple[dict[str, Any], dict[str, Any]]:
    small = check_paths(paths)
    tables = load_dataset(paths, keep_tables=False).report
    return small.to_dict(), tables.to_dict()


def test_the_catalogue_gives_one_report_on_both_paths(tmp_path: Path) -> None:
    for c in CASES:
        doc = build_valid_doc()
        c.mutate(doc)
        if isinstance(doc.get("document"), dict) and isinstance(doc["document"].get("id"), str):
            doc["document"]["id"] = f"doc-{c.id}"[:60]  # one id per file: no duplicate
        _write(tmp_path, f"{c.id}.json", doc)
    small, tables = _both([tmp_path])
    assert small == tables
    assert small["files_checked"] == len(CASES) >= 80
    assert len(small["issues"]) >= len(CASES)  # every case breaks something


def test_broken_files_and_repeated_ids_give_one_report(tmp_path: Path) -> None:
    gold = json.loads((GOLD / "seed-8128c0eee969d3a6.json").read_text(encoding="utf-8"))
    _write(tmp_path, "a.json", gold)
    twin = copy.deepcopy(gold)
    twin["figures"][0]["low"] = 10**9  # the id is taken: reported, and still checked in full
    _write(tmp_path, "b.json", twin)
    (tmp_path / "c.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "d.json").write_bytes(b"")
    (tmp_path / "e.json").write_bytes(b"\xef\xbb\xbf{}")
    bundle = [build_valid_doc(), build_valid_doc()]
    bundle[1]["document"]["id"] = "doc-two"
    bundle[1]["figures"][0]["low"] = 10**9
    (tmp_path / "f.jsonl").write_text("\n".join(json.dumps(d) for d in bundle) + "\n")
    paths = [tmp_path, tmp_path / "missing.json", tmp_path / "empty"]
    (tmp_path / "empty").mkdir()
    small, tables = _both(paths)
    assert small == tables
    codes = [(i["file"].replace(str(tmp_path), ""), i["code"]) for i in small["issues"]]
    assert ("/b.json", "id.duplicate") in codes
    assert ("/b.json", "figure.interval") in codes
    assert {"file.json", "file.empty", "file.encoding", "path.missing", "path.empty"} <= {
        c for _, c in codes
    }
    assert ("/f.jsonl:2", "figure.interval") in codes
    assert small["files_checked"] == 5  # documents read: a, b, c and the two lines of f
    assert small["counts"]["documents"] == 3  # a, and the two lines of f.jsonl


def test_randomly_broken_documents_give_one_report(tmp_path: Path) -> None:
    rng = random.Random(12)
    for i in range(80):
        doc = generate_document(3, i, events=3, figures=5)
        _break(doc, rng)
        _write(tmp_path, f"doc-{i}.json", doc)
    small, tables = _both([tmp_path])
    assert small == tables
    assert len({i["file"] for i in small["issues"]}) >= 40


def _streamed(paths: list[Path], small: int) -> tuple[list[Issue], list[Issue]]:
    batches: list[list[Issue]] = []
    report = check_paths(paths, on_issues=batches.append, small=small)
    return [i for batch in batches for i in batch], report.issues


def test_issues_are_streamed_once_on_both_paths(tmp_path: Path) -> None:
    for i in range(12):
        doc = build_valid_doc()
        doc["document"]["id"] = f"doc-{i}"
        doc["figures"][0]["low"] = 10**9 if i % 3 else doc["figures"][0]["low"]
        _write(tmp_path, f"doc-{i}.json", doc)
    _write(tmp_path, "doc-twin.json", build_valid_doc() | {"document": doc["document"]})
    for small in (SMALL, 0):  # 0 sends everything through the tables
        streamed, reported = _streamed([tmp_path, tmp_path / "gone.json"], small)
        assert sorted(streamed, key=reading_order) == reported
        assert len(reported) == 8 * 2 + 1 + 1  # 8 figures (interval, qualifier), twin, path
        assert {Code.ID_DUPLICATE, Code.PATH_MISSING} <= {i.code for i in reported}


def _pulled(gold: Any, annotation: int, annotator: str) -> Any:
    doc = copy.deepcopy(gold)
    doc["provenance"]["annotators"] = [annotator]
    doc["provenance"]["label_studio"] = {
        "project_id": 1,
        "task_id": 7,
        "annotation_ids": [annotation],
        "config_sha256": None,
        "ground_truth": False,
    }
    return doc


def test_a_pulled_per_annotator_folder_is_not_a_set_of_duplicates(tmp_path: Path) -> None:
    """datasets/label-studio/<project>/annotations/<document>/<annotation>.json holds one
    file per annotation: one document id in several files is expected there. The same
    annotation in two files is still a copy, and a second file's own problems are still
    reported."""
    gold = json.loads((GOLD / "seed-8128c0eee969d3a6.json").read_text(encoding="utf-8"))
    folder = tmp_path / "annotations" / gold["document"]["id"]
    folder.mkdir(parents=True)
    _write(folder, "31.json", _pulled(gold, 31, "ann1@example.org"))
    second = _pulled(gold, 32, "ann2@example.org")
    _write(folder, "32.json", second)
    small, tables = _both([tmp_path / "annotations"])
    assert small == tables
    assert small["issues"] == [] and small["counts"]["documents"] == 2

    second["figures"][0]["low"] = 10**9  # the second annotator's own mistake
    _write(folder, "32.json", second)
    _write(folder, "copy-of-31.json", _pulled(gold, 31, "ann1@example.org"))
    small, tables = _both([tmp_path / "annotations"])
    assert small == tables
    codes = {(Path(i["file"]).name, i["code"]) for i in small["issues"]}
    assert {("32.json", "figure.interval"), ("copy-of-31.json", "id.duplicate")} <= codes
    assert {c for f, c in codes if f == "copy-of-31.json"} == {"id.duplicate"}
    assert not {f for f, c in codes if c == "id.duplicate"} - {"copy-of-31.json"}
    assert "one file per annotation" in next(
        i["expected"] for i in small["issues"] if i["code"] == "id.duplicate"
    )
