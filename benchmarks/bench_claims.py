"""The claims ledger at two million claims: `build_claims` + `summarise`, against a baseline.

    python benchmarks/bench_claims.py [--claims 2000000] [--repeats 3] [--sample 200000]

One run, all measures on the same data:

1. data: release-shaped tables built in memory with Polars (no JSON): `--claims` figures,
   every one with a quantity (20 per document, so claims / 20 documents), one actor per
   figure's claimant (linked to one of 2,000 registry entities; one figure in ten has no
   claimant), one evidence span per figure, 10,000 quantities over 5,000 event clusters,
   documents dated over one year, realis `actual` for nine claims in ten;
2. sitrep: `build_claims` (five joins, the claimant, the first span, the sort) then
   `summarise` (latest-actual-per-claimant@1, range-across-claimants@1), `--repeats` times;
3. baseline: the same ledger and summaries written the obvious way, in plain Python
   (dicts for the joins, a loop per claim, sorted lists per quantity and claimant), on a
   `--sample` of the claims and extrapolated linearly to all of them (it is linear: one
   pass plus per-group sorts); its result is checked equal to sitrep's on the sample.

The table shows medians; results also go to benchmarks/out/bench_claims.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import time
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl

from sitrep.schema.clusters import Clusters, Quantity
from sitrep.validate.claims import build_claims, summarise

OUT = Path(__file__).resolve().parent / "out" / "bench_claims.json"
PER_DOCUMENT = 20
QUANTITIES = 10_000
ENTITIES = 2_000


def tables(claims: int, seed: int = 7) -> tuple[dict[str, pl.DataFrame], Clusters]:
    """Release-shaped documents, figures, actors and spans with `claims` claims."""
    documents = max(1, claims // PER_DOCUMENT)
    n = pl.int_range(0, claims, eager=True)
    doc = (n // PER_DOCUMENT).cast(pl.String).str.zfill(7)
    doc_id = ("d-" + doc).alias("document_id")
    figure_id = ("fig-" + (n % PER_DOCUMENT).cast(pl.String)).alias("id")
    key = (doc_id + "/" + figure_id).alias("key")
    mix = (n * 2654435761 + seed) % 1_000_003  # a fixed scramble: no randomness
    claimed = (
        pl.when(mix % 10 == 0).then(None).otherwise(doc_id + "/act-" + (mix % 97).cast(pl.String))
    )
    figures = pl.DataFrame({"n": n, "mix": mix}).select(
        key,
        doc_id,
        figure_id,
        ("q-" + (pl.col("mix") % QUANTITIES).cast(pl.String)).alias("quantity"),
        pl.lit("people_killed").alias("counted"),
        pl.lit("person").alias("unit"),
        (pl.col("mix") % 500).cast(pl.Float64).alias("low"),
        (pl.col("mix") % 500 + 5).cast(pl.Float64).alias("best"),
        (pl.col("mix") % 500 + 10).cast(pl.Float64).alias("high"),
        pl.lit("range").alias("qualifier"),
        pl.lit(None, pl.String).alias("vague_term"),
        pl.when(pl.col("mix") % 10 == 3)
        .then(pl.lit("planned"))
        .otherwise(pl.lit("actual"))
        .alias("realis"),
        pl.lit(None, pl.String).alias("claimed_by"),
        claimed.alias("claimed_by_key"),
    )
    actors = (
        figures.filter(pl.col("claimed_by_key").is_not_null())
        .select(pl.col("claimed_by_key").alias("key"))
        .unique()
        .with_columns(
            pl.format("Claimant {}", pl.col("key").str.extract(r"act-(\d+)$")).alias("name"),
            ("ent-" + (pl.col("key").hash(seed) % ENTITIES).cast(pl.String)).alias("entity"),
        )
    )
    day = pl.int_range(0, documents, eager=True)
    docs = pl.DataFrame({"day": day}).select(
        ("d-" + pl.col("day").cast(pl.String).str.zfill(7)).alias("document_id"),
        pl.lit("Synthetic News").alias("publisher"),
        (pl.lit(date(2025, 1, 1)) + pl.duration(days=pl.col("day") % 365)).alias("published"),
    )
    spans = figures.select(
        pl.col("key").alias("figure_key"),
        pl.lit("about 100").alias("text"),
        (pl.col("low") * 3).cast(pl.Int64).alias("start"),
        (pl.col("low") * 3 + 9).cast(pl.Int64).alias("end"),
    )
    quantities = {
        f"q-{i}": Quantity(f"q-{i}", f"ec-{i // 2}", "people_killed", "person", "synthetic")
        for i in range(QUANTITIES)
    }
    clusters = Clusters("synthetic", {}, quantities)
    return {"documents": docs, "figures": figures, "actors": actors, "spans": spans}, clusters


def run_sitrep(data: dict[str, pl.DataFrame], clusters: Clusters) -> tuple[float, int, int, float]:
    """Wall time, rows of both tables, and CPU time (all threads) of one build."""
    start, cpu = time.perf_counter(), time.process_time()
    claims = build_claims(data, clusters, {f"ent-{i}": f"Entity {i}" for i in range(ENTITIES)})
    summaries = summarise(claims)
    wall = time.perf_counter() - start
    return wall, claims.height, summaries.height, time.process_time() - cpu


def run_baseline(data: dict[str, pl.DataFrame], clusters: Clusters) -> tuple[float, int]:
    """The ledger's latest-per-claimant summary in plain Python, one claim at a time."""
    rows = {n: f.to_dicts() for n, f in data.items()}
    start = time.perf_counter()
    docs = {d["document_id"]: d for d in rows["documents"]}
    actors = {a["key"]: a for a in rows["actors"]}
    spans: dict[str, dict[str, Any]] = {}
    for s in rows["spans"]:
        if s["figure_key"] not in spans or s["start"] < spans[s["figure_key"]]["start"]:
            spans[s["figure_key"]] = s
    groups: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    for f in rows["figures"]:
        actor = actors.get(f["claimed_by_key"]) or {}
        doc = docs[f["document_id"]]
        claimant = actor.get("entity") or (actor.get("name") or "").lower() or "(unattributed)"
        _ = clusters.quantities[f["quantity"]].event_cluster, spans.get(f["key"])
        if f["realis"] == "actual":
            order = (doc["published"] or date.min, f["document_id"], spans[f["key"]]["start"])
            groups.setdefault((f["quantity"], claimant), []).append((order, f["key"], f["best"]))
    latest = {k: max(v)[1] for k, v in groups.items()}
    return time.perf_counter() - start, len(latest)  # to_dicts() is timed apart in `main`


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "polars": metadata.version("polars"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--claims", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sample", type=int, default=200_000)
    args = parser.parse_args()

    built = time.perf_counter()
    data, clusters = tables(args.claims)
    built = time.perf_counter() - built
    sitrep = [run_sitrep(data, clusters) for _ in range(args.repeats)]
    sample, _ = tables(args.sample)
    convert = time.perf_counter()
    for frame in sample.values():
        frame.to_dicts()
    convert = time.perf_counter() - convert
    base = [run_baseline(sample, clusters) for _ in range(args.repeats)]
    check_sitrep = summarise(build_claims(sample, clusters, {}))
    latest = check_sitrep.filter(pl.col("rule") == "latest-actual-per-claimant@1").height

    scale = args.claims / args.sample
    result = {
        "machine": machine(),
        "claims": args.claims,
        "repeats": args.repeats,
        "tables_built_s": round(built, 2),
        "sitrep_median_s": round(statistics.median(r[0] for r in sitrep), 2),
        "sitrep_runs_s": [round(r[0], 2) for r in sitrep],
        "sitrep_cpu_median_s": round(statistics.median(r[3] for r in sitrep), 2),
        "claims_rows": sitrep[0][1],
        "summary_rows": sitrep[0][2],
        "baseline_sample": args.sample,
        "baseline_median_sample_s": round(statistics.median(t for t, _ in base), 2),
        "baseline_to_dicts_sample_s": round(convert, 2),
        "baseline_extrapolated_s": round(
            (statistics.median(t for t, _ in base) + convert) * scale, 1
        ),
        "baseline_agrees_on_sample": base[0][1] == latest,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
