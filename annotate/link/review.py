"""The review file: every unlinked record with its candidates, for a person to decide.

Each record says where it is (file, JSON pointer, record id), what it is (kind, name,
type, country), its candidates (entity, its name, splink's match probability of the pair
and the candidate's `share`: its probability given that the record is at most one of
its candidates; best first), the `proposal` that `sitrep link --apply` would link (the
best candidate when its share reaches the threshold, or null) and a `decision` a person fills in: an entity id, "new" (the record
needs an entity the registry lacks) or "none" (it is not linked). A decision wins over
the proposal, and a rerun carries it over.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from sitrep.annotate.link.engine import Candidate, exclusive
from sitrep.annotate.link.problems import LinkCode, LinkError, LinkProblem
from sitrep.annotate.link.records import Record
from sitrep.fileio import write_atomic
from sitrep.validate.registry import ANY_TYPE, Entity, vocabulary

FORMAT = "sitrep-link-review/1"
NEW, NONE = "new", "none"
HOW = (
    "For each record set `decision` to an entity id of its candidates (or any id of the "
    'registry of the same kind), "new" when the registry lacks it, or "none" when it is not '
    "to be linked; then run `sitrep link --apply`. `proposal` is what --apply links when "
    "`decision` is null. Nothing is linked without --apply."
)


@dataclass
class Item:
    record: Record
    candidates: list[Candidate]
    proposal: str | None
    decision: str | None = None


@lru_cache(maxsize=65536)
def shown_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def item_json(item: Item, entities: dict[str, Entity]) -> dict[str, Any]:
    r = item.record
    return {
        "file": shown_path(r.file),
        "pointer": r.pointer,
        "id": r.id,
        "kind": r.kind,
        "name": r.name,
        "type": r.type,
        "country": r.country,
        "proposal": item.proposal,
        "candidates": [
            {
                "entity": c.entity,
                "share": round(share, 6),
                "name": entities[c.entity].name,
                "type": entities[c.entity].type,
                "country": entities[c.entity].country,
                "probability": c.probability,
                "match_weight": c.match_weight,
            }
            for c, share in zip(item.candidates, exclusive(item.candidates), strict=True)
        ],
        "decision": item.decision,
    }


def write_review(
    path: Path, items: list[Item], entities: dict[str, Entity], head: dict[str, Any]
) -> None:
    """The review file, written atomically."""
    body = {
        "format": FORMAT,
        **head,
        "how": HOW,
        "records": [item_json(i, entities) for i in items],
    }
    write_atomic(path, orjson.dumps(body, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))


@dataclass(frozen=True)
class Decision:
    file: Path
    id: str
    decision: str
    pointer: str  # of the decision in the review file


def _problem(path: Path, pointer: str, code: LinkCode, expected: str, found: str) -> LinkProblem:
    return LinkProblem(str(path), pointer, code, expected, found)


def read_decisions(path: Path) -> list[Decision]:
    """The decisions a person wrote in the review file at `path` (none when it does
    not exist yet)."""
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise LinkError(
            [_problem(path, "", LinkCode.REVIEW_UNREADABLE, "a review file (JSON)", str(exc))]
        ) from exc
    records = data.get("records") if isinstance(data, dict) else None
    if not isinstance(records, list):
        raise LinkError(
            [_problem(path, "/records", LinkCode.REVIEW_UNREADABLE, "an array of records",
                      type(records).__name__)]
        )  # fmt: skip
    found, problems = [], []
    for i, rec in enumerate(records):
        pointer = f"/records/{i}"
        if not isinstance(rec, dict) or rec.get("decision") is None:
            continue
        value, file, rid = rec.get("decision"), rec.get("file"), rec.get("id")
        if not (isinstance(value, str) and isinstance(file, str) and isinstance(rid, str)):
            problems.append(
                _problem(path, f"{pointer}/decision", LinkCode.DECISION_INVALID,
                         'an entity id, "new" or "none", with the record\'s file and id',
                         json.dumps(value))
            )  # fmt: skip
            continue
        found.append(Decision(Path(file), rid, value, f"{pointer}/decision"))
    if problems:
        raise LinkError(problems)
    return found


def _wrong_type(record: Record, entity: Entity) -> bool:
    """The rule `sitrep validate` reports as entity.type: a record's type must be its
    entity's, except that a record typed `other` fits any entity of its kind (a type
    outside the vocabulary is the JSON Schema's to report, as there)."""
    return (
        isinstance(record.type, str)
        and record.type in vocabulary(record.kind)
        and record.type not in (entity.type, ANY_TYPE)
    )


def check_decisions(
    path: Path, decisions: list[Decision], records: dict[tuple[str, str], Record],
    entities: dict[str, Entity],
) -> dict[tuple[str, str], str]:  # fmt: skip
    """The decisions by (resolved file, record id), after checking each names a record
    that exists and an entity of the registry of the record's kind and type (the type
    rule of `sitrep validate`, so an applied decision never makes entity.type)."""
    checked, problems = {}, []
    for d in decisions:
        key = (str(d.file.resolve()), d.id)
        record = records.get(key)
        where = f"record {d.id!r} of {d.file}"
        if record is None:
            problems.append(_problem(path, d.pointer, LinkCode.RECORD_MISSING,
                                     f"{where} (an actor or location of that file)",
                                     "no such record"))  # fmt: skip
            continue
        if d.decision in (NEW, NONE):
            checked[key] = d.decision
            continue
        entity = entities.get(d.decision)
        if entity is None:
            problems.append(_problem(path, d.pointer, LinkCode.DECISION_UNKNOWN_ENTITY,
                                     f'an entity id of the registry, "new" or "none" for {where}',
                                     json.dumps(d.decision)))  # fmt: skip
        elif entity.kind != record.kind:
            problems.append(_problem(path, d.pointer, LinkCode.DECISION_WRONG_KIND,
                                     f"an entity of kind {record.kind} for {where}",
                                     f"{d.decision} (kind {entity.kind})"))  # fmt: skip
        elif _wrong_type(record, entity):
            problems.append(_problem(path, d.pointer, LinkCode.DECISION_WRONG_TYPE,
                                     f"an entity of type {record.type} (the record's type; "
                                     f"{ANY_TYPE!r} fits any) for {where}",
                                     f"{d.decision} (type {entity.type})"))  # fmt: skip
        else:
            checked[key] = d.decision
    if problems:
        raise LinkError(problems)
    return checked
