"""The main job: everything a fresh checkout can do on the embedded defaults.

Check the source documents, validate the dataset (both layers), build a release of it
into a throw-away folder (never touching a published version), serve that folder on
127.0.0.1 and download the release from it exactly as a user would, verifying every
file before it lands in a throw-away cache. Then start the embedded Label Studio (or
reuse the running one), push the seed documents with the gold annotations as ground
truth and the pre-annotator's proposals as predictions, pull them back into a throw-away
folder to show the round trip is lossless, and leave the server running for annotators.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from sitrep import paths
from sitrep.annotate.labelstudio import project as annotate_project
from sitrep.annotate.labelstudio import pull as annotate_pull
from sitrep.annotate.labelstudio import server as annotate_server
from sitrep.annotate.labelstudio.client import Client
from sitrep.annotate.review.agreement import release_summary
from sitrep.errors import ReleaseError
from sitrep.schema.documents import scan_sources
from sitrep.schema.report import Report
from sitrep.validate.dataset import load_dataset
from sitrep.validate.fetch import fetch_release, make_server
from sitrep.validate.release import INDEX, Release, build_release, published_versions
from sitrep.validate.verify import trusted_hash, verify_release


@dataclass
class AnnotationResult:
    """The embedded Label Studio the main job left running, and what it holds."""

    url: str
    project_url: str
    email: str
    credentials_file: Path
    already_running: bool
    tasks_created: int
    tasks_existing: int
    ground_truth_added: int
    predictions_added: int = 0
    round_trip: int = 0  # ground-truth documents pulled back identical to datasets/annotations
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


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
    annotation: AnnotationResult | None = None
    annotation_wanted: bool = False

    @property
    def ok(self) -> bool:
        return (
            self.report.valid
            and (self.release is not None or self.unchanged_since is not None)
            and self.verified_files > 0
            and (not self.annotation_wanted or (self.annotation is not None and self.annotation.ok))
        )


def _demo_release(root: Path, work: Path, result: JobResult) -> tuple[Path, str]:
    """Build the next release into `work/releases` (a copy of the published ones), or,
    when nothing changed, return the latest published release to check instead."""
    demo = work / "releases"
    published = paths.releases_dir(root)
    if published.is_dir():
        shutil.copytree(published, demo)
    try:
        result.release = build_release(
            None,
            [paths.annotations_dir(root)],
            demo,
            agreement=release_summary(paths.annotations_dir(root).parent / "label-studio"),
            held_out=paths.held_out_file(root),
        )
        return demo, result.release.version
    except ReleaseError as exc:
        latest = published_versions(demo)
        if not latest or "nothing changed" not in str(exc):
            raise
        result.unchanged_since = latest[-1]
        return demo, latest[-1]


def _throwaway_root(root: Path, tmp: Path) -> Path:
    """A dataset folder for the pull to write into, holding the registry and the clusters
    file of `root` (when it has them): the pulled ground truth links to them as the
    released files do, and a dataset whose records link entities or clusters without
    those files is `registry.missing` / `clusters.missing`."""
    for source, target in (
        (paths.registry_file(root), paths.registry_file(tmp)),
        (paths.clusters_file(root), paths.clusters_file(tmp)),  # what events and figures name
    ):
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    return tmp


def annotation_step(
    root: Path,
    data_dir: Path | None = None,
    progress: annotate_server.Progress | None = None,
) -> AnnotationResult:
    """Serve the embedded Label Studio, push the seeds with the gold as ground truth, and
    pull it back into a throw-away folder, comparing it with `datasets/annotations`."""
    folder = data_dir or annotate_server.default_data_dir(root)
    started = annotate_server.serve(folder, progress=progress)
    conn = annotate_server.Connection(started.state.url, started.credentials.token, str(folder))
    client = Client(conn)
    pushed = annotate_project.push(
        client,
        sources=[paths.seeds_dir(root)],
        annotations=[paths.annotations_dir(root)],
        ground_truth=True,
        propose=True,
    )
    assert pushed.project is not None
    result = AnnotationResult(
        url=started.state.url,
        project_url=pushed.project_url,
        email=started.credentials.email,
        credentials_file=folder / annotate_server.CREDENTIALS,
        already_running=started.already_running,
        tasks_created=pushed.tasks_created,
        tasks_existing=pushed.tasks_existing,
        ground_truth_added=pushed.annotations_added,
        predictions_added=pushed.predictions_added,
        problems=[str(p) for p in pushed.problems],
    )
    with tempfile.TemporaryDirectory(prefix="sitrep-pull-") as tmp:
        pulled = annotate_pull.pull(client, root=_throwaway_root(root, Path(tmp)))
        result.problems += [str(p) for p in pulled.problems]
        for path in pulled.released:
            mine = paths.annotations_dir(root) / path.name
            doc = annotate_pull._read(path)
            ours = annotate_pull._read(mine) if mine.exists() else None
            if doc is not None and ours is not None and annotate_project.same_content(doc, ours):
                result.round_trip += 1
            else:
                result.problems.append(
                    f"{mine}: the ground truth pulled from Label Studio differs from this file"
                )
    return result


def run_main_job(
    root: Path | None = None,
    *,
    label_studio: bool = False,
    data_dir: Path | None = None,
    progress: annotate_server.Progress | None = None,
) -> JobResult:
    """Seeds, validation, a demo release and its download over loopback HTTP; with
    `label_studio`, the embedded Label Studio loaded with the seed project."""
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
    if label_studio:
        result.annotation_wanted = True
        result.annotation = annotation_step(root, data_dir, progress)
    return result
