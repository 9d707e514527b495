"""Row-level differences between two releases, and the semver bump they require.

Rows are matched on each table's global `key`: a record by document id and id, a span by
its record and offsets, a participant or event location by its event, actor or location
and role (`tables.key_expr`). Keys by content mean that removing, reordering or restoring
a span is diffed as what it is: one span removed, nothing, one span added.

`changes.parquet` has one row per added or removed row (`old` or `new` holds the whole
row as JSON) and one row per changed column of a modified row (`column`, and its `old`
and `new` values as JSON), so a user sees what a correction changed without opening the
previous release.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import polars as pl

from sitrep.validate.tables import KEY, key_expr

CHANGES_SCHEMA = {
    "table": pl.String,
    KEY: pl.String,
    "change": pl.String,
    "column": pl.String,
    "old": pl.String,
    "new": pl.String,
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


def keyed(frame: pl.DataFrame, key: tuple[str, ...]) -> pl.DataFrame:
    """`frame` with its global key: the `key` column a release wrote, or (for a release
    written before keys were columns) the key computed from the key columns."""
    return frame if KEY in frame.columns else frame.with_columns(key_expr(key))


def _json(column: str) -> pl.Expr:
    """The value of `column` as JSON text (null stays null)."""
    encoded = pl.struct(pl.col(column).alias("v")).struct.json_encode()
    text = encoded.str.strip_prefix('{"v":').str.strip_suffix("}")
    return pl.when(pl.col(column).is_null()).then(None).otherwise(text)


def _whole_rows(frame: pl.DataFrame, change: str) -> pl.DataFrame:
    values = [c for c in frame.columns if c != KEY]
    row = pl.struct(values).struct.json_encode() if values else pl.lit(None, pl.String)
    return frame.select(
        KEY,
        pl.lit(change).alias("change"),
        pl.lit(None, pl.String).alias("column"),
        (row if change == "removed" else pl.lit(None, pl.String)).alias("old"),
        (row if change == "added" else pl.lit(None, pl.String)).alias("new"),
    )


def _modified(both: pl.DataFrame, shared: list[str]) -> pl.DataFrame:
    """One row per changed column of each row present on both sides."""
    parts = [
        both.filter(~pl.col(c).eq_missing(pl.col(f"{c}__old"))).select(
            KEY,
            pl.lit("modified").alias("change"),
            pl.lit(c).alias("column"),
            _json(f"{c}__old").alias("old"),
            _json(c).alias("new"),
        )
        for c in shared
    ]
    return pl.concat(parts) if parts else pl.DataFrame(schema=_ROW_SCHEMA)


_ROW_SCHEMA = {k: v for k, v in CHANGES_SCHEMA.items() if k != "table"}


def diff_table(
    name: str, old: pl.DataFrame, new: pl.DataFrame, key: tuple[str, ...]
) -> tuple[pl.DataFrame, TableDiff]:
    """Changes of one table; columns present in only one side are not compared (a
    change of columns is a schema change, which the manifest's fingerprint catches)."""
    old_k, new_k = keyed(old, key), keyed(new, key)
    added = new_k.join(old_k.select(KEY), on=KEY, how="anti")
    removed = old_k.join(new_k.select(KEY), on=KEY, how="anti")
    shared = [c for c in new_k.columns if c in old_k.columns and c != KEY]
    both = new_k.join(old_k.select(KEY, *shared), on=KEY, how="inner", suffix="__old")
    modified = _modified(both, shared)
    rows = pl.concat(
        [_whole_rows(added, "added"), _whole_rows(removed, "removed"), modified.cast(_ROW_SCHEMA)]  # type: ignore[arg-type]
    ).select(pl.lit(name).alias("table"), *_ROW_SCHEMA)
    counts = dict(modified.group_by("column").len().sort("column").iter_rows())
    changed_rows = modified[KEY].n_unique() if modified.height else 0
    return rows, TableDiff(added.height, removed.height, changed_rows, counts)


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
    return Diff(
        changes.cast(CHANGES_SCHEMA).sort("table", KEY, "column", nulls_last=False),  # type: ignore[arg-type]
        summary,
        schema_changed,
    )
