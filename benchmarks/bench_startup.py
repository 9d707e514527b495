"""Start-up: how long a whole `sitrep` process takes for the quick commands, next to
`check-jsonschema` on the same file with the same schema.

    python benchmarks/bench_startup.py [--runs 5] [--file datasets/annotations/seed-....json]

Every measure is one whole process, started the way a user, a CI job or a pre-commit hook
starts it (the console scripts in the virtual environment), with its output thrown away
and its exit status checked. The runs are paired: each round runs every command once,
in the same order, so a change in the machine's load hits them all alike; the table shows
the median over the rounds and, per round, the ratio to `check-jsonschema` (the median
of those ratios). A second table times the two paths of `sitrep validate` on many
documents (the per-document path and the tables), to show where the bulk path pays off.
Results go to stdout as markdown and to benchmarks/out/bench_startup.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from sitrep import paths

ROOT = paths.project_root()
BIN = Path(sys.executable).parent
OUT = Path(__file__).resolve().parent / "out" / "bench_startup.json"
SEED = ROOT / "datasets" / "annotations" / "seed-8128c0eee969d3a6.json"
TARGETS = {"help": 0.3, "version": 0.3, "validate": 0.6}  # seconds, median wall time
PEER = "check-jsonschema"


def commands(file: Path, baseline: Path | None = None) -> dict[str, list[str]]:
    """The commands timed, by name; the peer checks the same file with the same schema.
    With `baseline` (the bin folder of another sitrep install, such as the commit before
    this change), its three commands run in the same rounds."""
    named = {
        "help": [str(BIN / "sitrep"), "--help"],
        "version": [str(BIN / "sitrep"), "--version"],
        "validate": [str(BIN / "sitrep"), "validate", str(file)],
        PEER: [str(BIN / PEER), "--schemafile", str(paths.schema_file()), str(file)],
    }
    if baseline is not None:
        old = str(baseline / "sitrep")
        named["help (baseline)"] = [old, "--help"]
        named["version (baseline)"] = [old, "--version"]
        named["validate (baseline)"] = [old, "validate", str(file)]
    return named


def run_once(argv: list[str]) -> float:
    """Wall time of one whole process; it must succeed."""
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return seconds


def paired(named: dict[str, list[str]], runs: int) -> dict[str, list[float]]:
    """`runs` rounds; each runs every command once, in order (one warm-up round first)."""
    for argv in named.values():
        run_once(argv)
    times: dict[str, list[float]] = {name: [] for name in named}
    for _ in range(runs):
        for name, argv in named.items():
            times[name].append(run_once(argv))
    return times


def bulk_commands(folder: Path) -> dict[str, list[str]]:
    """`sitrep validate`'s two paths on the same folder, each as a whole process."""
    code = (
        "import sys; from pathlib import Path; from sitrep.validate.small import check_paths; "
        "r = check_paths([Path(sys.argv[1])], small=int(sys.argv[2])); "
        "sys.exit(0 if r.valid and r.files_checked else 1)"
    )
    return {
        "per-document path": [sys.executable, "-c", code, str(folder), "1000000"],
        "tables path": [sys.executable, "-c", code, str(folder), "0"],
    }


def write_documents(folder: Path, count: int) -> None:
    from sitrep.testing.synthetic import generate_document

    for i in range(count):
        doc = generate_document(0, i)
        (folder / f"doc-{i:05d}.json").write_text(json.dumps(doc), encoding="utf-8")


def ratios(times: dict[str, list[float]], base: str) -> dict[str, float]:
    """Per command, the median over rounds of (this run / the base's run of that round)."""
    return {
        name: statistics.median(a / b for a, b in zip(series, times[base], strict=True))
        for name, series in times.items()
    }


def table(times: dict[str, list[float]], base: str, labels: dict[str, str]) -> list[str]:
    rel = ratios(times, base)
    lines = [
        f"| command | median s (min-max) | / {base} (median of paired ratios) | target |",
        "|---|---:|---:|---:|",
    ]
    for name, series in times.items():
        target = TARGETS.get(name)
        verdict = (
            f"{target:.1f} s: {'met' if statistics.median(series) <= target else 'missed'}"
            if target
            else ""
        )
        lines.append(
            f"| `{labels[name]}` | {statistics.median(series):.3f} "
            f"({min(series):.3f}-{max(series):.3f}) | {rel[name]:.2f} | {verdict} |"
        )
    return lines


def machine() -> dict[str, object]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "versions": {
            p: metadata.version(p) for p in ("sitrep", "typer", PEER, "jsonschema-rs", "polars")
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="paired rounds (default 5)")
    parser.add_argument("--file", type=Path, default=SEED, help="the document validated")
    parser.add_argument(
        "--documents", type=int, default=1000, help="documents for the two-path table"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="bin folder of another sitrep install to time alongside (e.g. the previous commit)",
    )
    args = parser.parse_args()
    before = machine()
    named = commands(args.file, args.baseline)
    labels = {
        name: " ".join(Path(argv[0]).name if i == 0 else a for i, a in enumerate(argv))
        for name, argv in named.items()
    }
    labels = {n: label.replace(str(ROOT) + "/", "") for n, label in labels.items()}
    labels.update({n: f"{labels[n]} (baseline)" for n in named if n.endswith("(baseline)")})
    quick = paired(named, args.runs)
    with tempfile.TemporaryDirectory(prefix="sitrep-bench-startup-") as tmp:
        write_documents(Path(tmp), args.documents)
        bulk_named = bulk_commands(Path(tmp))
        bulk = paired(bulk_named, args.runs)
    bulk_labels = {
        n: f"{n}, {args.documents:,} synthetic documents (one whole process)" for n in bulk
    }
    print(f"machine: {before}")
    print("\n".join(table(quick, PEER, labels)))
    print()
    print("\n".join(table(bulk, "tables path", bulk_labels)))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {
                "machine": before,
                "load_average_after": os.getloadavg(),
                "runs": args.runs,
                "file": str(args.file),
                "quick": quick,
                "quick_ratios": ratios(quick, PEER),
                "documents": args.documents,
                "bulk": bulk,
                "bulk_ratios": ratios(bulk, "tables path"),
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"\nwrote {OUT}")


if __name__ == "__main__":
    main()
