"""A fetched release opens in every reader our users have: Polars, pyarrow, DuckDB,
pandas and Hugging Face `datasets` (as plain Parquet and through the card's configs), and
through `sitrep.load` (`sitrep.validate.api`).

The release is built from `datasets/annotations`, served on 127.0.0.1 and fetched over
real HTTP into a cache once per module. Every table is read back by every reader and its
row count compared with the manifest's `sitrep:rows`. Nothing may leave the machine:
`no_network` refuses any connection or name lookup that is not loopback, and Hugging
Face runs offline with its caches under tmp.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from sitrep.errors import ReleaseError, ReleaseNotCached, UnknownTable, VerificationError
from sitrep.validate import api
from sitrep.validate.api import load
from sitrep.validate.fetch import fetch_release, make_server
from sitrep.validate.release import build_release
from sitrep.validate.verify import trusted_hash

VERSION = "0.9.0"  # a version the installed package does not list: anchored by --sha256
# The readers are tested on a release of the seed gold alone (its counts are known).
SEED_GOLD = (
    Path(__file__).resolve().parents[1] / "datasets" / "annotations" / "seed-8128c0eee969d3a6.json"
)
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
ENUM_COLUMNS = {"figures": ["counted", "unit", "qualifier", "vague_term", "realis"]}


@dataclass
class Fetched:
    """The release as fetched into the cache, and what its manifest says."""

    cache: Path
    folder: Path
    manifest: dict[str, Any]
    anchor: str  # the manifest hash the build's index records

    @property
    def rows(self) -> dict[str, int]:
        return {r["name"]: r["sitrep:rows"] for r in self.manifest["resources"]}

    def file(self, table: str) -> Path:
        return self.folder / f"{table}.parquet"

    def enums(self, table: str) -> list[str]:
        res = next(r for r in self.manifest["resources"] if r["name"] == table)
        fields = res.get("schema", {}).get("fields", [])
        # vocabularies of strings (dictionary-encoded); integer vocabularies stay integers
        return [
            f["name"]
            for f in fields
            if "enum" in f.get("constraints", {}) and f["type"] == "string"
        ]


def _refuse_remote(address: Any) -> None:
    host = address[0] if isinstance(address, tuple) else address
    if host not in LOOPBACK:
        raise OSError(f"test tried to reach {address!r}: only 127.0.0.1 is allowed")


@pytest.fixture(scope="module", autouse=True)
def no_network() -> Iterator[None]:
    """Refuse connections and name lookups beyond loopback for the whole module."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _refuse_remote(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _refuse_remote(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        _refuse_remote(host.decode() if isinstance(host, bytes) else host)
        return real_getaddrinfo(host, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket.socket, "connect_ex", connect_ex)
        patch.setattr(socket, "getaddrinfo", getaddrinfo)
        yield


@pytest.fixture(scope="module")
def fetched(tmp_path_factory: pytest.TempPathFactory) -> Fetched:
    """Release 1.0.0 built, served on 127.0.0.1, fetched over HTTP; the server stopped."""
    releases = tmp_path_factory.mktemp("site") / "releases"
    build_release(VERSION, [SEED_GOLD], releases)
    cache = tmp_path_factory.mktemp("cache")
    server = make_server(releases, "127.0.0.1", 0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        anchor = trusted_hash(releases / "index.json", VERSION)
        folder = fetch_release(VERSION, url, cache, manifest_sha256=anchor, progress=False)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    manifest = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    assert anchor is not None
    return Fetched(cache, folder, manifest, anchor)


@pytest.fixture(scope="module")
def hf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Hugging Face `datasets`, offline, with every cache under tmp."""
    home = tmp_path_factory.mktemp("hf")
    env = {
        "HF_DATASETS_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(home),
        "HF_DATASETS_CACHE": str(home / "datasets"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        import huggingface_hub.constants

        # Hugging Face `datasets` (our data folder is not a package, so this is theirs)
        datasets = importlib.import_module("datasets")
        # the settings are read at import time: pin them even if another module came first
        patch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)
        patch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
        patch.setattr(datasets.config, "HF_DATASETS_CACHE", home / "datasets")
        patch.setattr(datasets.config, "HF_MODULES_CACHE", home / "modules")
        patch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
        datasets.disable_progress_bars()
        yield datasets


TABLES = [
    "documents",
    "actors",
    "locations",
    "events",
    "event_participants",
    "event_locations",
    "figures",
    "spans",
    "changes",
    "tombstones",
    "entities",
    "claims",
    "claim_summaries",
]


SPLIT_FILES = [f"{t}-train" for t in TABLES[:8]]  # the seed gold is all in train


def test_the_release_has_the_tables_the_readers_are_tested_on(fetched: Fetched) -> None:
    assert list(fetched.rows) == TABLES[:8] + SPLIT_FILES + TABLES[8:]
    assert sorted(p.name for p in fetched.folder.glob("*.parquet")) == sorted(
        f"{t}.parquet" for t in TABLES + SPLIT_FILES
    )
    assert fetched.rows["figures"] == 7 and fetched.rows["tombstones"] == 0


# -- file metadata ---------------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
def test_parquet_metadata_names_release_and_schema(fetched: Fetched, table: str) -> None:
    meta = pq.read_metadata(fetched.file(table))

    assert meta.num_rows == fetched.rows[table]
    assert meta.metadata[b"sitrep:release"] == VERSION.encode()
    schema_version = fetched.manifest["sitrep:schema_version"].encode()
    assert meta.metadata[b"sitrep:schema_version"] == schema_version
    assert meta.metadata[b"sitrep:table"] == table.encode()


# -- one test per reader, every table --------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
def test_polars_reads_every_table(fetched: Fetched, table: str) -> None:
    frame = pl.read_parquet(fetched.file(table))

    assert frame.height == fetched.rows[table]
    res = next(r for r in fetched.manifest["resources"] if r["name"] == table)
    if "schema" in res:
        assert frame.columns == [f["name"] for f in res["schema"]["fields"]]
    for column in fetched.enums(table):
        assert isinstance(frame.schema[column], pl.Enum), column


@pytest.mark.parametrize("table", TABLES)
def test_pyarrow_reads_every_table(fetched: Fetched, table: str) -> None:
    arrow = pq.read_table(fetched.file(table))

    assert arrow.num_rows == fetched.rows[table]
    for column in fetched.enums(table):
        kind = arrow.schema.field(column).type
        assert pa.types.is_dictionary(kind) and pa.types.is_string(kind.value_type), column


@pytest.mark.parametrize("table", TABLES)
def test_duckdb_counts_every_table(fetched: Fetched, table: str) -> None:
    path = fetched.file(table)

    count = duckdb.sql(f"select count(*) from '{path}'").fetchall()

    assert count == [(fetched.rows[table],)]
    described = dict(
        duckdb.sql(f"select column_name, column_type from (describe '{path}')").fetchall()
    )
    for column in fetched.enums(table):
        assert described[column] == "VARCHAR", column


def test_duckdb_joins_over_the_global_keys(fetched: Fetched) -> None:
    """The README's join: one key column a side, no composite key."""
    figures, actors, spans = (fetched.file(t) for t in ("figures", "actors", "spans"))
    rows = duckdb.sql(
        f"""
        select f.best, f.qualifier, a.name
        from '{figures}' f join '{actors}' a on f.claimed_by_key = a.key
        where f.best = 8400
        """
    ).fetchall()
    assert rows == [(8400.0, "approximately", "U.S. Department of State")]
    per_figure = duckdb.sql(
        f"select count(*) from '{spans}' s join '{figures}' f on s.figure_key = f.key"
    ).fetchall()
    expected = pl.read_parquet(spans).filter(pl.col("record_table") == "figures").height
    assert per_figure == [(expected,)]


def test_duckdb_joins_figures_with_their_spans(fetched: Fetched) -> None:
    figures, spans = fetched.file("figures"), fetched.file("spans")
    query = f"""
        select f.id, f.qualifier, s.text
        from '{figures}' f
        join '{spans}' s
          on s.document_id = f.document_id and s.record_table = 'figures' and s.record_id = f.id
        where f.best = 8400
    """

    rows = duckdb.sql(query).fetchall()

    assert rows, "the figure with best 8400 has at least one evidence span"
    assert {r[1] for r in rows} == {"approximately"}
    spans_pl = pl.read_parquet(spans).filter(pl.col("record_table") == "figures")
    figures_pl = pl.read_parquet(figures)
    expected = figures_pl.join(
        spans_pl, left_on=["document_id", "id"], right_on=["document_id", "record_id"]
    ).height
    total = duckdb.sql(
        f"select count(*) from '{figures}' f join '{spans}' s "
        "on s.document_id = f.document_id and s.record_table = 'figures' and s.record_id = f.id"
    ).fetchall()
    assert total == [(expected,)] and expected >= fetched.rows["figures"]


def test_duckdb_joins_actors_and_locations_to_the_registry(fetched: Fetched) -> None:
    entities = fetched.file("entities")
    for table, kind in (("actors", "actor"), ("locations", "location")):
        path = fetched.file(table)
        rows = duckdb.sql(
            f"select t.id, e.kind, e.name from '{path}' t "
            f"left join '{entities}' e on e.key = t.entity"
        ).fetchall()
        assert len(rows) == fetched.rows[table] > 0
        assert {r[1] for r in rows} == {kind}  # every record linked, to its own kind
    centcom = duckdb.sql(
        f"select e.name, e.type from '{fetched.file('actors')}' a "
        f"join '{entities}' e on e.key = a.entity where a.id = 'act-centcom'"
    ).fetchall()
    assert centcom == [("U.S. Central Command", "state_armed_forces")]
    actors = next(r for r in fetched.manifest["resources"] if r["name"] == "actors")
    assert {"fields": ["entity"], "reference": {"resource": "entities", "fields": ["key"]}} in (
        actors["schema"]["foreignKeys"]
    )


@pytest.mark.parametrize("table", TABLES)
def test_pandas_reads_every_table(fetched: Fetched, table: str) -> None:
    frame = pd.read_parquet(fetched.file(table))

    assert len(frame) == fetched.rows[table]
    for column in fetched.enums(table):
        assert isinstance(frame[column].dtype, pd.CategoricalDtype), column


def test_the_same_values_come_back_from_every_reader(fetched: Fetched) -> None:
    path = fetched.file("figures")
    by_polars = pl.read_parquet(path).filter(pl.col("best") == 8400)["qualifier"].to_list()
    by_arrow = pq.read_table(path).to_pylist()
    by_pandas = pd.read_parquet(path).query("best == 8400")["qualifier"].astype(str).tolist()
    by_duckdb = duckdb.sql(f"select qualifier from '{path}' where best = 8400").fetchall()

    assert by_polars == ["approximately"]
    assert [r["qualifier"] for r in by_arrow if r["best"] == 8400] == ["approximately"]
    assert by_pandas == ["approximately"]
    assert by_duckdb == [("approximately",)]


# -- Hugging Face datasets -------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
def test_hf_datasets_reads_every_table_as_parquet(fetched: Fetched, hf: Any, table: str) -> None:
    path = fetched.file(table)
    if fetched.rows[table] == 0:
        # load_dataset refuses a Parquet file without rows ('Instruction "train"
        # corresponds to no data!'); a Dataset over the same Arrow table is fine.
        empty = hf.Dataset(pq.read_table(path))
        assert empty.num_rows == 0
        assert empty.column_names == pl.read_parquet_schema(path).names()
        return

    data = hf.load_dataset("parquet", data_files=str(path), split="train")

    assert data.num_rows == fetched.rows[table]
    for column in fetched.enums(table):
        assert data.features[column] == hf.Value("string"), column


def _card_configs(folder: Path) -> list[dict[str, Any]]:
    text = (folder / "README.md").read_text(encoding="utf-8")
    front = text.split("---\n")[1]
    configs: list[dict[str, Any]] = yaml.safe_load(front)["configs"]
    return configs


def test_the_card_has_a_config_for_every_table_with_a_schema(fetched: Fetched) -> None:
    configs = _card_configs(fetched.folder)

    names = [c["config_name"] for c in configs]
    assert names[:8] == TABLES[:8]
    assert sorted(names[8:]) == ["claim_summaries", "claims", "entities"]
    for config in configs[:8]:
        name = config["config_name"]
        assert config["data_files"] == [{"split": "train", "path": f"{name}-train.parquet"}]
    # the registry and the ledger are not split by document: one file, one split named
    # for what it is
    whole = {c["config_name"]: c["data_files"] for c in configs[8:]}
    assert whole["entities"] == [{"split": "registry", "path": "entities.parquet"}]
    assert whole["claims"] == [{"split": "ledger", "path": "claims.parquet"}]
    assert whole["claim_summaries"] == [{"split": "ledger", "path": "claim_summaries.parquet"}]
    assert [c["config_name"] for c in configs if c.get("default")] == ["figures"]


def test_hf_datasets_loads_every_config_of_the_card(fetched: Fetched, hf: Any) -> None:
    for config in _card_configs(fetched.folder):
        name = config["config_name"]
        split = config["data_files"][0]["split"]
        data = hf.load_dataset(str(fetched.folder), name, split=split)
        assert data.num_rows == fetched.rows[name], name

    entities = hf.load_dataset(str(fetched.folder), "entities")
    assert list(entities) == ["registry"]
    centcom = entities["registry"].filter(lambda row: row["id"] == "ent-centcom")
    assert centcom["name"] == ["U.S. Central Command"] and centcom["kind"] == ["actor"]
    claims = hf.load_dataset(str(fetched.folder), "claims")["ledger"]
    moved = claims.filter(lambda row: row["claimant_entity"] == "ent-centcom")
    assert sorted(moved["high"]) == [150, 7000]

    default = hf.load_dataset(str(fetched.folder), split="train")
    figures = default.filter(lambda row: row["best"] == 8400)
    assert default.num_rows == fetched.rows["figures"]
    assert figures["qualifier"] == ["approximately"]


# -- sitrep.load -----------------------------------------------------------------------


def test_load_reads_a_table_eagerly(fetched: Fetched) -> None:
    frame = load(VERSION, "figures", cache_dir=fetched.cache, sha256=fetched.anchor)

    assert isinstance(frame, pl.DataFrame)
    assert frame.equals(pl.read_parquet(fetched.file("figures")))
    best = frame.filter(pl.col("best") == 8400)
    assert best["qualifier"].to_list() == ["approximately"]
    assert isinstance(frame.schema["qualifier"], pl.Enum)


def test_load_reads_a_table_lazily(fetched: Fetched) -> None:
    lazy = load(VERSION, "figures", cache_dir=fetched.cache, lazy=True, sha256=fetched.anchor)

    assert isinstance(lazy, pl.LazyFrame)
    counted = lazy.filter(pl.col("qualifier") == "approximately").select("id").collect()
    assert counted["id"].to_list() == ["fig-8400-held"]


@pytest.mark.parametrize("table", TABLES)
def test_load_reads_every_table(fetched: Fetched, table: str) -> None:
    assert (
        load(VERSION, table, cache_dir=fetched.cache, sha256=fetched.anchor).height
        == fetched.rows[table]
    )


def test_load_uses_sitrep_cache_by_default(
    fetched: Fetched, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SITREP_CACHE", str(fetched.cache))

    assert load(VERSION, "documents", sha256=fetched.anchor).height == 1


def test_load_names_the_tables_for_an_unknown_table(fetched: Fetched) -> None:
    with pytest.raises(UnknownTable) as info:
        load(VERSION, "../datapackage", cache_dir=fetched.cache, sha256=fetched.anchor)

    assert info.value.available == sorted(TABLES + SPLIT_FILES)
    assert "has no table '../datapackage'; its tables are: actors, actors-train, changes" in str(
        info.value
    )


def test_load_says_how_to_fetch_a_version_not_in_the_cache(fetched: Fetched) -> None:
    with pytest.raises(ReleaseNotCached) as info:
        load("9.0.0", "figures", cache_dir=fetched.cache, sha256=fetched.anchor)

    assert "sitrep release fetch 9.0.0 --from URL" in str(info.value)
    assert str(fetched.cache) in str(info.value)


@pytest.mark.parametrize("version", ["../1.0.0", "1.0", "latest"])
def test_load_refuses_a_version_that_is_not_semver(fetched: Fetched, version: str) -> None:
    with pytest.raises(ReleaseError, match=r"is not MAJOR\.MINOR\.PATCH"):
        load(version, "figures", cache_dir=fetched.cache, sha256=fetched.anchor)


def test_load_refuses_a_release_that_does_not_verify(fetched: Fetched, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    copy = Path(shutil.copytree(fetched.folder, cache / VERSION))
    (copy / "spans.parquet").write_bytes(b"PAR1")

    with pytest.raises(VerificationError) as info:
        load(VERSION, "figures", cache_dir=cache, sha256=fetched.anchor)

    assert "spans.parquet: sha256 differs from SHA256SUMS" in str(info.value)
    assert "remove the folder and fetch it again" in str(info.value)


def test_load_verifies_once_until_the_folder_changes(
    fetched: Fetched, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = Path(shutil.copytree(fetched.folder, tmp_path / "cache" / VERSION))
    calls: list[Path] = []
    real = api.verify_release

    def counting(folder: Path, **kwargs: Any) -> Any:
        calls.append(folder)
        return real(folder, **kwargs)

    monkeypatch.setattr(api, "verify_release", counting)

    for table in ("figures", "spans", "figures"):
        load(VERSION, table, cache_dir=copy.parent, sha256=fetched.anchor)
    assert calls == [copy]

    extra = copy / "notes.txt"
    extra.write_text("added after the fetch")
    with pytest.raises(VerificationError, match=r"notes\.txt: not listed in SHA256SUMS"):
        load(VERSION, "figures", cache_dir=copy.parent, sha256=fetched.anchor)
    assert calls == [copy, copy]

    os.remove(extra)
    assert (
        load(VERSION, "figures", cache_dir=copy.parent, sha256=fetched.anchor).height
        == fetched.rows["figures"]
    )
    assert calls == [copy, copy]  # the same files as at first: that verdict still holds


def test_hf_datasets_loads_every_config_of_a_release_with_three_splits(
    tmp_path: Path, hf: Any
) -> None:
    """All the gold: three splits, and tables (locations, events) with no row in some."""
    annotations = SEED_GOLD.parent
    releases = tmp_path / "releases"
    built = build_release(
        "0.9.0", [annotations], releases, held_out=annotations.parent / "splits.json"
    )
    manifest = json.loads((built.path / "datapackage.json").read_text())
    counts = manifest["sitrep:splits"]["counts"]
    assert set(counts) == {"train", "dev", "test"}
    rows = {r["name"]: r["sitrep:rows"] for r in manifest["resources"]}
    whole = {"entities": "registry", "claims": "ledger", "claim_summaries": "ledger"}
    for config in _card_configs(built.path):
        name = config["config_name"]
        loaded = hf.load_dataset(str(built.path), name)
        expected = (
            {whole[name]: rows[name]} if name in whole else {s: c[name] for s, c in counts.items()}
        )
        assert {s: d.num_rows for s, d in loaded.items()} == {
            s: n for s, n in expected.items() if n
        }, name


def test_the_claims_ledger_joins_its_figures_and_claimants_over_keys(fetched: Fetched) -> None:
    claims, figures = fetched.file("claims"), fetched.file("figures")
    entities = fetched.file("entities")
    rows = duckdb.sql(
        f"select c.figure_id, f.best, e.name from '{claims}' c "
        f"join '{figures}' f on f.key = c.figure_key "
        f"left join '{entities}' e on e.key = c.claimant_entity "
        "where c.quantity = 'q-sdf-held-isis-detainees'"
    ).fetchall()
    assert rows == [("fig-8400-held", 8400.0, "U.S. Department of State")]
    summaries = pl.read_parquet(fetched.file("claim_summaries"))
    assert set(summaries["claim_key"].drop_nulls()) <= set(pl.read_parquet(claims)["key"])
    charts = sorted(p.name for p in (fetched.folder / "charts").iterdir())
    assert charts == sorted(f"{q}.svg" for q in pl.read_parquet(claims)["quantity"].unique())
    listed = sorted(c["path"] for c in fetched.manifest["sitrep:charts"])
    assert listed == [f"charts/{n}" for n in charts]
