"""Mapping table rows back to documents: each failing row becomes an `Issue` with its
document file and a JSON pointer, in the format the per-document layer uses.

Shared by the Pandera and cross-table checks (`sitrep.validate.checks`) and the
vectorised per-document rules (`sitrep.validate.table_rules`); kept apart from both so
that each can import it without importing the other.
"""

from __future__ import annotations

import polars as pl

from sitrep.schema.report import Code, Issue
from sitrep.validate.tables import DOCUMENTS, FILE, INDEX, PARENT_INDEX, SPANS, TableSpec


def pointer_expr(table: TableSpec, column: str | None) -> pl.Expr:
    """A JSON pointer expression for each row of `table` (with its hidden columns)."""
    tail = "/" + "/".join(table.column(column).path) if column and table.column(column).path else ""
    if table.name == DOCUMENTS:
        return pl.lit(tail or "/document")
    if column is not None and column in (
        "record_id",
        table.parent_column,
    ):  # the id of the record the row hangs off
        owner = (
            pl.col("record_table").cast(pl.String) if table.name == SPANS else pl.lit(table.parent)
        )
        return pl.format("/{}/{}/id", owner, pl.col(PARENT_INDEX))
    if table.name == SPANS:
        return pl.format(
            "/{}/{}/spans/{}" + tail, pl.col("record_table"), pl.col(PARENT_INDEX), pl.col(INDEX)
        )
    if table.parent:
        prop = table.source.split(".", 1)[1]
        return pl.format(
            f"/{table.parent}/{{}}/{prop}/{{}}" + tail, pl.col(PARENT_INDEX), pl.col(INDEX)
        )
    return pl.format(f"/{table.name}/{{}}" + tail, pl.col(INDEX))


def _text(value: str | pl.Expr) -> pl.Expr:
    return value if isinstance(value, pl.Expr) else pl.lit(value)


def issues_at(
    rows: pl.DataFrame,
    pointer: pl.Expr,
    code: Code,
    message: str | pl.Expr,
    expected: str | pl.Expr,
    found: pl.Expr,
) -> list[Issue]:
    """One issue per row of `rows` (which keeps its `_file` column), at `pointer`. The
    message and the expected value are text or per-row expressions."""
    if rows.is_empty():
        return []
    shown = rows.select(
        pl.col(FILE),
        pointer.alias("pointer"),
        _text(message).alias("message"),
        _text(expected).cast(pl.String).fill_null("null").alias("expected"),
        found.cast(pl.String).fill_null("null").alias("found"),
    )
    return [Issue(code, f, p, m, e, v) for f, p, m, e, v in shown.iter_rows()]


def issues_from_rows(
    rows: pl.DataFrame,
    table: TableSpec,
    column: str | None,
    code: Code,
    message: str | pl.Expr,
    expected: str | pl.Expr,
    found: pl.Expr,
) -> list[Issue]:
    """One issue per failing row of `table`, at the pointer of `column` (or of the row)."""
    return issues_at(rows, pointer_expr(table, column), code, message, expected, found)


def number_text(value: pl.Expr) -> pl.Expr:
    """A float column written as the per-document layer writes the JSON number it came
    from: whole numbers without a trailing `.0` (JSON integers are read as floats)."""
    whole = value.is_finite() & (value == value.round()) & (value.abs() < 2**53)
    return (
        pl.when(whole)
        .then(value.cast(pl.Int64, strict=False).cast(pl.String))
        .otherwise(value.cast(pl.String))
    )
