"""What a release publishes besides the annotations: per-document licences (texts of
unknown licence withheld, and restored by `rehydrate` against their sha256), splits by a
reproducible rule with the held-out documents in test, coverage and provenance counted
from the data, and the citation."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from sitrep.cli import app
from sitrep.errors import OutputError, ReleaseError
from sitrep.validate.publication import DEV_EVERY, read_held_out, rehydrate, split_of
from sitrep.validate.release import build_release, record_in_citation

ROOT = Path(__file__).resolve().parent.parent
ANNOTATIONS = ROOT / "datasets" / "annotations"
HELD_OUT = ROOT / "datasets" / "splits.json"
SEED = "seed-8128c0eee969d3a6"
SEED_TEXT = ROOT / "seeds" / "articles" / "000_8128c0eee969d3a6.txt"


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    releases = tmp_path_factory.mktemp("site") / "releases"
    return build_release("1.0.0", [ANNOTATIONS], releases, held_out=HELD_OUT).path


def _manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))


# -- licences ----------------------------------------------------------------------------


def test_a_text_of_unknown_licence_is_withheld_with_its_quotes(release: Path) -> None:
    docs = pl.read_parquet(release / "documents.parquet")
    seed = docs.filter(pl.col("document_id") == SEED).row(0, named=True)
    text = SEED_TEXT.read_text(encoding="utf-8")
    assert seed["text"] is None and seed["license_id"] is None
    assert seed["text_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert seed["text_length"] == len(text)
    spans = pl.read_parquet(release / "spans.parquet")
    assert spans.filter(pl.col("document_id") == SEED)["text"].null_count() == 86
    assert spans.filter(pl.col("document_id") == SEED)["start"].null_count() == 0


def test_public_domain_texts_ship_with_their_licence_and_source(release: Path) -> None:
    docs = pl.read_parquet(release / "documents.parquet").filter(
        pl.col("document_id").str.starts_with("voa-")
    )
    assert docs.height == len(list(ANNOTATIONS.glob("voa-*.json")))
    assert docs["text"].null_count() == 0
    assert set(docs["license_id"].cast(pl.String)) == {"public-domain-us-government"}
    assert set(docs["source"]) == {
        json.loads((ROOT / "seeds/voa/source.json").read_text())["source"]
    }


def test_the_manifest_and_card_list_each_documents_licence(release: Path) -> None:
    manifest = _manifest(release)
    sources = {s["sitrep:document_id"]: s for s in manifest["sources"]}
    assert len(sources) == len(list(ANNOTATIONS.glob("*.json")))
    assert sources[SEED]["sitrep:text_included"] is False
    assert sources[SEED]["sitrep:license_id"] is None
    assert sources["voa-6181132"]["path"].startswith("https://www.voanews.com/")
    assert manifest["licenses"][0]["name"] == "CC-BY-4.0"
    card = (release / "README.md").read_text()
    assert (
        f"| {SEED} | train | unknown | no (withheld) | actors, locations, events, figures |" in card
    )
    assert "| voa-6181132 | test | public-domain-us-government | yes | figures |" in card
    assert f"Withheld here: {SEED}." in card


def test_rehydrate_restores_the_text_checked_against_its_sha256(
    release: Path, tmp_path: Path
) -> None:
    texts = tmp_path / "mine"
    texts.mkdir()
    shutil.copy(SEED_TEXT, texts / "any-name.txt")
    result = rehydrate(release, texts, tmp_path / "out")
    assert result.ok and result.restored == [SEED] and result.missing == []
    docs = pl.read_parquet(tmp_path / "out" / "documents.parquet")
    assert docs.filter(pl.col("document_id") == SEED)["text"][0] == SEED_TEXT.read_text()
    spans = pl.read_parquet(tmp_path / "out" / "spans.parquet").filter(
        pl.col("document_id") == SEED
    )
    gold = json.loads((ANNOTATIONS / f"{SEED}.json").read_text())
    quotes = {(s["start"], s["end"], s["text"]) for r in gold["actors"] for s in r["spans"]}
    assert quotes <= set(spans.select("start", "end", "text").iter_rows())
    assert spans["text"].null_count() == 0


def test_rehydrate_never_uses_a_text_that_does_not_match(release: Path, tmp_path: Path) -> None:
    texts = tmp_path / "mine"
    texts.mkdir()
    (texts / "000_8128c0eee969d3a6.txt").write_text(SEED_TEXT.read_text() + " (edited)")
    result = CliRunner().invoke(
        app,
        [
            "release",
            "rehydrate",
            str(release),
            "--texts",
            str(texts),
            "--output",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 1
    assert f"not found in {texts}: {SEED}" in result.output
    docs = pl.read_parquet(tmp_path / "o" / "documents.parquet")
    assert docs.filter(pl.col("document_id") == SEED)["text"][0] is None
    with pytest.raises(OutputError, match="never replaces"):
        rehydrate(release, texts, tmp_path / "o")


# -- splits ------------------------------------------------------------------------------


def test_the_held_out_list_holds_the_documents_benchmarks_names() -> None:
    line = next(x for x in (ROOT / "BENCHMARKS.md").read_text().splitlines() if "--held-out " in x)
    named = set(line.split("--held-out ", 1)[1].strip().split(","))
    assert named <= read_held_out(HELD_OUT)


def test_the_split_rule_is_reproducible_from_its_description() -> None:
    held = frozenset({"voa-1"})
    assert split_of("voa-1", held) == "test"
    for doc in ("voa-2", "voa-3", "seed-x", "voa-8010057"):
        bucket = int(hashlib.sha256(doc.encode()).hexdigest()[:8], 16) % DEV_EVERY
        assert split_of(doc, held) == ("dev" if bucket == 0 else "train")


def test_adding_a_document_to_the_held_out_list_moves_only_it(tmp_path: Path) -> None:
    held = read_held_out(HELD_OUT)
    more = tmp_path / "held_out.json"
    more.write_text(json.dumps({"documents": [*sorted(held), "voa-8011076"]}))
    ids = [p.stem for p in ANNOTATIONS.glob("*.json")]
    before = {i: split_of(i, held) for i in ids}
    after = {i: split_of(i, read_held_out(more)) for i in ids}
    assert {i for i in ids if before[i] != after[i]} == {"voa-8011076"}
    assert after["voa-8011076"] == "test"


def test_the_splits_file_holds_out_the_current_and_every_retired_set() -> None:
    splits = json.loads(HELD_OUT.read_text(encoding="utf-8"))
    expected = set(splits["held_out"]["documents"])
    for retired in splits["retired_held_out"]:
        expected |= set(retired["documents"])
    assert read_held_out(HELD_OUT) == expected and len(expected) >= 13


def test_a_malformed_held_out_list_is_refused_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "held_out.json"
    bad.write_text('{"documents": "voa-1"}')
    with pytest.raises(ReleaseError, match=r"held_out\.json: \[split\.held_out\] expected a list"):
        read_held_out(bad)


def test_held_out_documents_are_test_and_every_row_follows_its_document(release: Path) -> None:
    docs = pl.read_parquet(release / "documents.parquet", columns=["document_id", "split"])
    split = dict(docs.iter_rows())
    assert all(split[d] == "test" for d in read_held_out(HELD_OUT))
    manifest = _manifest(release)
    counts = manifest["sitrep:splits"]["counts"]
    for table in ("figures", "spans", "actors"):
        whole = pl.read_parquet(release / f"{table}.parquet", columns=["document_id"])
        for name, c in counts.items():
            part = pl.read_parquet(release / f"{table}-{name}.parquet")
            assert part.height == c[table]
            assert {split[d] for d in part["document_id"]} == {name}
        assert sum(c[table] for c in counts.values()) == whole.height
    assert sum(c["documents"] for c in counts.values()) == len(list(ANNOTATIONS.glob("*.json")))


def test_the_card_configs_follow_the_splits(release: Path) -> None:
    front = yaml.safe_load((release / "README.md").read_text().split("---\n")[1])
    figures = next(c for c in front["configs"] if c["config_name"] == "figures")
    assert figures["data_files"] == [
        {"split": s, "path": f"figures-{s}.parquet"} for s in ("train", "dev", "test")
    ]
    assert front["license"] == "cc-by-4.0"


def test_provenance_and_coverage_are_counted_from_the_data(release: Path) -> None:
    manifest = _manifest(release)
    figures = pl.read_parquet(release / "figures.parquet")
    methods = figures["provenance_method"].cast(pl.String).fill_null("not recorded")
    assert manifest["sitrep:provenance"]["figures"] == dict(methods.value_counts().iter_rows())
    covered = {k: 0 for k in ("actors", "locations", "events", "figures")}
    files = sorted(ANNOTATIONS.glob("*.json"))
    for path in files:
        for kind in json.loads(path.read_text())["provenance"].get("coverage") or []:
            covered[kind] += 1
    assert manifest["sitrep:coverage"] == covered
    card = (release / "README.md").read_text()
    n = len(files)
    assert f"figures: {covered['figures']} of {n} document(s)" in card
    assert f"events: {covered['events']} of {n} document(s)" in card


def test_a_machine_made_record_is_counted_as_such(tmp_path: Path) -> None:
    annotations = tmp_path / "annotations"
    annotations.mkdir()
    doc = json.loads((ANNOTATIONS / f"{SEED}.json").read_text())
    doc["figures"][0]["provenance"] = {
        "method": "machine",
        "model": "figures",
        "model_version": "0.1",
    }
    (annotations / f"{SEED}.json").write_text(json.dumps(doc))
    built = build_release("1.0.0", [annotations], tmp_path / "releases")
    counts = _manifest(built.path)["sitrep:provenance"]["figures"]
    assert counts == {"machine": 1, "not recorded": 6}
    assert "| figures | 1 | 6 |" in (built.path / "README.md").read_text()


# -- citation ----------------------------------------------------------------------------


def test_the_card_says_how_to_cite_with_bibtex(release: Path) -> None:
    card = (release / "README.md").read_text()
    entry = re.search(r"```bibtex\n(@misc\{sitrep_1_0_0,.*?\n\})\n```", card, re.S)
    assert entry is not None
    assert "version      = {1.0.0}" in entry.group(1)


def test_citation_cff_names_the_latest_published_release() -> None:
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    index = json.loads((ROOT / "datasets" / "releases" / "index.json").read_text())
    latest = list(index["releases"])[-1]
    assert cff["version"] == latest
    assert cff["date-released"] == index["releases"][latest]["created"][:10]
    assert cff["license"] == "CC-BY-4.0" and cff["cff-version"] == "1.2.0"


def test_a_build_moves_the_citation_to_the_new_release(release: Path, tmp_path: Path) -> None:
    citation = tmp_path / "CITATION.cff"
    shutil.copy(ROOT / "CITATION.cff", citation)
    from sitrep.validate.release import Release

    record_in_citation(citation, Release("1.0.0", release, None, None, {}))  # type: ignore[arg-type]
    cff = yaml.safe_load(citation.read_text())
    assert cff["version"] == "1.0.0"
    assert cff["date-released"] == _manifest(release)["created"][:10]


def test_citation_cff_is_valid_for_cffconvert() -> None:
    cffconvert = ROOT / ".venv-cff" / "bin" / "cffconvert"
    if not cffconvert.exists():
        if os.environ.get("CI"):
            pytest.fail("cffconvert is missing: `make test` runs `make setup-cff` first")
        pytest.skip("cffconvert is not installed here: run `make setup-cff`")
    done = subprocess.run(
        [str(cffconvert), "--validate", "-i", str(ROOT / "CITATION.cff")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "valid according to schema version 1.2.0" in done.stdout


def test_changes_never_quote_a_withheld_text(tmp_path: Path) -> None:
    """Against the committed 1.0.0 (which shipped the seed's text), the next release's
    changes.parquet says the text went, without quoting it."""
    releases = tmp_path / "releases"
    releases.mkdir()
    shutil.copytree(ROOT / "datasets" / "releases" / "1.0.0", releases / "1.0.0")
    index = json.loads((ROOT / "datasets" / "releases" / "index.json").read_text())
    index["releases"] = {"1.0.0": index["releases"]["1.0.0"]}
    (releases / "index.json").write_text(json.dumps(index))
    built = build_release(None, [ANNOTATIONS], releases, held_out=HELD_OUT)
    assert built.previous == "1.0.0"  # the tables' columns changed: a major release
    changes = pl.read_parquet(built.path / "changes.parquet")
    text = SEED_TEXT.read_text(encoding="utf-8")
    quoted = changes.filter(
        pl.col("old").str.contains(text[:60], literal=True)
        | pl.col("new").str.contains(text[:60], literal=True)
        | pl.col("old").str.contains("U.S. Central Command", literal=True)
    )
    assert quoted.height == 0
    for path in built.path.glob("*.parquet"):  # no file of the release holds the text
        frame = pl.read_parquet(path)
        for column in frame.select(pl.col(pl.String)).columns:
            assert not frame[column].str.contains(text[:60], literal=True).any(), (path, column)


def test_rehydrate_on_a_release_that_withholds_nothing_writes_nothing(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "release",
            "rehydrate",
            str(ROOT / "datasets" / "releases" / "1.0.0"),
            "--texts",
            str(ROOT / "seeds" / "articles"),
            "--output",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "ships every text: nothing to restore" in result.output
    assert not (tmp_path / "out").exists()
