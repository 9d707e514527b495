"""Annotation documents as Polars tables, with every column derived from the JSON Schema.

`table_specs()` walks the schema: each array of records at the top of a document becomes
a table (`actors`, `locations`, `events`, `figures`), the `document` object with the
document-level `schema_version` and `provenance` becomes `documents`, nested objects are
flattened into prefixed columns (`date_start`, `coordinates_lat`, `provenance_method`),
lists of objects become link tables (`event_participants`, `event_locations`), and every
`spans` list lands in one `spans` table. Enumerations become `pl.Enum`, references are
foreign keys. Nothing here names a field of the schema: add a property there and the
column appears here, in the Pandera models and in the release.

Tables are built columnar: documents go into one nested Polars frame (explicit struct
dtypes, also derived from the schema) and are exploded and unnested; no per-record
Python on the bulk path.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.json as pajson

from sitrep.schema import spec
from sitrep.schema.files import max_document_bytes

Json = dict[str, Any]

DOCUMENTS = "documents"
SPANS = "spans"
SPANS_DEF = "Spans"
INDEX = "_index"  # position of a record in its document's list; kept out of releases
DOC_ID = "document_id"
KEY = "key"  # a release's global key column: the key columns joined with '/'
KEY_SUFFIX = "_key"
POSITION = "position"


@dataclass(frozen=True)
class ColumnSpec:
    """One column: its dtype and the JSON Schema constraints it carries."""

    name: str
    dtype: pl.DataType
    nullable: bool
    path: tuple[str, ...]  # where the value sits inside its record
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    allowed: tuple[Any, ...] | None = None  # non-string enumerations (ints)
    references: str | None = None  # table the value is a key of (same document)


@dataclass(frozen=True)
class TableSpec:
    """One table: its columns, its key, and where its rows come from."""

    name: str
    key: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    source: str  # top-level property of a document, or "<record table>.<list property>"
    parent: str | None = None  # the record table a link table hangs off
    parent_column: str | None = None

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)

    @property
    def schema(self) -> dict[str, pl.DataType]:
        return {c.name: c.dtype for c in self.columns}


@dataclass
class _Walker:
    schema: Json
    defs: Json = field(init=False)
    ref_tables: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.defs = self.schema["$defs"]

    def resolve(self, node: Json) -> tuple[Json, bool, str | None]:
        """(the node behind refs and nullable anyOf, whether null is allowed, ref name)."""
        nullable = False
        name = None
        while True:
            if "$ref" in node:
                name = node["$ref"].rsplit("/", 1)[-1]
                node = self.defs[name]
            elif isinstance(node.get("anyOf"), list) and {"type": "null"} in node["anyOf"]:
                nullable = True
                node = next(b for b in node["anyOf"] if b != {"type": "null"})
            else:
                break
        types = node.get("type")
        if isinstance(types, list) and "null" in types:
            nullable = True
        return node, nullable, name

    @staticmethod
    def kind(node: Json) -> str:
        if spec.is_enumeration(node) or "enum" in node:
            return "enum"
        types = node.get("type", "string")
        types = [t for t in (types if isinstance(types, list) else [types]) if t != "null"]
        return types[0] if types else "string"

    def dtype(self, node: Json) -> tuple[pl.DataType, tuple[Any, ...] | None]:
        kind = self.kind(node)
        if kind == "enum":
            values = [v for v in (spec.enumeration_values(node)) if v is not None]
            if all(isinstance(v, str) for v in values):
                return pl.Enum(values), None
            return pl.Int64(), tuple(values)
        if kind == "array":
            inner, _, _ = self.resolve(node.get("items", {}))
            return pl.List(self.dtype(inner)[0]), None
        if kind == "object":
            return self.struct(node), None
        fmt = node.get("format")
        if kind == "string" and fmt == "date":
            return pl.Date(), None
        if kind == "string" and fmt == "date-time":
            return pl.Datetime("us", "UTC"), None
        return {"integer": pl.Int64(), "number": pl.Float64(), "boolean": pl.Boolean()}.get(
            kind, pl.String()
        ), None

    def struct(self, node: Json) -> pl.Struct:
        fields = []
        for prop, sub in node.get("properties", {}).items():
            inner, _, _ = self.resolve(sub)
            fields.append(pl.Field(prop, self.read_dtype(inner)))
        return pl.Struct(fields)

    def read_dtype(self, node: Json) -> pl.DataType:
        """The dtype the JSON reader uses: dates and enums stay strings until checked."""
        kind = self.kind(node)
        if kind == "array":
            inner, _, _ = self.resolve(node.get("items", {}))
            return pl.List(self.read_dtype(inner))
        if kind == "object":
            return self.struct(node)
        if kind == "enum":
            values = [v for v in spec.enumeration_values(node) if v is not None]
            return pl.String() if all(isinstance(v, str) for v in values) else pl.Int64()
        return {"integer": pl.Int64(), "number": pl.Float64(), "boolean": pl.Boolean()}.get(
            kind, pl.String()
        )

    def columns(
        self, node: Json, prefix: str = "", path: tuple[str, ...] = (), required: bool = True
    ) -> list[ColumnSpec]:
        out: list[ColumnSpec] = []
        needed = set(node.get("required", ()))
        for prop, sub in node.get("properties", {}).items():
            inner, nullable, ref = self.resolve(sub)
            nullable = nullable or prop not in needed or not required
            kind = self.kind(inner)
            if kind == "object":
                out += self.columns(inner, f"{prefix}{prop}_", (*path, prop), required=not nullable)
            elif kind == "array" and self.kind(self.resolve(inner.get("items", {}))[0]) == "object":
                continue  # a link table or spans
            else:
                dtype, allowed = self.dtype(inner)
                out.append(
                    ColumnSpec(
                        name=f"{prefix}{prop}",
                        dtype=dtype,
                        nullable=nullable,
                        path=(*path, prop),
                        pattern=_table_pattern(inner, dtype),
                        minimum=inner.get("minimum"),
                        maximum=inner.get("maximum"),
                        min_length=inner.get("minLength") if kind == "string" else None,
                        allowed=allowed,
                        references=self.ref_tables.get(ref or ""),
                    )
                )
        return out

    def lists_of_records(self, node: Json) -> list[tuple[str, Json, str | None]]:
        """(property, item schema, item def name) for each list of objects in a record."""
        found = []
        for prop, sub in node.get("properties", {}).items():
            inner, _, ref = self.resolve(sub)
            if self.kind(inner) != "array":
                continue
            item, _, item_ref = self.resolve(inner.get("items", {}))
            if self.kind(item) == "object":
                found.append((prop, item, ref if ref == SPANS_DEF else item_ref))
        return found


def _table_pattern(node: Json, dtype: pl.DataType) -> str | None:
    """The schema's pattern as Polars (Rust regex) runs it, or None for typed columns
    (dates are checked by parsing them). Schema patterns end in `$(?!\\n)` because
    Python's `$` also matches before a final newline; Rust's `$` matches only at the end
    and has no lookaround, so the guard is dropped there."""
    pattern = node.get("pattern")
    if not isinstance(pattern, str) or dtype in (pl.Date(), pl.Datetime("us", "UTC")):
        return None
    return pattern.removesuffix("(?!\\n)")


def _singular(table: str) -> str:
    return table[:-1] if table.endswith("s") else table


def derive_specs(schema: Json) -> dict[str, TableSpec]:
    """Every table of the dataset, derived from `schema`."""
    walker = _Walker(schema)
    props = schema["properties"]
    record_tables = {}
    for name, sub in props.items():
        node, _, _ = walker.resolve(sub)
        if walker.kind(node) == "array":
            item, _, _ = walker.resolve(node["items"])
            record_tables[name] = item
            walker.ref_tables[item["properties"]["id"]["$ref"].rsplit("/", 1)[-1]] = name
    specs: dict[str, TableSpec] = {}
    doc_id = ColumnSpec(DOC_ID, pl.String(), False, ("document", "id"), references=DOCUMENTS)
    specs[DOCUMENTS] = _documents_spec(walker, schema, record_tables)
    span_columns: list[ColumnSpec] = []
    for table, item in record_tables.items():
        own = [
            replace(c, references=None) if c.path == ("id",) else c for c in walker.columns(item)
        ]
        specs[table] = TableSpec(table, (DOC_ID, "id"), (doc_id, *own), table)
        for prop, sub_item, def_name in walker.lists_of_records(item):
            if def_name == SPANS_DEF:
                span_columns = walker.columns(sub_item)
                continue
            parent_col = f"{_singular(table)}_id"
            name = f"{_singular(table)}_{prop}"
            parent = ColumnSpec(parent_col, pl.String(), False, ("id",), references=table)
            position = ColumnSpec("position", pl.Int32(), False, ())
            cols = (doc_id, parent, position, *walker.columns(sub_item))
            content = tuple(
                c.name for c in cols[3:] if c.references or isinstance(c.dtype, pl.Enum)
            )
            specs[name] = TableSpec(
                name, (DOC_ID, parent_col, *content), cols, f"{table}.{prop}", table, parent_col
            )
    kinds = pl.Enum(list(record_tables))
    span_cols = (
        doc_id,
        ColumnSpec("record_table", kinds, False, ()),
        ColumnSpec("record_id", pl.String(), False, ("id",)),
        ColumnSpec("position", pl.Int32(), False, ()),
        *span_columns,
    )
    specs[SPANS] = TableSpec(
        SPANS, (DOC_ID, "record_table", "record_id", "start", "end"), span_cols, "*.spans"
    )
    return specs


def _documents_spec(walker: _Walker, schema: Json, record_tables: dict[str, Json]) -> TableSpec:
    cols: list[ColumnSpec] = []
    top = {k: v for k, v in schema["properties"].items() if k not in record_tables}
    for prop, sub in top.items():
        node, _, _ = walker.resolve(sub)
        if walker.kind(node) == "object":
            prefix = "" if prop == "document" else f"{prop}_"
            cols += walker.columns(node, prefix, (prop,))
        else:
            cols += walker.columns({"properties": {prop: sub}, "required": [prop]})
    key = next(replace(c, name=DOC_ID) for c in cols if c.path == ("document", "id"))
    rest = [c for c in cols if c.path != ("document", "id")]
    return TableSpec(DOCUMENTS, (DOC_ID,), (key, *rest), "document")


@cache
def table_specs() -> dict[str, TableSpec]:
    """The tables of the packaged schema."""
    return derive_specs(spec.load_schema())


def derive_document_dtype(schema: Json) -> dict[str, pl.DataType]:
    """Struct dtypes to read whole annotation documents into one nested frame."""
    walker = _Walker(schema)
    return {
        prop: walker.read_dtype(walker.resolve(sub)[0])
        for prop, sub in schema["properties"].items()
    }


@cache
def document_dtype() -> dict[str, pl.DataType]:
    return derive_document_dtype(spec.load_schema())


# --- building ----------------------------------------------------------------------

FILE = "_file"
PARENT_INDEX = "_parent_index"


def read_documents(
    docs: Sequence[Json], files: Sequence[str] | None = None, *, schema: Json | None = None
) -> pl.DataFrame:
    """Parsed documents as one nested frame (one row a document), read by Polars' JSON
    reader with the schema's struct dtypes. `files` names where each came from."""
    import json

    payload = "\n".join(json.dumps(d, ensure_ascii=False) for d in docs).encode("utf-8")
    return read_ndjson(
        payload, files or [f"<document {i}>" for i in range(len(docs))], schema=schema
    )


def read_ndjson(
    source: bytes | str, files: Sequence[str] | str, *, schema: Json | None = None
) -> pl.DataFrame:
    """Documents from NDJSON (bytes, or a path) as one nested frame.

    Read with Arrow's JSON reader and the schema's struct types: for these deeply nested
    documents it is several times faster than Polars' NDJSON reader."""
    dtype = derive_document_dtype(schema) if schema else document_dtype()
    if isinstance(source, bytes) and not source:
        frame = pl.DataFrame(schema=dtype)
    else:
        data = io.BytesIO(source) if isinstance(source, bytes) else source
        options = pajson.ParseOptions(
            explicit_schema=_arrow_schema(dtype), unexpected_field_behavior="ignore"
        )
        # a block holds any whole document (at most max_document_bytes): no document
        # can straddle two blocks, whatever its size
        block = max(1 << 24, 2 * max_document_bytes())
        table = pajson.read_json(
            data, parse_options=options, read_options=pajson.ReadOptions(block_size=block)
        )
        frame = pl.DataFrame(pl.from_arrow(table)).cast(dtype)  # type: ignore[arg-type]
    names = [files] * frame.height if isinstance(files, str) else list(files)
    return frame.with_columns(pl.Series(FILE, names, dtype=pl.String))


def _plain_arrow(kind: pa.DataType) -> pa.DataType:
    """Arrow's JSON reader takes plain strings and lists, not the large or view kinds."""
    if pa.types.is_large_list(kind) or pa.types.is_list(kind):
        return pa.list_(_plain_arrow(kind.value_type))
    if pa.types.is_struct(kind):
        return pa.struct([pa.field(f.name, _plain_arrow(f.type)) for f in kind])
    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return pa.string()
    return kind


def _arrow_schema(dtype: dict[str, pl.DataType]) -> pa.Schema:
    arrow = pl.DataFrame(schema=dtype).to_arrow().schema
    return pa.schema([pa.field(f.name, _plain_arrow(f.type)) for f in arrow])


def _field(base: pl.Expr, path: Iterable[str]) -> pl.Expr:
    for part in path:
        base = base.struct.field(part)
    return base


def _typed(expr: pl.Expr, col: ColumnSpec) -> pl.Expr:
    if col.dtype == pl.Date():
        return expr.str.to_date("%Y-%m-%d").alias(col.name)
    if isinstance(col.dtype, pl.Datetime):
        # RFC 3339 allows 't' and 'z' in either case; one explicit format for every row
        # (an inferred one follows the first row and refuses the others)
        stamp = expr.str.to_uppercase().str.replace(r"Z$", "+00:00")
        return stamp.str.to_datetime(
            "%Y-%m-%dT%H:%M:%S%.f%:z", time_unit="us", time_zone="UTC"
        ).alias(col.name)
    return expr.cast(col.dtype).alias(col.name)


def _explode(frame: pl.DataFrame, column: str, index: str, keep: Sequence[str]) -> pl.DataFrame:
    """One row per item of list `column`, with the item's position in `index`."""
    positions = pl.int_ranges(0, pl.col(column).list.len(), dtype=pl.Int32).alias(index)
    return (
        frame.select(*keep, column, positions)
        .explode(column, index)
        .filter(pl.col(column).is_not_null())
    )


def build_tables(
    docs: pl.DataFrame, specs: dict[str, TableSpec] | None = None
) -> dict[str, pl.DataFrame]:
    """Every table from a nested documents frame (see `read_documents`). Hidden columns
    (`_file`, `_index`, `_parent_index`) map rows back to files and JSON pointers; they
    are dropped when a release is written."""
    specs = specs or table_specs()
    docs = docs.with_columns(_field(pl.col("document"), ["id"]).alias(DOC_ID))
    doc_spec = specs[DOCUMENTS]
    out = {
        DOCUMENTS: docs.select(
            *[_typed(_field(pl.col(c.path[0]), c.path[1:]), c) for c in doc_spec.columns], FILE
        )
    }
    span_parts = []
    for spec_ in specs.values():
        if spec_.name in (DOCUMENTS, SPANS) or spec_.parent is not None:
            continue
        records = _explode(docs, spec_.source, INDEX, [DOC_ID, FILE])
        item = pl.col(spec_.source)
        out[spec_.name] = records.select(
            DOC_ID, *[_typed(_field(item, c.path), c) for c in spec_.columns[1:]], FILE, INDEX
        )
        span_parts.append(_spans(records, spec_.name, specs[SPANS]))
        for link in specs.values():
            if link.parent == spec_.name:
                out[link.name] = _link(records, link)
    out[SPANS] = (
        pl.concat(span_parts)
        if span_parts
        else pl.DataFrame(
            schema={**specs[SPANS].schema, FILE: pl.String, INDEX: pl.Int32, PARENT_INDEX: pl.Int32}
        )
    )
    return out


def _nested(records: pl.DataFrame, table: str, prop: str, parent_column: str) -> pl.DataFrame:
    base = records.select(
        DOC_ID,
        FILE,
        pl.col(INDEX).alias(PARENT_INDEX),
        _field(pl.col(table), ["id"]).alias(parent_column),
        _field(pl.col(table), [prop]).alias(prop),
    )
    return _explode(base, prop, "position", [DOC_ID, FILE, PARENT_INDEX, parent_column])


def _spans(records: pl.DataFrame, table: str, span_spec: TableSpec) -> pl.DataFrame:
    rows = _nested(records, table, "spans", "record_id")
    item = pl.col("spans")
    cols = [_typed(_field(item, c.path), c) for c in span_spec.columns[4:]]
    return rows.select(
        DOC_ID,
        pl.lit(table).cast(span_spec.column("record_table").dtype).alias("record_table"),
        "record_id",
        "position",
        *cols,
        FILE,
        pl.col("position").alias(INDEX),
        PARENT_INDEX,
    )


def _link(records: pl.DataFrame, link: TableSpec) -> pl.DataFrame:
    prop = link.source.split(".", 1)[1]
    rows = _nested(records, link.parent or "", prop, link.parent_column or "")
    item = pl.col(prop)
    return rows.select(
        DOC_ID,
        link.parent_column,
        "position",
        *[_typed(_field(item, c.path), c) for c in link.columns[3:]],
        FILE,
        pl.col("position").alias(INDEX),
        PARENT_INDEX,
    )


def public(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame without the hidden bookkeeping columns."""
    return frame.select([c for c in frame.columns if not c.startswith("_")])


# --- release keys ------------------------------------------------------------------------
#
# Ids are unique only inside a document, and spans and link rows have no id at all. A
# release therefore gives every table one global key column, `key` (the table's key
# columns joined with '/': `document_id/id` for records, `document_id/event_id/actor/role`
# for participants, `document_id/record_table/record_id/start/end` for spans), and every
# reference a `<name>_key` column holding the referenced row's `key`, so a join never
# needs a composite key and every foreign key is one column.


def key_expr(columns: Sequence[str]) -> pl.Expr:
    """One string key per row: `columns` joined with '/'."""
    return pl.concat_str([pl.col(k).cast(pl.String) for k in columns], separator="/").alias(KEY)


def _record_tables(specs: dict[str, TableSpec]) -> list[str]:
    return [n for n, t in specs.items() if n not in (DOCUMENTS, SPANS) and t.parent is None]


def reference_keys(table: TableSpec, specs: dict[str, TableSpec]) -> list[tuple[str, str, pl.Expr]]:
    """(column, referenced table, expression) for each `<name>_key` column of `table`."""
    out = []
    for col in table.columns:
        if col.references and col.name != DOC_ID:
            name = f"{col.name.removesuffix('_id')}{KEY_SUFFIX}"
            out.append((name, col.references, key_expr([DOC_ID, col.name]).alias(name)))
    if table.name == SPANS:
        for target in _record_tables(specs):
            name = f"{_singular(target)}{KEY_SUFFIX}"
            expr = pl.when(pl.col("record_table") == target).then(key_expr([DOC_ID, "record_id"]))
            out.append((name, target, expr.alias(name)))
    return out


def _released(table: TableSpec) -> tuple[ColumnSpec, ...]:
    """The columns a release keeps: not a row's position in its list, which rows keyed by
    content do not need (removing a span would otherwise 'modify' every later one)."""
    return tuple(c for c in table.columns if c.name != POSITION)


SPLITS = ("train", "dev", "test")
# Columns only a release has, computed when it is written (`sitrep.validate.publication`)
RELEASE_ONLY = {
    DOCUMENTS: (
        ColumnSpec("text_length", pl.Int64(), False, (), minimum=1),
        ColumnSpec("split", pl.Enum(SPLITS), False, ()),
    )
}
# A text whose licence does not allow redistribution is withheld, with its quotes
WITHHELD = {DOCUMENTS: "text", SPANS: "text"}


def release_spec(table: TableSpec, specs: dict[str, TableSpec]) -> TableSpec:
    """`table` as a release writes it: `key` first, then its columns (a text that may be
    withheld nullable), the columns only a release has, then its `<name>_key` reference
    columns."""
    key = ColumnSpec(KEY, pl.String(), False, ())
    own = [
        replace(c, nullable=True) if WITHHELD.get(table.name) == c.name else c
        for c in _released(table)
    ]
    refs = [
        ColumnSpec(name, pl.String(), True, (), references=target)
        for name, target, _ in reference_keys(table, specs)
    ]
    extra = RELEASE_ONLY.get(table.name, ())
    return replace(table, columns=(key, *own, *extra, *refs))


@cache
def release_specs() -> dict[str, TableSpec]:
    """Every table of the packaged schema as a release writes it."""
    specs = table_specs()
    return {name: release_spec(t, specs) for name, t in specs.items()}


def with_keys(frame: pl.DataFrame, table: TableSpec, specs: dict[str, TableSpec]) -> pl.DataFrame:
    """`frame` (a public table) with its global key and reference key columns."""
    refs = [expr for _, _, expr in reference_keys(table, specs)]
    extra = [c.name for c in RELEASE_ONLY.get(table.name, ())]
    return frame.select(key_expr(table.key), *[c.name for c in _released(table)], *extra, *refs)
