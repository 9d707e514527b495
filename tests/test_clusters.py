"""The clusters file (`datasets/entities/clusters.json`) and the cluster and quantity
rules: the file is valid and complete for the issue-15 stories and the seed, each broken
link is reported with its code on both validation paths (one report), and a broken
clusters file is reported by `sitrep validate` with file, pointer and code."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sitrep.cli import app
from sitrep.schema.clusters import load_clusters
from sitrep.validate.dataset import load_dataset
from sitrep.validate.small import check_paths

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "datasets" / "annotations"
CLUSTERS = ROOT / "datasets" / "entities" / "clusters.json"
SEED = "seed-8128c0eee969d3a6"


def _gold(name: str) -> Any:
    return json.loads((GOLD / f"{name}.json").read_text(encoding="utf-8"))


def test_the_clusters_file_is_valid_and_every_link_resolves() -> None:
    clusters, issues = load_clusters(CLUSTERS)
    assert issues == []
    assert len(clusters.event_clusters) == 70
    assert len(clusters.quantities) == 59
    report = check_paths([GOLD], clusters=CLUSTERS)
    assert report.valid, report.issues[:3]
    events = figures = 0
    for path in sorted(GOLD.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        events += sum(e["cluster"] is not None for e in doc["events"])
        figures += sum(f["quantity"] is not None for f in doc["figures"])
        for e in doc["events"]:  # every event in a cluster is in a document it lists
            if e["cluster"]:
                assert doc["document"]["id"] in clusters.event_clusters[e["cluster"]].documents
    assert (events, figures) == (155, 117)


def test_every_seed_event_has_a_cluster_and_its_counts_have_quantities() -> None:
    seed = _gold(SEED)
    assert all(e["cluster"] for e in seed["events"])
    quantities = {f["id"]: f["quantity"] for f in seed["figures"]}
    assert quantities["fig-150-transferred"] == "q-isis-detainees-moved-to-iraq"
    assert quantities["fig-7000-scheduled"] == "q-isis-detainees-scheduled-for-transfer"
    assert quantities["fig-8400-held"] == "q-sdf-held-isis-detainees"
    assert quantities["fig-120-escaped"] == "q-al-shaddadi-escaped"
    assert quantities["fig-81-recaptured"] == "q-al-shaddadi-recaptured"
    # the first move and the planned ones are one real-world event
    events = {e["id"]: e["cluster"] for e in seed["events"]}
    assert events["evt-transfer-150"] == events["evt-transfer-planned"]


def _broken_seed() -> Any:
    doc = copy.deepcopy(_gold(SEED))
    doc["events"][0]["cluster"] = "ec-no-such-event"
    doc["figures"][0]["quantity"] = "q-no-such-quantity"
    doc["figures"][2]["counted"] = "people_killed"  # fig-8400-held: its quantity counts detained
    doc["figures"][5]["event"] = "evt-recapture"  # fig-120-escaped: now in the recapture cluster
    return doc


EXPECTED = [
    ("cluster.unknown", "/events/0/cluster", "ec-no-such-event"),
    ("quantity.unknown", "/figures/0/quantity", "q-no-such-quantity"),
    ("quantity.measure", "/figures/2/counted", "people_killed"),
    ("quantity.event_cluster", "/figures/5/quantity", "ec-al-shaddadi-escapees-recaptured"),
]


@pytest.mark.parametrize("small", [1_000, 0])
def test_broken_links_are_reported_on_both_paths(tmp_path: Path, small: int) -> None:
    (tmp_path / "seed.json").write_text(json.dumps(_broken_seed()), encoding="utf-8")
    report = check_paths([tmp_path], clusters=CLUSTERS, small=small)
    found = [(i.code.value, i.pointer, i.found) for i in report.issues]
    assert found == EXPECTED
    measure = report.issues[2]
    assert measure.expected == "people_detained" and measure.file.endswith("seed.json")
    assert report.issues[0].expected == f"the id of an event cluster in {CLUSTERS}"
    assert report.issues[3].expected == "ec-al-shaddadi-prison-escape"


def test_both_paths_give_one_report_on_broken_links(tmp_path: Path) -> None:
    (tmp_path / "seed.json").write_text(json.dumps(_broken_seed()), encoding="utf-8")
    other = _gold("voa-8006651")
    other["figures"][0]["unit"] = "event"
    (tmp_path / "other.json").write_text(json.dumps(other), encoding="utf-8")
    small = check_paths([tmp_path], clusters=CLUSTERS).to_dict()
    tables = load_dataset([tmp_path], keep_tables=False, clusters=CLUSTERS).report.to_dict()
    assert small == tables
    assert len(small["issues"]) == len(EXPECTED) + (other["figures"][0]["quantity"] is not None)


def _clusters(tmp_path: Path, edit: Any) -> Path:
    data = json.loads(CLUSTERS.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "clusters.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _repeat_quantity(data: Any) -> None:
    data["quantities"].append(dict(data["quantities"][0]))


def _orphan_quantity(data: Any) -> None:
    data["quantities"][0]["event_cluster"] = "ec-nowhere"


def _bad_counted(data: Any) -> None:
    data["quantities"][1]["counted"] = "bananas"


@pytest.mark.parametrize(
    ("edit", "code", "pointer"),
    [
        (_repeat_quantity, "clusters.duplicate_id", "/quantities/59/id"),
        (_orphan_quantity, "clusters.unknown_cluster", "/quantities/0/event_cluster"),
        (_bad_counted, "clusters.schema", "/quantities/1/counted"),
    ],
)
def test_a_broken_clusters_file_fails_validate(
    tmp_path: Path, edit: Any, code: str, pointer: str
) -> None:
    path = _clusters(tmp_path, edit)
    result = CliRunner().invoke(
        app, ["validate", str(GOLD / f"{SEED}.json"), "--clusters", str(path), "-f", "json"]
    )
    assert result.exit_code == 1, result.output
    issues = json.loads(result.output)["issues"]
    # only the file's own problem: a figure is not also blamed for differing from a
    # quantity that is itself wrong (which issue sorts first once depended on the paths)
    assert [(i["code"], i["pointer"], i["file"]) for i in issues] == [(code, pointer, str(path))]


def test_a_quantity_of_an_unknown_cluster_makes_its_figures_unknown_too(tmp_path: Path) -> None:
    path = _clusters(tmp_path, lambda d: d["quantities"].clear())
    report = check_paths([GOLD / f"{SEED}.json"], clusters=path)
    codes = {i.code.value for i in report.issues}
    assert codes == {"quantity.unknown"}
    assert len(report.issues) == 7  # the seed's seven figures


@pytest.mark.parametrize("small", [1_000, 0])
def test_links_without_a_clusters_file_are_reported_once_per_document(
    tmp_path: Path, small: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "dataset"
    (root / "datasets" / "annotations").mkdir(parents=True)
    (root / "seeds").mkdir()
    seed = _gold(SEED)
    (root / "datasets" / "annotations" / "seed.json").write_text(json.dumps(seed), encoding="utf-8")
    monkeypatch.setenv("SITREP_HOME", str(root))  # the project has no clusters file either
    report = check_paths([root / "datasets" / "annotations"], small=small)
    missing = [
        (i.code.value, i.pointer) for i in report.issues if i.code.value.startswith("clusters")
    ]
    assert missing == [("clusters.missing", "/events/0/cluster")]


@pytest.mark.parametrize("small", [1_000, 0])
def test_an_unreadable_clusters_file_is_one_problem(tmp_path: Path, small: int) -> None:
    broken = tmp_path / "clusters.json"
    broken.write_text("{not json", encoding="utf-8")
    report = check_paths([GOLD / f"{SEED}.json"], clusters=broken, small=small)
    assert [(i.code.value, i.file) for i in report.issues] == [("file.json", str(broken))]
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    report = check_paths([GOLD / f"{SEED}.json"], clusters=fifo, small=small)
    assert [(i.code.value, i.file) for i in report.issues] == [("path.special", str(fifo))]


def test_a_schema_problem_of_the_clusters_file_reads_like_a_documents(tmp_path: Path) -> None:
    """A value outside a vocabulary reads "is not one of ...", not the internals of a
    failed oneOf (the vocabularies are flattened as for documents)."""

    def edit(data: Any) -> None:
        data["quantities"][1]["counted"] = "bananas"
        data["quantities"][2]["unit"] = 5

    _, issues = load_clusters(_clusters(tmp_path, edit))
    schema = [i for i in issues if i.code.value == "clusters.schema"]
    assert [i.pointer for i in schema] == ["/quantities/1/counted", "/quantities/2/unit"]
    for issue in schema:
        for text in (issue.message, issue.expected, issue.found):
            assert "oneOf" not in text and "Failed validating" not in text and "\n" not in text
        assert "is not one of" in issue.message and issue.expected.startswith("one of: ")
    assert "people_killed" in schema[0].expected and schema[0].found == '"bananas"'
    assert "person" in schema[1].expected and schema[1].found == "5"


def test_the_summary_counts_the_clusters_file_apart_from_the_documents(tmp_path: Path) -> None:
    path = _clusters(tmp_path, _bad_counted)
    result = CliRunner().invoke(
        app, ["validate", str(GOLD / f"{SEED}.json"), "--clusters", str(path)]
    )
    assert result.exit_code == 1, result.output
    last = result.output.splitlines()[-1]
    assert last.startswith("FAILED: ") and last.endswith(
        f" in 0 of 1 file(s) and in {path}"
    )  # the seed is fine: only the clusters file is wrong


def _dataset_with_clusters(tmp_path: Path) -> tuple[Path, Path]:
    """The whole gold as a dataset next to its clusters file (and registry)."""
    folder = tmp_path / "datasets" / "annotations"
    folder.mkdir(parents=True)
    for path in GOLD.glob("*.json"):
        (folder / path.name).write_bytes(path.read_bytes())
    entities = tmp_path / "datasets" / "entities"
    entities.mkdir()
    for name in ("clusters.json", "registry.json"):
        (entities / name).write_bytes((CLUSTERS.parent / name).read_bytes())
    return folder, entities / "clusters.json"


def test_a_clusters_documents_must_be_the_documents_that_carry_it(tmp_path: Path) -> None:
    folder, path = _dataset_with_clusters(tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    at = next(i for i, c in enumerate(data["event_clusters"]) if len(c["documents"]) > 1)
    cluster = data["event_clusters"][at]["id"]
    doc_id = data["event_clusters"][at]["documents"].pop(0)  # carried, no longer listed
    data["event_clusters"][at]["documents"].append("doc-nowhere")  # not in the dataset
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    doc = json.loads((folder / f"{doc_id}.json").read_text(encoding="utf-8"))
    event = next(i for i, e in enumerate(doc["events"]) if e.get("cluster") == cluster)
    small = check_paths([folder], complete=True)
    tables = load_dataset([folder], keep_tables=False, complete=True).report
    assert small.to_dict() == tables.to_dict()
    n = len(data["event_clusters"][at]["documents"]) - 1
    assert sorted((i.code.value, i.file, i.pointer, i.found) for i in small.issues) == sorted([
        ("cluster.documents", str(path), f"/event_clusters/{at}/documents/{n}", "doc-nowhere"),
        ("cluster.documents", str(folder / f"{doc_id}.json"), f"/events/{event}/cluster",
         f"documents of {cluster} without {doc_id}"),
    ])  # fmt: skip
    assert all(cluster in i.message for i in small.issues)
    result = CliRunner().invoke(app, ["validate", str(folder), "--complete", "-f", "json"])
    assert result.exit_code == 1 and "doc-nowhere" in result.output
    # without --complete, the listing of a document not checked is not a problem
    assert [i.found for i in check_paths([folder]).issues] == [
        f"documents of {cluster} without {doc_id}"
    ]
    # one file checked: its own clusters only, never other documents reported as missing
    one = check_paths([folder / f"{doc_id}.json"])
    assert [(i.code.value, i.pointer) for i in one.issues] == [
        ("cluster.documents", f"/events/{event}/cluster")
    ]


def test_a_cluster_listing_a_document_whose_events_do_not_carry_it(tmp_path: Path) -> None:
    folder, path = _dataset_with_clusters(tmp_path)
    seed = folder / f"{SEED}.json"
    doc = json.loads(seed.read_text(encoding="utf-8"))
    carried = doc["events"][0]["cluster"]
    for event in doc["events"]:
        if event.get("cluster") == carried:
            event["cluster"] = None  # the cluster still lists the document
    seed.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    issues = check_paths([folder], complete=True).issues
    assert [(i.code.value, i.file, i.found) for i in issues] == [
        ("cluster.documents", str(path), doc["document"]["id"])
    ]
    assert carried in issues[0].message
    # without --complete the file may be a copy checked outside the dataset (the hostile
    # corpus holds older versions of the seed): the clusters file does not describe it
    for target in (folder, seed):
        assert check_paths([target]).issues == []


@pytest.mark.parametrize("doc_id", ["", "Seed 8128", "seed-8128c0eee969d3a6\n"])
def test_a_document_whose_id_breaks_the_pattern_has_only_that_problem(
    tmp_path: Path, doc_id: str
) -> None:
    # found by tests/test_fuzz.py: an empty document id gave one cluster.documents problem
    # per cluster its events carry, on the CLI path only, beside the schema.pattern one
    doc = _gold(SEED)
    assert any(event.get("cluster") for event in doc["events"])
    doc["document"]["id"] = doc_id
    target = tmp_path / "mutant.json"
    target.write_text(json.dumps(doc), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(target), "-f", "json"])
    assert result.exit_code == 1
    assert {(i["code"], i["pointer"]) for i in json.loads(result.output)["issues"]} == {
        ("schema.pattern", "/document/id")
    }
    assert [i.code.value for i in check_paths([target]).issues] == ["schema.pattern"]


def test_a_valid_id_not_listed_by_its_clusters_is_reported(tmp_path: Path) -> None:
    doc = _gold(SEED)
    doc["document"]["id"] = "seed-copy"
    target = tmp_path / "copy.json"
    target.write_text(json.dumps(doc), encoding="utf-8")
    clusters = {e["cluster"] for e in doc["events"] if e.get("cluster")}
    issues = check_paths([target]).issues
    assert {i.code.value for i in issues} == {"cluster.documents"}
    assert len(issues) == len(clusters)
