"""Pre-annotation quality and speed, with a naive baseline measured in the same run.

    python benchmarks/bench_propose.py --repeats 3

Quality: `sitrep annotate eval` on the gold documents (datasets/annotations, or --gold),
split into the development set the finder was written against and the held-out
documents listed with --held-out (annotated by hand after the finder was frozen).
Baseline: "every run of digits is an exact figure" (the regex most pipelines start from).

Speed: the full proposer (figures, gazetteer actors and locations, event triggers) on the
89 VOA stories and the seed article, `--repeats` times; median seconds per 1,000
documents, and the same for the baseline.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import sys
import time
from pathlib import Path

from sitrep.annotate.labelstudio.project import read_annotations
from sitrep.annotate.prelabel import evaluate, propose
from sitrep.schema.documents import scan_sources

ROOT = Path(__file__).resolve().parents[1]
DIGITS = re.compile(r"\d[\d,.]*\d|\d")


def baseline_scores(docs: list[dict]) -> dict[str, float]:
    gold = found = hits = exact_interval = 0
    for doc in docs:
        text = doc["document"]["text"]
        spans = [(s["start"], s["end"], f) for f in doc["figures"] for s in f["spans"]]
        cands = [(m.start(), m.end(), m.group()) for m in DIGITS.finditer(text)]
        gold += len(spans)
        found += len(cands)
        used: set[int] = set()
        for gs, ge, f in spans:
            for n, (cs, ce, raw) in enumerate(cands):
                if n not in used and cs < ge and gs < ce:
                    used.add(n)
                    hits += 1
                    try:
                        value = float(raw.replace(",", ""))
                    except ValueError:
                        value = None
                    exact_interval += (f["low"], f["best"], f["high"]) == (value, value, value)
                    break
    p = hits / found if found else 0.0
    r = hits / gold if gold else 0.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
        "interval_exact_match": round(exact_interval / hits, 4) if hits else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", type=Path, default=ROOT / "datasets" / "annotations")
    parser.add_argument("--held-out", default="", help="comma-separated document ids")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    docs, problems = read_annotations([args.gold])
    if problems:
        print("\n".join(str(p) for p in problems), file=sys.stderr)
        return 1
    held = {h.strip() for h in args.held_out.split(",") if h.strip()}
    dev = [d for d in docs if d["document"]["id"] not in held]
    test = [d for d in docs if d["document"]["id"] in held]
    out: dict = {"machine": f"{platform.machine()}, Python {platform.python_version()}"}
    for name, part in (("development", dev), ("held_out", test)):
        if part:
            report = evaluate.evaluate(part, [args.gold])
            out[name] = {
                "documents": len(part),
                **report.summary(),
                "labels": {k: v.to_dict() for k, v in report.labels.items()},
                "baseline": baseline_scores(part),
            }
    sources, _ = scan_sources(ROOT / "seeds")
    texts = [s.text for s in sources]
    entries = propose.gazetteer([args.gold])
    full, naive = [], []
    for _ in range(args.repeats):
        clock = time.perf_counter()
        for text in texts:
            propose.propose(text, entries)
        full.append((time.perf_counter() - clock) / len(texts) * 1000)
        clock = time.perf_counter()
        for text in texts:
            list(DIGITS.finditer(text))
        naive.append((time.perf_counter() - clock) / len(texts) * 1000)
    out["speed"] = {
        "documents": len(texts),
        "repeats": args.repeats,
        "propose_seconds_per_1000_docs": round(statistics.median(full), 3),
        "baseline_seconds_per_1000_docs": round(statistics.median(naive), 4),
        "all_runs": [round(x, 3) for x in full],
    }
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
