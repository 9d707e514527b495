"""The `sitrep` command line. Each command calls one library function and renders its
result; the logic lives in the library."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sitrep import paths
from sitrep.annotate_cli import annotate_app
from sitrep.claims_cli import claims_command
from sitrep.errors import SitrepError
from sitrep.link_cli import link_command
from sitrep.team_cli import team_app  # noqa: F401 (adds team, backup and restore to annotate)

# Start-up is part of the interface: this module imports only what `sitrep --help` needs.
# Each command imports the library it calls (Polars, Pandera, the HTTP and Label Studio
# modules), so `sitrep --help` never pays for them; tests/test_startup.py keeps it so.
if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from sitrep.pipeline import AnnotationResult, JobResult
    from sitrep.schema.report import Issue, Report
    from sitrep.validate.release import ValidationFailed

app = typer.Typer(
    help="sitrep: events, actors and figures reported in the news, as a versioned, validated dataset.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
schema_app = typer.Typer(
    help="The JSON Schema and the codebook generated from it.", no_args_is_help=True
)
seeds_app = typer.Typer(help="The source documents in seeds/.", no_args_is_help=True)
release_app = typer.Typer(
    help="Build, verify, serve and download versioned Parquet releases.", no_args_is_help=True
)
app.add_typer(schema_app, name="schema")
app.add_typer(seeds_app, name="seeds")
app.add_typer(release_app, name="release")
app.add_typer(annotate_app, name="annotate")
app.command("claims")(claims_command)
app.command("link")(link_command)


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


class Format(StrEnum):
    text = "text"
    json = "json"
    github = "github"
    jsonl = "jsonl"


def _shown(path: Path) -> Path:
    """`path` relative to the current folder when it lies below it (for CI annotations)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def _emit(report: Report, fmt: Format, *, streamed: bool = False) -> None:
    """Print `report` as `fmt`; after streamed issues, only the summary line."""
    from sitrep.schema.report import RENDERERS, summary_line

    text = summary_line(report) if streamed else RENDERERS[fmt.value](report)
    if text:
        typer.echo(text)


def _streamed() -> Callable[[list[Issue]], None]:
    """Print issues as JSON Lines as soon as they are found."""
    from sitrep.schema.report import issue_line

    def show(issues: list[Issue]) -> None:
        typer.echo("\n".join(map(issue_line, issues)))

    return show


@app.callback(invoke_without_command=True)
def main_callback(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    """sitrep: events, actors and figures reported in the news."""
    if version:
        typer.echo(_version_line())
        raise typer.Exit()


def _version_line() -> str:
    from sitrep import __version__
    from sitrep.schema import spec

    return f"sitrep {__version__} (schema {spec.schema_version()})"


@app.command()
def validate(
    targets: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Annotation files or folders (default: datasets/annotations).",
            show_default=False,
            readable=False,  # an unreadable file is reported as an issue, not a usage error
        ),
    ] = None,
    fmt: Annotated[
        Format,
        typer.Option(
            "--format",
            "-f",
            help="Output: text, json, github (Actions annotations) or jsonl (one issue a "
            "line as found, then a summary line).",
        ),
    ] = Format.text,
    registry: Annotated[
        Path | None,
        typer.Option(
            "--registry",
            help="The registry of actors and places the records' entity links are checked "
            "against (default: datasets/entities/registry.json of the dataset that holds "
            "the files, else of the project).",
            dir_okay=False,
        ),
    ] = None,
    clusters: Annotated[
        Path | None,
        typer.Option(
            "--clusters",
            help="The event clusters and quantities the events' cluster and figures' "
            "quantity are checked against (default: datasets/entities/clusters.json of the "
            "dataset that holds the files, else of the project).",
            dir_okay=False,
        ),
    ] = None,
    complete: Annotated[
        bool,
        typer.Option(
            "--complete",
            help="The files given are the whole dataset the clusters file describes: an "
            "event cluster listing a document none of them is, or one whose events do not "
            "carry it, is a problem (cluster.documents).",
        ),
    ] = False,
) -> None:
    """Check annotation documents: each against the JSON Schema and the rules it cannot
    express. Up to 1,000 documents are checked one at a time (no Polars to load); more
    go into tables (Pandera models, vectorised rules): every rule runs on both paths and
    the report is the same. --format jsonl streams the issues as they are found.

    Every problem is reported with file (and line, for *.jsonl), JSON pointer, rule code,
    expected and found; a file or folder that cannot be read, a FIFO, socket or device,
    a document over 16 MiB and a repeated key are problems too, and everything else is
    still checked. Exit status: 0 when everything is valid, 1 when anything is not, 2 for
    a usage error. Never writes.

    Records' entity links are checked against the registry (entity.unknown, entity.kind,
    entity.type), and the registry file itself too (registry.* codes); a document that
    links records when no registry is found gets registry.missing. An event cluster of
    the clusters file must list every document checked whose events carry it
    (cluster.documents); with --complete, it must also list no other document.

    Example: sitrep validate datasets/annotations --format github
    """
    from sitrep.validate.small import check_paths

    chosen = targets or [_shown(paths.annotations_dir())]
    streamed = _streamed() if fmt is Format.jsonl else None
    report = check_paths(
        chosen, on_issues=streamed, registry=registry, clusters=clusters, complete=complete
    )
    _emit(report, fmt, streamed=fmt is Format.jsonl)
    raise typer.Exit(report.exit_code)


def _summary(result: JobResult) -> Table:
    from rich.table import Table

    table = Table(title="sitrep main job", title_justify="left")
    table.add_column("what")
    table.add_column("result", justify="right")
    table.add_row("source documents (seeds/)", f"{result.sources:,}")
    for key in ("documents", "actors", "locations", "events", "figures", "spans"):
        label = "annotated documents" if key == "documents" else key
        table.add_row(label, f"{result.report.counts.get(key, 0):,}")
    table.add_row(
        "validation (schema + tables)",
        "OK" if result.report.valid else f"{len(result.report.issues)} problem(s)",
    )
    if result.release is not None:
        table.add_row(
            "demo release built",
            f"{result.release.version} (after {result.release.previous or 'none'})",
        )
    elif result.unchanged_since:
        table.add_row("demo release built", f"none: unchanged since {result.unchanged_since}")
    if result.fetched is not None:
        table.add_row(
            "downloaded over http://127.0.0.1", f"{result.verified_files} file(s) verified"
        )
    return table


@app.command()
def run(
    label_studio: Annotated[
        bool,
        typer.Option(
            "--label-studio/--no-label-studio",
            help="Also start the embedded Label Studio with the seed project loaded.",
        ),
    ] = True,
) -> None:
    """The main job: check the seeds, validate the dataset (both layers), build a release
    into a throw-away folder, serve it on 127.0.0.1 and download and verify it as a user
    would. Published releases are never touched. Then start the embedded Label Studio
    (SQLite, 127.0.0.1; `make setup-ls` installs it), push the seed documents with the gold
    annotations as ground truth, pull them back to check the round trip, and leave it
    running for annotators (`sitrep annotate stop` stops it).

    Exit status 1 when anything is invalid, the download does not verify, or the round
    trip through Label Studio is not lossless.

    Example: sitrep run
    """
    from sitrep.annotate_cli import _Ticker
    from sitrep.pipeline import run_main_job

    ticker = _Ticker() if label_studio else None
    if ticker is not None and ticker.status is not None:
        ticker.status.start()
    try:
        result = run_main_job(label_studio=label_studio, progress=ticker)
    finally:
        if ticker is not None and ticker.status is not None:
            ticker.status.stop()
    _console().print(_summary(result))
    if not result.report.valid:
        from sitrep.schema.report import render_text

        typer.echo(render_text(result.report))
    for note in result.notes:
        typer.echo(f"release check: {note}")
    if result.annotation is not None:
        _print_annotation(result.annotation)
    typer.echo("OK: the dataset is valid and its release verifies" if result.ok else "FAILED")
    raise typer.Exit(0 if result.ok else 1)


def _print_annotation(result: AnnotationResult) -> None:
    how = "already running" if result.already_running else "started"
    typer.echo(f"Label Studio {how} at {result.url} (it keeps running)")
    typer.echo(f"  seed project:  {result.project_url}")
    typer.echo(
        f"  tasks: {result.tasks_created} new, {result.tasks_existing} already there; "
        f"ground truth imported: {result.ground_truth_added}; "
        f"predictions: {result.predictions_added}; "
        f"pulled back identical: {result.round_trip}"
    )
    typer.echo(f"  log in as:     {result.email}")
    typer.echo(f'  password:      in {_shown(result.credentials_file)} ("password")')
    typer.echo("  stop it with:  sitrep annotate stop")
    for problem in result.problems:
        typer.echo(f"  problem: {problem}")


@schema_app.command("codebook")
def schema_codebook(
    output: Annotated[
        Path | None, typer.Option(help="Where to write (default: schema/CODEBOOK.md).")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if the file is out of date.")
    ] = False,
) -> None:
    """Write the codebook generated from the JSON Schema.

    Example: sitrep schema codebook --check
    """
    from sitrep.codebook import codebook
    from sitrep.fileio import write_atomic

    target = output or paths.codebook_file()
    text = codebook()
    current = target.read_text(encoding="utf-8") if target.exists() else None
    if check:
        if current != text:
            _console(stderr=True).print(
                f"{target} is out of date: run `sitrep schema codebook` and commit it"
            )
            raise typer.Exit(1)
        typer.echo(f"{target} is up to date")
        return
    if current != text:
        write_atomic(target, text)
    typer.echo(f"wrote {target}" if current != text else f"{target} already up to date")


@schema_app.command("version")
def schema_version() -> None:
    """Print the version of the JSON Schema.

    Example: sitrep schema version
    """
    from sitrep.schema import spec

    typer.echo(spec.schema_version())


@seeds_app.command("check")
def seeds_check(
    folder: Annotated[
        Path | None,
        typer.Argument(
            help="Folder of source documents (default: seeds/).",
            show_default=False,
            readable=False,  # reported as an issue, not a usage error
        ),
    ] = None,
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="Output: text, json or github.")
    ] = Format.text,
) -> None:
    """Load every source document and report encoding, metadata and duplicate-id problems
    (and folders or files that cannot be read, special files, over-long or over-deep JSON).

    Example: sitrep seeds check seeds
    """
    from sitrep.schema.documents import scan_sources

    _, report = scan_sources(folder or _shown(paths.seeds_dir()))
    _emit(report, fmt)
    raise typer.Exit(report.exit_code)


def main() -> None:
    """Console entry point: library errors become a one-line message and exit 2."""
    if sys.argv[1:] == ["--version"]:  # before typer parses options, which imports pydantic
        print(_version_line())
        return
    try:
        app()
    except SitrepError as exc:
        _console(stderr=True).print(f"error: {exc}")
        sys.exit(2)


# --- releases --------------------------------------------------------------------------


def _release_failed(exc: ValidationFailed, fmt: Format = Format.text) -> None:
    _emit(exc.report, fmt)
    _console(stderr=True).print(f"error: {exc}")
    raise typer.Exit(1)


@release_app.command("build")
def release_build(
    version: Annotated[
        str | None,
        typer.Option(
            "--version",
            "-v",
            help="The new version, MAJOR.MINOR.PATCH; refused unless it is the bump the changes call for.",
            show_default=False,
        ),
    ] = None,
    next_: Annotated[
        bool, typer.Option("--next", help="Build whatever version the changes call for.")
    ] = False,
    sources: Annotated[
        list[Path] | None,
        typer.Option(
            "--from",
            help="Annotation files or folders (default: datasets/annotations).",
            show_default=False,
            readable=False,  # an unreadable file is an issue of the report, not a usage error
        ),
    ] = None,
    releases: Annotated[
        Path | None,
        typer.Option(help="Releases folder (default: datasets/releases).", show_default=False),
    ] = None,
    changelog: Annotated[bool, typer.Option(help="Add the release notes to CHANGELOG.md.")] = True,
    held_out: Annotated[
        Path | None,
        typer.Option(
            help="The held-out documents, always in the test split (default: datasets/splits.json; a JSON list of ids also works).",
            show_default=False,
        ),
    ] = None,
    registry: Annotated[
        Path | None,
        typer.Option(
            "--registry",
            help="The registry of actors and places, written as the entities table "
            "(default: datasets/entities/registry.json of the dataset).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    clusters: Annotated[
        Path | None,
        typer.Option(
            "--clusters",
            help="The event clusters and quantities the claims ledger (claims, "
            "claim_summaries, charts/) is built with (default: "
            "datasets/entities/clusters.json of the dataset).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
) -> None:
    """Validate the dataset and write an immutable release: Parquet tables, datapackage.json,
    SHA256SUMS, a dataset card and the diff against the previous release.

    The version must be the bump the changes call for: a table schema change is major, new
    records minor, corrections and removals a patch (--next picks it). A version that exists
    or is listed in index.json is never rebuilt; a failed build leaves nothing behind.
    Documents in datasets/splits.json go to the test split; texts whose licence is
    unknown are not shipped. Into datasets/releases, the build also records its hash in
    the index the package ships, its notes in CHANGELOG.md and its version in CITATION.cff.

    Example: sitrep release build --version 1.1.0
    """
    from sitrep.validate.release import (
        ValidationFailed,
        build_release,
        record_in_changelog,
        record_in_citation,
    )

    if (version is None) == (not next_):
        _console(stderr=True).print("error: give either --version MAJOR.MINOR.PATCH or --next")
        raise typer.Exit(2)
    from sitrep.annotate.review.agreement import release_summary

    root = paths.project_root()
    target = releases or paths.releases_dir(root)
    shipped = root / "validate" / "releases.json"
    try:
        release = build_release(
            version,
            sources or [paths.annotations_dir(root)],
            target,
            agreement=release_summary(target.parent / "label-studio"),
            # sitrep's own repository: keep the index its package ships in step (a dataset
            # checkout without sitrep's source has no such file, and the installed package
            # is never written to)
            anchor_index=shipped if releases is None and shipped.is_file() else None,
            held_out=held_out or paths.held_out_file(root),
            registry=registry,
            clusters=clusters,
        )
    except ValidationFailed as exc:
        _release_failed(exc)
    if changelog and releases is None:
        record_in_changelog(root / "CHANGELOG.md", release)
        record_in_citation(root / "CITATION.cff", release)
    _console().print(_release_table(release.path))
    typer.echo(f"wrote {release.path} (previous: {release.previous or 'none'})")


def _release_table(folder: Path) -> Table:
    from rich.table import Table

    from sitrep.validate.release import MANIFEST
    from sitrep.validate.verify import resource_bytes

    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    table = Table(title=f"sitrep {manifest['version']}", title_justify="left")
    for column in ("table", "rows", "bytes", "added", "removed", "modified"):
        table.add_column(column, justify="left" if column == "table" else "right")
    changes = manifest.get("sitrep:changes", {})
    for res in manifest["resources"]:
        c = changes.get(res["name"], {})
        table.add_row(
            res["name"],
            f"{res['sitrep:rows']:,}",
            f"{resource_bytes(res):,}",
            *(f"{c.get(k, 0):,}" if c else "" for k in ("added", "removed", "modified")),
        )
    return table


@release_app.command("verify")
def release_verify(
    folder: Annotated[
        Path, typer.Argument(help="A release folder (named after its version).", show_default=False)
    ],
    sha256: Annotated[
        str | None,
        typer.Option(
            help="Trusted sha256 of its datapackage.json (default: the hash the installed sitrep's index records; for a version it does not know, the releases/index.json beside the folder).",
            show_default=False,
        ),
    ] = None,
    insecure: Annotated[
        bool,
        typer.Option(
            "--insecure",
            help="Accept a release no trusted hash is known for (its files are still checked against its own manifest).",
        ),
    ] = False,
) -> None:
    """Check a release folder as a downloader would: every file against SHA256SUMS and the
    manifest, no file missing or extra, the manifest against its trusted hash.

    Example: sitrep release verify datasets/releases/1.0.0
    """
    from sitrep.validate.release import INDEX
    from sitrep.validate.verify import anchor, trusted_hash, verify_release

    beside = trusted_hash(folder.parent / INDEX, folder.name)
    trusted = anchor(folder.name, sha256, insecure=insecure, fallback=beside)
    result = verify_release(folder, manifest_sha256=trusted)
    for problem in result.problems:
        typer.echo(f"{folder}: {problem}")
    if not result.ok:
        typer.echo(f"FAILED: {len(result.problems)} problem(s); do not use this release")
        raise typer.Exit(1)
    how = "against the trusted manifest hash" if trusted else "(--insecure: manifest unchecked)"
    typer.echo(f"OK: {folder} verified, {len(result.files)} file(s) {how}")


@release_app.command("fetch")
def release_fetch(
    version: Annotated[
        str, typer.Argument(help="The version to download, MAJOR.MINOR.PATCH.", show_default=False)
    ],
    source: Annotated[
        str,
        typer.Option(
            "--from",
            help="Base URL holding <version>/ folders (https://, http:// or file://).",
            show_default=False,
        ),
    ],
    cache: Annotated[
        Path | None,
        typer.Option(
            help="Cache folder (default: $SITREP_CACHE or ~/.cache/sitrep/releases).",
            show_default=False,
        ),
    ] = None,
    sha256: Annotated[
        str | None,
        typer.Option(
            help="Trusted sha256 of the release's datapackage.json, for a version the installed sitrep does not know yet (default: the hash its index records).",
            show_default=False,
        ),
    ] = None,
    insecure: Annotated[
        bool,
        typer.Option(
            "--insecure",
            help="Fetch a release no trusted hash is known for: its files are checked against its own manifest only.",
        ),
    ] = False,
    deadline: Annotated[
        float,
        typer.Option(help="Seconds the whole download may take, however slowly the server sends."),
    ] = 3600.0,
) -> None:
    """Download a release, verify every file's size and sha256 against its manifest, and
    only then place it in the local cache. Refuses missing, extra, truncated or altered
    files and versions or paths that would escape the cache.

    Example: sitrep release fetch 1.0.0 --from http://127.0.0.1:8000
    """
    from sitrep.validate.fetch import default_cache_dir, fetch_release
    from sitrep.validate.verify import anchor

    folder = fetch_release(
        version,
        source,
        cache or default_cache_dir(),
        manifest_sha256=sha256,
        insecure=insecure,
        deadline=deadline,
    )
    typer.echo(f"OK: {version} verified and cached at {folder}")
    if insecure and anchor(version, sha256, insecure=True) is None:
        _console(stderr=True).print(
            "warning: --insecure: no trusted manifest hash was known, so the files match "
            "their manifest but the manifest itself is unchecked"
        )


@release_app.command("rehydrate")
def release_rehydrate(
    folder: Annotated[
        Path, typer.Argument(help="A release folder (it is not changed).", show_default=False)
    ],
    texts: Annotated[
        Path,
        typer.Option(
            help="Folder of the source texts you have (any file names: matched by sha256).",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            help="New folder for documents.parquet and spans.parquet with the texts restored.",
            show_default=False,
        ),
    ],
) -> None:
    """Restore the texts a release could not ship (unknown licence) from files you have:
    each is checked against the document's sha256 and length before it is used.

    Example: sitrep release rehydrate datasets/releases/2.0.0 --texts seeds/articles --output texts-2.0.0
    """
    from sitrep.validate.publication import rehydrate

    result = rehydrate(folder, texts, output)
    if result.output is None:
        typer.echo(f"{folder} ships every text: nothing to restore, nothing written")
        return
    for problem in result.problems:
        typer.echo(f"{folder}: {problem}")
    typer.echo(
        f"restored {len(result.restored)} text(s) into {result.output}"
        + (f"; not found in {texts}: {', '.join(result.missing)}" if result.missing else "")
    )
    if not result.ok or result.missing:
        raise typer.Exit(1)


@release_app.command("serve")
def release_serve(
    folder: Annotated[
        Path | None,
        typer.Argument(
            help="Folder holding <version>/ release folders (default: datasets/releases).",
            show_default=False,
        ),
    ] = None,
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    host: Annotated[
        str, typer.Option(help="Address to bind; loopback unless you mean to share.")
    ] = "127.0.0.1",
) -> None:
    """Serve release folders over HTTP so a team can fetch them (Ctrl-C stops it).

    Example: sitrep release serve datasets/releases --port 8000
    """
    from sitrep.validate.fetch import make_server

    root = folder or paths.releases_dir()
    server = make_server(root, host, port)
    typer.echo(f"serving {root} at http://{host}:{server.server_address[1]}/ (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
