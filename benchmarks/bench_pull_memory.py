"""Peak memory of a pull as the project grows: sitrep's streamed reading of an export
next to parsing the whole export first (what pulls did before issue 14).

    python benchmarks/bench_pull_memory.py --tasks 2000 10000 50000 --whole-up-to 10000

For each size, one Label Studio export file is written in the native JSON format, with
one annotation per task made from a synthetic document (`sitrep.testing.synthetic`;
small documents keep the files within a few GB at 50,000 tasks). Then, each in a fresh
process so that its peak resident memory is its own:

- `streamed`: sitrep's `process_export` (tasks read one at a time with ijson, converted
  in a bounded window of worker batches, validated and written) into a temporary folder;
- `whole`: the old pull's first step alone, `orjson.loads` of the whole file (the old
  pull then converted from that list, so its peak was at least this).

No Label Studio is needed: the export is what Label Studio would have sent. Peak memory
is `ru_maxrss` of the child (and its workers). Results print as a table and JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_export(path: Path, tasks: int, seed: int = 11) -> int:
    """An export of `tasks` tasks, one annotation each; returns its size in bytes."""
    import orjson

    from sitrep.annotate.labelstudio import convert
    from sitrep.testing.synthetic import generate_document

    template = [
        generate_document(seed, n, actors=3, locations=2, events=3, figures=4) for n in range(50)
    ]
    with open(path, "wb") as out:
        out.write(b"[")
        for n in range(tasks):
            doc = template[n % len(template)]
            task = {
                "id": n + 1,
                "data": convert.task_data(doc["document"]),
                "annotations": [
                    {
                        "id": n + 1,
                        "completed_by": {"id": 1, "email": "bench@example.org"},
                        "result": convert.to_results(doc),
                        "was_cancelled": False,
                        "ground_truth": False,
                        "created_at": "2026-12-02T00:00:00Z",
                        "updated_at": "2026-12-02T00:00:00Z",
                        "lead_time": 1.0,
                    }
                ],
                "predictions": [],
            }
            if n:
                out.write(b",")
            out.write(orjson.dumps(task))
        out.write(b"]")
    return path.stat().st_size


CHILD = {
    "streamed": """
import sys, time
from pathlib import Path
from sitrep.annotate.labelstudio import labelconfig
from sitrep.annotate.labelstudio.project import Project
from sitrep.annotate.labelstudio.pull import PullReport, process_export
config = labelconfig.render().strip()
project = Project(1, "bench", config, labelconfig.description(labelconfig.layout(), config))
out = Path(sys.argv[2])
report = PullReport()
began = time.perf_counter()
process_export(Path(sys.argv[1]), project, out / "project", out / "released", report)
assert report.converted == report.tasks and not report.problems, report.problems[:3]
print(report.tasks, time.perf_counter() - began)
""",
    "whole": """
import sys, time, gc
from pathlib import Path
import orjson
gc.disable()
began = time.perf_counter()
tasks = orjson.loads(Path(sys.argv[1]).read_bytes())
print(len(tasks), time.perf_counter() - began)
""",
}


def measure(kind: str, export: Path, work: Path) -> dict[str, float]:
    code = CHILD[kind]
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, str(export), str(work)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{done.stderr[-2000:]}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    tasks, seconds = done.stdout.split()
    return {
        "tasks": int(tasks),
        "seconds": round(float(seconds), 1),
        "wall": round(wall, 1),
        "peak_kib": peak_kib,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, nargs="+", default=[10000, 50000])
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    parser.add_argument(
        "--whole-up-to",
        type=int,
        default=10000,
        help="Measure the whole-file parse only up to this many tasks (it grows with the "
        "export: about 10 GB at 50,000 tasks of this size).",
    )
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="sitrep-bench-pull-") as tmp:
        for size in args.tasks:
            export = Path(tmp) / f"export-{size}.json"
            size_bytes = write_export(export, size)
            kinds = ("streamed", "whole") if size <= args.whole_up_to else ("streamed",)
            for kind in kinds:
                work = Path(tmp) / f"{kind}-{size}"
                # ru_maxrss of RUSAGE_CHILDREN is the largest child so far: measure each
                # kind in its own grandchild so the numbers never mix
                result = _isolated(kind, export, work)
                rows.append({"tasks": size, "export_bytes": size_bytes, "kind": kind, **result})
                print(json.dumps(rows[-1]), flush=True)
            export.unlink()
    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print("| tasks | export | kind | peak RSS | seconds |")
    print("|---:|---:|---|---:|---:|")
    for r in rows:
        print(
            f"| {r['tasks']:,} | {r['export_bytes'] / 1e6:,.0f} MB | {r['kind']} | "
            f"{r['peak_kib'] / 1024:,.0f} MiB | {r['seconds']} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


def _isolated(kind: str, export: Path, work: Path) -> dict[str, float]:
    code = (
        "import json, sys\n"
        "sys.path.insert(0, sys.argv[4])\n"
        "from bench_pull_memory import measure\n"
        "from pathlib import Path\n"
        "print(json.dumps(measure(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, kind, str(export), str(work), str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
