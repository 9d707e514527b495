"""`sitrep annotate eval`: the proposer scored against gold annotations.

Spans are matched one to one, exact matches first, then overlaps (the largest overlap
wins). Per label: precision, recall and F1 for exact and for overlapping spans. For
figures matched on overlap, how often the interval (low, best, high), the qualifier and
the claimant agree with the gold; a claimant hint agrees when it overlaps a mention of
the gold `claimed_by` actor (or both are null).

Figures are scored on every gold document. Actors, locations and events only on gold
documents that annotate all of them (non-empty locations and events): the development
set annotates figures and their claimants only, so its missing actors are not misses.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sitrep.annotate.prelabel import figures as figures_mod
from sitrep.annotate.prelabel import propose as propose_mod

Json = dict[str, Any]
TARGETS = {"recall": 0.95, "precision": 0.90, "interval": 0.90, "qualifier": 0.90}


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
    qualifier_match: int = 0
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
            "qualifier_exact_match": self.ratio(self.qualifier_match),
            "claimant_match": self.ratio(self.claimant_match),
            "seed_figures_right": f"{self.seed_figures_right}/{self.seed_figures}",
        }

    def failed_targets(self) -> list[str]:
        s = self.summary()
        out = []
        for name, key in (
            ("recall", "figure_recall"),
            ("precision", "figure_precision"),
            ("interval", "interval_exact_match"),
            ("qualifier", "qualifier_exact_match"),
        ):
            if s[key] < TARGETS[name]:
                out.append(f"figure {name} {s[key]:.3f} < {TARGETS[name]}")
        if self.seed_figures_right != self.seed_figures:
            out.append(
                f"seed article: {self.seed_figures_right} of {self.seed_figures} figures right"
            )
        return out

    def to_dict(self) -> Json:
        return {
            "documents": self.documents,
            "summary": self.summary(),
            "targets": TARGETS,
            "failed_targets": self.failed_targets(),
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


def evaluate(
    docs: Iterable[Json], sources: Iterable[Path] = (), timing_repeats: int = 1
) -> EvalReport:
    """Score the proposer on `docs`; the gazetteer comes from the annotation files in
    `sources` minus the document being scored (leave one out) plus country names."""
    known = propose_mod.annotation_documents(sources)  # read once, left out one at a time
    entries = propose_mod.gazetteer_of(known)
    report = EvalReport()
    texts: list[str] = []
    for doc in docs:
        report.documents += 1
        text = doc["document"]["text"]
        texts.append(text)
        doc_id = doc["document"]["id"]
        found = figures_mod.find_figures(text)
        # every mention of a gold figure is a span to find (a repeated claim has several)
        gold_figs = [{**f, "spans": [span]} for f in doc.get("figures", []) for span in f["spans"]]
        gold_spans = [(f["spans"][0]["start"], f["spans"][0]["end"]) for f in gold_figs]
        found_spans = [(p.start, p.end) for p in found]
        matched = _score(report, "figure", gold_spans, found_spans)
        actors = {a["id"]: a for a in doc.get("actors", [])}
        seed = doc_id.startswith("seed-")
        for g, gold in enumerate(gold_figs):
            if seed:
                report.seed_figures += 1
            if g not in matched:
                report.misses.append(
                    Miss(doc_id, "missed", gold["spans"][0]["text"], gold["spans"][0]["start"])
                )
                continue
            p = found[matched[g]]
            report.matched_figures += 1
            interval = all(_same(getattr(p, k), gold[k]) for k in ("low", "best", "high"))
            report.interval_match += interval
            report.qualifier_match += p.qualifier == gold["qualifier"]
            if seed and interval:
                report.seed_figures_right += 1
            if not interval:
                report.misses.append(
                    Miss(
                        doc_id,
                        "interval",
                        p.text,
                        p.start,
                        f"found {p.low}/{p.best}/{p.high}, gold "
                        f"{gold['low']}/{gold['best']}/{gold['high']}",
                    )
                )
            if p.qualifier != gold["qualifier"]:
                report.misses.append(
                    Miss(
                        doc_id,
                        "qualifier",
                        p.text,
                        p.start,
                        f"found {p.qualifier}, gold {gold['qualifier']}",
                    )
                )
            claimant = actors.get(gold.get("claimed_by") or "")
            if claimant is None:
                right = p.claimed_by is None
            else:
                right = p.claimed_by_start is not None and any(
                    s["start"] < (p.claimed_by_end or 0) and p.claimed_by_start < s["end"]
                    for s in claimant["spans"]
                )
            report.claimant_match += right
            if not right:
                report.misses.append(
                    Miss(
                        doc_id,
                        "claimant",
                        p.text,
                        p.start,
                        f"found {p.claimed_by!r}, gold {claimant['name'] if claimant else None!r}",
                    )
                )
        taken = set(matched.values())
        for n, p in enumerate(found):
            if n not in taken:
                report.misses.append(Miss(doc_id, "spurious", p.text, p.start, p.rule))
        if doc.get("locations") and doc.get("events"):
            own = propose_mod.gazetteer_of(known, exclude=frozenset({doc_id}))
            mentions = propose_mod.find_mentions(text, own)
            for kind, records in (
                ("actor", doc.get("actors", [])),
                ("location", doc.get("locations", [])),
                ("event", doc.get("events", [])),
            ):
                gold_spans = [(s["start"], s["end"]) for r in records for s in r["spans"]]
                found_spans = [(m.start, m.end) for m in mentions if m.kind == kind]
                _score(report, kind, gold_spans, found_spans)
    if texts:
        n = 0
        clock = time.perf_counter()
        for _ in range(max(1, timing_repeats)):
            for text in texts:
                propose_mod.propose(text, entries)
                n += 1
        report.seconds_per_1000 = (time.perf_counter() - clock) / n * 1000
    return report
