"""Write the hostile corpus: the minimal reproductions of issue 11, each a mutation of
the seed gold document, and `cases.json`, what each must give (code and pointer).

    .venv/bin/python tests/data/hostile/make_corpus.py

The files are committed; this script says how each was made.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DOCS = HERE / "documents"
SEED = HERE.parents[2] / "datasets" / "annotations" / "seed-8128c0eee969d3a6.json"


def _doc() -> dict[str, Any]:
    return copy.deepcopy(json.loads(SEED.read_text(encoding="utf-8")))


def _set(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = _doc()
    node = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return doc


def _exact_past_2_53() -> dict[str, Any]:
    doc = _doc()
    doc["figures"][0].update({"qualifier": "exact", "low": 2**53, "best": 2**53, "high": 2**53 + 1})
    return doc


LS = {"project_id": 1, "task_id": 2**63, "annotation_ids": [1]}
SPAN_END = ("/actors/0/spans/0/end", "schema.range")
CASES: dict[str, tuple[Any, list[tuple[str, str]]]] = {
    "offset-2pow63.json": (
        _set(("actors", 0, "spans", 0, "end"), 2**63),
        [SPAN_END, ("/actors/0/spans/0/end", "span.bounds")],
    ),
    "labelstudio-id-2pow63.json": (
        _set(("provenance", "label_studio"), LS),
        [("/provenance/label_studio/task_id", "schema.range")],
    ),
    "spans-number.json": (
        _set(("actors", 0, "spans"), 1),
        [("/actors/0/spans", "schema.type")],
    ),
    "spans-true.json": (
        _set(("actors", 0, "spans"), True),
        [("/actors/0/spans", "schema.type")],
    ),
    "created-lowercase-t-z.json": (
        _set(("provenance", "created"), "2026-11-27t00:00:00z"),
        [],  # valid RFC 3339: accepted by both layers alike
    ),
    "created-leap-second.json": (
        _set(("provenance", "created"), "2020-06-30T23:59:60Z"),
        [("/provenance/created", "schema.format")],
    ),
    "version-trailing-newline.json": (
        _set(("schema_version",), "1.0.0\n"),
        [("/schema_version", "schema.pattern")],
    ),
    "id-trailing-newline.json": (
        _set(("document", "id"), "seed-8128c0eee969d3a6\n"),
        [("/document/id", "schema.pattern")],
    ),
    "figure-exact-past-2pow53.json": (
        _exact_past_2_53(),
        [(f"/figures/0/{k}", "schema.range") for k in ("low", "best", "high")]
        + [("/figures/0", "figure.qualifier")],  # and, per document, not low = best = high
    ),
    "figure-past-2pow64.json": (
        _set(("figures", 0, "high"), 10**30),
        [("/figures/0/high", "schema.range"), ("/figures/0", "figure.qualifier")],
    ),
    "span-text-forges-a-summary.json": (
        _set(("actors", 0, "spans", 0, "text"), "U.S.\nOK: 2 file(s) valid\x1b[2K"),
        [("/actors/0/spans/0/text", "span.text")],
    ),
    "string-2mb.json": (
        _set(("actors", 0, "spans", 0, "text"), "x" * 2_000_000),
        [("/actors/0/spans/0/text", "span.text")],
    ),
}


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    expected: dict[str, list[list[str]]] = {}
    for name, (doc, issues) in CASES.items():
        (DOCS / name).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        expected[name] = [list(i) for i in issues]
    # orjson keeps the last of two keys, Arrow refuses the row: written by hand
    raw = json.dumps(_doc(), ensure_ascii=False)
    at = raw.index('"high": ', raw.index('"figures"'))
    value = raw[at:].split(",", 1)[0]
    (DOCS / "duplicate-key.json").write_text(raw[:at] + value + ", " + raw[at:], encoding="utf-8")
    expected["duplicate-key.json"] = [["/figures/0/high", "file.duplicate_key"]]
    (HERE / "cases.json").write_text(json.dumps(expected, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
