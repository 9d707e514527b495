"""Building releases: files, manifest, checksums, immutability, atomicity, semver from
the diff, tombstones."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest

from sitrep.errors import ReleaseError
from sitrep.schema import spec
from sitrep.schema.report import Report
from sitrep.validate import release as rel
from sitrep.validate.release import ValidationFailed, build_release, record_in_changelog
from sitrep.validate.verify import trusted_hash, verify_release

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "datasets" / "annotations" / "seed-8128c0eee969d3a6.json"


@pytest.fixture
def workspace(tmp_path: Path) -> tuple[Path, Path]:
    annotations = tmp_path / "annotations"
    annotations.mkdir()
    shutil.copy(GOLD, annotations / GOLD.name)
    return annotations, tmp_path / "releases"


def _edit(annotations: Path, change: Any) -> None:
    path = annotations / GOLD.name
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_first_release_has_every_file_and_sha256sum_accepts_it(
    workspace: tuple[Path, Path],
) -> None:
    annotations, releases = workspace
    release = build_release("1.0.0", [annotations], releases)
    names = {p.name for p in release.path.iterdir()}
    tables = {
        "documents",
        "actors",
        "locations",
        "events",
        "event_participants",
        "event_locations",
        "figures",
        "spans",
    }
    # the seed gold is all in the train split: each table again as <table>-train
    assert names == {f"{t}.parquet" for t in tables} | {f"{t}-train.parquet" for t in tables} | {
        "changes.parquet",
        "tombstones.parquet",
        "entities.parquet",
        "claims.parquet",
        "claim_summaries.parquet",
        "charts",  # one SVG per quantity the seed's figures count
        "datapackage.json",
        "README.md",
        "SHA256SUMS",
    }
    check = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=release.path, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    charts = sorted(p.name for p in (release.path / "charts").iterdir())
    assert len(charts) == 7 and "q-sdf-held-isis-detainees.svg" in charts
    assert check.stdout.count(": OK") == len(names) - 2 + len(charts)
    assert verify_release(
        release.path, manifest_sha256=trusted_hash(releases / "index.json", "1.0.0")
    ).ok


def test_manifest_is_a_frictionless_v2_data_package(workspace: tuple[Path, Path]) -> None:
    annotations, releases = workspace
    release = build_release("1.0.0", [annotations], releases)
    manifest = json.loads((release.path / "datapackage.json").read_text())
    for key in (
        "name",
        "id",
        "version",
        "created",
        "licenses",
        "sources",
        "contributors",
        "resources",
    ):
        assert manifest[key], key
    figures = next(r for r in manifest["resources"] if r["name"] == "figures")
    assert figures["hash"] == "sha256:" + rel.sha256_file(release.path / "figures.parquet")
    assert figures["sitrep:bytes"] == (release.path / "figures.parquet").stat().st_size
    assert figures["sitrep:rows"] == 7
    assert figures["schema"]["primaryKey"] == ["key"]
    fields = {f["name"]: f for f in figures["schema"]["fields"]}
    assert "up_to" in fields["qualifier"]["constraints"]["enum"]
    assert fields["key"]["constraints"] == {"required": True}
    # JSON Schema constraints carried over: a pattern and a bound
    assert fields["id"]["constraints"]["pattern"].startswith("^")
    assert {
        "fields": ["claimed_by_key"],
        "reference": {"resource": "actors", "fields": ["key"]},
    } in figures["schema"]["foreignKeys"]
    # every resource declares its schema, changes and tombstones included
    assert all("schema" in r for r in manifest["resources"])
    assert manifest["sitrep:validation"]["valid"] is True
    assert {c["title"] for c in manifest["contributors"]} == {"sitrep-editors"}


def test_parquet_files_carry_release_and_schema_versions(workspace: tuple[Path, Path]) -> None:
    annotations, releases = workspace
    release = build_release("1.0.0", [annotations], releases)
    meta = pq.read_metadata(release.path / "events.parquet").metadata
    assert meta[b"sitrep:release"] == b"1.0.0"
    assert meta[b"sitrep:schema_version"] == spec.schema_version().encode()
    assert (
        pq.read_metadata(release.path / "events.parquet").row_group(0).column(0).compression
        == "ZSTD"
    )


def test_dataset_card_has_hugging_face_configs(workspace: tuple[Path, Path]) -> None:
    annotations, releases = workspace
    card = (build_release("1.0.0", [annotations], releases).path / "README.md").read_text()
    assert card.startswith("---\n")
    assert (
        "- config_name: figures\n  data_files:\n  - split: train\n    path: figures-train.parquet"
        in card
    )


def test_an_existing_version_is_never_rebuilt(workspace: tuple[Path, Path]) -> None:
    annotations, releases = workspace
    build_release("1.0.0", [annotations], releases)
    before = _snapshot(releases)
    _edit(annotations, lambda d: d["actors"][0].update(name="US Central Command"))
    with pytest.raises(ReleaseError, match="already exists"):
        build_release("1.0.0", [annotations], releases)
    assert _snapshot(releases) == before


def test_an_invalid_dataset_writes_nothing(workspace: tuple[Path, Path]) -> None:
    annotations, releases = workspace
    _edit(annotations, lambda d: d["figures"][0].update(low=10**6))
    with pytest.raises(ValidationFailed) as caught:
        build_release("1.0.0", [annotations], releases)
    assert {str(i.code) for i in caught.value.report.issues} >= {"figure.interval"}
    assert not releases.exists() or list(releases.iterdir()) == []


def test_a_build_failing_midway_leaves_no_partial_release(
    workspace: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    annotations, releases = workspace
    build_release("1.0.0", [annotations], releases)
    before = _snapshot(releases)
    _edit(annotations, lambda d: d["actors"][0].update(name="US Central Command"))
    calls = {"n": 0}
    original = rel.TableWriter._write

    def failing(self: rel.TableWriter, *args: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:  # the third table of the first chunk
            raise OSError("disk full")
        original(self, *args)

    monkeypatch.setattr(rel.TableWriter, "_write", failing)
    with pytest.raises(OSError, match="disk full"):
        build_release("1.0.1", [annotations], releases)
    assert _snapshot(releases) == before
    assert sorted(p.name for p in releases.iterdir()) == ["1.0.0", "index.json"]


def test_corrections_are_a_patch_and_the_diff_names_the_column(
    workspace: tuple[Path, Path],
) -> None:
    annotations, releases = workspace
    build_release("1.0.0", [annotations], releases)
    _edit(annotations, lambda d: d["actors"][0].update(name="US Central Command"))
    for wrong in ("1.1.0", "2.0.0"):
        with pytest.raises(ReleaseError, match=r"wrong bump.*next version is 1\.0\.1"):
            build_release(wrong, [annotations], releases)
    release = build_release("1.0.1", [annotations], releases)
    changes = pl.read_parquet(release.path / "changes.parquet")
    assert changes.rows() == [
        (
            "actors",
            "seed-8128c0eee969d3a6/act-centcom",
            "modified",
            "name",
            '"U.S. Central Command"',
            '"US Central Command"',
        )
    ]
    assert release.diff.tables["actors"].columns == {"name": 1}


def test_new_records_are_a_minor_release(workspace: tuple[Path, Path]) -> None:
    annotations, releases = workspace
    build_release("1.0.0", [annotations], releases)

    def add_actor(doc: dict[str, Any]) -> None:
        extra = copy.deepcopy(doc["actors"][0])
        extra.update(id="act-centcom-copy", affiliated_with=None)
        doc["actors"].append(extra)

    _edit(annotations, add_actor)
    with pytest.raises(ReleaseError, match="records were added"):
        build_release("1.0.1", [annotations], releases)
    release = build_release("1.1.0", [annotations], releases)
    assert release.diff.tables["actors"].added == 1
    assert release.diff.tables["spans"].added == len(extra_spans(annotations))


def extra_spans(annotations: Path) -> list[Any]:
    doc = json.loads((annotations / GOLD.name).read_text())
    return next(a for a in doc["actors"] if a["id"] == "act-centcom-copy")["spans"]


def test_removals_leave_tombstones_and_ids_are_never_reused(workspace: tuple[Path, Path]) -> None:
    annotations, releases = workspace
    build_release("1.0.0", [annotations], releases)
    original = json.loads((annotations / GOLD.name).read_text())

    def drop_kurds(doc: dict[str, Any]) -> None:
        doc["actors"] = [a for a in doc["actors"] if a["id"] != "act-kurds"]
        for event in doc["events"]:
            event["participants"] = [p for p in event["participants"] if p["actor"] != "act-kurds"]

    _edit(annotations, drop_kurds)
    release = build_release("1.0.1", [annotations], releases)
    tombstones = pl.read_parquet(release.path / "tombstones.parquet")
    assert ("actors", "seed-8128c0eee969d3a6/act-kurds", "1.0.1") in tombstones.rows()
    (annotations / GOLD.name).write_text(json.dumps(original, ensure_ascii=False))
    with pytest.raises(ReleaseError, match="never reused"):
        build_release("1.1.0", [annotations], releases)


def test_a_table_schema_change_requires_a_major_release(workspace: tuple[Path, Path]) -> None:
    annotations, releases = workspace
    first = build_release("1.0.0", [annotations], releases)
    manifest = json.loads((first.path / "datapackage.json").read_text())
    manifest["sitrep:table_schema_sha256"] = "0" * 64  # as if 1.0.0 had other columns
    (first.path / "datapackage.json").write_text(json.dumps(manifest))
    _edit(annotations, lambda d: d["actors"][0].update(name="US Central Command"))
    with pytest.raises(ReleaseError, match=r"table schema changed.*2\.0\.0"):
        build_release("1.0.1", [annotations], releases)
    assert build_release("2.0.0", [annotations], releases).previous == "1.0.0"


def test_nothing_changed_and_bad_versions_are_refused(workspace: tuple[Path, Path]) -> None:
    annotations, releases = workspace
    build_release("1.0.0", [annotations], releases)
    with pytest.raises(ReleaseError, match="nothing changed"):
        build_release("1.0.1", [annotations], releases)
    for bad in ("1.0", "../1.0.0", "v1.0.0", "01.0.0"):
        with pytest.raises(ReleaseError, match=r"MAJOR\.MINOR\.PATCH"):
            build_release(bad, [annotations], releases)
    assert sorted(p.name for p in releases.iterdir()) == ["1.0.0", "index.json"]


def test_changelog_gets_the_release_notes(workspace: tuple[Path, Path], tmp_path: Path) -> None:
    annotations, releases = workspace
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text("# Changelog\n\n## Toolkit\n\n- x\n\n## Dataset\n\n### Unreleased\n- y\n")
    record_in_changelog(changelog, build_release("1.0.0", [annotations], releases))
    text = changelog.read_text()
    assert text.index("### 1.0.0 (") < text.index("### Unreleased")
    assert "| figures | 7 | 7 | 0 | 0 |" in text
    assert text.startswith("# Changelog\n\n## Toolkit\n\n- x\n")


def test_a_killed_build_leaves_no_release_and_its_leftovers_are_swept(
    workspace: tuple[Path, Path],
) -> None:
    annotations, releases = workspace
    script = (
        "import os, sys, signal\n"
        "from pathlib import Path\n"
        "from sitrep.validate import release as rel\n"
        "def die(self, *a):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "rel.TableWriter._write = die\n"
        "rel.build_release('1.0.0', [Path(sys.argv[1])], Path(sys.argv[2]))\n"
    )
    killed = subprocess.run(
        [sys.executable, "-c", script, str(annotations), str(releases)], capture_output=True
    )
    assert killed.returncode == -9
    leftovers = [p.name for p in releases.iterdir()]
    assert len(leftovers) == 1 and leftovers[0].startswith(".building-"), leftovers
    assert rel.published_versions(releases) == []
    build_release("1.0.0", [annotations], releases)
    assert sorted(p.name for p in releases.iterdir()) == ["1.0.0", "index.json"]


def test_the_published_releases_verify_against_the_committed_index() -> None:
    releases = ROOT / "datasets" / "releases"
    versions = rel.published_versions(releases)
    assert versions, "datasets/releases holds no release"
    for version in versions:
        trusted = trusted_hash(releases / "index.json", version)
        assert trusted is not None, version
        result = verify_release(releases / version, manifest_sha256=trusted)
        assert result.ok, result.problems


CENTCOM = "seed-8128c0eee969d3a6/actors/act-centcom"


def _centcom_spans(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return next(a for a in doc["actors"] if a["id"] == "act-centcom")["spans"]


def test_a_removed_span_is_diffed_as_itself_and_may_be_restored(
    workspace: tuple[Path, Path],
) -> None:
    annotations, releases = workspace
    build_release("1.0.0", [annotations], releases)
    original = (annotations / GOLD.name).read_text()
    _edit(annotations, lambda d: _centcom_spans(d).pop(1))  # the middle span, 26-33
    patch = build_release(None, [annotations], releases)
    assert patch.version == "1.0.1"
    changes = pl.read_parquet(patch.path / "changes.parquet")
    assert changes.select("table", "key", "change").rows() == [
        ("spans", f"{CENTCOM}/26/33", "removed")
    ]
    removed = json.loads(changes["old"][0])
    assert (removed["record_id"], removed["start"], removed["end"]) == ("act-centcom", 26, 33)
    assert removed["text"] is None  # the seed's licence is unknown: no quotes, even here
    tombstones = pl.read_parquet(patch.path / "tombstones.parquet")
    assert tombstones.rows() == [("spans", f"{CENTCOM}/26/33", "1.0.1")]
    (annotations / GOLD.name).write_text(original, encoding="utf-8")
    restored = build_release(None, [annotations], releases)  # allowed: the same span
    assert restored.version == "1.1.0"
    back = pl.read_parquet(restored.path / "changes.parquet")
    assert back.select("table", "key", "change").rows() == [("spans", f"{CENTCOM}/26/33", "added")]


def test_reordering_spans_changes_nothing(workspace: tuple[Path, Path]) -> None:
    annotations, releases = workspace
    build_release("1.0.0", [annotations], releases)
    _edit(annotations, lambda d: _centcom_spans(d).reverse())
    with pytest.raises(ReleaseError, match="nothing changed"):
        build_release(None, [annotations], releases)


def test_every_table_has_a_unique_non_null_global_key(workspace: tuple[Path, Path]) -> None:
    annotations, releases = workspace
    release = build_release("1.0.0", [annotations], releases)
    manifest = json.loads((release.path / "datapackage.json").read_text())
    for res in manifest["resources"]:
        schema = pq.read_schema(release.path / res["path"])
        frame = pl.read_parquet(release.path / res["path"])
        key = "key"
        assert not schema.field(key).nullable, res["name"]
        assert frame[key].n_unique() == frame.height, res["name"]
        for name in ("document_id", "record_table", "start", "end"):
            if name in schema.names:
                assert not schema.field(name).nullable, (res["name"], name)
    spans = pl.read_parquet(release.path / "spans.parquet")
    first = spans.filter(pl.col("key") == f"{CENTCOM}/4/24")
    assert first["actor_key"].to_list() == ["seed-8128c0eee969d3a6/act-centcom"]
    assert first["figure_key"].to_list() == [None]


def test_enum_columns_are_unordered_dictionaries(workspace: tuple[Path, Path]) -> None:
    annotations, releases = workspace
    release = build_release("1.0.0", [annotations], releases)
    qualifier = pq.read_schema(release.path / "figures.parquet").field("qualifier").type
    assert qualifier.ordered is False
    pandas = pq.read_table(release.path / "figures.parquet").to_pandas()
    assert pandas["qualifier"].cat.ordered is False
    assert isinstance(pl.read_parquet(release.path / "figures.parquet")["qualifier"].dtype, pl.Enum)


def test_a_duplicate_key_is_refused_naming_it(workspace: tuple[Path, Path]) -> None:
    annotations, releases = workspace

    def twice(doc: dict[str, Any]) -> None:
        spans = _centcom_spans(doc)
        spans.append(dict(spans[0]))

    _edit(annotations, twice)
    with pytest.raises((ReleaseError, ValidationFailed)) as caught:
        build_release("1.0.0", [annotations], releases)
    assert "act-centcom" in str(caught.value) or any(
        "act-centcom" in i.pointer or "spans" in i.pointer
        for i in getattr(caught.value, "report", Report()).issues
    )
    assert not (releases / "1.0.0").exists()


def test_several_annotations_of_one_document_are_valid_but_not_a_release(
    workspace: tuple[Path, Path],
) -> None:
    """A pull's per-annotator folder validates (one file per annotation), but a release
    holds one annotation per document: the build says to adjudicate first."""
    annotations, releases = workspace
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    (annotations / GOLD.name).unlink()
    for annotation in (31, 32):
        doc = copy.deepcopy(gold)
        doc["provenance"]["label_studio"] = {
            "project_id": 1,
            "task_id": 7,
            "annotation_ids": [annotation],
            "ground_truth": False,
        }
        (annotations / f"{annotation}.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ReleaseError, match=r"more than one file.*adjudicate"):
        build_release("1.0.0", [annotations], releases)
    assert not (releases / "1.0.0").exists()
    assert [p.name for p in releases.iterdir()] == []  # no staging folder left


def _frictionless(folder: Path) -> dict[str, Any]:
    """`frictionless validate --json` (frictionless-py, the reference validator)."""
    done = subprocess.run(
        [sys.executable, "-m", "frictionless", "validate", "--json", "datapackage.json"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = json.loads(done.stdout)
    assert (done.returncode == 0) == report["valid"]
    return report


def test_frictionless_validate_accepts_a_release_with_changes(workspace: tuple[Path, Path]) -> None:
    annotations, releases = workspace
    build_release("1.0.0", [annotations], releases)
    _edit(
        annotations,
        lambda d: (d["actors"][0].update(name="US Central Command"), _centcom_spans(d).pop(1)),
    )
    release = build_release(None, [annotations], releases)
    assert pl.read_parquet(release.path / "changes.parquet").height == 2
    report = _frictionless(release.path)
    errors = [e["message"] for t in report["tasks"] for e in t["errors"]]
    assert report["valid"], errors[:5]
    assert (
        len(report["tasks"]) == 13 + 8
    )  # the tables (entities, claims, claim summaries too), each document table again as its train split


def test_frictionless_validate_catches_a_broken_foreign_key(workspace: tuple[Path, Path]) -> None:
    annotations, releases = workspace
    release = build_release("1.0.0", [annotations], releases)
    path = release.path / "figures.parquet"
    data = pq.read_table(path)
    broken = pl.from_arrow(data).with_columns(
        pl.when(pl.col("claimed_by_key").is_not_null())
        .then(pl.lit("seed-8128c0eee969d3a6/act-nobody"))
        .otherwise(pl.col("claimed_by_key"))
        .alias("claimed_by_key")
    )
    pq.write_table(broken.to_arrow().cast(data.schema), path)  # type: ignore[union-attr]
    report = _frictionless(release.path)
    figures = next(t for t in report["tasks"] if t["name"] == "figures")
    assert not report["valid"]
    assert {e["type"] for e in figures["errors"]} == {"foreign-key"}


def test_a_version_listed_in_the_index_is_never_rebuilt_folder_or_not(
    workspace: tuple[Path, Path], tmp_path: Path
) -> None:
    annotations, releases = workspace
    first = build_release("1.0.0", [annotations], releases)
    listed = (releases / "index.json").read_text()
    shutil.move(first.path, tmp_path / "moved-away")
    with pytest.raises(ReleaseError, match=r"1\.0\.0 is listed in .*never rebuilt"):
        build_release("1.0.0", [annotations], releases)
    with pytest.raises(ReleaseError, match=r"lists release 1\.0\.0 but .* is missing"):
        build_release(None, [annotations], releases)
    assert (releases / "index.json").read_text() == listed
    assert not (releases / "1.0.0").exists()


def test_the_package_ships_the_committed_index() -> None:
    from sitrep import paths

    packaged = json.loads(paths.packaged_index().read_text())
    committed = json.loads((ROOT / "datasets" / "releases" / "index.json").read_text())
    assert packaged == committed
    assert "1.0.0" in packaged["releases"]


def test_a_build_can_keep_the_packaged_index_in_step(
    workspace: tuple[Path, Path], tmp_path: Path
) -> None:
    annotations, releases = workspace
    anchor = tmp_path / "releases.json"
    build_release("1.0.0", [annotations], releases, anchor_index=anchor)
    assert anchor.read_text() == (releases / "index.json").read_text()


def test_two_builds_of_one_version_end_in_one_clear_message(
    workspace: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    annotations, releases = workspace
    real = rel._check_keys
    other: list[Any] = []

    def meanwhile(folder: Path, specs: Any) -> None:
        real(folder, specs)
        if not other:  # another build finishes the same version while this one runs
            other.append("started")
            build_release("1.0.0", [annotations], releases)

    monkeypatch.setattr(rel, "_check_keys", meanwhile)
    with pytest.raises(ReleaseError, match="written by another build while this one ran"):
        build_release("1.0.0", [annotations], releases)
    assert sorted(p.name for p in releases.iterdir()) == ["1.0.0", "index.json"]
    assert verify_release(releases / "1.0.0").ok


def test_leftover_build_and_download_folders_are_ignored_by_git() -> None:
    paths = ["datasets/releases/.building-123-abc/figures.parquet", ".incoming-x/SHA256SUMS"]
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", *paths], cwd=ROOT, capture_output=True, text=True
    )
    assert done.stdout.split() == paths


@pytest.mark.parametrize("side", ["ENTITIES_SPEC", "CLAIMS_SPEC", "SUMMARIES_SPEC"])
def test_the_columns_of_the_side_tables_are_part_of_the_schema_fingerprint(
    monkeypatch: pytest.MonkeyPatch, side: str
) -> None:
    """A column dropped from the registry's or the ledger's tables breaks a reader as much
    as one dropped from figures: the fingerprint (what forces a major release) sees it."""
    from dataclasses import replace

    from sitrep.validate.tables import table_specs

    specs = table_specs()
    before = rel.schema_fingerprint(specs)
    table = getattr(rel, side)
    monkeypatch.setattr(rel, side, replace(table, columns=table.columns[:-1]))
    assert rel.schema_fingerprint(specs) != before
