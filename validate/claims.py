"""The claims ledger: who said how many, when, about the same thing.

1. A claim is a figure that has a quantity (`figures[].quantity`, an id of
   `datasets/entities/clusters.json`). `build_claims` gives one row per claim, from the
   release-shaped tables (`documents`, `figures`, `actors`, `spans`, with their global
   keys): the quantity, its event cluster, counted and unit, the figure's
   low/best/high, qualifier, vague term and realis, the claimant (the `claimed_by`
   actor, its name, its registry entity and that entity's canonical name), the source
   document with its publisher and date, and the first quoted span with its offsets.
   Rows are ordered by quantity, document date (undated first), document and position.
2. Summaries are derived per quantity by named, versioned rules (`RULES`); a summary
   row points at the claims it used and never replaces one:
   - `latest-actual-per-claimant@1`: for each claimant, its latest claim (by document
     date, then document id and position) whose realis is `actual`;
   - `range-across-claimants@1`: over those latest claims, the smallest lower bound and
     the largest upper bound (a bound is `low`, else `best`; `high`, else `best`; a
     missing bound is left out, and the range's bound is null when every claim lacks it).
   A claimant is its registry entity when the actor is linked, otherwise its name as
   written (lower-cased); a figure nobody is said to claim is the publisher's own,
   "(unattributed) <publisher>" (or "(unattributed)" without a publisher).
3. Everything stays columnar (Polars): two million claims take a few seconds
   (benchmarks/bench_claims.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from sitrep.schema.clusters import Clusters
from sitrep.schema.report import Report
from sitrep.validate.tables import DOC_ID, KEY, ColumnSpec, TableSpec

LATEST = "latest-actual-per-claimant@1"
RANGE = "range-across-claimants@1"
UNATTRIBUTED = "(unattributed)"


@dataclass(frozen=True)
class Rule:
    """A named, versioned summary rule."""

    name: str
    description: str


RULES = (
    Rule(
        LATEST,
        "per claimant, its latest claim (document date, then document id and position) "
        "whose realis is actual",
    ),
    Rule(
        RANGE,
        "over the latest actual claims of every claimant: the smallest lower bound (low, "
        "else best) and the largest upper bound (high, else best); missing bounds are "
        "left out",
    ),
)


def _col(
    name: str, dtype: pl.DataType, nullable: bool = True, refs: str | None = None
) -> ColumnSpec:
    return ColumnSpec(name, dtype, nullable, (), references=refs)


CLAIMS_SPEC = TableSpec(
    "claims",
    (KEY,),
    (
        _col(KEY, pl.String(), False),
        _col(DOC_ID, pl.String(), False, "documents"),
        _col("figure_id", pl.String(), False),
        _col("figure_key", pl.String(), False, "figures"),
        _col("quantity", pl.String(), False),
        _col("event_cluster", pl.String()),
        _col("counted", pl.String(), False),
        _col("unit", pl.String(), False),
        _col("low", pl.Float64()),
        _col("best", pl.Float64()),
        _col("high", pl.Float64()),
        _col("qualifier", pl.String(), False),
        _col("vague_term", pl.String()),
        _col("realis", pl.String(), False),
        _col("claimed_by", pl.String()),
        _col("claimed_by_key", pl.String(), True, "actors"),
        _col("claimant_name", pl.String()),
        _col("claimant_entity", pl.String()),
        _col("claimant_canonical", pl.String()),
        _col("claimant", pl.String(), False),
        _col("publisher", pl.String()),
        _col("published", pl.Date()),
        _col("span_text", pl.String()),
        _col("span_start", pl.Int64()),
        _col("span_end", pl.Int64()),
    ),
    "claims",
)

SUMMARIES_SPEC = TableSpec(
    "claim_summaries",
    (KEY,),
    (
        _col(KEY, pl.String(), False),
        _col("quantity", pl.String(), False),
        _col("event_cluster", pl.String()),
        _col("rule", pl.String(), False),
        _col("claimant", pl.String()),
        _col("claim_key", pl.String(), True, "claims"),
        _col("document_key", pl.String(), True, "documents"),  # null for a range
        _col("published", pl.Date()),
        _col("low", pl.Float64()),
        _col("best", pl.Float64()),
        _col("high", pl.Float64()),
        _col("claims", pl.Int64(), False),
        _col("claimants", pl.Int64(), False),
    ),
    "claim_summaries",
)

CLAIM_COLUMNS = [c.name for c in CLAIMS_SPEC.columns]
SUMMARY_COLUMNS = [c.name for c in SUMMARIES_SPEC.columns]


def _quantities(clusters: Clusters | None) -> pl.DataFrame:
    rows = [(q.id, q.event_cluster) for q in (clusters.quantities.values() if clusters else [])]
    return pl.DataFrame(
        rows, schema={"quantity": pl.String, "event_cluster": pl.String}, orient="row"
    )


def _first_spans(spans: pl.DataFrame) -> pl.DataFrame:
    return (
        spans.filter(pl.col("figure_key").is_not_null())
        .sort("figure_key", "start")
        .unique("figure_key", keep="first", maintain_order=True)
        .select(
            "figure_key",
            pl.col("text").alias("span_text"),
            pl.col("start").cast(pl.Int64).alias("span_start"),
            pl.col("end").cast(pl.Int64).alias("span_end"),
        )
    )


def _claimants(actors: pl.DataFrame, entity_names: dict[str, str] | None) -> pl.DataFrame:
    names = pl.DataFrame(
        list((entity_names or {}).items()),
        schema={"claimant_entity": pl.String, "claimant_canonical": pl.String},
        orient="row",
    )
    entity = (
        pl.col("entity").cast(pl.String) if "entity" in actors.columns else pl.lit(None, pl.String)
    )
    return actors.select(
        pl.col(KEY).alias("claimed_by_key"),
        pl.col("name").alias("claimant_name"),
        entity.alias("claimant_entity"),
    ).join(names, on="claimant_entity", how="left")


def build_claims(
    tables: dict[str, pl.DataFrame],
    clusters: Clusters | None = None,
    entity_names: dict[str, str] | None = None,
) -> pl.DataFrame:
    """One row per figure that has a quantity (see the module docstring). `tables` are
    release-shaped (global `key` and `<name>_key` columns); `entity_names` maps registry
    entity ids to canonical names."""
    figures = tables["figures"].filter(pl.col("quantity").is_not_null())
    documents = tables["documents"].select(
        DOC_ID, "publisher", pl.col("published").cast(pl.Date, strict=False)
    )
    claims = (
        figures.with_columns(
            pl.col(KEY).alias("figure_key"),
            pl.col("id").alias("figure_id"),
            *(
                pl.col(c).cast(pl.String)
                for c in ("quantity", "counted", "unit", "qualifier", "realis", "vague_term")
            ),
            *(pl.col(c).cast(pl.Float64) for c in ("low", "best", "high")),
        )
        .join(_quantities(clusters), on="quantity", how="left")
        .join(documents, on=DOC_ID, how="left")
        .join(_claimants(tables["actors"], entity_names), on="claimed_by_key", how="left")
        .join(_first_spans(tables["spans"]), on="figure_key", how="left")
        .with_columns(
            pl.coalesce(
                pl.col("claimant_entity"),
                pl.col("claimant_name").str.to_lowercase(),
                pl.format(UNATTRIBUTED + " {}", pl.col("publisher")),
                pl.lit(UNATTRIBUTED),
            ).alias("claimant")
        )
    )
    return claims.select(CLAIM_COLUMNS).sort(
        "quantity", "published", DOC_ID, "span_start", nulls_last=False, maintain_order=True
    )


def _latest(claims: pl.DataFrame) -> pl.DataFrame:
    actual = claims.filter(pl.col("realis") == "actual")
    counts = actual.group_by("quantity", "claimant").agg(pl.len().cast(pl.Int64).alias("claims"))
    latest = (
        # rows keep their order inside a group: sorted by time, the last is the latest
        actual.sort("published", DOC_ID, "span_start", nulls_last=False)
        .group_by("quantity", "claimant")
        .last()
        .join(counts, on=["quantity", "claimant"])
    )
    return latest.select(
        pl.concat_str(
            [pl.col("quantity"), pl.lit(LATEST), pl.col("claimant")], separator="/"
        ).alias(KEY),
        "quantity",
        "event_cluster",
        pl.lit(LATEST).alias("rule"),
        "claimant",
        pl.col(KEY).alias("claim_key"),
        pl.col(DOC_ID).alias("document_key"),
        "published",
        "low",
        "best",
        "high",
        "claims",
        pl.lit(1, pl.Int64).alias("claimants"),
    )


def _range(latest: pl.DataFrame) -> pl.DataFrame:
    lower = pl.coalesce("low", "best")
    upper = pl.coalesce("high", "best")
    return latest.group_by("quantity").agg(
        (pl.col("quantity").first() + f"/{RANGE}").alias(KEY),
        pl.col("event_cluster").first(),
        pl.lit(RANGE).alias("rule"),
        pl.lit(None, pl.String).alias("claimant"),
        pl.lit(None, pl.String).alias("claim_key"),
        pl.lit(None, pl.String).alias("document_key"),
        pl.col("published").max(),
        lower.min().alias("low"),
        pl.lit(None, pl.Float64).alias("best"),
        upper.max().alias("high"),
        pl.col("claims").sum().cast(pl.Int64),
        pl.len().cast(pl.Int64).alias("claimants"),
    )


def summarise(claims: pl.DataFrame) -> pl.DataFrame:
    """The summary rows of every rule in `RULES`, per quantity."""
    latest = _latest(claims)
    both = pl.concat([latest, _range(latest).select(latest.columns)], how="vertical_relaxed")
    return both.select(SUMMARY_COLUMNS).sort("quantity", "rule", "claimant", nulls_last=False)


LEDGER_TABLES = ("documents", "figures", "actors", "spans")


def release_shaped(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The tables `load_dataset` keeps, as a release has them (public columns, keys)."""
    from sitrep.validate.tables import public, table_specs, with_keys

    specs = table_specs()
    out = {n: with_keys(public(tables[n]), specs[n], specs) for n in LEDGER_TABLES[1:]}
    return {"documents": public(tables["documents"]), **out}


@dataclass
class Ledger:
    """The claims of a dataset, their summaries, and the validation report they rest on."""

    claims: pl.DataFrame
    summaries: pl.DataFrame
    report: Report


def entity_names(sources: list[Path], registry: Path | None = None) -> dict[str, str]:
    """{registry entity id: canonical name} of the registry a check of `sources` uses
    (`sitrep.validate.registry.find_registry`); empty without one."""
    from sitrep.validate.registry import open_registry

    found = open_registry(sources, registry)
    if found.registry is None:
        return {}
    return {e.id: e.name for e in found.registry.entities.values()}


def ledger_from_paths(
    sources: list[Path], clusters: Path | None = None, registry: Path | None = None
) -> Ledger:
    """Validate `sources` (with the registry, cluster and quantity rules; the clusters
    file and the registry found as `sitrep validate` finds them) and build the ledger of
    their valid documents."""
    from sitrep.schema.clusters import open_clusters
    from sitrep.validate.dataset import load_dataset

    found = open_clusters(sources, clusters)
    dataset = load_dataset(sources, clusters=found.path, registry=registry)
    names = entity_names(sources, registry)
    claims = build_claims(release_shaped(dataset.tables), found.clusters, names)
    return Ledger(claims, summarise(claims), dataset.report)


def select(
    frame: pl.DataFrame, quantity: str | None = None, cluster: str | None = None
) -> pl.DataFrame:
    """The rows of one quantity and/or one event cluster."""
    if quantity is not None:
        frame = frame.filter(pl.col("quantity") == quantity)
    if cluster is not None:
        frame = frame.filter(pl.col("event_cluster") == cluster)
    return frame


# --- in a release ------------------------------------------------------------------------

CHARTS = "charts"  # a release's folder of SVG charts, one per quantity
CLAIMS, SUMMARIES = CLAIMS_SPEC.name, SUMMARIES_SPEC.name


@dataclass
class LedgerFiles:
    """What `write_ledger` wrote into a release folder."""

    rows: dict[str, int]  # {table: rows}
    charts: list[dict[str, object]]  # one manifest entry per chart


def write_ledger(
    folder: Path, version: str, clusters: Clusters | None, names: dict[str, str]
) -> LedgerFiles:
    """`claims.parquet`, `claim_summaries.parquet` and `charts/<quantity>.svg` of the
    release tables already in `folder`."""
    from sitrep.validate.charts import chart_name, render_chart
    from sitrep.validate.release import sha256_file, write_table_file

    tables = {n: pl.read_parquet(folder / f"{n}.parquet") for n in LEDGER_TABLES}
    claims = build_claims(tables, clusters, names)
    summaries = summarise(claims)
    write_table_file(claims, folder / f"{CLAIMS}.parquet", CLAIMS_SPEC, version)
    write_table_file(summaries, folder / f"{SUMMARIES}.parquet", SUMMARIES_SPEC, version)
    (folder / CHARTS).mkdir()
    charts: list[dict[str, object]] = []
    for quantity in sorted(set(claims["quantity"].to_list())):
        known = clusters.quantities.get(quantity) if clusters else None
        path = folder / CHARTS / chart_name(quantity)
        path.write_text(render_chart(quantity, claims, known.description if known else ""))
        charts.append(
            {
                "path": f"{CHARTS}/{path.name}",
                "quantity": quantity,
                "mediatype": "image/svg+xml",
                "sitrep:bytes": path.stat().st_size,
                "hash": f"sha256:{sha256_file(path)}",
            }
        )
    return LedgerFiles({CLAIMS: claims.height, SUMMARIES: summaries.height}, charts)


def claims_foreign_keys(table: str) -> list[dict[str, object]]:
    """The Table Schema foreign keys of the ledger tables that are not `<name>_key`
    columns: a claimant's registry entity."""
    if table != CLAIMS:
        return []
    return [{"fields": ["claimant_entity"], "reference": {"resource": "entities", "fields": [KEY]}}]
