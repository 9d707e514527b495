"""Validating files, paired with a baseline checkout: what reading files safely costs.

    python benchmarks/bench_validate_files.py --baseline /path/to/other/checkout \\
        [--files 2000] [--rounds 3]

`bench_validate.py` times the per-document layer on parsed documents; this one times the
path a CI job runs, from files on disk: `load_dataset` (what `sitrep validate` runs: find,
examine, read, parse, JSON Schema, tables) and `validate_paths` (the per-document layer
alone, with the duplicate-key check), over copies of the seed gold annotation with
distinct ids. Each round times this checkout and the baseline (each with its own
`.venv/bin/python`, in a fresh process) one after the other, so machine load spreads
over both; the table gives medians over rounds and the ratio new / baseline.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "datasets" / "annotations" / "seed-8128c0eee969d3a6.json"
TIMER = """
import sys, time
from pathlib import Path
from sitrep.validate.dataset import load_dataset
from sitrep.schema.validation import validate_paths
folder = Path(sys.argv[1])
began = time.perf_counter(); report = load_dataset([folder], workers=1).report
middle = time.perf_counter(); lib = validate_paths([folder])
end = time.perf_counter()
assert report.valid and lib.valid, (report.issues[:3], lib.issues[:3])
print(middle - began, end - middle)
"""


def write_files(folder: Path, count: int) -> None:
    doc = json.loads(SEED.read_text(encoding="utf-8"))
    for number in range(count):
        doc["document"]["id"] = f"seed-copy-{number:06d}"
        (folder / f"doc-{number:06d}.json").write_text(json.dumps(doc), encoding="utf-8")


def time_once(checkout: Path, folder: Path) -> tuple[float, float]:
    python = checkout / ".venv" / "bin" / "python"
    done = subprocess.run(
        [str(python), "-c", TIMER, str(folder)], capture_output=True, text=True, check=True
    )
    load, paths = done.stdout.split()
    return float(load), float(paths)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", 1)[0])
    parser.add_argument("--baseline", type=Path, required=True, help="the other checkout")
    parser.add_argument("--files", type=int, default=2_000, help="annotation files")
    parser.add_argument("--rounds", type=int, default=3, help="paired rounds")
    args = parser.parse_args(argv)
    runs: dict[str, list[tuple[float, float]]] = {"baseline": [], "this": []}
    with tempfile.TemporaryDirectory() as tmp:
        write_files(Path(tmp), args.files)
        for _ in range(args.rounds):
            runs["baseline"].append(time_once(args.baseline, Path(tmp)))
            runs["this"].append(time_once(ROOT, Path(tmp)))
    print(f"{args.files:,} files (seed gold copies, {SEED.stat().st_size:,} bytes each), "
          f"{args.rounds} paired rounds, medians")  # fmt: skip
    print("| measure | baseline s | this checkout s | this / baseline |")
    print("|---|---:|---:|---:|")
    for index, name in enumerate(("load_dataset (sitrep validate)", "validate_paths")):
        base = statistics.median(r[index] for r in runs["baseline"])
        this = statistics.median(r[index] for r in runs["this"])
        print(f"| {name} | {base:.2f} | {this:.2f} | {this / base:.3f} |")
    print("runs:", json.dumps(runs), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
