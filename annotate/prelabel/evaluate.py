"""`sitrep annotate eval`: the proposer scored against gold annotations.

Spans are matched one to one, exact matches first, then overlaps (the largest overlap
wins). Per label: precision, recall and F1 for exact and for overlapping spans. For
figures matched on overlap, how often the interval (low, best, high), the number the
text states (`stated_numbers`: what a quantity extractor without qualifiers can get
right), the qualifier, the realis and the claimant agree with the gold; a claimant hint
agrees when it overlaps a mention of the gold `claimed_by` actor (or both are null).

Figures are scored on every gold document. Actors and locations only on gold documents
that annotate locations, events on those that annotate events: most of the development
set annotates figures and their claimants only, so its missing actors are not misses.

The gold documents are split (`datasets/splits.json`, read by `read_splits`) into the
development set the finder is tuned on and a held-out set annotated before the finder
changed; `evaluate_splits` scores each on its own.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sitrep.annotate.prelabel import figures as figures_mod
from sitrep.annotate.prelabel import propose as propose_mod
from sitrep.errors import ConfigError

Json = dict[str, Any]
# the targets each split must meet (issue 5 for the development set, issue 12 for the
# held-out set: text the finder was not tuned on)
TARGETS = {
    "development": {"recall": 0.95, "precision": 0.90, "interval": 0.90, "qualifier": 0.90},
    "held_out": {
        "recall": 0.95,
        "precision": 0.95,
        "interval": 0.90,
        "qualifier": 0.90,
        "claimant": 0.85,
    },
}
SUMMARY_KEYS = {
    "recall": "figure_recall",
    "precision": "figure_precision",
    "interval": "interval_exact_match",
    "qualifier": "qualifier_exact_match",
    "claimant": "claimant_match",
}


@dataclass
class LabelScore:
    gold: int = 0
    proposed: int = 0
    exact: int = 0
    overlap: int = 0

    def _prf(self, hits: int) -> dict[str, float]:
        p = hits / self.proposed if self.proposed else 1.0
        r = hits / self.gold if self.gold else 1.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}

    def to_dict(self) -> Json:
        return {
            **asdict(self),
            "exact_scores": self._prf(self.exact),
            "overlap_scores": self._prf(self.overlap),
        }


@dataclass
class Miss:
    document: str
    kind: str  # missed | spurious | interval | qualifier | claimant
    text: str
    start: int
    detail: str = ""


@dataclass
class EvalReport:
    documents: int = 0
    labels: dict[str, LabelScore] = field(default_factory=dict)
    matched_figures: int = 0
    interval_match: int = 0
    number_match: int = 0
    qualifier_match: int = 0
    realis_match: int = 0
    claimant_match: int = 0
    seed_figures: int = 0
    seed_figures_right: int = 0
    seconds_per_1000: float = 0.0
    misses: list[Miss] = field(default_factory=list)

    def ratio(self, hits: int) -> float:
        return round(hits / self.matched_figures, 4) if self.matched_figures else 1.0

    def summary(self) -> Json:
        fig = self.labels.get("figure", LabelScore())
        over = fig.to_dict()["overlap_scores"]
        return {
            "figure_precision": over["precision"],
            "figure_recall": over["recall"],
            "figure_exact_f1": fig.to_dict()["exact_scores"]["f1"],
            "interval_exact_match": self.ratio(self.interval_match),
            "number_match": self.ratio(self.number_match),
            "qualifier_exact_match": self.ratio(self.qualifier_match),
            "realis_match": self.ratio(self.realis_match),
            "claimant_match": self.ratio(self.claimant_match),
            "seed_figures_right": f"{self.seed_figures_right}/{self.seed_figures}",
        }

    def failed_targets(self, split: str = "development") -> list[str]:
        s = self.summary()
        out = [
            f"figure {name} {s[SUMMARY_KEYS[name]]:.3f} < {target}"
            for name, target in TARGETS[split].items()
            if s[SUMMARY_KEYS[name]] < target
        ]
        if self.seed_figures_right != self.seed_figures:
            out.append(
                f"seed article: {self.seed_figures_right} of {self.seed_figures} figures right"
            )
        return out

    def to_dict(self, split: str = "development") -> Json:
        return {
            "documents": self.documents,
            "summary": self.summary(),
            "targets": TARGETS[split],
            "failed_targets": self.failed_targets(split),
            "labels": {k: v.to_dict() for k, v in self.labels.items()},
            "matched_figures": self.matched_figures,
            "seconds_per_1000_documents": round(self.seconds_per_1000, 3),
            "misses": [asdict(m) for m in self.misses],
        }


def match_spans(
    gold: list[tuple[int, int]], found: list[tuple[int, int]]
) -> tuple[dict[int, int], dict[int, int]]:
    """One-to-one matching: (exact gold->found, overlap gold->found incl. exact)."""
    exact: dict[int, int] = {}
    taken: set[int] = set()
    index = {span: n for n, span in enumerate(found)}
    for g, span in enumerate(gold):
        n = index.get(span)
        if n is not None and n not in taken:
            exact[g] = n
            taken.add(n)
    overlap = dict(exact)
    pairs = []
    for g, (gs, ge) in enumerate(gold):
        if g in overlap:
            continue
        for n, (fs, fe) in enumerate(found):
            if n not in taken and fs < ge and gs < fe:
                pairs.append((min(ge, fe) - max(gs, fs), g, n))
    for _, g, n in sorted(pairs, reverse=True):
        if g not in overlap and n not in taken:
            overlap[g] = n
            taken.add(n)
    return exact, overlap


def _score(
    report: EvalReport, label: str, gold: list[tuple[int, int]], found: list[tuple[int, int]]
) -> dict[int, int]:
    score = report.labels.setdefault(label, LabelScore())
    exact, overlap = match_spans(gold, found)
    score.gold += len(gold)
    score.proposed += len(found)
    score.exact += len(exact)
    score.overlap += len(overlap)
    return overlap


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return abs(float(a) - float(b)) < 1e-6 * max(1.0, abs(float(a)))


def stated_numbers(figure: Json) -> list[tuple[float, ...]]:
    """The numbers the text states for a figure, as a tuple per reading: "more than 70"
    is stored low = 71 (a count) or 70 (a measure), so both readings are given."""
    low, best, high = figure.get("low"), figure.get("best"), figure.get("high")
    qualifier = figure.get("qualifier")
    if qualifier in ("range", "vague"):
        return [(float(low), float(high))] if low is not None and high is not None else []
    if qualifier == "more_than" and low is not None:
        return [(float(low),), (float(low) - 1,)]
    if qualifier == "less_than" and high is not None:
        return [(float(high),), (float(high) + 1,)]
    value = next((v for v in (best, low, high) if v is not None), None)
    return [] if value is None else [(float(value),)]


def same_number(found: tuple[float, ...], gold: Json) -> bool:
    """Whether the numbers a tool read (one value, or two for a range) are the gold's."""
    return any(
        len(found) == len(reading) and all(_same(a, b) for a, b in zip(found, reading, strict=True))
        for reading in stated_numbers(gold)
    )


def proposal_numbers(p: figures_mod.Proposal) -> tuple[float, ...]:
    readings = stated_numbers(
        {"low": p.low, "best": p.best, "high": p.high, "qualifier": p.qualifier}
    )
    return readings[0] if readings else ()


def _claimant_right(p: figures_mod.Proposal, claimant: Json | None) -> bool:
    if claimant is None:
        return p.claimed_by is None
    return p.claimed_by_start is not None and any(
        s["start"] < (p.claimed_by_end or 0) and p.claimed_by_start < s["end"]
        for s in claimant["spans"]
    )


def _compare(
    report: EvalReport, doc_id: str, p: figures_mod.Proposal, gold: Json, actors: dict[str, Any]
) -> bool:
    """Score one matched figure; True when its interval is the gold's."""
    report.matched_figures += 1
    interval = all(_same(getattr(p, k), gold[k]) for k in ("low", "best", "high"))
    report.interval_match += interval
    report.number_match += same_number(proposal_numbers(p), gold)
    report.qualifier_match += p.qualifier == gold["qualifier"]
    report.realis_match += p.realis == gold["realis"]
    claimant = actors.get(gold.get("claimed_by") or "")
    right = _claimant_right(p, claimant)
    report.claimant_match += right
    checks = (
        (
            "interval",
            interval,
            f"found {p.low}/{p.best}/{p.high}, gold {gold['low']}/{gold['best']}/{gold['high']}",
        ),
        (
            "qualifier",
            p.qualifier == gold["qualifier"],
            f"found {p.qualifier}, gold {gold['qualifier']}",
        ),
        ("realis", p.realis == gold["realis"], f"found {p.realis}, gold {gold['realis']}"),
        (
            "claimant",
            right,
            f"found {p.claimed_by!r}, gold {claimant['name'] if claimant else None!r}",
        ),
    )
    for kind, ok, detail in checks:
        if not ok:
            report.misses.append(Miss(doc_id, kind, p.text, p.start, detail))
    return interval


def _score_figures(report: EvalReport, doc: Json, found: list[figures_mod.Proposal]) -> None:
    doc_id = doc["document"]["id"]
    # every mention of a gold figure is a span to find (a repeated claim has several)
    gold_figs = [{**f, "spans": [span]} for f in doc.get("figures", []) for span in f["spans"]]
    gold_spans = [(f["spans"][0]["start"], f["spans"][0]["end"]) for f in gold_figs]
    matched = _score(report, "figure", gold_spans, [(p.start, p.end) for p in found])
    actors = {a["id"]: a for a in doc.get("actors", [])}
    seed = doc_id.startswith("seed-")
    for g, gold in enumerate(gold_figs):
        report.seed_figures += seed
        if g not in matched:
            span = gold["spans"][0]
            report.misses.append(Miss(doc_id, "missed", span["text"], span["start"]))
            continue
        interval = _compare(report, doc_id, found[matched[g]], gold, actors)
        report.seed_figures_right += seed and interval
    taken = set(matched.values())
    for n, p in enumerate(found):
        if n not in taken:
            report.misses.append(Miss(doc_id, "spurious", p.text, p.start, p.rule))


def _score_mentions(report: EvalReport, doc: Json, entries: dict[str, propose_mod.Entry]) -> None:
    kinds = []
    if doc.get("locations"):
        kinds += [("actor", doc.get("actors", [])), ("location", doc["locations"])]
    if doc.get("events"):
        kinds.append(("event", doc["events"]))
    if not kinds:
        return
    mentions = propose_mod.find_mentions(doc["document"]["text"], entries)
    for kind, records in kinds:
        gold_spans = [(s["start"], s["end"]) for r in records for s in r["spans"]]
        found_spans = [(m.start, m.end) for m in mentions if m.kind == kind]
        _score(report, kind, gold_spans, found_spans)


def evaluate(
    docs: Iterable[Json], sources: Iterable[Path] = (), timing_repeats: int = 1
) -> EvalReport:
    """Score the proposer on `docs`; the gazetteer comes from the annotation files in
    `sources` minus the document being scored (leave one out) plus the offline place
    names (countries, provinces, cities)."""
    known = propose_mod.annotation_documents(sources)  # read once, left out one at a time
    report = EvalReport()
    texts: list[str] = []
    for doc in docs:
        report.documents += 1
        text = doc["document"]["text"]
        texts.append(text)
        _score_figures(report, doc, figures_mod.find_figures(text))
        if doc.get("locations") or doc.get("events"):
            own = propose_mod.gazetteer_of(known, exclude=frozenset({doc["document"]["id"]}))
            _score_mentions(report, doc, own)
    if texts:
        entries = propose_mod.gazetteer_of(known)
        n = 0
        clock = time.perf_counter()
        for _ in range(max(1, timing_repeats)):
            for text in texts:
                propose_mod.propose(text, entries)
                n += 1
        report.seconds_per_1000 = (time.perf_counter() - clock) / n * 1000
    return report


SPLITS = ("development", "held_out")


def read_splits(path: Path) -> dict[str, str]:
    """Document id -> split, from a splits file (`datasets/splits.json`): the documents
    listed under `held_out` are "held_out", every other one is "development". A missing
    file means no held-out set."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        held = data["held_out"]["documents"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ConfigError(
            f"{path}: [splits.format] unreadable splits file (expected JSON with "
            f"held_out.documents, a list of document ids; found {type(err).__name__}: {err})"
        ) from err
    if not isinstance(held, list) or not all(isinstance(d, str) for d in held):
        raise ConfigError(
            f"{path}: [splits.format] held_out.documents must list document ids "
            f"(expected a list of strings; found {held!r})"
        )
    return {doc_id: "held_out" for doc_id in held}


def evaluate_splits(
    docs: Iterable[Json], sources: Iterable[Path], splits: dict[str, str], timing_repeats: int = 1
) -> dict[str, EvalReport]:
    """`evaluate` on each split of `docs` (development, held_out) that has documents."""
    sources = list(sources)
    parts: dict[str, list[Json]] = {name: [] for name in SPLITS}
    for doc in docs:
        parts[splits.get(doc["document"]["id"], "development")].append(doc)
    return {name: evaluate(part, sources, timing_repeats) for name, part in parts.items() if part}
