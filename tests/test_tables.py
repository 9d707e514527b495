"""Tables derived from the JSON Schema; Pandera models and cross-table checks catch a
bad row in every table and map it back to its file and JSON pointer."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandera.polars as pa
import polars as pl
import pytest

from sitrep.schema import spec
from sitrep.schema.report import Code
from sitrep.validate.checks import pandera_model, validate_tables
from sitrep.validate.tables import (
    build_tables,
    derive_document_dtype,
    derive_specs,
    read_documents,
    table_specs,
)

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "datasets" / "annotations" / "seed-8128c0eee969d3a6.json"


@pytest.fixture(scope="module")
def gold() -> dict[str, Any]:
    return json.loads(GOLD.read_text(encoding="utf-8"))


@pytest.fixture
def tables(gold: dict[str, Any]) -> dict[str, pl.DataFrame]:
    return build_tables(read_documents([gold], ["gold.json"]))


def test_tables_hold_every_record(gold: dict[str, Any], tables: dict[str, pl.DataFrame]) -> None:
    assert tables["actors"].height == len(gold["actors"])
    assert tables["figures"].height == len(gold["figures"])
    assert tables["spans"].height == sum(
        len(r["spans"]) for k in ("actors", "locations", "events", "figures") for r in gold[k]
    )
    assert tables["event_participants"].height == sum(
        len(e["participants"]) for e in gold["events"]
    )
    assert validate_tables(tables) == []


def test_enumerations_are_enums_from_the_schema() -> None:
    specs = table_specs()
    assert specs["events"].column("type").dtype == pl.Enum(spec.enum_values("EventType"))
    assert specs["figures"].column("qualifier").dtype == pl.Enum(spec.enum_values("Qualifier"))
    assert specs["events"].column("date_start").dtype == pl.Date()
    assert specs["figures"].column("best").nullable is True
    assert specs["figures"].column("claimed_by").references == "actors"


def test_models_follow_a_changed_schema() -> None:
    schema = copy.deepcopy(spec.load_schema())
    schema["$defs"]["Actor"]["properties"]["founded"] = {
        "type": ["integer", "null"],
        "minimum": 1800,
    }
    schema["$defs"]["Actor"]["required"].append("founded")
    schema["$defs"]["EventType"]["oneOf"].append(
        {"const": "cyber_attack", "title": "Cyber attack", "description": "x"}
    )
    specs = derive_specs(schema)
    founded = specs["actors"].column("founded")
    assert (founded.dtype, founded.nullable, founded.minimum) == (pl.Int64(), True, 1800)
    assert "cyber_attack" in specs["events"].column("type").dtype.categories  # type: ignore[attr-defined]
    model = pandera_model(specs["actors"])
    assert "founded" in model.columns
    assert "cyber_attack" in str(pandera_model(specs["events"]).columns["type"].dtype)
    assert "founded" in str(derive_document_dtype(schema)["actors"])


def _set(
    table: str, column: str, value: Any, row: int = 0
) -> Callable[[dict[str, pl.DataFrame]], None]:
    def mutate(tables: dict[str, pl.DataFrame]) -> None:
        frame = tables[table]
        dtype = frame.schema[column]
        values = frame[column].to_list()
        values[row] = value
        tables[table] = frame.with_columns(pl.Series(column, values, dtype=dtype))

    return mutate


BAD_ROWS = [
    (
        "documents",
        _set("documents", "text_sha256", "not-a-hash"),
        Code.SCHEMA_PATTERN,
        "/document/text_sha256",
    ),
    (
        "actors",
        _set("actors", "affiliated_with", "act-nobody"),
        Code.REF_UNRESOLVED,
        "/actors/0/affiliated_with",
    ),
    ("actors-id", _set("actors", "id", "ACTOR 1"), Code.SCHEMA_PATTERN, "/actors/0/id"),
    (
        "locations",
        _set("locations", "coordinates_lat", 91.0, 2),
        Code.SCHEMA_RANGE,
        "/locations/2/coordinates/lat",
    ),
    (
        "events",
        _set("events", "reported_by", "act-nobody"),
        Code.REF_UNRESOLVED,
        "/events/0/reported_by",
    ),
    (
        "event_participants",
        _set("event_participants", "actor", "act-nobody"),
        Code.REF_UNRESOLVED,
        "/events/0/participants/0/actor",
    ),
    (
        "event_locations",
        _set("event_locations", "location", "loc-nowhere"),
        Code.REF_UNRESOLVED,
        "/events/0/locations/0/location",
    ),
    ("figures", _set("figures", "low", 99999.0, 1), Code.FIGURE_INTERVAL, "/figures/1/high"),
    ("figures-negative", _set("figures", "best", -1.0), Code.SCHEMA_RANGE, "/figures/0/best"),
    ("figures-null", _set("figures", "qualifier", None), Code.SCHEMA_TYPE, "/figures/0/qualifier"),
    ("spans", _set("spans", "text", "not the slice"), Code.SPAN_TEXT, "/actors/0/spans/0/text"),
    ("spans-order", _set("spans", "end", 0), Code.SPAN_ORDER, "/actors/0/spans/0"),
    ("spans-orphan", _set("spans", "record_id", "act-ghost"), Code.TABLE_ORPHAN, "/actors/0/id"),
]


@pytest.mark.parametrize(
    ("name", "mutate", "code", "pointer"), BAD_ROWS, ids=[b[0] for b in BAD_ROWS]
)
def test_a_bad_row_in_each_table_is_caught(
    tables: dict[str, pl.DataFrame],
    name: str,
    mutate: Callable[[dict[str, pl.DataFrame]], None],
    code: Code,
    pointer: str,
) -> None:
    mutate(tables)
    found = {(i.code, i.pointer) for i in validate_tables(tables)}
    assert (code, pointer) in found, found
    assert all(i.file == "gold.json" for i in validate_tables(tables))


def test_null_best_is_not_a_pass_for_low_above_high(tables: dict[str, pl.DataFrame]) -> None:
    # fig 3 ("more than 70") has best = null: low > high must still be caught
    _set("figures", "high", 5.0, 3)(tables)
    issues = [(i.code, i.pointer) for i in validate_tables(tables)]
    assert (Code.FIGURE_INTERVAL, "/figures/3/high") in issues


def test_pandera_on_a_lazyframe_skips_data_checks_but_we_validate_eagerly(
    tables: dict[str, pl.DataFrame],
) -> None:
    _set("figures", "best", -1.0)(tables)
    model = pandera_model(table_specs()["figures"])
    model.validate(tables["figures"].lazy())  # the trap: schema-level only, no error
    with pytest.raises(pa.errors.SchemaErrors):
        model.validate(tables["figures"], lazy=True)


def test_duplicate_document_ids_across_files_are_reported_once(gold: dict[str, Any]) -> None:
    tables = build_tables(read_documents([gold, gold], ["a.json", "b.json"]))
    issues = validate_tables(tables)
    assert [(i.code, i.file, i.pointer) for i in issues] == [
        (Code.ID_DUPLICATE, "b.json", "/document/id")
    ]
