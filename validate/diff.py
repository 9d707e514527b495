"""Row-level differences between two releases, and the semver bump they require.

Rows are matched on each table's key (document id plus record id, or the position of a
span or link row). A row is added, removed (a tombstone: its key may never come back)
or modified; for modified rows the changed columns are listed and counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import polars as pl

KEY = "key"
CHANGES_SCHEMA = {
    "table": pl.String,
    KEY: pl.String,
    "change": pl.String,
    "columns": pl.List(pl.String),
}


class Bump(IntEnum):
    """What a release changes, from least to most: patch < minor < major."""

    NONE = 0
    PATCH = 1
    MINOR = 2
    MAJOR = 3


@dataclass
class TableDiff:
    added: int = 0
    removed: int = 0
    modified: int = 0
    columns: dict[str, int] = field(default_factory=dict)


@dataclass
class Diff:
    """Every change between two releases, as rows and as counts."""

    changes: pl.DataFrame
    tables: dict[str, TableDiff]
    schema_changed: bool

    @property
    def required(self) -> Bump:
        if self.schema_changed:
            return Bump.MAJOR
        if any(t.added for t in self.tables.values()):
            return Bump.MINOR
        if any(t.removed or t.modified for t in self.tables.values()):
            return Bump.PATCH
        return Bump.NONE


def key_expr(key: tuple[str, ...]) -> pl.Expr:
    """One string key per row: the key columns joined with '/'."""
    return pl.concat_str([pl.col(k).cast(pl.String) for k in key], separator="/").alias(KEY)


def diff_table(
    name: str, old: pl.DataFrame, new: pl.DataFrame, key: tuple[str, ...]
) -> tuple[pl.DataFrame, TableDiff]:
    """Changes of one table; columns present in only one side count as changed."""
    old_k, new_k = old.with_columns(key_expr(key)), new.with_columns(key_expr(key))
    added = new_k.join(old_k.select(KEY), on=KEY, how="anti").select(KEY)
    removed = old_k.join(new_k.select(KEY), on=KEY, how="anti").select(KEY)
    shared = [c for c in new.columns if c in old.columns and c not in key]
    both = new_k.join(old_k, on=KEY, how="inner", suffix="__old")
    flags = [(~pl.col(c).eq_missing(pl.col(f"{c}__old"))).alias(c) for c in shared]
    changed = both.select(KEY, *flags) if shared else both.select(KEY)
    counts = {c: int(changed[c].sum()) for c in shared if changed[c].sum()}
    columns = (
        pl.concat_list(
            [pl.when(pl.col(c)).then(pl.lit(c)).otherwise(None) for c in shared]
        ).list.drop_nulls()
        if shared
        else pl.lit([], dtype=pl.List(pl.String))
    )
    modified = changed.select(KEY, columns.alias("columns")).filter(
        pl.col("columns").list.len() > 0
    )
    rows = pl.concat(
        [
            added.with_columns(
                pl.lit("added").alias("change"),
                pl.lit([], dtype=pl.List(pl.String)).alias("columns"),
            ),
            removed.with_columns(
                pl.lit("removed").alias("change"),
                pl.lit([], dtype=pl.List(pl.String)).alias("columns"),
            ),
            modified.with_columns(pl.lit("modified").alias("change")).select(
                KEY, "change", "columns"
            ),
        ]
    ).select(pl.lit(name).alias("table"), KEY, "change", "columns")
    return rows, TableDiff(added.height, removed.height, modified.height, counts)


def diff_releases(
    old: dict[str, pl.DataFrame],
    new: dict[str, pl.DataFrame],
    keys: dict[str, tuple[str, ...]],
    *,
    schema_changed: bool,
) -> Diff:
    """Every change from `old` to `new` (tables absent on one side count as empty)."""
    parts, summary = [], {}
    for name, key in keys.items():
        new_t = new.get(name)
        old_t = old.get(name)
        if new_t is None or old_t is None:
            empty = (new_t if old_t is None else old_t).clear()  # type: ignore[union-attr]
            old_t, new_t = (empty, new_t) if old_t is None else (old_t, empty)
        rows, counts = diff_table(name, old_t, new_t, key)
        parts.append(rows)
        summary[name] = counts
    changes = pl.concat(parts) if parts else pl.DataFrame(schema=CHANGES_SCHEMA)
    return Diff(changes.cast(CHANGES_SCHEMA).sort("table", KEY), summary, schema_changed)  # type: ignore[arg-type]
