"""The main job: everything a fresh checkout can do on the embedded defaults.

Check the source documents, validate the dataset (both layers), build a release of it
into a throw-away folder (never touching a published version), serve that folder on
127.0.0.1 and download the release from it exactly as a user would, verifying every
file before it lands in a throw-away cache.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from sitrep import paths
from sitrep.errors import ReleaseError
from sitrep.schema.documents import scan_sources
from sitrep.schema.report import Report
from sitrep.validate.dataset import load_dataset
from sitrep.validate.fetch import fetch_release, make_server
from sitrep.validate.release import INDEX, Release, build_release, published_versions
from sitrep.validate.verify import trusted_hash, verify_release


@dataclass
class JobResult:
    """What the main job found and did."""

    sources: int
    report: Report
    release: Release | None = None
    unchanged_since: str | None = None
    fetched: Path | None = None
    verified_files: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.report.valid
            and (self.release is not None or self.unchanged_since is not None)
            and self.verified_files > 0
        )


def _demo_release(root: Path, work: Path, result: JobResult) -> tuple[Path, str]:
    """Build the next release into `work/releases` (a copy of the published ones), or,
    when nothing changed, return the latest published release to check instead."""
    demo = work / "releases"
    published = paths.releases_dir(root)
    if published.is_dir():
        shutil.copytree(published, demo)
    try:
        result.release = build_release(None, [paths.annotations_dir(root)], demo)
        return demo, result.release.version
    except ReleaseError as exc:
        latest = published_versions(demo)
        if not latest or "nothing changed" not in str(exc):
            raise
        result.unchanged_since = latest[-1]
        return demo, latest[-1]


def run_main_job(root: Path | None = None) -> JobResult:
    """Seeds, validation, a demo release, and its download over loopback HTTP."""
    root = root or paths.project_root()
    docs, sources = scan_sources(paths.seeds_dir(root))
    dataset = load_dataset([paths.annotations_dir(root)], keep_tables=False)
    report = dataset.report
    report.extend(sources.issues)
    result = JobResult(len(docs), report)
    if not report.valid:
        return result
    with tempfile.TemporaryDirectory(prefix="sitrep-run-") as tmp:
        work = Path(tmp)
        releases, version = _demo_release(root, work, result)
        server = make_server(releases, "127.0.0.1", 0, quiet=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}"
            trusted = trusted_hash(releases / INDEX, version)
            folder = fetch_release(
                version, url, work / "cache", manifest_sha256=trusted, progress=False
            )
            check = verify_release(folder, manifest_sha256=trusted)
            result.verified_files = len(check.files) if check.ok else 0
            result.notes += check.problems
            result.fetched = folder
        finally:
            server.shutdown()
            server.server_close()
    return result
