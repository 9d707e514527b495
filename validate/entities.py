"""The `entities` table of a release: one row per registry entity.

Its global key is the entity id (ids are dataset-wide already), so `actors.entity` and
`locations.entity` are foreign keys to `entities.key` as they stand; the manifest
declares them (`ENTITY_LINKS`). The table holds every entity of the registry the
release was validated against, mentioned by a released document or not.
"""

from __future__ import annotations

import polars as pl

from sitrep.schema import spec
from sitrep.validate.registry import Registry
from sitrep.validate.tables import KEY, ColumnSpec, TableSpec

ENTITIES = "entities"
ENTITY_LINKS = {"actors": "entity", "locations": "entity"}  # table -> column keyed on it
ENTITY_ID_PATTERN = r"^ent-[a-z0-9][a-z0-9-]{0,95}$"


def _spec() -> TableSpec:
    types = list(dict.fromkeys([*spec.enum_values("ActorType"), *spec.enum_values("LocationType")]))
    countries = list(spec.enum_values("CountryCode"))
    methods = list(spec.enum_values("ProvenanceMethod"))
    text, number = pl.String(), pl.Float64()
    columns = (
        ColumnSpec(KEY, text, False, ()),
        ColumnSpec("id", text, False, ("id",), pattern=ENTITY_ID_PATTERN),
        ColumnSpec("kind", pl.Enum(["actor", "location"]), False, ("kind",)),
        ColumnSpec("name", text, False, ("name",), min_length=1),
        ColumnSpec("type", pl.Enum(types), False, ("type",)),
        ColumnSpec("aliases", pl.List(pl.String()), False, ("aliases",)),
        ColumnSpec("country", pl.Enum(countries), True, ("country",)),
        ColumnSpec("wikidata", text, True, ("wikidata",), pattern=r"^Q[1-9][0-9]*$"),
        ColumnSpec("geonames", pl.Int64(), True, ("geonames",), minimum=1),
        ColumnSpec("lat", number, True, ("coordinates", "lat"), minimum=-90, maximum=90),
        ColumnSpec("lon", number, True, ("coordinates", "lon"), minimum=-180, maximum=180),
        ColumnSpec("iso_3166_2", text, True, ("iso_3166_2",)),
        ColumnSpec("provenance_method", pl.Enum(methods), False, ("provenance", "method")),
        ColumnSpec("provenance_by", text, False, ("provenance", "by")),
        ColumnSpec("provenance_date", text, False, ("provenance", "date")),
        ColumnSpec("provenance_source", text, True, ("provenance", "source")),
    )
    return TableSpec(ENTITIES, ("id",), columns, "datasets/entities/registry.json")


ENTITIES_SPEC = _spec()


def entities_table(registry: Registry | None) -> pl.DataFrame:
    """The rows of the `entities` table, sorted by id (empty without a registry)."""
    entities = sorted(registry.entities.values(), key=lambda e: e.id) if registry else []
    rows = {
        KEY: [e.id for e in entities],
        "id": [e.id for e in entities],
        "kind": [e.kind for e in entities],
        "name": [e.name for e in entities],
        "type": [e.type for e in entities],
        "aliases": [list(e.aliases) for e in entities],
        "country": [e.country for e in entities],
        "wikidata": [e.wikidata for e in entities],
        "geonames": [e.geonames for e in entities],
        "lat": [e.lat for e in entities],
        "lon": [e.lon for e in entities],
        "iso_3166_2": [e.iso_3166_2 for e in entities],
        "provenance_method": [str(e.provenance.get("method", "")) for e in entities],
        "provenance_by": [str(e.provenance.get("by", "")) for e in entities],
        "provenance_date": [str(e.provenance.get("date", "")) for e in entities],
        "provenance_source": [e.provenance.get("source") for e in entities],
    }
    return pl.DataFrame(rows, schema={c.name: c.dtype for c in ENTITIES_SPEC.columns})


def entity_foreign_keys(table: str) -> list[dict[str, object]]:
    """The Table Schema foreign keys of `table` that point at `entities`."""
    column = ENTITY_LINKS.get(table)
    if column is None:
        return []
    return [{"fields": [column], "reference": {"resource": ENTITIES, "fields": [KEY]}}]
