"""The per-document rules, vectorised over the tables (`sitrep.validate.table_rules`),
report what the per-document rules report: the same issues, file by file.

The catalogue of invalid documents (`test_catalogue.py`) is the reference: every case
whose document still passes the JSON Schema must give the same issues in both layers.
"""

from __future__ import annotations

import copy
import json
import random
from collections import Counter
from dataclasses import astuple
from pathlib import Path
from typing import Any

import pandera.polars as pa
import polars as pl
import pytest
from conftest import build_valid_doc  # tests/ is on sys.path (pytest's rootdir import)
from test_catalogue import CASES, FILE, VALID_VARIANTS, Case, Mutation

from sitrep.schema import rules, validation
from sitrep.schema.report import Code, Issue
from sitrep.testing.synthetic import generate_document
from sitrep.validate.checks import CROSS_CHECKS, pandera_model, validate_tables
from sitrep.validate.table_rules import TABLE_RULES
from sitrep.validate.tables import build_tables, read_documents, table_specs

Json = dict[str, Any]
ROOT = Path(__file__).resolve().parent.parent
GOLD = sorted((ROOT / "datasets" / "annotations").glob("*.json"))


def _mutated(c: Case) -> Json:
    doc = build_valid_doc()
    c.mutate(doc)
    return doc


def _passes_schema(doc: Json) -> bool:
    return validation.engine("rust").is_valid(doc)


SCHEMA_VALID = [c for c in CASES if _passes_schema(_mutated(c))]


def _sorted(issues: list[Issue]) -> list[tuple[str, ...]]:
    return sorted(tuple(map(str, astuple(i))) for i in issues)


def _table_issues(docs: list[Json], files: list[str]) -> list[Issue]:
    return validate_tables(build_tables(read_documents(docs, files)))


def test_every_rule_runs_on_the_tables() -> None:
    assert set(TABLE_RULES) <= set(CROSS_CHECKS)
    assert len(SCHEMA_VALID) >= 40  # the comparison below is not vacuous


@pytest.mark.parametrize("c", [pytest.param(c, id=c.id) for c in SCHEMA_VALID])
def test_tables_agree_with_the_rules(c: Case) -> None:
    doc = _mutated(c)
    by_rules = rules.check_rules(doc, FILE)
    by_tables = _table_issues([doc], [FILE])
    pairs = sorted((str(i.code), i.pointer) for i in by_tables)
    assert pairs == sorted((str(i.code), i.pointer) for i in by_rules)
    assert pairs == sorted((str(code), ptr) for code, ptr in c.expected)
    assert _sorted(by_tables) == _sorted(by_rules)  # messages, expected and found too


@pytest.mark.parametrize("mutate", VALID_VARIANTS)
def test_valid_variants_pass_the_tables(valid_doc: Json, mutate: Mutation) -> None:
    mutate(valid_doc)
    assert _table_issues([valid_doc], [FILE]) == []


# --- several documents at once -------------------------------------------------------


def _variant(doc_id: str, *changes: tuple[str, int, str, Any]) -> Json:
    doc = build_valid_doc()
    doc["document"]["id"] = doc_id
    for kind, index, name, value in changes:
        doc[kind][index][name] = value
    return doc


def test_issues_land_in_their_own_file() -> None:
    docs = {
        "a.json": _variant("doc-a"),  # valid: shares every record id with the others
        "b.json": _variant("doc-b", ("locations", 0, "parent", "loc-shaddadi-prison")),
        "c.json": _variant(
            "doc-c",
            ("events", 1, "id", "evt-transfer"),
            ("figures", 5, "part_of", "fig-transferred"),
            ("actors", 0, "affiliated_with", "act-centcom"),
        ),
        "d.json": _variant("doc-d"),
    }
    issues = _table_issues(list(docs.values()), list(docs))
    assert sorted((i.file, str(i.code), i.pointer) for i in issues) == [
        ("b.json", "ref.cycle", "/locations/0/parent"),
        ("c.json", "figure.part_of_interval", "/figures/5"),
        ("c.json", "id.duplicate", "/events/1/id"),
        ("c.json", "ref.cycle", "/actors/0/affiliated_with"),
        ("c.json", "ref.unresolved", "/figures/2/event"),  # evt-planned-transfer is gone
    ]
    by_rules = [i for file, doc in docs.items() for i in rules.check_rules(doc, file)]
    assert _sorted(issues) == _sorted(by_rules)


LINKS = {"actors": "affiliated_with", "locations": "parent", "figures": "part_of"}


def _break(doc: Json, rng: random.Random) -> None:
    """A few random changes the rules care about: repeated ids, links (cycles, tails into
    cycles, self links), figure bounds and qualifiers, dates and participants."""
    kinds = [k for k in rules.RECORD_KINDS if doc[k]]
    for _ in range(rng.randint(1, 8)):
        kind = rng.choice(kinds)
        record = rng.choice(doc[kind])
        choice = rng.randrange(6)
        if choice == 0:
            record["id"] = rng.choice(doc[rng.choice(kinds)])["id"]
        elif choice == 1:
            doc[kind].append(copy.deepcopy(record))
        elif choice == 2 and kind in LINKS:
            record[LINKS[kind]] = rng.choice(doc[kind])["id"]
        elif choice == 3 and kind == "figures":
            values = [None, 10, 12, 99, rng.randint(0, 200)]
            record.update({b: rng.choice(values) for b in ("low", "best", "high")})
            record["qualifier"] = rng.choice(list(rules.QUALIFIER_SHAPES))
        elif choice == 4 and kind == "events":
            dates = [None, "2020-01-01", "2020-03-01"]
            record["date"].update(start=rng.choice(dates), end=rng.choice(dates))
            record["date"]["precision"] = rng.choice(["day", "month", "unknown"])
        elif choice == 5 and kind == "events" and doc["actors"]:
            actor = rng.choice(doc["actors"])["id"]
            record["participants"].append({"actor": actor, "role": rng.choice(["agent", "party"])})


def test_many_broken_documents_at_once() -> None:
    """Randomly broken synthetic documents, checked together: each document's issues are
    exactly its own rules' issues (ids and links are only compared within a document)."""
    rng = random.Random(2026)
    docs, files = [], []
    for i in range(120):
        doc = generate_document(7, i, events=4, figures=6)
        _break(doc, rng)
        if _passes_schema(doc):
            docs.append(doc)
            files.append(f"doc-{i}.json")
    by_rules = [
        i for doc, file in zip(docs, files, strict=True) for i in rules.check_rules(doc, file)
    ]
    codes = Counter(i.code for i in by_rules)
    assert len(docs) >= 60
    assert {Code.ID_DUPLICATE, Code.REF_CYCLE, Code.FIGURE_QUALIFIER, Code.DATE_PRECISION} <= set(
        codes
    )
    assert _sorted(_table_issues(docs, files)) == _sorted(by_rules)


# --- the seed gold and the Pandera key -----------------------------------------------


def test_seed_gold_has_no_issue() -> None:
    assert GOLD
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in GOLD]
    assert _table_issues(docs, [str(p) for p in GOLD]) == []


def test_a_repeated_id_is_reported_once_but_the_key_check_stays(valid_doc: Json) -> None:
    valid_doc["actors"].append(copy.deepcopy(valid_doc["actors"][0]))
    issues = _table_issues([valid_doc], [FILE])
    assert [(i.code, i.pointer, i.message) for i in issues] == [
        (Code.ID_DUPLICATE, "/actors/4/id", "id already used at /actors/0/id")
    ]
    actors = build_tables(read_documents([valid_doc], [FILE]))["actors"]
    with pytest.raises(pa.errors.SchemaErrors):  # release verification keeps key uniqueness
        pandera_model(table_specs()["actors"]).validate(actors, lazy=True)
    pandera_model(table_specs()["actors"], unique=False).validate(actors, lazy=True)
    assert actors.select(pl.col("id").n_unique()).item() == 4
