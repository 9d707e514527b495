"""The registry links of `sitrep.validate.registry.entity_issues`, vectorised over the
tables: the actors and locations tables are joined with a frame of the registry's
entities, and each failing row gives the same issue (code, file, pointer, message,
expected, found) the per-document path gives for that record.
"""

from __future__ import annotations

import polars as pl

from sitrep.schema.report import Code, Issue
from sitrep.validate.registry import ANY_TYPE, KIND_OF, MISSING_EXPECTED, Found
from sitrep.validate.rows import issues_at
from sitrep.validate.tables import FILE, INDEX

Tables = dict[str, pl.DataFrame]
ENTITY_ID = r"^ent-[a-z0-9][a-z0-9-]{0,95}$"


def entities_frame(found: Found) -> pl.DataFrame:
    """One row per registry entity: id, kind, type and name."""
    entities = found.registry.entities.values() if found.registry is not None else []
    return pl.DataFrame(
        {
            "_ent_id": [e.id for e in entities],
            "_ent_kind": [e.kind for e in entities],
            "_ent_type": [e.type for e in entities],
            "_ent_name": [e.name for e in entities],
        },
        schema={n: pl.String for n in ("_ent_id", "_ent_kind", "_ent_type", "_ent_name")},
    )


def _linked(tables: Tables) -> pl.DataFrame:
    """Every linked record of both tables: file, table, index, kind, entity, type."""
    parts = []
    for order, (table, kind) in enumerate(KIND_OF.items()):
        frame = tables[table]
        parts.append(
            frame.filter(
                pl.col("entity").is_not_null() & pl.col("entity").str.contains(ENTITY_ID)
            ).select(
                pl.col(FILE),
                pl.lit(order).alias("_order"),
                pl.lit(table).alias("_table"),
                pl.col(INDEX),
                pl.lit(kind).alias("_kind"),
                pl.col("entity"),
                pl.col("type").cast(pl.String).alias("_type"),
            )
        )
    return pl.concat(parts)


def check_entities(tables: Tables, found: Found) -> list[Issue]:
    """entity.unknown / entity.kind / entity.type, and registry.missing per document."""
    linked = _linked(tables)
    if linked.is_empty():
        return []
    entity_ptr = pl.format("/{}/{}/entity", pl.col("_table"), pl.col(INDEX))
    if found.path is None:
        first = linked.sort(FILE, "_order", INDEX).group_by(FILE, maintain_order=True).first()
        return issues_at(
            first,
            entity_ptr,
            Code.REGISTRY_MISSING,
            "the document's records link to registry entities, but no registry was found",
            MISSING_EXPECTED,
            pl.lit("no registry"),
        )
    if found.registry is None:
        return []
    invalid = list(found.registry.invalid)  # left to their registry.schema problems
    linked = linked.filter(~pl.col("entity").is_in(invalid))
    joined = linked.join(entities_frame(found), left_on="entity", right_on="_ent_id", how="left")
    name = found.registry.path.name
    unknown = joined.filter(pl.col("_ent_kind").is_null())
    kind = joined.filter(
        pl.col("_ent_kind").is_not_null() & (pl.col("_ent_kind") != pl.col("_kind"))
    )
    typed = joined.filter(
        (pl.col("_ent_kind") == pl.col("_kind"))
        & (pl.col("_type") != pl.col("_ent_type"))
        & (pl.col("_type") != ANY_TYPE)
    )
    article = pl.when(pl.col("_kind") == "actor").then(pl.lit("an")).otherwise(pl.lit("a"))
    other = pl.when(pl.col("_ent_kind") == "actor").then(pl.lit("an")).otherwise(pl.lit("a"))
    return [
        *issues_at(
            unknown,
            entity_ptr,
            Code.ENTITY_UNKNOWN,
            pl.format(
                f"{{}} is not in the registry {name}; add it there "
                "(tools/build_registry.py) or fix the id",
                pl.col("entity"),
            ),
            "an entity id of the registry",
            pl.col("entity"),
        ),
        *issues_at(
            kind,
            entity_ptr,
            Code.ENTITY_KIND,
            pl.format(
                "{} {} record points at {}, {} {} entity ({})",
                article,
                pl.col("_kind"),
                pl.col("entity"),
                other,
                pl.col("_ent_kind"),
                pl.col("_ent_name"),
            ),
            pl.format("{} {} entity", article, pl.col("_kind")),
            pl.format("{} entity", pl.col("_ent_kind")),
        ),
        *issues_at(
            typed,
            pl.format("/{}/{}/type", pl.col("_table"), pl.col(INDEX)),
            Code.ENTITY_TYPE,
            pl.format(
                "the record's type differs from the type of {} ({}); change one of them",
                pl.col("entity"),
                pl.col("_ent_name"),
            ),
            pl.col("_ent_type"),
            pl.col("_type"),
        ),
    ]
