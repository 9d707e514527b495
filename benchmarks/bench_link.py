"""`sitrep link`: precision and recall on the annotated documents (leave one document
out), and the time and memory of a whole `sitrep link` process on 100,000 synthetic
records, next to an exact-alias lookup measured in the same run.

    python benchmarks/bench_link.py [--records 100000] [--repeats 3] [--skip-speed] [--skip-evaluate]

1. Evaluate: `sitrep.annotate.link.evaluate` links each annotated document against a view
   of the registry whose aliases come only from the other documents' gold links (plus
   every entity's canonical name), and compares the proposals with the gold links at
   several thresholds.
2. Speed: 100,000 records are generated with a fixed seed from the registry's names and
   aliases (exact, case changed, one or two typos, initials, a dropped or added word,
   the type kept, the country kept or dropped) plus 10% names of no entity, in files of
   100 records. `sitrep link` runs on them as a whole process (the installed console
   script, no --apply), `--repeats` times; wall time and peak RSS (wait4) per run.
   Peak RSS is GNU time's (`/usr/bin/time`, Debian's `time` package). The baseline is an exact lookup of the normalised name among the registry's
   normalised names and aliases of the same kind, also as a whole process reading the
   same files and writing its proposals. Both are scored against the generated truth.
Results go to stdout as markdown and to benchmarks/out/bench_link.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from sitrep import paths
from sitrep.annotate.link.engine import normalise
from sitrep.annotate.link.records import read_registry
from sitrep.validate.registry import Entity

ROOT = paths.project_root()
REGISTRY = ROOT / "datasets" / "entities" / "registry.json"
OUT = Path(__file__).resolve().parent / "out" / "bench_link.json"
SITREP = Path(sys.executable).with_name("sitrep")
TIME = "/usr/bin/time"  # GNU time, for the peak RSS of a whole process
NOISE = ["Northern", "Council", "Harbour", "Valley", "Brigade", "Union", "Office", "Front"]


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 1)
    how = rng.choice(("swap", "drop", "double", "replace"))
    if how == "swap":
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if how == "drop":
        return text[:i] + text[i + 1 :]
    if how == "double":
        return text[:i] + text[i] + text[i:]
    return text[:i] + rng.choice("aeiourstn") + text[i + 1 :]


def variant(rng: random.Random, name: str) -> str:
    """One way a story might write `name`."""
    how = rng.choices(
        ("same", "case", "typo", "typo2", "initials", "drop", "add"), (30, 15, 20, 10, 5, 10, 10)
    )[0]
    words = name.split()
    if how == "case":
        return name.upper() if rng.random() < 0.5 else name.lower()
    if how == "typo":
        return _typo(rng, name)
    if how == "typo2":
        return _typo(rng, _typo(rng, name))
    if how == "initials" and len(words) >= 2:
        return "".join(w[0].upper() for w in words if w.lower() not in ("of", "the", "and"))
    if how == "drop" and len(words) >= 3:
        return " ".join(w for i, w in enumerate(words) if i != rng.randrange(len(words)))
    if how == "add":
        return f"{rng.choice(NOISE)} {name}" if rng.random() < 0.5 else f"the {name}"
    return name


def synthetic(entities: list[Entity], count: int, seed: int = 0) -> list[dict[str, Any]]:
    """`count` records with their true entity (None for the 10% that are no entity)."""
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        if rng.random() < 0.1:
            name = " ".join(
                rng.choice(NOISE) + rng.choice(("ville", "stan", "ia", "")) for _ in range(2)
            )
            kind = rng.choice(("actor", "location"))
            rows.append(
                {"n": n, "kind": kind, "name": name, "type": None, "country": None, "truth": None}
            )
            continue
        e = rng.choice(entities)
        name = variant(rng, rng.choice([e.name, *e.aliases]))
        country = e.country if rng.random() < 0.7 else None
        rows.append(
            {
                "n": n,
                "kind": e.kind,
                "name": name,
                "type": e.type,
                "country": country,
                "truth": e.id,
            }
        )
    return rows


def write_corpus(rows: list[dict[str, Any]], folder: Path, per_file: int = 100) -> None:
    for start in range(0, len(rows), per_file):
        chunk = rows[start : start + per_file]
        doc: dict[str, Any] = {
            "schema_version": "1.2.0",
            "document": {"id": f"syn-{start:06d}"},
            "actors": [],
            "locations": [],
        }
        for r in chunk:
            rid = f"{r['kind'][:3]}-{r['n']}"
            field = "actors" if r["kind"] == "actor" else "locations"
            doc[field].append(
                {
                    "id": rid,
                    "name": r["name"],
                    "aliases": [],
                    "type": r["type"],
                    "country": r["country"],
                    "entity": None,
                }
            )
        (folder / f"syn-{start:06d}.json").write_text(json.dumps(doc, indent=2), encoding="utf-8")


def run_process(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one whole process, which must succeed.

    The peak comes from GNU time (`/usr/bin/time -f %M`, Debian's `time` package): the
    kernel carries a process's peak RSS across exec, so wait4 on a child started from
    this (large) benchmark process would report this process's size instead."""
    with tempfile.NamedTemporaryFile(suffix=".rss") as rss:
        start = time.perf_counter()
        done = subprocess.run(
            [TIME, "-f", "%M", "-o", rss.name, *argv], capture_output=True, check=False
        )
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"{' '.join(argv)} failed: {done.stderr.decode()[-800:]}")
        kib = int(Path(rss.name).read_text().split()[-1])
    return seconds, kib * 1024


def baseline(folder: Path, registry: Path, out: Path) -> None:
    """The exact-alias lookup: a record is linked when its normalised name equals one
    normalised name or alias of exactly one entity of its kind."""
    from sitrep.annotate.link.records import annotation_files, read_records

    index: dict[tuple[str, str], set[str]] = {}
    for e in read_registry(registry).values():
        for name in (e.name, *e.aliases):
            index.setdefault((e.kind, normalise(name)), set()).add(e.id)
    found = {}
    for r in read_records(annotation_files([folder])):
        hits = index.get((r.kind, normalise(r.name)), set())
        found[r.id] = next(iter(hits)) if len(hits) == 1 else None
    out.write_text(json.dumps(found), encoding="utf-8")


def scored(proposed: dict[str, str | None], rows: list[dict[str, Any]]) -> dict[str, float]:
    truth = {f"{r['kind'][:3]}-{r['n']}": r["truth"] for r in rows}
    made = {k: v for k, v in proposed.items() if v is not None}
    correct = sum(1 for k, v in made.items() if truth[k] == v)
    gold = sum(1 for v in truth.values() if v is not None)
    return {
        "proposed": len(made),
        "correct": correct,
        "precision": correct / max(len(made), 1),
        "recall": correct / gold,
    }


def review_proposals(path: Path) -> dict[str, str | None]:
    return {r["id"]: r["proposal"] for r in json.loads(path.read_text(encoding="utf-8"))["records"]}


def speed(records: int, repeats: int) -> dict[str, Any]:
    entities = list(read_registry(REGISTRY).values())
    rows = synthetic(entities, records)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "annotations"
        folder.mkdir()
        write_corpus(rows, folder)
        review, base_out = Path(tmp) / "review.json", Path(tmp) / "baseline.json"
        link_argv = [
            str(SITREP),
            "link",
            str(folder),
            "--registry",
            str(REGISTRY),
            "--out",
            str(review),
        ]
        base_argv = [
            sys.executable,
            __file__,
            "--baseline-run",
            str(folder),
            str(REGISTRY),
            str(base_out),
        ]
        runs: dict[str, list[tuple[float, int]]] = {"sitrep link": [], "exact-alias lookup": []}
        for _ in range(repeats):  # paired: a change in the machine's load hits both
            runs["sitrep link"].append(run_process(link_argv))
            runs["exact-alias lookup"].append(run_process(base_argv))
        quality = {
            "sitrep link": scored(review_proposals(review), rows),
            "exact-alias lookup": scored(json.loads(base_out.read_text(encoding="utf-8")), rows),
        }
    return {
        name: {"median_s": statistics.median(t for t, _ in r), "runs_s": [t for t, _ in r],
               "peak_rss_mb": max(m for _, m in r) / 1e6, **quality[name]}
        for name, r in runs.items()
    }  # fmt: skip


def evaluate() -> dict[str, Any]:
    from sitrep.annotate.link import evaluate as ev
    from sitrep.annotate.link.records import annotation_files, read_records

    records = read_records(annotation_files([paths.annotations_dir()]))
    results, info = ev.leave_one_document_out(records, read_registry(REGISTRY))
    rows = []
    for threshold in ev.THRESHOLDS:
        s = ev.score(results, threshold)
        rows.append({"threshold": threshold, "gold": s.gold, "proposed": s.proposed, "correct": s.correct,
                     "precision": s.precision, "recall": s.recall})  # fmt: skip
    return {**info, "records": len(records), "thresholds": rows, **ev.ranking(results)}


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("splink", "duckdb"))
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}, {versions}"


def main() -> None:
    if sys.argv[1:2] == ["--baseline-run"]:
        baseline(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-evaluate", action="store_true")
    args = parser.parse_args()
    report: dict[str, Any] = {"machine": machine()}
    print(f"Machine: {report['machine']}")
    if not args.skip_evaluate:
        report["evaluate"] = ev = evaluate()
        print(
            f"\nLeave-one-document-out on {ev['records']} records of {ev['documents']} documents ({ev['engine']}):\n"
        )
        print(
            "| threshold | gold links | proposed | correct | precision | recall |\n|---:|---:|---:|---:|---:|---:|"
        )
        for r in ev["thresholds"]:
            print(
                f"| {r['threshold']} | {r['gold']} | {r['proposed']} | {r['correct']} | {r['precision']:.3f} | {r['recall']:.3f} |"
            )
        print(
            f"\ngold entity ranked first: {ev['gold_first']:.3f}; among the candidates: {ev['gold_listed']:.3f}"
        )
    if not args.skip_speed and not Path(TIME).exists():
        sys.exit(f"the speed measure needs GNU time at {TIME} (Debian: apt-get install time)")
    if not args.skip_speed:
        report["speed"] = sp = speed(args.records, args.repeats)
        print(
            f"\n{args.records:,} synthetic records, median of {args.repeats} whole-process runs:\n"
        )
        print(
            "| measure | median s | runs s | peak RSS MB | proposed | precision | recall |\n|---|---:|---|---:|---:|---:|---:|"
        )
        for name, r in sp.items():
            runs = ", ".join(f"{t:.1f}" for t in r["runs_s"])
            print(
                f"| {name} | {r['median_s']:.1f} | {runs} | {r['peak_rss_mb']:.0f} | {r['proposed']:,} | {r['precision']:.3f} | {r['recall']:.3f} |"
            )
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
