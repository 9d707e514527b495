"""Immutable, versioned Parquet releases.

`build_release` validates the dataset (both layers), diffs it against the previous
release, enforces the semver bump the diff requires, and writes
`<releases>/<version>/` through a temporary folder and one rename:

* one Parquet file per table (zstd, explicit schema, file metadata with the release and
  schema versions), and the same tables per split (`<table>-<split>.parquet`);
* `entities.parquet`: the registry of actors and places the links point at;
* `changes.parquet`: every added, removed and modified row since the previous release,
  the registry's entities included;
* `tombstones.parquet`: every key ever removed, so ids are never reused;
* `datapackage.json`: Frictionless Data Package v2 manifest (resources with bytes,
  sha256, row counts and table schemas; the validation and change summaries);
* `README.md`: a dataset card whose YAML `configs` let Hugging Face `datasets` open it;
* `SHA256SUMS`: `sha256sum -c` checks every other file.

`releases/index.json` records each release's manifest hash, and the package ships a copy
(`sitrep/validate/releases.json`): the anchor a download, a verification or a load is
checked against anywhere. A version listed there is never rebuilt.

Rows are keyed by content and every table has a global `key` (`tables.release_spec`);
texts whose licence forbids shipping them are withheld and every document gets its split
(`publication`); the card is written from the manifest's counts (`card`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sitrep import __version__
from sitrep.errors import ReleaseError
from sitrep.fileio import write_atomic
from sitrep.schema import spec
from sitrep.schema.clusters import Clusters
from sitrep.schema.report import Report
from sitrep.validate.card import release_notes, render_card
from sitrep.validate.claims import (
    CLAIMS,
    CLAIMS_SPEC,
    SUMMARIES,
    SUMMARIES_SPEC,
    claims_foreign_keys,
    write_ledger,
)
from sitrep.validate.dataset import load_dataset
from sitrep.validate.diff import CHANGES_SCHEMA, Bump, Diff, TableDiff, diff_releases
from sitrep.validate.entities import ENTITIES, ENTITIES_SPEC, entities_table, entity_foreign_keys
from sitrep.validate.publication import prepare, read_held_out, split_rule
from sitrep.validate.registry import Registry
from sitrep.validate.tables import (
    DOC_ID,
    DOCUMENTS,
    KEY,
    SPANS,
    SPLITS,
    WITHHELD,
    ColumnSpec,
    TableSpec,
    public,
    release_spec,
    table_specs,
    with_keys,
)

SEMVER = re.compile(r"^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})$")
MANIFEST = "datapackage.json"
SUMS = "SHA256SUMS"
CARD = "README.md"
CHANGES = "changes.parquet"
TOMBSTONES = "tombstones.parquet"
INDEX = "index.json"
STAGING = ".building-"  # + pid: a build in progress, renamed to its version when done
PARQUET_MEDIATYPE = "application/vnd.apache.parquet"
LICENSE = {
    "name": "CC-BY-4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
    "title": "Creative Commons Attribution 4.0",
}
# Given the released document ids, the agreement summary recorded in the manifest.
Agreement = Callable[[set[str]], dict[str, Any]]
TOMBSTONE_SCHEMA = {"table": pl.String, KEY: pl.String, "removed_in": pl.String}


def _plain_spec(name: str, schema: dict[str, Any], key: tuple[str, ...]) -> TableSpec:
    nullable = {"column", "old", "new"}
    cols = tuple(ColumnSpec(c, t(), c in nullable, ()) for c, t in schema.items())
    return TableSpec(name, key, cols, name)


# changes and tombstones are tables too: written with explicit schemas, declared in the
# manifest like the others
CHANGES_SPEC = _plain_spec("changes", CHANGES_SCHEMA, ("table", KEY, "change", "column"))
TOMBSTONES_SPEC = _plain_spec("tombstones", TOMBSTONE_SCHEMA, ("table", KEY, "removed_in"))


class ValidationFailed(ReleaseError):
    """The dataset is invalid, so no release was written."""

    def __init__(self, report: Report) -> None:
        super().__init__(f"the dataset has {len(report.issues)} problem(s); nothing was written")
        self.report = report


def parse_version(version: str) -> tuple[int, int, int]:
    """(major, minor, patch) of a plain semver string; anything else is refused, which
    also keeps a version from naming a path outside the releases folder."""
    match = SEMVER.match(version)
    if not match:
        raise ReleaseError(f"version {version!r} is not MAJOR.MINOR.PATCH (for example 1.2.0)")
    return int(match[1]), int(match[2]), int(match[3])


def next_version(previous: str, bump: Bump) -> str:
    major, minor, patch = parse_version(previous)
    if bump is Bump.MAJOR:
        return f"{major + 1}.0.0"
    if bump is Bump.MINOR:
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def published_versions(releases: Path) -> list[str]:
    """Versions present in `releases`, oldest first."""
    if not releases.is_dir():
        return []
    found = [p.name for p in releases.iterdir() if p.is_dir() and SEMVER.match(p.name)]
    return sorted(found, key=parse_version)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def schema_fingerprint(specs: dict[str, TableSpec]) -> str:
    """sha256 of the released tables' columns and dtypes: what a major version protects.
    The tables beside the documents' (the registry's entities, the claims ledger and its
    summaries) count too: a change of their columns breaks a reader just the same."""
    layout = {
        name: [[c.name, str(c.dtype), c.nullable] for c in release_spec(t, specs).columns]
        for name, t in specs.items()
    }
    for side in (ENTITIES_SPEC, CLAIMS_SPEC, SUMMARIES_SPEC):
        layout[side.name] = [[c.name, str(c.dtype), c.nullable] for c in side.columns]
    return hashlib.sha256(json.dumps(layout, sort_keys=True).encode()).hexdigest()


def read_release_tables(folder: Path, names: list[str]) -> dict[str, pl.DataFrame]:
    return {
        n: pl.read_parquet(folder / f"{n}.parquet")
        for n in names
        if (folder / f"{n}.parquet").exists()
    }


@dataclass
class Release:
    """What a build produced."""

    version: str
    path: Path
    previous: str | None
    diff: Diff
    rows: dict[str, int]


def _check_bump(version: str, previous: str | None, diff: Diff) -> None:
    if previous is None:
        return
    if parse_version(version) <= parse_version(previous):
        raise ReleaseError(f"version {version} is not newer than the latest release {previous}")
    required = diff.required
    if required is Bump.NONE:
        raise ReleaseError(f"nothing changed since {previous}: no release to build")
    expected = next_version(previous, required)
    if version != expected:
        why = {
            Bump.MAJOR: "the table schema changed (a major change)",
            Bump.MINOR: "records were added (a minor change)",
            Bump.PATCH: "only corrections and removals (a patch)",
        }[required]
        raise ReleaseError(
            f"version {version} is the wrong bump: since {previous}, {why}, so the next version is {expected}"
        )


def _tombstones(folder: Path | None, diff: Diff, version: str) -> pl.DataFrame:
    old = (
        pl.read_parquet(folder / TOMBSTONES)
        if folder and (folder / TOMBSTONES).exists()
        else pl.DataFrame(schema=TOMBSTONE_SCHEMA)
    )
    new = diff.changes.filter(pl.col("change") == "removed").select(
        "table", KEY, pl.lit(version).alias("removed_in")
    )
    return pl.concat([old, new.cast(TOMBSTONE_SCHEMA)]).sort("table", KEY)  # type: ignore[arg-type]


def _check_keys(folder: Path, specs: dict[str, TableSpec]) -> None:
    """Every table's global key is unique (the manifest declares it the primary key)."""
    for name in specs:
        counted = pl.scan_parquet(folder / f"{name}.parquet").group_by(KEY).len()
        twice = counted.filter(pl.col("len") > 1).select(KEY).sort(KEY).collect()[KEY]
        if twice.len() and name == DOCUMENTS:
            raise ReleaseError(
                f"document(s) {', '.join(twice.head(5))} come from more than one file: several "
                "annotations of one document (a pull's per-annotator folder) are valid, but a "
                "release holds one per document; adjudicate them (`sitrep annotate "
                "adjudicate`) and build from the ground truth"
            )
        if twice.len():
            raise ReleaseError(
                f"{name}: key(s) {', '.join(twice.head(5))} occur more than once "
                f"(expected one row per key {'/'.join(specs[name].key)}); remove the duplicate "
                "from its annotation file"
            )


def _check_reuse(folder: Path, tombstones: pl.DataFrame, specs: dict[str, TableSpec]) -> None:
    """A removed id never comes back. Rows keyed by content (spans, participants, event
    locations) may: restoring a removed span brings back the same span, not a reused id."""
    for name, table in specs.items():
        dead = tombstones.filter(pl.col("table") == name).select(KEY)
        if dead.is_empty() or table.key[-1] not in ("id", "document_id"):
            continue
        keys = pl.read_parquet(folder / f"{name}.parquet", columns=[KEY])
        back = keys.join(dead, on=KEY, how="semi")
        if back.height:
            raise ReleaseError(
                f"{name}: id(s) removed in an earlier release are back ({', '.join(back[KEY].head(5))}); ids are never reused, give the record a new id"
            )


def _file_meta(version: str, table: str) -> dict[str, str]:
    return {
        "sitrep:release": version,
        "sitrep:schema_version": spec.schema_version(),
        "sitrep:table": table,
    }


def _unordered(field: pa.Field, nullable: bool) -> pa.Field:
    """`field` with its dictionaries unordered (a vocabulary has no order: pandas would
    otherwise show `exact < approximately`) and the nullability the spec declares."""
    kind = field.type
    if pa.types.is_dictionary(kind):
        kind = pa.dictionary(kind.index_type, kind.value_type, ordered=False)
    elif pa.types.is_large_list(kind):
        kind = pa.large_list(_unordered(kind.value_field, True))
    elif pa.types.is_list(kind):
        kind = pa.list_(_unordered(kind.value_field, True))
    return pa.field(field.name, kind, nullable=nullable, metadata=field.metadata)


def arrow_schema(table: TableSpec, data: pa.Schema, meta: dict[str, str]) -> pa.Schema:
    """The Parquet schema of a released table: Polars' Arrow types for its columns, enums
    as unordered dictionaries, keys and required columns not nullable."""
    nullable = {c.name: c.nullable for c in table.columns}
    fields = [_unordered(f, nullable.get(f.name, True)) for f in data]
    return pa.schema(fields, metadata={**(data.metadata or {}), **meta})


def write_table_file(frame: pl.DataFrame, path: Path, table: TableSpec, version: str) -> None:
    """One whole table as a release file (zstd, explicit schema, file metadata)."""
    data = frame.select([c.name for c in table.columns]).to_arrow()
    schema = arrow_schema(table, data.schema, _file_meta(version, table.name))
    pq.write_table(data.cast(schema), path, compression="zstd")


class TableWriter:
    """Appends each chunk's tables to one Parquet file per table (zstd, one row group per
    chunk, file metadata naming the release and schema versions), so a release of any
    size is written without holding its tables in memory."""

    def __init__(
        self,
        folder: Path,
        version: str,
        specs: dict[str, TableSpec],
        held_out: frozenset[str] = frozenset(),
    ) -> None:
        self.folder, self.version, self.specs = folder, version, specs
        self.held_out = held_out
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.rows: dict[str, int] = dict.fromkeys(specs, 0)

    def append(self, tables: dict[str, pl.DataFrame]) -> None:
        # rows stay in input order (files sorted, then document order): deterministic
        # without a sort, which would cost as much as writing the file
        if DOCUMENTS in tables:
            tables = prepare(tables, self.held_out)
        for name, frame in tables.items():
            self._write(name, public(frame))

    def _write(self, name: str, frame: pl.DataFrame) -> None:
        table = release_spec(self.specs[name], self.specs)
        data = with_keys(frame, self.specs[name], self.specs).to_arrow()
        if name not in self.writers:
            schema = arrow_schema(table, data.schema, _file_meta(self.version, name))
            self.writers[name] = pq.ParquetWriter(
                self.folder / f"{name}.parquet", schema, compression="zstd"
            )
        self.writers[name].write_table(data.cast(self.writers[name].schema))
        self.rows[name] += frame.height

    def close(self) -> None:
        """Finish every file; a table no chunk had is written empty, with its columns."""
        for name, table in self.specs.items():
            if name not in self.writers:
                empty = {name: pl.DataFrame(schema=table.schema)}
                self._write(
                    name, (prepare(empty, self.held_out) if name == DOCUMENTS else empty)[name]
                )
        for writer in self.writers.values():
            writer.close()


def _first_release(rows: dict[str, int]) -> Diff:
    """Everything is new in a first release; changes.parquet lists nothing."""
    return Diff(
        pl.DataFrame(schema=CHANGES_SCHEMA),
        {n: TableDiff(added=r) for n, r in rows.items()},
        schema_changed=False,
    )


def _with_entities(specs: dict[str, TableSpec]) -> dict[str, TableSpec]:
    """The document tables and the registry's `entities` table: every table whose rows
    are diffed, tombstoned and never reuse a removed id."""
    return {**specs, ENTITIES: ENTITIES_SPEC}


def _write_entities(folder: Path, registry: Registry | None, version: str) -> int:
    """entities.parquet, written before the diff so it is diffed like the other tables."""
    entities = entities_table(registry)
    write_table_file(entities, folder / f"{ENTITIES}.parquet", ENTITIES_SPEC, version)
    return entities.height


def _diff_against(prev_dir: Path, staging: Path, specs: dict[str, TableSpec]) -> Diff:
    """The changes since the previous release, the registry's entities included (a release
    written before the entities table had none: every entity is then added)."""
    diffed = _with_entities(specs)
    new = read_release_tables(staging, list(diffed))
    old = _withhold(read_release_tables(prev_dir, list(diffed)), new[DOCUMENTS])
    manifest = json.loads((prev_dir / MANIFEST).read_text(encoding="utf-8"))
    changed = manifest.get("sitrep:table_schema_sha256") != schema_fingerprint(specs)
    return diff_releases(old, new, {n: s.key for n, s in diffed.items()}, schema_changed=changed)


def _withhold(old: dict[str, pl.DataFrame], documents: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The previous release's tables with the texts this release withholds nulled too, so
    that changes.parquet (which quotes old values) never carries a withheld text."""
    withheld = documents.filter(pl.col("text").is_null())[DOC_ID].implode()
    out = dict(old)
    for name, column in WITHHELD.items():
        if name in out and column in out[name].columns:
            hide = pl.col(DOC_ID).is_in(withheld)
            out[name] = out[name].with_columns(
                pl.when(hide).then(None).otherwise(pl.col(column)).alias(column)
            )
    return out


def build_release(
    version: str | None,
    sources: list[Path],
    releases: Path,
    *,
    created: datetime | None = None,
    workers: int | None = None,
    agreement: Agreement | None = None,
    anchor_index: Path | None = None,
    held_out: Path | None = None,
    registry: Path | None = None,
    clusters: Path | None = None,
) -> Release:
    """Validate `sources` and write release `version` (None: the version the changes call
    for) into `releases/version`. Everything is written in a temporary folder inside
    `releases` and renamed at the end, so a failed or killed build leaves no partial
    release and touches nothing else.

    `agreement`, given the ids of the released documents, returns the inter-annotator
    agreement summary the manifest records as `sitrep:agreement`; the layer that knows
    the annotations (`sitrep.annotate.review.agreement.release_summary`) supplies it.

    `held_out` names the JSON list of documents that always go to the test split
    (`sitrep.validate.publication`). `registry` is the registry of actors and places
    the links are checked against and the `entities` table is written from (default:
    the one `sitrep.validate.registry.find_registry` finds); `clusters` the event clusters
    and quantities file the claims ledger is built with (default: the one
    `sitrep.schema.clusters.find_clusters` finds). `anchor_index`, when given, receives a copy of `releases/index.json` once the release
    is recorded: the index the installed package ships as its trust anchor."""
    if version is not None:
        _check_listed(version, releases)
    previous = _latest(releases)
    if version is not None:
        _check_new(version, releases, previous)
    specs = table_specs()
    held = read_held_out(held_out)
    stamp = (created or datetime.now(UTC)).replace(microsecond=0)
    releases.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(releases)
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING}{os.getpid()}-", dir=releases))
    try:
        writer = TableWriter(staging, version or "pending", specs, held)
        dataset = load_dataset(
            sources,
            keep_tables=False,
            on_tables=writer.append,
            workers=workers,
            registry=registry,
            clusters=clusters,
        )
        writer.close()
        if not dataset.report.valid:
            raise ValidationFailed(dataset.report)
        _check_keys(staging, specs)
        registered = dataset.registry.registry if dataset.registry else None
        entity_rows = _write_entities(staging, registered, writer.version)
        prev_dir = releases / previous if previous else None
        diff = (
            _diff_against(prev_dir, staging, specs)
            if prev_dir
            else _first_release({**writer.rows, ENTITIES: entity_rows})
        )
        version = version or _next_version(previous, diff)
        _check_bump(version, previous, diff)
        if writer.version != version:  # an automatic version: stamp it into the files
            _restamp(staging, version, _with_entities(specs))
        tombstones = _tombstones(prev_dir, diff, version)
        _check_reuse(staging, tombstones, _with_entities(specs))
        _write_rest(
            staging,
            version,
            stamp,
            writer.rows,
            diff,
            tombstones,
            dataset.report,
            previous,
            specs,
            agreement,
            entity_rows,
            dataset.clusters.clusters if dataset.clusters else None,
        )
        target = releases / version
        staging.chmod(0o755)
        _rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _record_in_index(releases, version, target, previous, stamp)
    if anchor_index is not None:
        write_atomic(anchor_index, (releases / INDEX).read_text(encoding="utf-8"))
    return Release(version, target, previous, diff, writer.rows)


def listed_versions(releases: Path) -> list[str]:
    """Versions `releases/index.json` records, oldest first."""
    path = releases / INDEX
    if not path.is_file():
        return []
    listed = json.loads(path.read_text(encoding="utf-8")).get("releases", {})
    return sorted((v for v in listed if SEMVER.match(v)), key=parse_version)


def _latest(releases: Path) -> str | None:
    """The latest published version, whose folder the diff needs."""
    known = sorted(
        set(published_versions(releases)) | set(listed_versions(releases)), key=parse_version
    )
    if known and not (releases / known[-1]).is_dir():
        raise ReleaseError(
            f"{releases / INDEX} lists release {known[-1]} but {releases / known[-1]} is "
            "missing: the next release is diffed against it; restore the folder (for "
            f"instance `sitrep release fetch {known[-1]} --from URL` and copy it back)"
        )
    return known[-1] if known else None


def _rename(staging: Path, target: Path) -> None:
    """Publish the finished build; fails rather than replace an existing folder."""
    try:
        os.rename(staging, target)
    except OSError as exc:
        if not target.exists():
            raise
        raise ReleaseError(
            f"release {target.name} was written by another build while this one ran "
            f"(it is at {target}); nothing of this build was kept. Run one build at a "
            "time; build again for the next version"
        ) from exc


def remove_stale_builds(releases: Path) -> list[Path]:
    """Remove the staging folders of builds whose process is gone (killed mid-build);
    they were never releases: only a finished build is renamed to its version."""
    removed = []
    for folder in releases.glob(f"{STAGING}*"):
        pid = folder.name.removeprefix(STAGING).split("-", 1)[0]
        if pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def process_alive(pid: int) -> bool:
    """Whether process `pid` still runs (the owner of a staging folder)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _check_listed(version: str, releases: Path) -> None:
    parse_version(version)
    if version in listed_versions(releases) and not (releases / version).exists():
        raise ReleaseError(
            f"release {version} is listed in {releases / INDEX}: a published version is "
            "never rebuilt, even when its folder is gone; build a new version"
        )


def _check_new(version: str, releases: Path, previous: str | None) -> None:
    parse_version(version)
    if (releases / version).exists():
        raise ReleaseError(
            f"release {version} already exists at {releases / version}: releases are immutable; build a new version"
        )
    if previous is not None and parse_version(version) <= parse_version(previous):
        raise ReleaseError(f"version {version} is not newer than the latest release {previous}")


def _next_version(previous: str | None, diff: Diff) -> str:
    if previous is None:
        return "1.0.0"
    if diff.required is Bump.NONE:
        raise ReleaseError(f"nothing changed since {previous}: no release to build")
    return next_version(previous, diff.required)


def _restamp(folder: Path, version: str, specs: dict[str, TableSpec]) -> None:
    """Write the version into each table's file metadata (the data stays as written)."""
    for name in specs:
        path = folder / f"{name}.parquet"
        data = pq.read_table(path)
        meta = {
            **(data.schema.metadata or {}),
            **{k.encode(): v.encode() for k, v in _file_meta(version, name).items()},
        }
        pq.write_table(data.replace_schema_metadata(meta), path, compression="zstd")


def _write_rest(
    folder: Path,
    version: str,
    stamp: datetime,
    rows: dict[str, int],
    diff: Diff,
    tombstones: pl.DataFrame,
    report: Report,
    previous: str | None,
    specs: dict[str, TableSpec],
    agreement: Agreement | None,
    entity_rows: int = 0,
    clusters: Clusters | None = None,
) -> None:
    """Everything but the document and entities tables: changes, tombstones, manifest,
    card, checksums."""
    write_table_file(diff.changes, folder / CHANGES, CHANGES_SPEC, version)
    write_table_file(tombstones, folder / TOMBSTONES, TOMBSTONES_SPEC, version)
    split_rows = write_splits(folder, specs, version)
    registry = pl.read_parquet(folder / f"{ENTITIES}.parquet", columns=["id", "name"])
    names = dict(registry.iter_rows())
    ledger = write_ledger(folder, version, clusters, names)
    documents = _documents_meta(folder)
    manifest = build_manifest(
        folder, version, stamp, rows, documents, diff, report, previous, specs, split_rows
    )
    manifest["resources"].append(
        _resource(
            folder,
            ENTITIES,
            entity_rows,
            table_schema(ENTITIES_SPEC),
            "the registry of actors and places (datasets/entities/registry.json) that "
            "actors.entity and locations.entity point at",
        )
    )
    manifest["resources"] += _ledger_resources(folder, ledger.rows)
    manifest["sitrep:charts"] = ledger.charts
    if agreement is not None:
        manifest["sitrep:agreement"] = agreement(set(documents["document_id"].to_list()))
    (folder / MANIFEST).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (folder / CARD).write_text(render_card(manifest), encoding="utf-8")
    files = sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.relative_to(folder).as_posix() != SUMS
    )
    (folder / SUMS).write_text(
        "".join(f"{sha256_file(folder / f)}  {f}\n" for f in files), encoding="utf-8"
    )


def _ledger_resources(folder: Path, rows: dict[str, int]) -> list[dict[str, Any]]:
    """The claims ledger's two tables as manifest resources (`sitrep.validate.claims`)."""
    described = {
        CLAIMS: (CLAIMS_SPEC, "one row per figure that has a quantity: who claimed how many, when"),
        SUMMARIES: (
            SUMMARIES_SPEC,
            "per quantity, summaries derived from the claims by named, versioned rules",
        ),
    }
    out = []
    for name, (spec_, text) in described.items():
        schema = table_schema(spec_)
        schema["foreignKeys"] = schema.get("foreignKeys", []) + claims_foreign_keys(name)
        out.append(_resource(folder, name, rows[name], schema, text))
    return out


FRICTIONLESS_TYPES = {
    pl.String: "string",
    pl.Int64: "integer",
    pl.Int32: "integer",
    pl.Float64: "number",
    pl.Boolean: "boolean",
    pl.Date: "date",
}


def _constraints(col: ColumnSpec) -> dict[str, Any]:
    """The JSON Schema constraints of a column, as Table Schema constraints."""
    out: dict[str, Any] = {}
    if not col.nullable:
        out["required"] = True
    if isinstance(col.dtype, pl.Enum):
        out["enum"] = list(col.dtype.categories)
    elif col.allowed is not None:
        out["enum"] = list(col.allowed)
    if col.pattern is not None:
        out["pattern"] = col.pattern
    if col.min_length is not None:
        out["minLength"] = col.min_length
    if col.minimum is not None:
        out["minimum"] = col.minimum
    if col.maximum is not None:
        out["maximum"] = col.maximum
    return out


def _field(col: ColumnSpec) -> dict[str, Any]:
    """One Table Schema field. Two of frictionless-py's limits shape it (its Parquet
    reader goes through pandas): a list cell arrives as a numpy array, which its `array`
    type refuses, so lists are `any`; a null in a numeric column arrives as NaN, which
    fails `integer` and every bound, so a nullable numeric column is a `number` and keeps
    its bounds in `sitrep:constraints`. Everything it can check is declared for it."""
    dtype = col.dtype
    out: dict[str, Any] = {"name": col.name}
    constraints = _constraints(col)
    if isinstance(dtype, pl.Enum):
        out["type"] = "string"
    elif isinstance(dtype, pl.Datetime):
        out["type"] = "datetime"
    elif isinstance(dtype, pl.List):
        out["type"] = "any"
        out["sitrep:type"] = f"list of {_item_type(dtype.inner)}"
        inner = {k: v for k, v in constraints.items() if k != "required"}
        constraints = {k: v for k, v in constraints.items() if k == "required"}
        if inner:
            out["sitrep:constraints"] = inner
    else:
        out["type"] = FRICTIONLESS_TYPES.get(type(dtype), "any")
    if out["type"] in ("integer", "number") and col.nullable:
        out["type"] = "number"
        bounds = {k: v for k, v in constraints.items() if k in ("minimum", "maximum")}
        constraints = {k: v for k, v in constraints.items() if k not in bounds}
        if bounds:
            out["sitrep:constraints"] = bounds
    if constraints:
        out["constraints"] = constraints
    return out


def _item_type(dtype: Any) -> str:
    if isinstance(dtype, pl.Enum):
        return "string, one of " + ", ".join(dtype.categories)
    return FRICTIONLESS_TYPES.get(type(dtype), "any")


def table_schema(table: TableSpec) -> dict[str, Any]:
    """The Table Schema of a released table: every column with its JSON Schema
    constraints, `key` as the primary key, each `<name>_key` (and `document_id`) as a
    one-column foreign key."""
    fks = [
        {"fields": [c.name], "reference": {"resource": c.references, "fields": [KEY]}}
        for c in table.columns
        if c.references and (c.name.endswith("_key") or c.name == "document_id")
    ] + entity_foreign_keys(table.name)
    schema: dict[str, Any] = {
        "fields": [_field(c) for c in table.columns],
        "primaryKey": [KEY] if KEY in {c.name for c in table.columns} else list(table.key),
    }
    if fks:
        schema["foreignKeys"] = fks
    return schema


def _resource(
    folder: Path, name: str, rows: int, schema: dict[str, Any] | None, description: str
) -> dict[str, Any]:
    path = folder / f"{name}.parquet"
    res: dict[str, Any] = {
        "name": name,
        "path": path.name,
        "format": "parquet",
        "mediatype": PARQUET_MEDIATYPE,
        # not `bytes`: frictionless-py cannot count a Parquet file's bytes and would
        # refuse every resource; SHA256SUMS and the verifier check sizes and hashes
        "sitrep:bytes": path.stat().st_size,
        "hash": f"sha256:{sha256_file(path)}",
        "description": description,
        "sitrep:rows": rows,
    }
    if schema:
        res["schema"] = schema
    return res


def _sources(docs: pl.DataFrame) -> list[dict[str, Any]]:
    """One source per document: where its text comes from and under which licence."""
    return [
        {
            "title": d["title"] or d["document_id"],
            **({"path": d["url"]} if d["url"] else {}),
            "sitrep:document_id": d["document_id"],
            "sitrep:publisher": d["publisher"],
            "sitrep:license": d["license"],
            "sitrep:license_id": d["license_id"],
            "sitrep:credit": d["credit"],
            "sitrep:source": d["source"],
            "sitrep:text_included": d["text_included"],
            "sitrep:split": d["split"],
            "sitrep:coverage": d["coverage"],
        }
        for d in docs.sort("document_id").iter_rows(named=True)
    ]


def _documents_meta(folder: Path) -> pl.DataFrame:
    return pl.read_parquet(folder / "documents.parquet").select(
        "document_id",
        "title",
        "url",
        "publisher",
        "credit",
        "license",
        pl.col("license_id").cast(pl.String),
        "source",
        pl.col("provenance_coverage").cast(pl.List(pl.String)).alias("coverage"),
        pl.col("split").cast(pl.String),
        pl.col("text").is_not_null().alias("text_included"),
        "provenance_annotators",
    )


def _split_counts(folder: Path, docs: pl.DataFrame, specs: dict[str, TableSpec]) -> dict[str, Any]:
    """{split: {"documents": n, table: rows}} for every split that has documents."""
    out: dict[str, Any] = {}
    for split in SPLITS:
        ids = docs.filter(pl.col("split") == split)["document_id"]
        if ids.len() == 0:
            continue
        out[split] = {"documents": ids.len()}
        for name in specs:
            if name != DOCUMENTS:
                keys = pl.scan_parquet(folder / f"{name}.parquet").select(DOC_ID)
                out[split][name] = (
                    keys.filter(pl.col(DOC_ID).is_in(ids.implode()))
                    .select(pl.len())
                    .collect()
                    .item()
                )
    return out


def _provenance_counts(folder: Path, specs: dict[str, TableSpec]) -> dict[str, dict[str, int]]:
    """{record table: {provenance method: rows}}, counted from the data."""
    out = {}
    for name, table in specs.items():
        if "provenance_method" in {c.name for c in table.columns}:
            methods = pl.read_parquet(folder / f"{name}.parquet", columns=["provenance_method"])
            counted = (
                methods["provenance_method"]
                .cast(pl.String)
                .fill_null("not recorded")
                .value_counts()
            )
            out[name] = dict(sorted(counted.iter_rows()))
    return out


def _coverage_counts(docs: pl.DataFrame, specs: dict[str, TableSpec]) -> dict[str, int]:
    kinds = [n for n, t in specs.items() if t.parent is None and n not in (DOCUMENTS, SPANS)]
    listed = docs["coverage"].explode().drop_nulls()
    return {k: int((listed == k).sum()) for k in kinds}


def write_splits(
    folder: Path, specs: dict[str, TableSpec], version: str
) -> dict[tuple[str, str], int]:
    """`<table>-<split>.parquet` for every table and every split that has documents (the
    files the card's configs point at); {(table, split): rows}. Each table is streamed a
    batch at a time into its split files, so memory stays bounded at any size."""
    splits = pl.read_parquet(folder / "documents.parquet", columns=[DOC_ID, "split"])
    members = {
        split: pa.array(ids.to_list(), pa.string())
        for split in SPLITS
        if (ids := splits.filter(pl.col("split") == split)[DOC_ID]).len()
    }
    rows: dict[tuple[str, str], int] = {}
    for name in specs:
        source = pq.ParquetFile(folder / f"{name}.parquet")
        base = source.schema_arrow
        writers = {
            split: pq.ParquetWriter(
                folder / f"{name}-{split}.parquet",
                base.with_metadata(
                    {**(base.metadata or {}), **_file_meta(version, name), "sitrep:split": split}
                ),
                compression="zstd",
            )
            for split in members
        }
        try:
            for batch in source.iter_batches(batch_size=1 << 16):
                ids = batch.column(base.get_field_index(DOC_ID)).cast(pa.string())
                for split, wanted in members.items():
                    part = batch.filter(pc.is_in(ids, value_set=wanted))
                    writers[split].write_batch(part)
                    rows[(name, split)] = rows.get((name, split), 0) + part.num_rows
        finally:
            for writer in writers.values():
                writer.close()
        for split in members:  # a split with no row of the table gets no file: Hugging
            if (name, split) not in rows or not rows[(name, split)]:  # Face cannot load one
                (folder / f"{name}-{split}.parquet").unlink()
                rows.pop((name, split), None)
    return rows


def build_manifest(
    folder: Path,
    version: str,
    stamp: datetime,
    rows: dict[str, int],
    docs: pl.DataFrame,
    diff: Diff,
    report: Report,
    previous: str | None,
    specs: dict[str, TableSpec],
    split_rows: dict[tuple[str, str], int],
) -> dict[str, Any]:
    annotators = sorted(docs["provenance_annotators"].explode().drop_nulls().unique().to_list())
    resources = [
        _resource(folder, n, r, table_schema(release_spec(specs[n], specs)), f"{n} table")
        for n, r in rows.items()
    ]
    for (name, split), count in split_rows.items():
        part = _resource(
            folder,
            f"{name}-{split}",
            count,
            table_schema(release_spec(specs[name], specs)),
            f"{name} table, {split} split",
        )
        resources.append({**part, "sitrep:table": name, "sitrep:split": split})
    resources.append(
        _resource(
            folder,
            "changes",
            diff.changes.height,
            table_schema(CHANGES_SPEC),
            f"row-level changes since {previous or 'nothing (first release)'}",
        )
    )
    resources.append(
        _resource(
            folder,
            "tombstones",
            pl.read_parquet(folder / TOMBSTONES).height,
            table_schema(TOMBSTONES_SPEC),
            "every key removed in this or an earlier release; never reused",
        )
    )
    return {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "name": "sitrep",
        "id": f"urn:sitrep:release:{version}",
        "title": "sitrep: events, actors and figures reported in the news",
        "description": "Actors, events, locations and figures (numeric claims as intervals, with who asserted them) reported in news texts, each anchored to its source text by evidence spans; how each record was made (by hand, from an accepted or edited proposal, or by a machine alone) is counted in sitrep:provenance.",
        "version": version,
        "created": stamp.isoformat().replace("+00:00", "Z"),
        "licenses": [LICENSE],  # the annotations'; each text's own is in `sources`
        "sources": _sources(docs),
        "contributors": [{"title": a, "roles": ["annotator"]} for a in annotators],
        "resources": resources,
        "sitrep:splits": {"rule": split_rule(), "counts": _split_counts(folder, docs, specs)},
        "sitrep:provenance": _provenance_counts(folder, specs),
        "sitrep:coverage": _coverage_counts(docs, specs),
        "sitrep:schema_version": spec.schema_version(),
        "sitrep:table_schema_sha256": schema_fingerprint(specs),
        "sitrep:toolkit_version": __version__,
        "sitrep:previous": previous,
        "sitrep:validation": {
            "valid": report.valid,
            "files_checked": report.files_checked,
            "counts": dict(sorted(report.counts.items())),
        },
        "sitrep:changes": {
            n: {
                "added": t.added,
                "removed": t.removed,
                "modified": t.modified,
                "columns": t.columns,
            }
            for n, t in diff.tables.items()
        },
    }


def _record_in_index(
    releases: Path, version: str, folder: Path, previous: str | None, stamp: datetime
) -> None:
    index_path = releases / INDEX
    index = json.loads(index_path.read_text()) if index_path.exists() else {"releases": {}}
    index["releases"][version] = {
        "datapackage_sha256": sha256_file(folder / MANIFEST),
        "created": stamp.isoformat().replace("+00:00", "Z"),
        "previous": previous,
    }
    index["releases"] = dict(sorted(index["releases"].items(), key=lambda kv: parse_version(kv[0])))
    write_atomic(index_path, json.dumps(index, indent=2) + "\n")


def record_in_changelog(changelog: Path, release: Release) -> None:
    """Add the release's notes at the top of the `## Dataset` section of CHANGELOG.md."""
    manifest = json.loads((release.path / MANIFEST).read_text(encoding="utf-8"))
    entry = f"### {release.version} ({manifest['created'][:10]})\n\n{release_notes(manifest)}\n"
    text = (
        changelog.read_text(encoding="utf-8")
        if changelog.exists()
        else "# Changelog\n\n## Dataset\n\n"
    )
    if "## Dataset\n" not in text:
        text = text.rstrip("\n") + "\n\n## Dataset\n\n"
    head, tail = text.split("## Dataset\n", 1)
    write_atomic(changelog, f"{head}## Dataset\n\n{entry}{tail.lstrip(chr(10))}")


def record_in_citation(citation: Path, release: Release) -> None:
    """Point CITATION.cff's `version` and `date-released` at the new release."""
    if not citation.exists():
        return
    manifest = json.loads((release.path / MANIFEST).read_text(encoding="utf-8"))
    text = citation.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^version: .*$", f"version: {release.version}", text)
    text = re.sub(r"(?m)^date-released: .*$", f'date-released: "{manifest["created"][:10]}"', text)
    write_atomic(citation, text)
