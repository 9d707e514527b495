"""The per-document rules (`sitrep.schema.rules`), vectorised over the tables.

Each check reads every document's rows at once and reports exactly what the matching
rule reports for each document: the same code, JSON pointer, message, expected and found.
Documents that pass the JSON Schema can skip the per-document rules and be checked here in
bulk. The only per-row Python is the sha256 of each document's text (Polars has no
sha256): once per document, never per record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import polars as pl

from sitrep.schema import spec
from sitrep.schema.report import Code, Issue
from sitrep.schema.rules import CYCLE_FIELDS, QUALIFIER_SHAPES, RECORD_KINDS
from sitrep.validate.rows import issues_at, issues_from_rows, number_text, pointer_expr
from sitrep.validate.tables import DOC_ID, DOCUMENTS, FILE, INDEX, PARENT_INDEX, table_specs

Tables = dict[str, pl.DataFrame]
BOUNDS = ("low", "best", "high")
DOC = [FILE, DOC_ID]  # one document (document ids may repeat across files)


def _date_json(value: pl.Expr) -> pl.Expr:
    """A date as the per-document layer shows it: a JSON string, or null."""
    return (
        pl.when(value.is_null())
        .then(pl.lit("null"))
        .otherwise(pl.format('"{}"', value.dt.to_string("%Y-%m-%d")))
    )


# --- documents -----------------------------------------------------------------------


def check_version(tables: Tables) -> list[Issue]:
    """The document's schema_version has the major version of the schema."""
    current = spec.schema_version()
    major = spec.major(current)
    head = pl.col("schema_version").str.extract(r"^([0-9]+)(?:\.|$)", 1)
    found = head.cast(pl.Int64, strict=False)  # too large for Int64: not `major` either
    bad = tables[DOCUMENTS].filter(head.is_not_null() & (found != major).fill_null(True))
    return issues_from_rows(
        bad,
        table_specs()[DOCUMENTS],
        "schema_version",
        Code.VERSION_MAJOR,
        "the document was written for another major version of the schema; migrate it",
        f"{major}.x.y",
        pl.col("schema_version"),
    )


def _sha256(texts: pl.Series) -> pl.Series:
    digests = [None if t is None else hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
    return pl.Series(digests, dtype=pl.String)


def check_text_hash(tables: Tables) -> list[Issue]:
    """text_sha256 is the sha256 of the UTF-8 text."""
    docs = tables[DOCUMENTS].with_columns(
        pl.col("text").map_batches(_sha256, return_dtype=pl.String).alias("_sha256")
    )
    bad = docs.filter(pl.col("text_sha256") != pl.col("_sha256"))
    return issues_from_rows(
        bad,
        table_specs()[DOCUMENTS],
        "text_sha256",
        Code.TEXT_HASH,
        "text_sha256 does not match the text: the text was edited after hashing",
        pl.col("_sha256"),
        pl.col("text_sha256"),
    )


# --- ids and links -------------------------------------------------------------------


def _repeated_ids(tables: Tables) -> pl.DataFrame:
    """Every record whose id another record of its document also has, with its place in
    the rules' order (by kind, then position) and its pointer."""
    parts = [
        tables[kind].select(*DOC, "id", INDEX, pl.lit(rank, pl.Int64).alias("_rank"))
        for rank, kind in enumerate(RECORD_KINDS)
    ]
    kind = pl.col("_rank").replace_strict(dict(enumerate(RECORD_KINDS)), return_dtype=pl.String)
    return (
        pl.concat(parts)
        .filter(pl.col("id").is_not_null() & (pl.len().over([*DOC, "id"]) > 1))
        .with_columns(
            (pl.col("_rank") * 2**32 + pl.col(INDEX)).alias("_order"),
            pl.format("/{}/{}/id", kind, INDEX).alias("_pointer"),
        )
    )


def check_unique_ids(tables: Tables) -> list[Issue]:
    """No two records of a document share an id; the later ones are reported."""
    same = [*DOC, "id"]
    bad = (
        _repeated_ids(tables)
        .with_columns(pl.col("_pointer").sort_by("_order").first().over(same).alias("_first"))
        .filter(pl.col("_order") > pl.col("_order").min().over(same))
    )
    return issues_at(
        bad,
        pl.col("_pointer"),
        Code.ID_DUPLICATE,
        pl.format("id already used at {}", pl.col("_first")),
        "a unique id",
        pl.col("id"),
    )


def _links(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """One node per id with a link, as `rules.check_cycles` builds its dict: the position
    of the id's first record orders it, its last record gives the link and the pointer."""
    return (
        frame.filter(pl.col("id").is_not_null() & pl.col(column).is_not_null())
        .group_by(*DOC, "id")
        .agg(
            pl.col(INDEX).min().alias("_order"),
            pl.col(INDEX).max(),
            pl.col(column).sort_by(INDEX).last().alias("_next"),
        )
    )


def _without_dead_ends(nodes: pl.DataFrame) -> pl.DataFrame:
    """The nodes whose links never reach a node without a link: cycle members and the
    tails that lead into cycles. Each semi join drops the nodes linking out of the set,
    so acyclic data (the common case) empties in as many joins as its longest chain."""
    while True:
        targets = nodes.select(*DOC, pl.col("id").alias("_next"))
        kept = nodes.join(targets, on=[*DOC, "_next"], how="semi")
        if kept.height == nodes.height:
            return kept
        nodes = kept


def _closed_walks(nodes: pl.DataFrame) -> pl.DataFrame:
    """(document, start, path) for every node whose links lead back to it: each walk
    follows one link per join until it returns to its start, dies, or loops elsewhere."""
    nodes = _without_dead_ends(nodes)
    step = nodes.select(*DOC, pl.col("id").alias("_cur"), "_next")
    walk = nodes.select(
        *DOC, pl.col("id").alias("_start"), pl.concat_list("id").alias("_path"), "_next"
    )
    closed = [walk.select(*DOC, "_start", "_path").clear()]
    while not walk.is_empty():
        walk = walk.rename({"_next": "_cur"})
        back = pl.col("_cur") == pl.col("_start")
        closed.append(walk.filter(back).select(*DOC, "_start", "_path"))
        walk = (
            walk.filter(~back & ~pl.col("_path").list.contains(pl.col("_cur")))
            .join(step, on=[*DOC, "_cur"])
            .select(*DOC, "_start", pl.col("_path").list.concat(pl.col("_cur")), "_next")
        )
    return pl.concat(closed)


def check_cycles(tables: Tables) -> list[Issue]:
    """affiliated_with, parent and part_of links form no cycle; each cycle is reported
    once, at the member the per-document rule reaches first."""
    out = []
    for kind, column in CYCLE_FIELDS:
        nodes = _links(tables[kind], column)
        members = _closed_walks(nodes).join(
            nodes.select(*DOC, pl.col("id").alias("_start"), "_order", INDEX), on=[*DOC, "_start"]
        )
        cycle = [*DOC, pl.col("_path").list.min()]  # cycles share no node
        first = members.filter(pl.col("_order") == pl.col("_order").min().over(cycle))
        loop = pl.format("{} -> {}", pl.col("_path").list.join(" -> "), pl.col("_start"))
        out += issues_from_rows(
            first,
            table_specs()[kind],
            column,
            Code.REF_CYCLE,
            pl.format(f"{column} links form a cycle: {{}}", loop),
            "no cycle",
            loop,
        )
    return out


# --- figures -------------------------------------------------------------------------


def _shapes() -> pl.DataFrame:
    """QUALIFIER_SHAPES as rows: (qualifier, bound, whether the bound must be set)."""
    rows = [
        (qualifier, name, must)
        for qualifier, (required, empty) in QUALIFIER_SHAPES.items()
        for must, names in ((True, required), (False, empty))
        for name in names
    ]
    return pl.DataFrame(rows, schema=["_qualifier", "_bound", "_set"], orient="row")


def _shape_issues(figures: pl.DataFrame) -> list[Issue]:
    """Bounds a qualifier requires that are null, and bounds it leaves null that are set."""
    bounds = figures.select(
        *DOC, INDEX, pl.col("qualifier").cast(pl.String).alias("_qualifier"), *BOUNDS
    ).unpivot(BOUNDS, index=[*DOC, INDEX, "_qualifier"], variable_name="_bound")
    wrong = bounds.join(_shapes(), on=["_qualifier", "_bound"]).filter(
        pl.col("value").is_null() == pl.col("_set")
    )
    pointer = pl.format("{}/{}", pointer_expr(table_specs()["figures"], None), pl.col("_bound"))
    head = pl.format("a figure qualified '{}' ", pl.col("_qualifier"))
    missing, extra = wrong.filter(pl.col("_set")), wrong.filter(~pl.col("_set"))
    needs = pl.format("{}needs {}", head, pl.col("_bound"))
    leaves = pl.format("{}leaves {} null (see the codebook)", head, pl.col("_bound"))
    return issues_at(
        missing, pointer, Code.FIGURE_QUALIFIER, needs, "a number", pl.lit(None)
    ) + issues_at(
        extra, pointer, Code.FIGURE_QUALIFIER, leaves, "null", number_text(pl.col("value"))
    )


def _exact_and_range_issues(figures: pl.DataFrame) -> list[Issue]:
    low, best, high = (pl.col(b) for b in BOUNDS)
    known = low.is_not_null() & best.is_not_null() & high.is_not_null()
    exact = figures.filter(
        (pl.col("qualifier") == "exact") & known & ~((low == best) & (best == high))
    )
    ranges = figures.filter((pl.col("qualifier") == "range") & (low == high))
    spec_ = table_specs()["figures"]
    shown = pl.format("[{}, {}, {}]", *(number_text(pl.col(b)) for b in BOUNDS))
    return issues_from_rows(
        exact,
        spec_,
        None,
        Code.FIGURE_QUALIFIER,
        "an exact figure has low = best = high",
        "equal values",
        shown,
    ) + issues_from_rows(
        ranges,
        spec_,
        "high",
        Code.FIGURE_QUALIFIER,
        "a range has low < high",
        pl.format("> {}", number_text(low)),
        number_text(high),
    )


def check_qualifiers(tables: Tables) -> list[Issue]:
    """low, best and high have the shape their qualifier asks for (rules.QUALIFIER_SHAPES)."""
    figures = tables["figures"]
    return _shape_issues(figures) + _exact_and_range_issues(figures)


def _codebook() -> pl.DataFrame:
    """The codebook interval of every vague term, and how the per-document layer shows it."""
    rows = [
        (term, lo, hi, json.dumps([lo, hi])) for term, (lo, hi) in spec.vague_intervals().items()
    ]
    schema = {"_term": pl.String, "_low": pl.Float64, "_high": pl.Float64, "_shown": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row")


def check_vague(tables: Tables) -> list[Issue]:
    """vague_term only on vague figures, whose interval is the codebook's."""
    figures = tables["figures"].with_columns(pl.col("vague_term").cast(pl.String).alias("_term"))
    vague = pl.col("qualifier") == "vague"
    stray = figures.filter(pl.col("_term").is_not_null() & ~vague.fill_null(False))
    other = (
        figures.filter(vague & pl.col("low").is_not_null() & pl.col("high").is_not_null())
        .join(_codebook(), on="_term")
        .filter((pl.col("low") != pl.col("_low")) | (pl.col("high") != pl.col("_high")))
    )
    spec_ = table_specs()["figures"]
    return issues_from_rows(
        stray,
        spec_,
        "vague_term",
        Code.FIGURE_VAGUE,
        "vague_term is only set when the qualifier is 'vague'",
        "null",
        pl.col("_term"),
    ) + issues_from_rows(
        other,
        spec_,
        None,
        Code.FIGURE_VAGUE,
        pl.format("'{}' maps to the codebook interval", pl.col("_term")),
        pl.col("_shown"),
        pl.format("[{}, {}]", number_text(pl.col("low")), number_text(pl.col("high"))),
    )


def _parts(figures: pl.DataFrame) -> pl.DataFrame:
    """Each figure with a part_of, joined to its whole: the last figure with that id (the
    rule's dict keeps the last), unless that is the figure itself."""
    same = [*DOC, "id"]
    wholes = (
        figures.select(*same, INDEX, "unit", *BOUNDS)
        .filter(pl.col("id").is_not_null() & (pl.col(INDEX) == pl.col(INDEX).max().over(same)))
        .select(
            *DOC,
            pl.col("id").alias("part_of"),
            pl.col(INDEX).alias("_w_index"),
            *(pl.col(c).alias(f"_w_{c}") for c in ("unit", *BOUNDS)),
        )
    )
    parts = figures.select(*DOC, INDEX, "part_of", "unit", *BOUNDS).filter(
        pl.col("part_of").is_not_null()
    )
    joined = parts.join(wholes, on=[*DOC, "part_of"])
    return joined.filter(pl.col(INDEX) != pl.col("_w_index"))


def check_part_of(tables: Tables) -> list[Issue]:
    """A part has its whole's unit and is no larger than its whole."""
    parts = _parts(tables["figures"])
    other_unit = pl.col("unit").cast(pl.String).ne_missing(pl.col("_w_unit").cast(pl.String))
    same = parts.filter(~other_unit)
    floor = pl.coalesce("low", "best")  # the part's smallest known value
    ceiling = pl.coalesce("_w_high", "_w_best")  # the whole's largest known value
    larger = (floor > ceiling).fill_null(False)
    best = (pl.col("best") > pl.col("_w_best")).fill_null(False)
    spec_ = table_specs()["figures"]
    whole = pl.col("part_of")
    return (
        issues_from_rows(
            parts.filter(other_unit),
            spec_,
            "unit",
            Code.FIGURE_PART_UNIT,
            pl.format("a part has the unit of its whole ({})", whole),
            pl.col("_w_unit"),
            pl.col("unit"),
        )
        + issues_from_rows(
            same.filter(larger),
            spec_,
            None,
            Code.FIGURE_PART_INTERVAL,
            pl.format("the part is larger than its whole ({})", whole),
            pl.format("<= {}", number_text(ceiling)),
            number_text(floor),
        )
        + issues_from_rows(
            same.filter(~larger & best),
            spec_,
            "best",
            Code.FIGURE_PART_INTERVAL,
            pl.format("the part's best value exceeds its whole's ({})", whole),
            pl.format("<= {}", number_text(pl.col("_w_best"))),
            number_text(pl.col("best")),
        )
    )


# --- events --------------------------------------------------------------------------


def check_dates(tables: Tables) -> list[Issue]:
    """A date interval has both ends or neither, a precision that says so, and ends after
    it starts."""
    events = tables["events"]
    spec_ = table_specs()["events"]
    start, end, precision = pl.col("date_start"), pl.col("date_end"), pl.col("date_precision")
    known = start.is_not_null().cast(pl.Int8) + end.is_not_null().cast(pl.Int8)
    unknown = precision == "unknown"
    one_end = events.filter(known == 1)
    unresolved = events.filter((known == 0) & precision.is_not_null() & ~unknown)
    resolved = events.filter((known == 2) & unknown)
    backwards = events.filter(start > end)
    found = pl.format('{{"start": {}, "end": {}}}', _date_json(start), _date_json(end))
    at_date = pl.format("{}/date", pointer_expr(spec_, None))
    return [
        *issues_at(
            one_end,
            at_date,
            Code.DATE_PRECISION,
            "a date interval has both ends or neither",
            "start and end both set or both null",
            found,
        ),
        *issues_from_rows(
            unresolved,
            spec_,
            "date_precision",
            Code.DATE_PRECISION,
            "a date without start and end has precision 'unknown'",
            "unknown",
            precision,
        ),
        *issues_from_rows(
            resolved,
            spec_,
            "date_precision",
            Code.DATE_PRECISION,
            "a resolved date says how precise it is",
            "day, week, month or year",
            precision,
        ),
        *issues_from_rows(
            backwards,
            spec_,
            "date_end",
            Code.DATE_ORDER,
            "the date interval ends before it starts",
            pl.format(">= {}", start.dt.to_string("%Y-%m-%d")),
            end.dt.to_string("%Y-%m-%d"),
        ),
    ]


def check_participants(tables: Tables) -> list[Issue]:
    """No event lists the same actor in the same role twice; the later ones are reported."""
    rows = tables["event_participants"].filter(
        pl.col("actor").is_not_null() & pl.col("role").is_not_null()
    )
    same = [*DOC, PARENT_INDEX, "actor", "role"]  # the event's position: ids may repeat
    bad = rows.filter(pl.col(INDEX) > pl.col(INDEX).min().over(same))
    return issues_from_rows(
        bad,
        table_specs()["event_participants"],
        None,
        Code.PARTICIPANT_DUPLICATE,
        "the same actor appears twice in the same role",
        "each (actor, role) once",
        pl.format('["{}", "{}"]', pl.col("actor"), pl.col("role")),
    )


TABLE_RULES: tuple[Callable[[Tables], list[Issue]], ...] = (
    check_version,
    check_text_hash,
    check_unique_ids,
    check_cycles,
    check_qualifiers,
    check_vague,
    check_part_of,
    check_dates,
    check_participants,
)
