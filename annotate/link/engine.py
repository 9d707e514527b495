"""The record-linkage model: splink on DuckDB.

1. Every record and every registry entity becomes one row per surface form: the
   record's name (and its aliases that are names, i.e. hold a capital letter), the
   entity's canonical name and each of its aliases, normalised (accents, case, dots
   and punctuation folded) with the initials of multi-word forms.
2. splink links the two tables (`link_only`): blocking rules keep only pairs of the same
   kind that share the normalised form, its first four characters, its last word, or
   whose initials are the other form; each pair is compared on the name (exact on the
   canonical name, exact on an alias, acronym, three Jaro-Winkler levels), the type
   and the country.
3. m and u are estimated by splink: u of every level by random sampling with a fixed
   seed, m of type and country by expectation maximisation on the pairs that share the
   name. The name's m stay at their stated priors: EM blocked on type and country
   learned "the same kind of actor" rather than "the same entity" (on the annotated
   documents it rated Jaro-Winkler >= 0.75 above an exact name), and its precision and
   recall leave-one-document-out were lower. A level the data cannot train keeps its
   prior, so a run on the same input gives the same probabilities. The prior that two
   random (record form, entity form) pairs match is 1 / number of entities: each record
   is at most one entity.
4. A record's candidates are the entities of its pairs, each with its best pair's match
   probability, highest first.

DuckDB because everything here fits one machine: it runs in-process, needs no service,
and splink's DuckDB backend is its fastest on a single machine. The same settings run
on splink's Spark backend when a corpus outgrows one machine.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sitrep.annotate.link.problems import MissingExtra
from sitrep.annotate.link.records import Record
from sitrep.validate.registry import Entity

if TYPE_CHECKING:
    from splink import Linker

SEED = 15  # random sampling of u: the same input gives the same model
FLOOR = 0.01  # candidates below this probability are not shown
TOP = 5  # candidates shown per record
_STOP = {"of", "the", "and", "for", "in", "on", "de", "al", "el"}


@dataclass(frozen=True)
class Candidate:
    entity: str
    probability: float
    match_weight: float


def exclusive(found: Sequence[Candidate]) -> list[float]:
    """Each candidate's probability given that the record is at most one entity:
    splink scores each pair alone, so two similar entities can both score high; with
    odds o_k = p_k / (1 - p_k), candidate k's share is o_k / (1 + sum of the odds)."""
    odds = [c.probability / max(1 - c.probability, 1e-12) for c in found]
    total = 1 + sum(odds)
    return [o / total for o in odds]


def normalise(name: str) -> str:
    """Case, accents, dots and punctuation folded: "U.S. Central Command" and
    "US central command" are one form."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"['’.`]", "", text)
    text = re.sub(r"[^\w]+", " ", text).strip()
    return text.removeprefix("the ").strip()


def initials(form: str) -> str | None:
    """The initials of a form of two or more words ("baloch liberation army" -> "bla")."""
    words = [w for w in form.split() if w not in _STOP]
    return "".join(w[0] for w in words) if len(words) >= 2 else None


def _row(
    uid: str, kind: str, name: str, alias: bool, type_: str | None, country: str | None
) -> dict[str, Any]:
    form = normalise(name)
    return {
        "unique_id": uid,
        "kind": kind,
        "form": form or None,
        "first4": form[:4] or None,
        "last": form.split()[-1] if form else None,
        "initials": initials(form),
        "is_alias": alias,
        "type": type_,
        "country": country,
    }


def record_rows(records: Sequence[Record]) -> list[dict[str, Any]]:
    rows = []
    for n, r in enumerate(records):
        names = [r.name, *(a for a in r.aliases if any(c.isupper() for c in a))]
        for f, name in enumerate(dict.fromkeys(names)):
            rows.append(_row(f"r{n}.{f}", r.kind, name, f > 0, r.type, r.country))
    return rows


def entity_rows(entities: Iterable[Entity]) -> list[dict[str, Any]]:
    rows = []
    for e in entities:
        for f, name in enumerate(dict.fromkeys([e.name, *e.aliases])):
            rows.append(_row(f"{e.id}.{f}", e.kind, name, f > 0, e.type, e.country))
    return rows


def _modules() -> tuple[Any, Any]:
    try:
        import duckdb
        import splink
    except ImportError as exc:
        raise MissingExtra(exc.name or "splink") from exc
    return splink, duckdb


def engine_name() -> str:
    splink, duckdb = _modules()
    return f"splink {splink.__version__} on DuckDB {duckdb.__version__}"


def _level(sql: str, label: str, m: float, u: float, tf: str | None = None) -> Any:
    import splink.comparison_level_library as cll

    level = cll.CustomLevel(sql, label).configure(m_probability=m, u_probability=u)
    if tf is not None:  # a rare name agreeing says more than a common one
        level.configure(tf_adjustment_column=tf, tf_adjustment_weight=1.0)
    return level


def _null(column: str) -> Any:
    import splink.comparison_level_library as cll

    return cll.CustomLevel(f"{column}_l IS NULL OR {column}_r IS NULL").configure(
        is_null_level=True
    )


def comparisons() -> list[Any]:
    """The name, type and country comparisons, each level with its prior m and u."""
    import splink.comparison_library as cl

    jw = "jaro_winkler_similarity(form_l, form_r)"
    name = cl.CustomComparison(
        [
            _null("form"),
            _level(
                "form_l = form_r AND NOT is_alias_l AND NOT is_alias_r", "exact name", 0.45, 0.0005
            ),
            _level("form_l = form_r", "exact alias", 0.25, 0.0005),
            _level("initials_l = form_r OR form_l = initials_r", "acronym", 0.05, 0.0005),
            _level(f"{jw} >= 0.95", "Jaro-Winkler >= 0.95", 0.12, 0.002),
            _level(f"{jw} >= 0.88", "Jaro-Winkler >= 0.88", 0.07, 0.01),
            _level(f"{jw} >= 0.75", "Jaro-Winkler >= 0.75", 0.04, 0.05),
            _level("TRUE", "other", 0.02, 0.937),
        ],
        output_column_name="name",
    )
    kind_of = cl.CustomComparison(
        [
            _null("type"),
            _level("type_l = type_r", "same type", 0.9, 0.2),
            _level("TRUE", "other", 0.1, 0.8),
        ],
        output_column_name="type",
    )
    country = cl.CustomComparison(
        [_null("country"), _level("country_l = country_r", "same country", 0.9, 0.1),
         _level("TRUE", "other", 0.1, 0.9)],
        output_column_name="country",
    )  # fmt: skip
    return [name, kind_of, country]


def blocking_rules() -> list[Any]:
    from splink import block_on

    return [
        block_on("kind", "form"),
        block_on("kind", "first4"),
        block_on("kind", "last"),
        "l.kind = r.kind AND l.initials = r.form",
        "l.kind = r.kind AND l.form = r.initials",
    ]


def _train(linker: Linker) -> list[str]:
    """Estimate u (random sampling, fixed seed) and the m of type and country (EM on the
    pairs that share the name); the steps that ran."""
    from splink import block_on

    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=SEED)
    done = ["u: random sampling"]
    try:
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("kind", "form"), max_pairs=2e6
        )
    except Exception:  # splink refuses too few pairs to train on: the priors stay
        logging.getLogger(__name__).info("EM did not run: the priors of type and country stay")
    else:
        done.append("m of type, country: EM")
    return done


@dataclass
class Model:
    engine: str
    trained: list[str]
    pairs: int


def candidates(
    records: Sequence[Record], entities: dict[str, Entity], *, top: int = TOP
) -> tuple[list[list[Candidate]], Model]:
    """Each record's candidate entities (best first) and what the model did."""
    _, duckdb = _modules()
    import pyarrow as pa
    from splink import DuckDBAPI, Linker, SettingsCreator

    left, right = record_rows(records), entity_rows(entities.values())
    found: list[list[Candidate]] = [[] for _ in records]
    if not left or not right:
        return found, Model(engine_name(), [], 0)
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=blocking_rules(),
        probability_two_random_records_match=1 / max(len(entities), 2),
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    db = DuckDBAPI(duckdb.connect())
    tables = [db.register(pa.Table.from_pylist(rows), table_name=name)
              for rows, name in ((left, "records"), (right, "registry"))]  # fmt: skip
    linker = Linker(tables, settings, log_level=logging.ERROR)
    trained = _train(linker)
    scored = linker.inference.predict(threshold_match_probability=FLOOR, warning_mode="never")
    best = scored.query_sql(
        """
        WITH pairs AS (
          SELECT CASE WHEN starts_with(unique_id_l, 'r') THEN unique_id_l ELSE unique_id_r END AS rec,
                 CASE WHEN starts_with(unique_id_l, 'r') THEN unique_id_r ELSE unique_id_l END AS ent,
                 match_probability, match_weight FROM {this})
        SELECT CAST(split_part(split_part(rec, '.', 1), 'r', 2) AS BIGINT) AS record,
               split_part(ent, '.', 1) AS entity,
               max(match_probability) AS probability, max(match_weight) AS weight
        FROM pairs GROUP BY ALL ORDER BY record, probability DESC, entity
        """
    ).as_pyarrow_table()  # type: ignore[no-untyped-call]
    pairs = best.num_rows
    for rec, ent, prob, weight in zip(
        *(best.column(c).to_pylist() for c in ("record", "entity", "probability", "weight")),
        strict=True,
    ):
        if len(found[rec]) < top:
            found[rec].append(Candidate(ent, round(prob, 6), round(weight, 3)))
    return found, Model(engine_name(), trained, pairs)
