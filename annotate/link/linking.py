"""`sitrep link`: propose registry entities for unlinked records, write the review file,
and with `apply` link what is certain or decided.

1. Read the registry and every actor and location record of the files named.
2. For the records whose `entity` is null, find candidates with the engine.
3. Read the decisions of the review file at `out` (if it exists) and check each one
   against the records and the registry; any problem stops before anything is written.
4. With `apply`: link each record to its decision (an entity id), or else to its
   proposal (the only candidate at or above the threshold). A record that is already
   linked is never changed. Each annotation file is rewritten atomically, only its
   `entity` values changed.
5. Write the review file (atomically) with the records still unlinked, their candidates
   and their decisions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from sitrep.annotate.link.edit import write_links
from sitrep.annotate.link.engine import candidates
from sitrep.annotate.link.evaluate import proposal
from sitrep.annotate.link.problems import LinkCode, LinkError, LinkProblem
from sitrep.annotate.link.records import Record, annotation_files, read_records, read_registry
from sitrep.annotate.link.review import (
    NEW,
    NONE,
    Item,
    check_decisions,
    read_decisions,
    shown_path,
    write_review,
)

THRESHOLD = 0.9


@dataclass
class LinkResult:
    engine: str
    trained: list[str]
    seen: int = 0  # actor and location records read
    already: int = 0  # records linked before this run
    linked: int = 0  # records linked by this run (only with apply)
    certain: int = 0  # proposals at or above the threshold
    decided: int = 0  # decisions of a person among the links
    review: int = 0  # records with candidates but no link: a person decides
    no_candidate: int = 0
    applied: bool = False
    out: str = ""
    files: list[str] = field(default_factory=list)  # annotation files rewritten


@lru_cache(maxsize=65536)
def _resolved(path: Path) -> str:
    return str(path.resolve())


def _key(record: Record) -> tuple[str, str]:
    return (_resolved(record.file), record.id)


def _links(
    items: Sequence[Item], decisions: dict[tuple[str, str], str]
) -> dict[Path, dict[str, str]]:
    """The entity each record gets, by file and pointer: its decision, else its proposal."""
    links: dict[Path, dict[str, str]] = defaultdict(dict)
    for item in items:
        chosen = decisions.get(_key(item.record), item.proposal)
        if chosen is not None and chosen not in (NEW, NONE):
            links[item.record.file][item.record.pointer] = chosen
    return links


def _no_field(items: Sequence[Item], links: dict[Path, dict[str, str]]) -> list[LinkProblem]:
    return [
        LinkProblem(str(i.record.file), i.record.pointer, LinkCode.NO_ENTITY_FIELD,
                    "an `entity` property (null) to set (schema 1.2.0)", "none")
        for i in items
        if i.record.pointer in links.get(i.record.file, {}) and not i.record.has_entity_field
    ]  # fmt: skip


def link(
    targets: Sequence[Path],
    registry: Path,
    out: Path,
    *,
    threshold: float = THRESHOLD,
    apply: bool = False,
) -> LinkResult:
    """Propose, review and (with `apply`) link; see the module docstring."""
    entities = read_registry(registry)
    records = read_records(annotation_files(targets))
    unlinked = [r for r in records if r.entity is None]
    found, model = candidates(unlinked, entities)
    decisions = check_decisions(out, read_decisions(out), {_key(r): r for r in records}, entities)
    items = [
        Item(r, c, proposal(c, threshold), decisions.get(_key(r)))
        for r, c in zip(unlinked, found, strict=True)
    ]
    result = LinkResult(model.engine, model.trained, seen=len(records), applied=apply, out=str(out))
    result.already = len(records) - len(unlinked)
    result.certain = sum(1 for i in items if i.proposal is not None)
    links = _links(items, decisions) if apply else {}
    problems = _no_field(items, links)
    if problems:
        raise LinkError(problems)
    for path, chosen in sorted(links.items()):
        write_links(path, chosen)
        result.files.append(str(path))
    done = {(_resolved(p), ptr) for p, chosen in links.items() for ptr in chosen}
    remaining = [i for i in items if (_resolved(i.record.file), i.record.pointer) not in done]
    result.linked = len(items) - len(remaining)
    result.decided = sum(1 for i in items if i.decision not in (None, NEW, NONE)
                         and (_resolved(i.record.file), i.record.pointer) in done)  # fmt: skip
    result.review = sum(
        1 for i in remaining if i.candidates and i.proposal is None and i.decision is None
    )
    result.no_candidate = sum(1 for i in remaining if not i.candidates)
    head = {
        "engine": model.engine,
        "trained": model.trained,
        "registry": shown_path(registry),
        "threshold": threshold,
    }
    write_review(out, remaining, entities, head)
    return result
