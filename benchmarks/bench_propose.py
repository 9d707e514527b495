"""Pre-annotation quality and speed: the figure finder next to its peers, in one run.

    python benchmarks/bench_propose.py --repeats 3 --json benchmarks/out/propose.json

Quality, on each split of the gold documents (datasets/annotations; the held-out
documents are listed in datasets/splits.json, the rest is the development set):

- sitrep's figure finder (`sitrep annotate eval`, the same scores);
- quantulum3, the established quantity extractor (every quantity it parses);
- the digit-regex baseline most pipelines start from (every run of digits is a figure).

All three are matched to the gold spans the same way (one to one, exact first, then the
largest overlap): precision and recall on overlapping spans; for matched figures the
number the text states (`evaluate.stated_numbers`), the qualifier, the realis and the
claimant. The peers produce no qualifier, realis or claimant: a pre-annotator built on
them proposes "exact", "actual" and no claimant, and is scored that way. Actors and
locations: overlap F1 of the gazetteer and name patterns on the gold documents that
annotate locations (the seed article and the held-out stories).

Unseen news: the Voice of America stories of seeds/ that are in neither split have no
gold; for them the run lists what each tool
proposes and where they disagree, for reading by hand.

Speed: the full proposer, quantulum3 and the regex on all source documents, `--repeats`
times; median seconds per 1,000 documents.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sitrep.annotate.labelstudio.project import read_annotations
from sitrep.annotate.prelabel import evaluate, figures, propose
from sitrep.schema.documents import scan_sources

ROOT = Path(__file__).resolve().parents[1]
DIGITS = re.compile(r"\d[\d,.]*\d|\d")
Found = list[tuple[int, int, tuple[float, ...]]]  # (start, end, numbers read)


def baseline(text: str) -> Found:
    out = []
    for m in DIGITS.finditer(text):
        try:
            out.append((m.start(), m.end(), (float(m.group().replace(",", "")),)))
        except ValueError:
            out.append((m.start(), m.end(), ()))
    return out


def quantulum(text: str) -> Found:
    from quantulum3 import parser

    out = []
    for q in parser.parse(text):
        start, end = q.span
        out.append((start, end, (float(q.value),)))
    return out


def finder(text: str) -> Found:
    return [(p.start, p.end, evaluate.proposal_numbers(p)) for p in figures.find_figures(text)]


def peer_scores(docs: list[dict[str, Any]], tool: Callable[[str], Found]) -> dict[str, Any]:
    """Precision, recall and agreement of a tool that proposes spans with numbers only."""
    gold_n = found_n = hits = number = qualifier = realis = claimant = 0
    for doc in docs:
        found = tool(doc["document"]["text"])
        gold = [(f, s) for f in doc.get("figures", []) for s in f["spans"]]
        _, overlap = evaluate.match_spans(
            [(s["start"], s["end"]) for _, s in gold], [(a, b) for a, b, _ in found]
        )
        gold_n += len(gold)
        found_n += len(found)
        hits += len(overlap)
        for g, n in overlap.items():
            fig = gold[g][0]
            number += evaluate.same_number(found[n][2], fig)
            qualifier += fig["qualifier"] == "exact"
            realis += fig["realis"] == "actual"
            claimant += fig.get("claimed_by") is None
    return _scores(gold_n, found_n, hits, number, qualifier, realis, claimant)


def _scores(gold: int, found: int, hits: int, *agree: int) -> dict[str, Any]:
    p = hits / found if found else 0.0
    r = hits / gold if gold else 0.0
    names = ("number", "qualifier", "realis", "claimant")
    return {
        "gold": gold,
        "proposed": found,
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
        **{name: round(a / hits, 4) if hits else 0.0 for name, a in zip(names, agree, strict=True)},
    }


def finder_scores(report: evaluate.EvalReport) -> dict[str, Any]:
    fig = report.labels["figure"]
    hits = report.matched_figures
    out = _scores(
        fig.gold,
        fig.proposed,
        hits,
        report.number_match,
        report.qualifier_match,
        report.realis_match,
        report.claimant_match,
    )
    out["interval"] = report.ratio(report.interval_match)
    return out


def mention_scores(report: evaluate.EvalReport) -> dict[str, Any]:
    return {
        label: {"gold": s.gold, "proposed": s.proposed, **s.to_dict()["overlap_scores"]}
        for label, s in report.labels.items()
        if label in ("actor", "location")
    }


def unseen(texts: dict[str, str]) -> dict[str, Any]:
    """Per unseen story: the finder's figures, and the digit runs and quantities of the
    peers that no figure of the finder overlaps (candidate misses, read by hand)."""
    stories = {}
    totals = {"stories": len(texts), "finder": 0, "quantulum3": 0, "baseline": 0}
    for doc_id, text in sorted(texts.items()):
        mine = figures.find_figures(text)
        spans = [(p.start, p.end) for p in mine]
        row: dict[str, Any] = {"finder": [f"{p.text} = {p.low}/{p.best}/{p.high}" for p in mine]}
        totals["finder"] += len(mine)
        for name, tool in (("quantulum3", quantulum), ("baseline", baseline)):
            theirs = tool(text)
            totals[name] += len(theirs)
            row[f"{name}_not_in_finder"] = [
                text[a:b] for a, b, _ in theirs if not any(s < b and a < e for s, e in spans)
            ]
        stories[doc_id] = row
    return {"totals": totals, "stories": stories}


def speed(texts: list[str], entries: dict, repeats: int) -> dict[str, Any]:
    tools = {
        "propose": lambda t: propose.propose(t, entries),
        "quantulum3": quantulum,
        "baseline": baseline,
    }
    runs: dict[str, list[float]] = {name: [] for name in tools}
    for _ in range(repeats):
        for name, tool in tools.items():
            clock = time.perf_counter()
            for text in texts:
                tool(text)
            runs[name].append((time.perf_counter() - clock) / len(texts) * 1000)
    return {
        "documents": len(texts),
        "repeats": repeats,
        **{f"{k}_seconds_per_1000_docs": round(statistics.median(v), 4) for k, v in runs.items()},
        "all_runs": {k: [round(x, 4) for x in v] for k, v in runs.items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", type=Path, default=ROOT / "datasets" / "annotations")
    parser.add_argument("--splits", type=Path, default=ROOT / "datasets" / "splits.json")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", module="quantulum3")  # "classifier not installed"
    docs, problems = read_annotations([args.gold])
    if problems:
        print("\n".join(str(p) for p in problems), file=sys.stderr)
        return 1
    split_of = evaluate.read_splits(args.splits)
    reports = evaluate.evaluate_splits(docs, [args.gold], split_of)
    out: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "finder_version": figures.VERSION,
    }
    for name, report in reports.items():
        part = [d for d in docs if split_of.get(d["document"]["id"], "development") == name]
        out[name] = {
            "documents": len(part),
            "figures": {
                "sitrep": finder_scores(report),
                "quantulum3": peer_scores(part, quantulum),
                "baseline": peer_scores(part, baseline),
            },
            "mentions": mention_scores(report),
        }
    sources, _ = scan_sources(ROOT / "seeds")
    annotated = {d["document"]["id"] for d in docs}
    splits = json.loads(args.splits.read_text(encoding="utf-8"))
    listed = {
        d for part in splits.values() if isinstance(part, dict) for d in part.get("documents", [])
    }
    out["unseen"] = unseen({s.id: s.text for s in sources if s.id not in annotated | listed})
    entries = propose.gazetteer([args.gold])
    out["speed"] = speed([s.text for s in sources], entries, args.repeats)
    print(json.dumps({k: v for k, v in out.items() if k != "unseen"} | {
        "unseen": out["unseen"]["totals"]}, indent=2))  # fmt: skip
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
