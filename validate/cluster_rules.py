"""The cluster and quantity rules (`sitrep.schema.clusters.check_links`), vectorised.

The clusters file becomes two small frames; each rule is a join of the events or
figures table against them, and reports exactly what the per-document rule reports
(code, JSON pointer, message, expected, found), which tests/test_small.py checks.
"""

from __future__ import annotations

import polars as pl

from sitrep.schema import spec
from sitrep.schema.clusters import (
    Clusters,
    ClustersFound,
    cluster_message,
    measure_message,
    missing_issue,
)
from sitrep.schema.report import Code, Issue
from sitrep.validate.rows import issues_from_rows
from sitrep.validate.tables import DOC_ID, FILE, INDEX, table_specs

Tables = dict[str, pl.DataFrame]


def _quantities(clusters: Clusters) -> pl.DataFrame:
    rows = [(q.id, q.event_cluster, q.counted, q.unit) for q in clusters.quantities.values()]
    schema = {
        "quantity": pl.String,
        "_q_cluster": pl.String,
        "_q_counted": pl.String,
        "_q_unit": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def check_unknown(tables: Tables, clusters: Clusters) -> list[Issue]:
    """cluster.unknown and quantity.unknown: ids the clusters file does not define."""
    specs = table_specs()
    issues = []
    for table, column, code, what in (
        ("events", "cluster", Code.CLUSTER_UNKNOWN, "the event names an event cluster"),
        ("figures", "quantity", Code.QUANTITY_UNKNOWN, "the figure names a quantity"),
    ):
        known = list(clusters.event_clusters if column == "cluster" else clusters.quantities)
        ids = pl.col(column).cast(pl.String)
        bad = tables[table].filter(ids.is_not_null() & ~ids.is_in(known))
        kind = "an event cluster" if column == "cluster" else "a quantity"
        issues += issues_from_rows(
            bad,
            specs[table],
            column,
            code,
            f"{what} the clusters file does not define",
            f"the id of {kind} in {clusters.path}",
            ids,
        )
    return issues


def _figures_with_quantity(tables: Tables, clusters: Clusters) -> pl.DataFrame:
    figures = tables["figures"].with_columns(pl.col("quantity").cast(pl.String))
    return figures.join(_quantities(clusters), on="quantity", how="inner")


def check_measure(tables: Tables, clusters: Clusters) -> list[Issue]:
    """quantity.measure: the figure's counted or unit differs from its quantity's."""
    joined = _figures_with_quantity(tables, clusters)
    issues = []
    for name, vocabulary in (("counted", "Counted"), ("unit", "Unit")):
        value = pl.col(name).cast(pl.String)
        known = [str(v) for v in spec.enum_values(vocabulary)]
        # a quantity whose own value is not in the vocabulary is clusters.schema's problem
        bad = joined.filter(value != pl.col(f"_q_{name}"), pl.col(f"_q_{name}").is_in(known))
        issues += issues_from_rows(
            bad,
            table_specs()["figures"],
            name,
            Code.QUANTITY_MEASURE,
            pl.format(measure_message(name, "{}"), pl.col("quantity")),
            pl.col(f"_q_{name}"),
            value,
        )
    return issues


def check_event_cluster(tables: Tables, clusters: Clusters) -> list[Issue]:
    """quantity.event_cluster: the figure's event is in another cluster than its
    quantity is about (checked when both are set)."""
    events = (
        tables["events"]
        .filter(pl.col("cluster").is_not_null())
        .sort(INDEX)
        .unique([FILE, DOC_ID, "id"], keep="first", maintain_order=True)
        .select(
            FILE,
            DOC_ID,
            pl.col("id").alias("event"),
            pl.col("cluster").cast(pl.String).alias("_e_cluster"),
        )
    )
    joined = _figures_with_quantity(tables, clusters).join(
        events, on=[FILE, DOC_ID, "event"], how="inner"
    )
    bad = joined.filter(
        pl.col("_q_cluster").is_not_null() & (pl.col("_q_cluster") != pl.col("_e_cluster"))
    )
    return issues_from_rows(
        bad,
        table_specs()["figures"],
        "quantity",
        Code.QUANTITY_EVENT_CLUSTER,
        pl.format(cluster_message("{}", "{}"), pl.col("event"), pl.col("quantity")),
        pl.col("_q_cluster"),
        pl.col("_e_cluster"),
    )


def check_missing(tables: Tables) -> list[Issue]:
    """clusters.missing: once per document that names a cluster or a quantity when no
    clusters file was found, at its first link (events before figures)."""
    firsts = []
    for rank, (table, column) in enumerate((("events", "cluster"), ("figures", "quantity"))):
        linked = tables[table].filter(pl.col(column).is_not_null())
        firsts.append(
            linked.group_by(FILE, DOC_ID)
            .agg(pl.col(INDEX).min())
            .with_columns(
                pl.lit(rank).alias("_rank"),
                pl.format(f"/{table}/{{}}/{column}", pl.col(INDEX)).alias("_pointer"),
            )
        )
    first = (
        pl.concat(firsts)
        .sort(FILE, DOC_ID, "_rank")
        .unique([FILE, DOC_ID], keep="first", maintain_order=True)
    )
    return [missing_issue(f, p) for f, p in first.select(FILE, "_pointer").iter_rows()]


def check_clusters(tables: Tables, found: ClustersFound | None) -> list[Issue]:
    """Every cluster.* and quantity.* issue of the tables against the clusters file
    `found` (`clusters.missing` when none was found)."""
    if found is None or (found.clusters is None and found.path is not None):
        return []  # none asked for, or a file that could not be read (reported once)
    if found.clusters is None:
        return check_missing(tables)
    clusters = found.clusters
    return [
        issue
        for check in (check_unknown, check_measure, check_event_cluster)
        for issue in check(tables, clusters)
    ]
