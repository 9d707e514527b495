"""The `sitrep` command line. Each command calls one library function and renders its
result; the logic lives in the library."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from sitrep import __version__, paths
from sitrep.errors import SitrepError
from sitrep.fileio import write_atomic
from sitrep.schema import spec
from sitrep.schema.codebook import render_codebook
from sitrep.schema.documents import scan_sources
from sitrep.schema.report import RENDERERS, Report, render_text
from sitrep.schema.validation import validate_paths

app = typer.Typer(
    help="sitrep: events, actors and figures reported in the news, as a versioned, validated dataset.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
schema_app = typer.Typer(help="The JSON Schema and the codebook generated from it.", no_args_is_help=True)
seeds_app = typer.Typer(help="The source documents in seeds/.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")
app.add_typer(seeds_app, name="seeds")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class Format(StrEnum):
    text = "text"
    json = "json"
    github = "github"


def _shown(path: Path) -> Path:
    """`path` relative to the current folder when it lies below it (for CI annotations)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def _emit(report: Report, fmt: Format) -> None:
    text = RENDERERS[fmt.value](report)
    if text:
        typer.echo(text)


@app.callback(invoke_without_command=True)
def main_callback(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    """sitrep: events, actors and figures reported in the news."""
    if version:
        typer.echo(f"sitrep {__version__} (schema {spec.schema_version()})")
        raise typer.Exit()


@app.command()
def validate(
    targets: Annotated[
        list[Path] | None,
        typer.Argument(help="Annotation files or folders (default: datasets/annotations).", show_default=False),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output: text, json or github (Actions annotations).")] = Format.text,
) -> None:
    """Check annotation documents against the JSON Schema and the rules it cannot express.

    Every problem is reported with file, JSON pointer, rule code, expected and found.
    Exit status: 0 when everything is valid, 1 when anything is not. Never writes.

    Example: sitrep validate datasets/annotations --format github
    """
    chosen = targets or [_shown(paths.annotations_dir())]
    report = validate_paths(chosen)
    _emit(report, fmt)
    raise typer.Exit(report.exit_code)


def _summary(report: Report, sources: int) -> Table:
    table = Table(title="sitrep dataset", title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("source documents (seeds/)", f"{sources:,}")
    for key in ("documents", "actors", "locations", "events", "figures", "spans"):
        label = "annotated documents" if key == "documents" else key
        table.add_row(label, f"{report.counts.get(key, 0):,}")
    return table


@app.command()
def run() -> None:
    """The main job: check the seeds, validate the dataset and print a summary.

    Exit status 1 when a source document or an annotation is invalid.

    Example: sitrep run
    """
    root = paths.project_root()
    docs, source_report = scan_sources(paths.seeds_dir(root))
    report = validate_paths([_shown(paths.annotations_dir(root))])
    report.files_checked += source_report.files_checked
    report.extend(source_report.issues)
    out.print(_summary(report, len(docs)))
    typer.echo(render_text(report))
    raise typer.Exit(report.exit_code)


@schema_app.command("codebook")
def schema_codebook(
    output: Annotated[Path | None, typer.Option(help="Where to write (default: schema/CODEBOOK.md).")] = None,
    check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 if the file is out of date.")] = False,
) -> None:
    """Write the codebook generated from the JSON Schema.

    Example: sitrep schema codebook --check
    """
    target = output or paths.codebook_file()
    text = render_codebook()
    current = target.read_text(encoding="utf-8") if target.exists() else None
    if check:
        if current != text:
            err.print(f"{target} is out of date: run `sitrep schema codebook` and commit it")
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
    typer.echo(spec.schema_version())


@seeds_app.command("check")
def seeds_check(
    folder: Annotated[Path | None, typer.Argument(help="Folder of source documents (default: seeds/).", show_default=False)] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output: text, json or github.")] = Format.text,
) -> None:
    """Load every source document and report encoding, metadata and duplicate-id problems.

    Example: sitrep seeds check seeds
    """
    docs, report = scan_sources(folder or _shown(paths.seeds_dir()))
    _emit(report, fmt)
    raise typer.Exit(report.exit_code)


def main() -> None:
    """Console entry point: library errors become a one-line message and exit 2."""
    try:
        app()
    except SitrepError as exc:
        err.print(f"error: {exc}")
        sys.exit(2)
