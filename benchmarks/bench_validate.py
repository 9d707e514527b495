"""Per-document validation speed: sitrep (jsonschema-rs + rules) against Python jsonschema.

    python benchmarks/bench_validate.py [--documents 100000] [--repeats 3] [--sample 2000]

In one run: generate seeded synthetic documents (`sitrep.testing.synthetic`), serialise
them to UTF-8 JSON in memory, then time, document by document,

* sitrep: `json.loads` + `validate_document(doc, engine_name="rust")` (JSON Schema and
  every rule), over all documents, with the two halves timed apart;
* Python `jsonschema`: `json.loads` + the `python` engine's `is_valid`, over an evenly
  spaced sample, extrapolated to all documents;
* what sitrep's validation is made of: jsonschema-rs `is_valid` alone and `check_rules`
  alone, on another evenly spaced sample.

Documents are made and timed a chunk at a time, so memory holds one chunk of JSON and one
parsed document; every repeat times every chunk once (repeats interleaved, so a change in
machine load spreads over all measures), and the table shows medians over the repeats.
Results go to stdout as a markdown table and to benchmarks/out/ as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from importlib import metadata
from multiprocessing import Pool
from pathlib import Path
from typing import Any

from sitrep.schema.rules import RECORD_KINDS, check_rules
from sitrep.schema.validation import engine, validate_document
from sitrep.testing.synthetic import generate_document

OUT = Path(__file__).resolve().parent / "out" / "bench_validate.json"
TARGET = 20.0  # sitrep must be at least this many times faster per document
MEASURES = {
    "sitrep": "sitrep: json.loads + validate_document (rust engine + rules)",
    "python": "Python jsonschema: json.loads + is_valid (sample, extrapolated)",
    "loads": "sitrep part: json.loads",
    "validate": "sitrep part: validate_document",
    "rust": "validate_document part: JSON Schema, jsonschema-rs is_valid (sample)",
    "rules": "validate_document part: rules, check_rules (sample)",
}
clock = time.perf_counter


@dataclass
class Chunk:
    """Serialised documents, and the ones each sample takes from them."""

    raw: list[bytes]
    python: list[bytes]
    parts: list[bytes]


# --- what is timed -------------------------------------------------------------------


def time_sitrep(raws: list[bytes]) -> tuple[float, float]:
    """Seconds in json.loads and in validate_document."""
    loads = validate = 0.0
    issues = 0
    for raw in raws:
        began = clock()
        doc = json.loads(raw)
        parsed = clock()
        issues += len(validate_document(doc, "<bench>", engine_name="rust"))
        loads, validate = loads + parsed - began, validate + clock() - parsed
    if issues:
        raise SystemExit(f"error: {issues} issue(s) in generated documents; fix the generator")
    return loads, validate


def time_python(raws: list[bytes]) -> float:
    checker = engine("python")
    began = clock()
    valid = [checker.is_valid(json.loads(raw)) for raw in raws]
    elapsed = clock() - began
    if not all(valid):
        raise SystemExit("error: Python jsonschema rejects a generated document")
    return elapsed


def time_parts(raws: list[bytes]) -> tuple[float, float]:
    """Seconds in jsonschema-rs is_valid and in check_rules, on parsed documents."""
    checker, schema, rules = engine("rust"), 0.0, 0.0
    for raw in raws:
        doc = json.loads(raw)
        began = clock()
        checker.is_valid(doc)
        middle = clock()
        check_rules(doc, "<bench>")
        schema, rules = schema + middle - began, rules + clock() - middle
    return schema, rules


def time_chunk(chunk: Chunk, totals: dict[str, list[float]], repeat: int) -> None:
    loads, validate = time_sitrep(chunk.raw)
    python = time_python(chunk.python)
    rust, rules = time_parts(chunk.parts)
    seconds = dict(
        sitrep=loads + validate,
        python=python,
        loads=loads,
        validate=validate,
        rust=rust,
        rules=rules,
    )
    for key, value in seconds.items():
        totals[key][repeat] += value


# --- documents -----------------------------------------------------------------------


def serialise(job: tuple[int, int]) -> bytes:
    seed, index = job
    return json.dumps(generate_document(seed, index), ensure_ascii=False).encode("utf-8")


def every(total: int, wanted: int) -> int:
    return max(1, total // max(1, wanted))


def make_chunk(args: argparse.Namespace, pool: Any, indices: range, sizes: Counter[str]) -> Chunk:
    began = clock()
    raw = pool.map(serialise, [(args.seed, i) for i in indices], chunksize=64)
    sizes["generate_seconds"] += clock() - began
    for r in raw:
        describe(json.loads(r), len(r), sizes)
    python, parts = every(args.documents, args.sample), every(args.documents, args.parts)
    return Chunk(
        raw,
        [r for i, r in zip(indices, raw, strict=True) if i % python == 0],
        [r for i, r in zip(indices, raw, strict=True) if i % parts == 0],
    )


def describe(doc: Any, size: int, sizes: Counter[str]) -> None:
    sizes["bytes"] += size
    sizes["characters"] += len(doc["document"]["text"])
    for kind in RECORD_KINDS:
        sizes[kind] += len(doc[kind])
        sizes["spans"] += sum(len(r["spans"]) for r in doc[kind])


# --- running -------------------------------------------------------------------------


def run(args: argparse.Namespace) -> tuple[dict[str, list[float]], Counter[str], Counter[str]]:
    """Per-repeat seconds of every measure, documents each timed, and what they hold."""
    totals = {key: [0.0] * args.repeats for key in MEASURES}
    timed: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    for name in ("rust", "python"):
        engine(name)  # compile both before any clock starts
    with Pool(args.jobs) as pool:
        for start in range(0, args.documents, args.chunk):
            indices = range(start, min(start + args.chunk, args.documents))
            chunk = make_chunk(args, pool, indices, sizes)
            for repeat in range(args.repeats):
                time_chunk(chunk, totals, repeat)
            timed.update(
                sitrep=len(chunk.raw), loads=len(chunk.raw), validate=len(chunk.raw),
                python=len(chunk.python), rust=len(chunk.parts), rules=len(chunk.parts),
            )  # fmt: skip
            print(f"  {indices.stop:,}/{args.documents:,} documents", file=sys.stderr, end="\r")
    print(file=sys.stderr)
    return totals, timed, sizes


# --- reporting -----------------------------------------------------------------------


def machine() -> dict[str, Any]:
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    cpu = names[0] if names else platform.processor() or "unknown"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "jsonschema": metadata.version("jsonschema"),
        "jsonschema_rs": metadata.version("jsonschema_rs"),
    }


def results(
    args: argparse.Namespace,
    totals: dict[str, list[float]],
    timed: Counter[str],
    sizes: Counter[str],
) -> dict[str, Any]:
    rows = {}
    for key, label in MEASURES.items():
        per_doc = statistics.median(totals[key]) / timed[key]
        rows[key] = {
            "measure": label,
            "documents_timed": timed[key],
            "seconds_median": statistics.median(totals[key]),
            "seconds_runs": totals[key],
            "us_per_document": per_doc * 1e6,
            "documents_per_second": 1 / per_doc,
            "seconds_for_all_documents": per_doc * args.documents,
        }
    sitrep_us = rows["sitrep"]["us_per_document"]
    for row in rows.values():
        row["share_of_sitrep"] = row["us_per_document"] / sitrep_us
    n = args.documents
    return {
        "command": " ".join(["python", "benchmarks/bench_validate.py", *sys.argv[1:]]),
        "documents": n,
        "repeats": args.repeats,
        "seed": args.seed,
        "machine": machine(),
        "per_document": {k: v / n for k, v in sizes.items() if k != "generate_seconds"},
        "generate_seconds": sizes["generate_seconds"],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rows": rows,
        "speedup": rows["python"]["us_per_document"] / sitrep_us,
        "target": TARGET,
    }


def table(res: dict[str, Any]) -> str:
    lines = [
        "| measure | documents timed | median s (min-max) | µs / document | documents / s "
        "| share of sitrep | jsonschema / this |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    python_us = res["rows"]["python"]["us_per_document"]
    for row in res["rows"].values():
        runs = row["seconds_runs"]
        lines.append(
            f"| {row['measure']} | {row['documents_timed']:,} | {row['seconds_median']:.1f} "
            f"({min(runs):.1f}-{max(runs):.1f}) | {row['us_per_document']:,.0f} "
            f"| {row['documents_per_second']:,.0f} | {row['share_of_sitrep']:.0%} "
            f"| {python_us / row['us_per_document']:.1f}x |"
        )
    return "\n".join(lines)


def summary(res: dict[str, Any]) -> str:
    m, d, python = res["machine"], res["per_document"], res["rows"]["python"]
    verdict = "met" if res["speedup"] >= res["target"] else "MISSED"
    return "\n".join(
        [
            f"command: {res['command']}",
            f"machine: {m['cpu']}, {m['cores']} cores ({m['cores_usable']} usable), "
            f"{m['platform']}",
            f"software: Python {m['python']}, jsonschema {m['jsonschema']}, "
            f"jsonschema-rs {m['jsonschema_rs']}",
            f"documents: {res['documents']:,} (seed {res['seed']}), generated and serialised in "
            f"{res['generate_seconds']:.0f} s; on average {d['bytes'] / 1024:.1f} KiB of JSON, "
            f"{d['characters']:,.0f} characters of text, {d['actors']:.1f} actors, "
            f"{d['locations']:.1f} locations, {d['events']:.1f} events, "
            f"{d['figures']:.1f} figures, {d['spans']:.1f} spans",
            f"repeats: {res['repeats']} (medians); peak RSS {res['peak_rss_mb']:,.0f} MB "
            "(this process; the generator processes are not counted)",
            "",
            table(res),
            "",
            f"Python jsonschema on all {res['documents']:,} documents: "
            f"~{python['seconds_for_all_documents']:,.0f} s (extrapolated).",
            f"sitrep is {res['speedup']:.1f}x faster per document than Python jsonschema "
            f"(target {res['target']:.0f}x: {verdict}).",
        ]
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", 1)[0])
    parser.add_argument("--documents", type=int, default=100_000, help="documents to generate")
    parser.add_argument("--repeats", type=int, default=3, help="timings of each measure")
    parser.add_argument("--sample", type=int, default=2_000, help="documents for jsonschema")
    parser.add_argument("--parts", type=int, default=10_000, help="documents for rust/rules")
    parser.add_argument("--seed", type=int, default=0, help="generator seed")
    parser.add_argument("--chunk", type=int, default=5_000, help="documents held at once")
    parser.add_argument("--jobs", type=int, default=2, help="processes generating documents")
    parser.add_argument("--out", type=Path, default=OUT, help="JSON results file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = clock()
    totals, timed, sizes = run(args)
    res = results(args, totals, timed, sizes)
    res["wall_seconds"] = clock() - began
    print(summary(res))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nresults written to {args.out} ({res['wall_seconds']:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
