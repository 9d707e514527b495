"""Validate + release build at a million events, against the I/O floor and jsonschema.

    python benchmarks/bench_release.py [--documents 100000] [--repeats 3] [--base 2000]

One run, all measures on the same data:

1. data: `--base` seeded synthetic documents (10 events and 20 figures each, ~100 evidence
   spans) are generated once and repeated under new document ids up to `--documents`,
   written as JSON Lines shards of 2,000 documents (what `sitrep validate` reads in bulk);
2. sitrep: `build_release` in a fresh process: both validation layers (JSON Schema per
   document, Pandera and the vectorised rules per table) and the whole release (Parquet,
   changes, manifest, card, checksums);
3. I/O floor, in a fresh process: Polars/Arrow reading the same shards into the same
   tables and writing the same Parquet files, with no validation at all;
4. Python jsonschema, per record (actor, location, event, figure, each with its spans),
   on a sample, extrapolated to every record of the dataset.

sitrep and the floor alternate `--repeats` times; the table shows medians, peak memory
(max RSS of each process) and the in-memory size of the tables. Results also go to
benchmarks/out/bench_release.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "out" / "bench_release.json"
SHARD = 2_000
KINDS = ("actors", "locations", "events", "figures")


def prepare(folder: Path, documents: int, base: int, seed: int) -> dict[str, int]:
    """Write the shards; return the record counts."""
    from sitrep.testing.synthetic import generate_document

    lines = [
        json.dumps(generate_document(seed, i, events=10, figures=20), ensure_ascii=False)
        for i in range(base)
    ]
    counts = dict.fromkeys([*KINDS, "spans", "documents"], 0)
    for i in range(base):
        doc = json.loads(lines[i])
        copies = len(range(i, documents, base))
        counts["documents"] += copies
        for kind in KINDS:
            counts[kind] += copies * len(doc[kind])
            counts["spans"] += copies * sum(len(r["spans"]) for r in doc[kind])
    folder.mkdir(parents=True)
    for start in range(0, documents, SHARD):
        with (folder / f"part-{start // SHARD:05d}.jsonl").open("w", encoding="utf-8") as out:
            for n in range(start, min(start + SHARD, documents)):
                old = f'"synthetic-{n % base:07d}"'
                out.write(
                    lines[n % base].replace(old, f'"synthetic-{n // base:04d}-{n % base:07d}"', 1)
                    + "\n"
                )
    return counts


# --- the measured steps, each run in its own process ---------------------------------------


def step_sitrep(data: Path, out: Path) -> dict[str, Any]:
    from sitrep.validate.release import build_release

    start = time.perf_counter()
    release = build_release("1.0.0", [data], out)
    return {"seconds": time.perf_counter() - start, "rows": release.rows}


def step_floor(data: Path, out: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from sitrep.validate.tables import build_tables, public, read_ndjson

    start = time.perf_counter()
    writers: dict[str, Any] = {}
    size = 0
    out.mkdir(parents=True)
    for shard in sorted(data.glob("*.jsonl")):
        for name, frame in build_tables(read_ndjson(str(shard), shard.name)).items():
            table = public(frame)
            size += table.estimated_size()
            arrow = table.to_arrow()
            if name not in writers:
                writers[name] = pq.ParquetWriter(
                    out / f"{name}.parquet", arrow.schema, compression="zstd"
                )
            writers[name].write_table(arrow.cast(writers[name].schema))
    for writer in writers.values():
        writer.close()
    return {"seconds": time.perf_counter() - start, "table_bytes": size}


def child(step: str, data: str, out: str) -> None:
    result = {"sitrep": step_sitrep, "floor": step_floor}[step](Path(data), Path(out))
    result["max_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(result))


def run_child(step: str, data: Path, out: Path) -> dict[str, Any]:
    shutil.rmtree(out, ignore_errors=True)
    done = subprocess.run(
        [sys.executable, __file__, "--child", step, str(data), str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    shutil.rmtree(out, ignore_errors=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- per-record Python jsonschema ----------------------------------------------------------


def jsonschema_records_per_second(base: int, seed: int, sample: int) -> float:
    import jsonschema

    from sitrep.schema import spec
    from sitrep.testing.synthetic import generate_document

    schema = spec.validation_schema()
    validators = {
        kind: jsonschema.Draft202012Validator(
            {"$defs": schema["$defs"], "$ref": f"#/$defs/{kind[:-1].capitalize()}"},
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
        )
        for kind in KINDS
    }
    records = []
    for i in range(base):
        doc = generate_document(seed, i, events=10, figures=20)
        records += [(kind, r) for kind in KINDS for r in doc[kind]]
        if len(records) >= sample:
            break
    records = records[:sample]
    start = time.perf_counter()
    for kind, record in records:
        validators[kind].is_valid(record)
    return len(records) / (time.perf_counter() - start)


# --- the report ------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    versions = {
        p: metadata.version(p)
        for p in ("polars", "pyarrow", "pandera", "jsonschema", "jsonschema-rs", "orjson")
    }
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), **versions}


def report(result: dict[str, Any]) -> str:
    s, f = result["sitrep"], result["floor"]
    records = sum(result["counts"][k] for k in KINDS)
    ours = records / s["seconds"]
    lines = [
        f"Machine: {result['machine']['cpu']}, {result['machine']['cores']} cores, Python {result['machine']['python']}",
        f"Data: {result['counts']['documents']:,} documents, {result['counts']['events']:,} events, {result['counts']['figures']:,} figures, "
        f"{result['counts']['spans']:,} spans ({result['data_bytes'] / 1e9:.2f} GB of JSON Lines); medians of {result['repeats']} runs",
        "",
        "| measure | median | target | verdict |",
        "|---|---:|---:|---|",
        f"| sitrep validate + release build | {s['seconds']:.1f} s | | |",
        f"| I/O floor (read, build tables, write Parquet; no validation) | {f['seconds']:.1f} s | | |",
        f"| ratio sitrep / floor | {s['seconds'] / f['seconds']:.2f}x | <= 2x | {'met' if s['seconds'] <= 2 * f['seconds'] else 'missed'} |",
        f"| records / s, sitrep ({records:,} records) | {ours:,.0f} | | |",
        f"| records / s, Python jsonschema per record (sample of {result['sample']:,}) | {result['jsonschema_rps']:,.0f} | | |",
        f"| throughput ratio sitrep / jsonschema | {ours / result['jsonschema_rps']:,.0f}x | >= 200x | {'met' if ours >= 200 * result['jsonschema_rps'] else 'missed'} |",
        f"| peak memory (max RSS), sitrep | {s['max_rss_bytes'] / 1e9:.2f} GB | | |",
        f"| peak memory (max RSS), floor | {f['max_rss_bytes'] / 1e9:.2f} GB | | |",
        f"| in-memory size of the tables | {f['table_bytes'] / 1e9:.2f} GB | | |",
        f"| peak memory / table size, sitrep | {s['max_rss_bytes'] / f['table_bytes']:.2f}x | <= 3x | {'met' if s['max_rss_bytes'] <= 3 * f['table_bytes'] else 'missed'} |",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--base", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory(prefix="sitrep-bench-") as tmp:
        work = Path(tmp)
        counts = prepare(work / "data", args.documents, min(args.base, args.documents), args.seed)
        data_bytes = sum(p.stat().st_size for p in (work / "data").iterdir())
        runs: dict[str, list[dict[str, Any]]] = {"sitrep": [], "floor": []}
        for i in range(args.repeats):
            for step in ("floor", "sitrep"):
                runs[step].append(run_child(step, work / "data", work / "out"))
                print(
                    f"run {i + 1}/{args.repeats} {step}: {runs[step][-1]['seconds']:.1f} s",
                    file=sys.stderr,
                )
    median = {
        step: {k: statistics.median(r[k] for r in rs) for k in ("seconds", "max_rss_bytes")}
        for step, rs in runs.items()
    }
    median["floor"]["table_bytes"] = runs["floor"][0]["table_bytes"]
    result = {
        "machine": machine(),
        "counts": counts,
        "data_bytes": data_bytes,
        "repeats": args.repeats,
        "sample": args.sample,
        "runs": runs,
        **median,
        "jsonschema_rps": jsonschema_records_per_second(args.base, args.seed, args.sample),
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2))
    print(report(result))


if __name__ == "__main__":
    main()
