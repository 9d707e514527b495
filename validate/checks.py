"""Validating the tables: Pandera models derived from the JSON Schema, and vectorised
cross-field and cross-table checks in Polars.

Everything here works on eager frames (pandera skips data checks on LazyFrames by
default) and maps each failing row back to its document file and JSON pointer, so a
problem found in a table reads exactly like one found in a document.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from sitrep.schema.report import Code, Issue
from sitrep.validate.rows import issues_from_rows, number_text
from sitrep.validate.small import duplicate_document
from sitrep.validate.table_rules import TABLE_RULES
from sitrep.validate.tables import (
    DOC_ID,
    DOCUMENTS,
    FILE,
    SPANS,
    ColumnSpec,
    TableSpec,
    table_specs,
)

# --- Pandera models ------------------------------------------------------------------


def _checks(col: ColumnSpec) -> list[pa.Check]:
    checks = []
    if col.minimum is not None:
        checks.append(pa.Check.ge(col.minimum))
    if col.maximum is not None:
        checks.append(pa.Check.le(col.maximum))
    if col.pattern is not None:
        checks.append(pa.Check.str_matches(col.pattern))
    if col.min_length is not None:
        checks.append(pa.Check.str_length(min_value=col.min_length))
    if col.allowed is not None:
        checks.append(pa.Check.isin(list(col.allowed)))
    return checks


def pandera_model(
    table: TableSpec, *, strict: bool = False, unique: bool = True
) -> pa.DataFrameSchema:
    """The Pandera model of `table`: dtypes, enums, nullability, ranges, patterns and (with
    `unique`) key uniqueness, all read from the table spec (so from the JSON Schema)."""
    columns = {
        c.name: pa.Column(c.dtype, checks=_checks(c), nullable=c.nullable, coerce=False)
        for c in table.columns
    }
    key = list(table.key) if unique else None
    return pa.DataFrameSchema(columns, name=table.name, unique=key, strict=strict)


@cache
def pandera_models(*, unique: bool = True) -> dict[str, pa.DataFrameSchema]:
    return {name: pandera_model(t, unique=unique) for name, t in table_specs().items()}


PANDERA_CODES = {
    "greater_than_or_equal_to": Code.SCHEMA_RANGE,
    "less_than_or_equal_to": Code.SCHEMA_RANGE,
    "str_matches": Code.SCHEMA_PATTERN,
    "str_length": Code.SCHEMA_LENGTH,
    "isin": Code.SCHEMA_ENUM,
    "not_nullable": Code.SCHEMA_TYPE,
    "dtype": Code.SCHEMA_TYPE,
    "column_in_dataframe": Code.TABLE_COLUMNS,
    "column_in_schema": Code.TABLE_COLUMNS,
    "multiple_fields_uniqueness": Code.ID_DUPLICATE,
}


def _code(check: str) -> Code:
    for prefix, code in PANDERA_CODES.items():
        if check.startswith(prefix):
            return code
    return Code.SCHEMA_OTHER


def run_pandera(
    frame: pl.DataFrame, table: TableSpec, model: pa.DataFrameSchema | None = None
) -> list[Issue]:
    """Pandera's verdict on `frame`, each failure case mapped back to a file and pointer.
    Pandera reports row positions, not ids: they index `frame` and its hidden columns."""
    model = model or pandera_model(table)
    try:
        model.validate(frame, lazy=True)
    except SchemaErrors as exc:
        return list(_pandera_issues(exc.failure_cases, frame, table))
    return []


def _pandera_issues(cases: pl.DataFrame, frame: pl.DataFrame, table: TableSpec) -> Iterator[Issue]:
    for case in cases.iter_rows(named=True):
        column, check, index = case["column"], str(case["check"]), case["index"]
        code = _code(check)
        if index is None or FILE not in frame.columns:
            yield Issue(
                code,
                f"<table {table.name}>",
                f"/{column or ''}",
                f"table check {check} failed",
                check,
                str(case["failure_case"]),
            )
            continue
        row = frame.slice(index, 1)
        if code is Code.ID_DUPLICATE:
            key = ", ".join(table.key)
            found = pl.concat_str([pl.col(k).cast(pl.String) for k in table.key], separator=", ")
            yield from issues_from_rows(
                row,
                table,
                "id" if "id" in frame.columns else None,
                code,
                f"{table.name} rows must have a unique ({key})",
                f"a unique ({key})",
                found,
            )
            continue
        known = column if column in {c.name for c in table.columns} else None
        message = f"{table.name}.{column} fails the check {check}"
        yield from issues_from_rows(
            row, table, known, code, message, check, pl.lit(str(case["failure_case"]))
        )


# --- cross-field and cross-table checks ----------------------------------------------


def check_intervals(tables: dict[str, pl.DataFrame]) -> list[Issue]:
    """low <= best <= high wherever both sides are known; a null is unknown, not zero."""
    figures = tables.get("figures")
    if figures is None:
        return []
    spec = table_specs()["figures"]
    out = []
    reported = pl.lit(False)  # like the per-document rule, only the first broken pair
    for a, b in (("low", "best"), ("best", "high"), ("low", "high")):
        broken = (pl.col(a) > pl.col(b)).fill_null(False)
        bad = figures.filter(broken & ~reported)
        reported = reported | broken
        expected = pl.format(">= {}", number_text(pl.col(a)))
        out += issues_from_rows(
            bad,
            spec,
            b,
            Code.FIGURE_INTERVAL,
            f"{a} must not exceed {b}",
            expected,
            number_text(pl.col(b)),
        )
    return out


def check_spans(tables: dict[str, pl.DataFrame]) -> list[Issue]:
    """start < end, end inside the text, quoted text equals the slice."""
    spans, docs = tables[SPANS], tables[DOCUMENTS]
    spec = table_specs()[SPANS]
    joined = spans.join(
        docs.select(DOC_ID, FILE, pl.col("text").alias("_doc_text")), on=[DOC_ID, FILE], how="left"
    )
    order = joined.filter(pl.col("start") >= pl.col("end"))
    inside = joined.filter(pl.col("start") < pl.col("end"))
    bounds = inside.filter(pl.col("end") > pl.col("_doc_text").str.len_chars())
    sliced = inside.filter(pl.col("end") <= pl.col("_doc_text").str.len_chars()).with_columns(
        pl.col("_doc_text")
        .str.slice(pl.col("start"), pl.col("end") - pl.col("start"))
        .alias("_slice")
    )
    wrong = sliced.filter(pl.col("_slice") != pl.col("text"))
    return (
        issues_from_rows(
            order,
            spec,
            None,  # the span, as the per-document rule reports it
            Code.SPAN_ORDER,
            "span start must be before its end",
            pl.format("start < {}", pl.col("end")),
            pl.col("start"),
        )
        + issues_from_rows(
            bounds,
            spec,
            "end",
            Code.SPAN_BOUNDS,
            "span ends past the end of the text",
            pl.format("<= {}", pl.col("_doc_text").str.len_chars()),
            pl.col("end"),
        )
        + issues_from_rows(
            wrong,
            spec,
            "text",
            Code.SPAN_TEXT,
            pl.format("quoted text differs from text[{}:{}]", pl.col("start"), pl.col("end")),
            pl.col("_slice"),
            pl.col("text"),
        )
    )


def check_foreign_keys(tables: dict[str, pl.DataFrame]) -> list[Issue]:
    """Every reference names a record of the right table in the same document."""
    specs = table_specs()
    out = []
    for table in specs.values():
        frame = tables.get(table.name)
        if frame is None:
            continue
        for col in table.columns:
            if col.references is None or col.name == DOC_ID:
                continue
            target = tables[col.references]
            key = DOC_ID if col.references == DOCUMENTS else "id"
            known = target.select(DOC_ID, FILE, pl.col(key).alias(col.name)).unique()
            bad = frame.filter(pl.col(col.name).is_not_null()).join(
                known, on=[DOC_ID, FILE, col.name], how="anti"
            )
            message = f"reference to an unknown {col.references[:-1]}"
            out += issues_from_rows(
                bad,
                table,
                col.name,
                Code.REF_UNRESOLVED,
                message,
                f"the id of one of the document's {col.references}",
                pl.col(col.name),
            )
    return out


def check_orphans(tables: dict[str, pl.DataFrame]) -> list[Issue]:
    """Spans and link rows belong to a record that exists; every row to a document."""
    specs = table_specs()
    out = []
    docs = tables[DOCUMENTS].select(DOC_ID, FILE)
    for name, frame in tables.items():
        if name == DOCUMENTS:
            continue
        lost = frame.join(docs, on=[DOC_ID, FILE], how="anti")
        out += issues_from_rows(
            lost,
            specs[name],
            None,
            Code.TABLE_ORPHAN,
            f"{name} row of a document that is not in the documents table",
            "a known document_id",
            pl.col(DOC_ID),
        )
    spans = tables[SPANS]
    for record_table in specs[SPANS].column("record_table").dtype.categories:  # type: ignore[attr-defined]
        ids = tables[record_table].select(DOC_ID, FILE, pl.col("id").alias("record_id"))
        lost = spans.filter(pl.col("record_table") == record_table).join(
            ids, on=[DOC_ID, FILE, "record_id"], how="anti"
        )
        out += issues_from_rows(
            lost,
            specs[SPANS],
            "record_id",
            Code.TABLE_ORPHAN,
            f"span of no {record_table[:-1]}",
            f"the id of one of the document's {record_table}",
            pl.col("record_id"),
        )
    return out


CROSS_CHECKS = (check_intervals, check_spans, check_foreign_keys, check_orphans, *TABLE_RULES)


def drop_documents(
    tables: dict[str, pl.DataFrame], dropped: pl.DataFrame
) -> dict[str, pl.DataFrame]:
    """Every table without the rows of the (document_id, _file) pairs in `dropped`."""
    return {
        name: frame.join(dropped, on=[DOC_ID, FILE], how="anti") for name, frame in tables.items()
    }


ANNOTATION_IDS = "provenance_label_studio_annotation_ids"


def copy_key() -> pl.Expr:
    """`sitrep.validate.small.copy_key` as an expression over the documents table: the
    document id, and the Label Studio annotation ids of a pulled annotation."""
    ids = pl.col(ANNOTATION_IDS).list.sort().cast(pl.List(pl.String)).list.join(",")
    return (
        pl.when(pl.col(ANNOTATION_IDS).list.len().fill_null(0) == 0)
        .then(pl.col(DOC_ID))
        .otherwise(pl.concat_str([pl.col(DOC_ID), pl.lit(" #"), ids]))
        .alias("_copy")
    )


def split_duplicate_documents(
    tables: dict[str, pl.DataFrame],
) -> tuple[dict[str, pl.DataFrame], list[Issue]]:
    """Report each document used by more than one file once (the same id, and for pulled
    annotations the same Label Studio annotation), and keep only its first file's rows, so
    one duplicate does not flood every table with key violations. Several annotations of
    one document (a pull's per-annotator folder) are not duplicates."""
    docs = tables[DOCUMENTS].with_row_index("_row").with_columns(copy_key())
    first = docs.group_by("_copy").agg(pl.col(FILE).sort_by("_row").first().alias("_first"))
    extra = docs.join(first, on="_copy").filter(pl.col(FILE) != pl.col("_first"))
    if extra.is_empty():
        return tables, []
    rows = extra.select(FILE, "_first", DOC_ID).iter_rows()
    issues = [duplicate_document(f, other, doc_id) for f, other, doc_id in rows]
    return drop_documents(tables, extra.select(DOC_ID, FILE)), issues


def validate_tables(tables: dict[str, pl.DataFrame]) -> list[Issue]:
    """Every issue the table layer finds: Pandera per table, then the cross checks. Key
    uniqueness is left to `check_unique_ids` (which reports each repeated record id once,
    like the per-document rule) and to the duplicate-document report; every check groups
    by file as well as document id, so a document whose id another file also uses is
    still checked in full, and its problems are not hidden behind `id.duplicate`."""
    specs = table_specs()
    issues = split_duplicate_documents(tables)[1]
    for name, frame in tables.items():
        issues += run_pandera(frame, specs[name], pandera_models(unique=False)[name])
    for check in CROSS_CHECKS:
        issues += check(tables)
    return issues
