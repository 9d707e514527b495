"""`sitrep claims`: the claims ledger (`sitrep.validate.claims`) on the command line.
Heavy imports (Polars) happen inside the command, so `sitrep --help` stays fast."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from sitrep import paths

if TYPE_CHECKING:
    import polars as pl

    from sitrep.schema.clusters import Clusters
    from sitrep.schema.report import Report

SHOWN_ISSUES = 20  # validation problems printed before "... and N more"

SHOWN = (
    "quantity",
    "published",
    "document_id",
    "who",
    "low",
    "best",
    "high",
    "qualifier",
    "realis",
    "quote",
)
SUMMARY_SHOWN = (
    "quantity",
    "rule",
    "claimant",
    "published",
    "low",
    "best",
    "high",
    "claims",
    "claimants",
)


class LedgerFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _release_tables(folder: Path) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    import polars as pl

    if not (folder / "claims.parquet").is_file():
        return None
    claims = pl.read_parquet(folder / "claims.parquet")
    return claims, pl.read_parquet(folder / "claim_summaries.parquet")


def _check_release_alone(sources: list[Path]) -> None:
    """One release folder is read alone: mixed with other paths it is a usage error."""
    releases = [s for s in sources if s.is_dir() and (s / "claims.parquet").is_file()]
    if releases and len(sources) > 1:
        _fail(
            "give one release folder alone, or annotation files and folders: got release "
            f"folder(s) {', '.join(map(str, releases))} among {', '.join(map(str, sources))}"
        )


def _fail_report(report: Report) -> NoReturn:
    """The validation problems as `sitrep validate` prints them (the first SHOWN_ISSUES)."""
    from sitrep.schema.report import render_text

    lines = render_text(report).splitlines()
    issues, summary = lines[:-1], lines[-1]
    for line in issues[:SHOWN_ISSUES]:
        typer.echo(line, err=True)
    if len(issues) > SHOWN_ISSUES:
        typer.echo(f"... and {len(issues) - SHOWN_ISSUES} more problem(s)", err=True)
    typer.echo(summary, err=True)
    _fail("the documents are not valid: fix the problems above (`sitrep validate` lists all)", 1)


def _ledger(
    sources: list[Path], clusters_path: Path | None
) -> tuple[pl.DataFrame, pl.DataFrame, Clusters | None]:
    from sitrep.schema.clusters import open_clusters
    from sitrep.validate.claims import ledger_from_paths

    _check_release_alone(sources)
    found = open_clusters(sources, clusters_path)
    if len(sources) == 1 and sources[0].is_dir():
        released = _release_tables(sources[0])
        if released is not None:  # the clusters file, when found, gives the descriptions
            return released[0], released[1], found.clusters
    if found.path is None:
        _fail("no clusters file found: pass --clusters FILE (datasets/entities/clusters.json)")
    ledger = ledger_from_paths(sources, found.path)
    if not ledger.report.valid:
        _fail_report(ledger.report)
    return ledger.claims, ledger.summaries, found.clusters


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and value == round(value) and abs(value) < 2**53:
        return int(value)
    return value


def _print_table(frame: pl.DataFrame, columns: tuple[str, ...]) -> None:
    import polars as pl
    from rich.console import Console
    from rich.table import Table

    if "span_text" in frame.columns:  # the claims: who as a person reads it
        who = pl.coalesce("claimant_canonical", "claimant_name", "claimant").alias("who")
        frame = frame.with_columns(who, pl.col("span_text").alias("quote"))

    table = Table()
    for name in columns:
        table.add_column(name, overflow="fold")
    for row in frame.select(columns).iter_rows():
        table.add_row(*("" if v is None else str(_plain(v)) for v in row))
    Console(highlight=False, soft_wrap=True).print(table)


def _write_charts(folder: Path, claims: pl.DataFrame, clusters: Clusters | None) -> int:
    from sitrep.fileio import write_atomic
    from sitrep.validate.charts import chart_name, render_chart

    folder.mkdir(parents=True, exist_ok=True)
    quantities = sorted(set(claims["quantity"].to_list()))
    for quantity in quantities:
        known = clusters.quantities.get(quantity) if clusters else None
        svg = render_chart(quantity, claims, known.description if known else "")
        write_atomic(folder / chart_name(quantity), svg)
    return len(quantities)


def _check_id(
    kind: str, wanted: str | None, in_claims: set[str], in_file: set[str], origin: str
) -> None:
    """An id of --quantity/--cluster that neither the clusters file nor the claims know is
    a usage error naming it, where ids come from, and the closest known ones."""
    import difflib

    known = in_claims | in_file
    if wanted is None or wanted in known:
        return
    close = difflib.get_close_matches(wanted, sorted(known), n=3, cutoff=0.6)
    hint = f"; closest: {', '.join(close)}" if close else ""
    prefix = "q-" if kind == "quantity" else "ec-"
    shape = "" if wanted.startswith(prefix) else f" (a {kind} id starts with {prefix})"
    _fail(f"unknown {kind} {wanted!r}{shape}: {kind} ids are those of {origin}{hint}")


def _check_ids(
    quantity: str | None, cluster: str | None, claims: pl.DataFrame, known: Clusters | None
) -> None:
    origin = f"the clusters file {known.path}" if known else "the claims of the given files"
    if known:
        origin += " (and the claims of the given files)"
    quantities = set(known.quantities) if known else set()
    clusters = set(known.event_clusters) if known else set()
    _check_id("quantity", quantity, set(claims["quantity"].to_list()), quantities, origin)
    in_claims = {c for c in claims["event_cluster"].to_list() if c is not None}
    _check_id("cluster", cluster, in_claims, clusters, origin)


def claims_command(
    sources: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Annotation files or folders (default: datasets/annotations), or one "
            "release folder (its claims.parquet).",
            show_default=False,
        ),
    ] = None,
    quantity: Annotated[
        str | None, typer.Option("--quantity", "-q", help="Only this quantity (q-...).")
    ] = None,
    cluster: Annotated[
        str | None, typer.Option("--cluster", "-c", help="Only this event cluster (ec-...).")
    ] = None,
    fmt: Annotated[
        LedgerFormat, typer.Option("--format", "-f", help="Output: table, json or csv.")
    ] = LedgerFormat.table,
    summary: Annotated[
        bool,
        typer.Option(
            "--summary",
            help="Print the summaries (latest-actual-per-claimant@1, "
            "range-across-claimants@1) instead of the claims.",
        ),
    ] = False,
    chart: Annotated[
        Path | None,
        typer.Option(
            "--chart",
            help="Also write one SVG chart per quantity (claims over time) into this folder.",
            file_okay=False,
        ),
    ] = None,
    clusters: Annotated[
        Path | None,
        typer.Option(
            "--clusters",
            help="Clusters file (default: datasets/entities/clusters.json of the dataset that "
            "holds the files, else of the project).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """The claims ledger: one row per figure that has a quantity (who said how many,
    when, about the same thing), or with --summary the summaries derived from them by
    named, versioned rules. The documents are validated first (with the cluster and
    quantity rules); exit 1 when they are not valid, 2 for a usage error.

    Example: sitrep claims --quantity q-jaffar-express-rescued --format csv
    """
    from sitrep.validate.claims import select

    chosen = sources or [paths.annotations_dir()]
    claims, summaries, known = _ledger(chosen, clusters)
    _check_ids(quantity, cluster, claims, known)
    claims = select(claims, quantity, cluster)
    summaries = select(summaries, quantity, cluster)
    if chart is not None:
        written = _write_charts(chart, claims, known)
        typer.echo(f"wrote {written} chart(s) to {chart}", err=True)
    frame = summaries if summary else claims
    shown: tuple[str, ...] = SUMMARY_SHOWN if summary else SHOWN
    if quantity is not None:  # one quantity: no need to repeat it on every row
        shown = tuple(c for c in shown if c != "quantity")
    if fmt is LedgerFormat.csv:
        typer.echo(frame.write_csv(), nl=False)
    elif fmt is LedgerFormat.json:
        rows = [{k: _plain(v) for k, v in r.items()} for r in frame.iter_rows(named=True)]
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        _print_table(frame, shown)
