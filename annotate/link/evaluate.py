"""Precision and recall of `sitrep link` on the annotated documents, leave one
document out.

The registry's aliases were gathered from these same documents, so linking a document
against the full registry would find its own names there and look better than it is.
For each document this builds a view of the registry whose aliases come only from the
other documents' gold links (the names and aliases of the records linked to each entity
there) plus every entity's canonical name, clears the document's links, links it with
the engine, and compares each proposal with the gold link.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sitrep.annotate.link.engine import Candidate, candidates, exclusive
from sitrep.annotate.link.records import Record
from sitrep.validate.registry import Entity

THRESHOLDS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99)


def proposal(found: Sequence[Candidate], threshold: float) -> str | None:
    """The entity `--apply` links: the best candidate, when its probability given that
    the record is at most one of its candidates reaches the threshold (a second strong
    candidate makes the record ambiguous: a person decides)."""
    return found[0].entity if found and exclusive(found)[0] >= threshold else None


def registry_view(entities: dict[str, Entity], others: Sequence[Record]) -> dict[str, Entity]:
    """`entities` with aliases taken only from the gold links of `others`."""
    seen: dict[str, dict[str, None]] = defaultdict(dict)
    for r in others:
        if r.entity in entities:
            for name in (r.name, *r.aliases):
                seen[r.entity][name] = None
    return {
        eid: replace(e, aliases=tuple(n for n in seen[eid] if n != e.name))
        for eid, e in entities.items()
    }


@dataclass
class Scores:
    threshold: float
    gold: int  # records with a gold link
    proposed: int
    correct: int
    wrong: int

    @property
    def precision(self) -> float:
        return self.correct / self.proposed if self.proposed else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.gold if self.gold else 1.0


def leave_one_document_out(
    records: Sequence[Record], entities: dict[str, Entity]
) -> tuple[list[tuple[Record, list[Candidate]]], dict[str, Any]]:
    """Every gold-linked record with the candidates found for it with its own document
    left out of the registry's aliases."""
    by_doc: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        by_doc[r.document].append(r)
    results: list[tuple[Record, list[Candidate]]] = []
    engine = ""
    for doc, own in sorted(by_doc.items()):
        view = registry_view(entities, [r for r in records if r.document != doc])
        cleared = [replace(r, entity=None) for r in own]
        found, model = candidates(cleared, view)
        engine = model.engine
        results += list(zip(own, found, strict=True))
    return results, {"engine": engine, "documents": len(by_doc)}


def score(results: Sequence[tuple[Record, list[Candidate]]], threshold: float) -> Scores:
    gold = [(r, c) for r, c in results if r.entity is not None]
    proposed = [(r, proposal(c, threshold)) for r, c in results]
    made = [(r, p) for r, p in proposed if p is not None]
    correct = sum(1 for r, p in made if p == r.entity)
    return Scores(threshold, len(gold), len(made), correct, len(made) - correct)


def ranking(results: Sequence[tuple[Record, list[Candidate]]]) -> dict[str, float]:
    """How useful the review file is: the gold entity first, or among the candidates."""
    gold = [(r, c) for r, c in results if r.entity is not None]
    first = sum(1 for r, c in gold if c and c[0].entity == r.entity)
    listed = sum(1 for r, c in gold if any(x.entity == r.entity for x in c))
    return {"gold_first": first / len(gold), "gold_listed": listed / len(gold)} if gold else {}
