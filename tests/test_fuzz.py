"""Fuzzing validation (issue 11): Hypothesis mutates the seed and Voice of America gold
documents (wrong types, repeated keys, huge, negative and fractional numbers, unicode,
shifted offsets, missing and extra properties) and requires, for every mutant:

* no exception out of the CLI (`sitrep validate --format json`, run in-process) or the
  library (`validate_paths`, both engines);
* the two layers agreeing: the CLI (JSON Schema per document, then the tables) reports
  exactly the (code, pointer) pairs the per-document layer alone reports;
* the two engines agreeing on the verdict (jsonschema-rs and Python `jsonschema`).

`max_examples` is 60 in the suite (about 45-60 s on a loaded 2-core machine); search
longer with `SITREP_FUZZ_EXAMPLES=2000 .venv/bin/python -m pytest tests/test_fuzz.py`.
What it finds becomes a regular case in tests/data/hostile/.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sitrep.cli import app
from sitrep.schema.validation import validate_paths

ROOT = Path(__file__).resolve().parents[1]
GOLD = [
    json.loads((ROOT / "datasets" / "annotations" / name).read_text(encoding="utf-8"))
    for name in ("seed-8128c0eee969d3a6.json", "voa-6181132.json", "voa-8006924.json")
]
runner = CliRunner()

HOSTILE_VALUES = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**31 - 1, 2**31, 2**53 - 1, 2**53, 2**53 + 1, 2**63, 2**64, -1, 0]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.text(max_size=20),
    st.sampled_from(["1.0.0\n", "act-x\n", "2020-06-30T23:59:60Z", "2026-11-27t00:00:00z", ""]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _paths(node: Any, where: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a document a value sits (object properties and list items)."""
    out = [where] if where else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*where, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*where, i))
    return out


def _place(doc: Any, path: tuple[Any, ...]) -> tuple[Any, Any]:
    node = doc
    for part in path[:-1]:
        node = node[part]
    return node, path[-1]


@st.composite
def mutants(draw: st.DrawFn) -> bytes:
    doc = copy.deepcopy(draw(st.sampled_from(GOLD)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(doc)
        if not paths:
            break
        parent, key = _place(doc, draw(st.sampled_from(paths)))
        action = draw(st.sampled_from(["set", "set", "delete", "shift", "unicode", "extra"]))
        if action == "set":
            parent[key] = draw(HOSTILE_VALUES)
        elif action == "delete" and isinstance(parent, dict):
            del parent[key]
        elif (
            action == "shift" and isinstance(parent[key], int) and not isinstance(parent[key], bool)
        ):
            parent[key] += draw(st.integers(min_value=-3, max_value=3))
        elif action == "unicode" and isinstance(parent[key], str):
            at = draw(st.integers(min_value=0, max_value=len(parent[key])))
            parent[key] = (
                parent[key][:at] + draw(st.text(min_size=1, max_size=3)) + parent[key][at:]
            )
        elif action == "extra" and isinstance(parent[key], dict):
            parent[key][draw(st.text(max_size=8))] = draw(HOSTILE_VALUES)
    raw = json.dumps(doc, ensure_ascii=draw(st.booleans()))
    if draw(st.integers(min_value=0, max_value=4)) == 0:  # a repeated key, sometimes
        at = raw.find('"id": ', draw(st.integers(min_value=0, max_value=len(raw))))
        if at > 0:
            end = raw.index(",", at) if "," in raw[at:] else len(raw) - 1
            raw = raw[:at] + raw[at:end] + ", " + raw[at:]
    return raw.encode("utf-8", "surrogatepass")


def _links(raw: bytes, target: Path) -> set[tuple[str, str]]:
    """The (code, pointer) of the issues of a document's links to the dataset-wide files
    (the registry's entities, the event clusters and quantities, the documents a cluster
    lists) that `sitrep validate` adds to the per-document layer."""
    from sitrep.schema.clusters import check_links, open_clusters
    from sitrep.schema.validation import parse_raw
    from sitrep.validate.cluster_documents import check_documents
    from sitrep.validate.registry import entity_issues, open_registry

    doc, issue = parse_raw(raw, str(target))
    if issue is not None:
        return set()
    clusters = open_clusters([target])
    found = check_links(doc, str(target), clusters)
    found += entity_issues(doc, str(target), open_registry([target]))
    found += check_documents([target], clusters)
    return {(i.code.value, i.pointer) for i in found}


def _pairs(issues: list[dict[str, str]]) -> set[tuple[str, str]]:
    return {(i["code"], i["pointer"]) for i in issues}


@settings(
    max_examples=int(os.environ.get("SITREP_FUZZ_EXAMPLES", "60")),
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(raw=mutants())
def test_no_exception_layers_and_engines_agree(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "mutant.json"
        target.write_bytes(raw)
        result = runner.invoke(app, ["validate", str(target), "--format", "json"])
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(
            result.exception
        )
        cli = json.loads(result.output)
        rust = validate_paths([target]).to_dict()
        python = validate_paths([target], engine_name="python").to_dict()
        links = _links(raw, target)  # what the per-document layer adds across documents
    assert result.exit_code == (0 if cli["valid"] else 1)
    assert _pairs(cli["issues"]) == _pairs(rust["issues"]) | links  # type: ignore[arg-type]
    assert cli["valid"] == (rust["valid"] and not links)
    assert rust["valid"] == python["valid"]
