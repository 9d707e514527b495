"""Push and pull N tasks with annotations through a real Label Studio; how much sitrep
adds on top of Label Studio's own import and export.

    python benchmarks/bench_annotate.py --tasks 10000 --repeats 3
    python benchmarks/bench_annotate.py --tasks 10000 --repeats 3 --database postgresql

Starts its own Label Studio (127.0.0.1) in a temporary data folder and stops it at the
end: on SQLite in that folder (the embedded default), or with `--database postgresql`
on a throw-away PostgreSQL server it starts for the run (`sitrep.testing.postgres`,
Debian's server from `make setup-postgres`). Documents are synthetic
(`sitrep.testing.synthetic`, seed-article size: about 2,700 characters, 50 records, 80
spans, ~450 Label Studio results each) and go in as ground-truth annotations.

Measured, in the same run:
- push: Label Studio's import (the time inside the import requests) and the total;
  sitrep's share is the rest (reading, converting and checking every result).
- pull, `--repeats` times into a fresh folder each: Label Studio's export (snapshot
  create -> ready -> download) and sitrep's overhead (parse, convert, validate, write).
Target: the pull overhead is at most 20% of Label Studio's export time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sitrep.annotate.labelstudio import project as proj
from sitrep.annotate.labelstudio import pull as pull_mod
from sitrep.annotate.labelstudio import server
from sitrep.annotate.labelstudio.client import Client
from sitrep.testing import postgres
from sitrep.testing.synthetic import generate_document

ROOT = Path(__file__).resolve().parents[1]


class TimedClient(Client):
    """A client that adds up the time spent inside import requests."""

    import_seconds = 0.0

    def post(self, path: str, body, **params):  # type: ignore[no-untyped-def]
        if not path.endswith("/import"):
            return super().post(path, body, **params)
        start = time.perf_counter()
        try:
            return super().post(path, body, **params)
        finally:
            self.import_seconds += time.perf_counter() - start


def write_inputs(folder: Path, n: int, seed: int) -> None:
    (folder / "annotations").mkdir(parents=True)
    for i in range(n):
        doc = generate_document(seed, i)
        for kind in ("actors", "locations", "events", "figures"):
            for record in doc[kind]:
                record.pop("provenance", None)
        (folder / "annotations" / f"{doc['document']['id']}.json").write_text(
            json.dumps(doc, ensure_ascii=False), encoding="utf-8"
        )


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} vCPU {cpu}, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=250)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    if args.database == "postgresql":
        with postgres.throwaway() as pg:
            os.environ["PGPASSWORD"] = pg.password  # for the server sitrep starts
            return run(args, pg.create("labelstudio"))
    return run(args, None)


def run(args: argparse.Namespace, database_url: str | None) -> int:

    work = Path(tempfile.mkdtemp(prefix="sitrep-bench-annotate-"))
    data_dir = work / "label-studio"
    try:
        t = time.perf_counter()
        write_inputs(work / "in", args.tasks, args.seed)
        print(f"generated {args.tasks} documents in {time.perf_counter() - t:.1f} s", flush=True)
        started = server.serve(
            data_dir,
            timeout=600,
            executable=server.find_executable(ROOT),
            database_url=database_url,
        )
        print(f"Label Studio up in {started.seconds:.0f} s at {started.state.url}", flush=True)
        conn = server.Connection(started.state.url, started.credentials.token, "bench")
        client = TimedClient(conn, timeout=1800)

        t = time.perf_counter()
        pushed = proj.push(
            client,
            sources=[],
            annotations=[work / "in" / "annotations"],
            ground_truth=True,
            title="bench",
            chunk=args.chunk,
        )
        push_total = time.perf_counter() - t
        assert pushed.ok and pushed.tasks_created == args.tasks, pushed.problems[:3]
        push_ls = client.import_seconds
        print(f"push: total {push_total:.1f} s, Label Studio import {push_ls:.1f} s", flush=True)

        exports, overheads, parts = [], [], []
        for r in range(args.repeats):
            out = work / f"pull-{r}"
            out.mkdir()
            t = time.perf_counter()
            report = pull_mod.pull(
                Client(conn, timeout=1800), title="bench", root=out, timeout=3600
            )
            total = time.perf_counter() - t
            assert report.ok and report.converted == args.tasks, report.problems[:3]
            export = report.timings["export"]
            overhead = report.timings["parse"] + report.timings["convert"] + report.timings["write"]
            exports.append(export)
            overheads.append(overhead)
            parts.append(report.timings)
            print(
                f"pull {r + 1}: export {export:.1f} s, sitrep {overhead:.1f} s "
                f"(parse {report.timings['parse']:.1f}, convert+validate "
                f"{report.timings['convert']:.1f}, write {report.timings['write']:.1f}), "
                f"total {total:.1f} s, export file {report.export_bytes / 1e6:.0f} MB",
                flush=True,
            )
            shutil.rmtree(out)
        export_med = statistics.median(exports)
        overhead_med = statistics.median(overheads)
        ratios = [o / e for o, e in zip(overheads, exports, strict=True)]
        figures = {
            "machine": machine(),
            "database": args.database,
            "tasks": args.tasks,
            "push_total_s": round(push_total, 1),
            "push_label_studio_import_s": round(push_ls, 1),
            "push_sitrep_s": round(push_total - push_ls, 1),
            "pull_export_s": [round(x, 1) for x in exports],
            "pull_sitrep_s": [round(x, 1) for x in overheads],
            "pull_export_median_s": round(export_med, 1),
            "pull_sitrep_median_s": round(overhead_med, 1),
            "pull_overhead_ratio_median": round(statistics.median(ratios), 3),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }
        print(json.dumps(figures, indent=2))
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        return 0
    finally:
        server.stop(data_dir)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
